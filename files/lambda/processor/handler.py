"""Load JSON-lines / CSV objects dropped under ``incoming/`` into DynamoDB.

Triggered by S3 ``ObjectCreated`` notifications. Each object is streamed (constant
memory, never read whole), every record is validated, valid records are written
idempotently (key = ``id`` + ``timestamp``) with BatchWriteItem, and rejected records
are written as JSON lines ``{"line", "error", "raw"}`` to
``<QUARANTINE_PREFIX><key without INCOMING_PREFIX>.rejected.jsonl`` in the same bucket.

AWS actions (the IAM role is generated from this list):
    - s3:GetObject
    - s3:ListBucket
    - s3:PutObject
    - dynamodb:BatchWriteItem
    - dynamodb:PutItem

Environment:
    TABLE_NAME         target table (hash key ``id`` S, range key ``timestamp`` N)
    BUCKET_NAME        bucket the function serves; records for other buckets are skipped
    INCOMING_PREFIX    default ``incoming/``; keys outside it are ignored
    QUARANTINE_PREFIX  default ``quarantine/``; must not lie under INCOMING_PREFIX

Formats (by key suffix, case-insensitive): ``.jsonl`` / ``.ndjson`` / ``.json`` are JSON
lines (one object per line, blank lines skipped); ``.csv`` is CSV with a header row
(all CSV values are stored as strings, empty cells as empty strings). Other suffixes
are skipped with a warning. Lines are split on ``\\n`` (a trailing ``\\r`` is dropped).

Missing vs denied: S3 answers GetObject of a missing key with 404 NoSuchKey only to a caller
allowed s3:ListBucket, and with 403 AccessDenied otherwise. A 404 means the object is gone
(deleted after the notification): it is skipped. After a 403 the handler lists the key
(ListObjectsV2, Prefix=key: the role may list the incoming prefix only): if the key is not
there, the object is gone and is skipped; if it is there, or the listing is denied too, the
access really is denied: the error is logged (naming the object and the missing permission)
and raised, so the event is retried and ends in the dead-letter queue.

Validation: ``id`` a non-empty string of at most 256 characters; ``timestamp`` an
integer >= 0 or a string of decimal digits (stored as N); every other attribute a
string, number (stored as N via Decimal; must fit DynamoDB's 38-digit range), bool
or null; the item must fit DynamoDB's 400 KB limit. The returned counts satisfy
``records == written + rejected``; a record superseded by a later duplicate of its key
within the same batch of 25 counts as written.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import os
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import ClientError

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

BATCH_SIZE = 25
MAX_BATCH_ATTEMPTS = 5  # 1 call + 4 retries of UnprocessedItems, then PutItem one by one
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 5.0
READ_CHUNK_BYTES = 64 * 1024
MAX_LINE_BYTES = 1024 * 1024  # longer lines are rejected; bounds memory per line
MAX_ITEM_BYTES = 400 * 1024
MAX_ID_CHARS = 256
MAX_NUMBER_DIGITS = 38
RAW_MAX_CHARS = 1024  # quarantine keeps at most this much of each rejected line
ERROR_MAX_CHARS = 512
SPOOL_MAX_BYTES = 1024 * 1024  # quarantine spills to /tmp beyond this
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)
UTF8_BOM = b"\xef\xbb\xbf"
DIGITS = re.compile(r"[0-9]+")

# Replaced by tests to avoid real sleeping during backoff.
SLEEP: Callable[[float], None] = time.sleep

Item = dict[str, dict[str, Any]]


class RecordError(ValueError):
    """A record failed validation; the message is stored in the quarantine file."""


@dataclass(frozen=True)
class Settings:
    table: str
    bucket: str | None
    incoming_prefix: str
    quarantine_prefix: str

    @classmethod
    def from_env(cls) -> Settings:
        settings = cls(
            table=os.environ["TABLE_NAME"],
            bucket=os.environ.get("BUCKET_NAME") or None,
            incoming_prefix=os.environ.get("INCOMING_PREFIX", "incoming/"),
            quarantine_prefix=os.environ.get("QUARANTINE_PREFIX", "quarantine/"),
        )
        if settings.quarantine_prefix.startswith(settings.incoming_prefix):
            raise ValueError("QUARANTINE_PREFIX must not be under INCOMING_PREFIX (would re-trigger)")
        return settings


@dataclass(frozen=True)
class Line:
    number: int
    data: bytes
    too_long: bool = False


@dataclass(frozen=True)
class Parsed:
    """One record read from an object: either a DynamoDB item or an error."""

    line: int
    raw: str
    item: Item | None = None
    error: str | None = None


@dataclass
class Counts:
    objects: int = 0
    records: int = 0
    written: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        self.objects += other.objects
        self.records += other.records
        self.written += other.written
        self.rejected += other.rejected

    def as_dict(self) -> dict[str, int]:
        return {"objects": self.objects, "records": self.records, "written": self.written,
                "rejected": self.rejected}


@functools.cache
def client(service: str) -> Any:
    """Create (once per container) a boto3 client; honours AWS_ENDPOINT_URL."""
    return boto3.client(service)


# --------------------------------------------------------------------------- reading


def iter_lines(chunks: Iterable[bytes], max_bytes: int | None = None) -> Iterator[Line]:
    """Split a byte stream on ``\\n`` keeping at most ``max_bytes`` (MAX_LINE_BYTES) of any line."""
    max_bytes = MAX_LINE_BYTES if max_bytes is None else max_bytes
    buf = bytearray()
    too_long = False
    number = 0
    for chunk in chunks:
        pieces = chunk.split(b"\n")
        for index, piece in enumerate(pieces):
            if index:
                number += 1
                yield _finish_line(number, buf, too_long)
                buf = bytearray()
                too_long = False
            room = max_bytes - len(buf)
            if len(piece) > room:
                too_long = True
                piece = piece[: max(room, 0)]
            buf += piece
    if buf or too_long:
        yield _finish_line(number + 1, buf, too_long)


def _finish_line(number: int, buf: bytearray, too_long: bool) -> Line:
    data = bytes(buf)
    if number == 1 and data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    if data.endswith(b"\r"):
        data = data[:-1]
    return Line(number, data, too_long)


def _preview(data: bytes) -> str:
    return data[: RAW_MAX_CHARS * 4].decode("utf-8", "replace")[:RAW_MAX_CHARS]


def parse_json_lines(lines: Iterable[Line]) -> Iterator[Parsed]:
    """Yield one Parsed per non-blank line of a JSON-lines stream."""
    for line in lines:
        if not line.data.strip() and not line.too_long:
            continue
        raw = _preview(line.data)
        try:
            item = _json_line_to_item(line)
        except RecordError as exc:
            yield Parsed(line.number, raw, error=str(exc))
        else:
            yield Parsed(line.number, raw, item=item)


def _reject_constant(name: str) -> Any:
    raise RecordError(f"invalid JSON: {name} is not a valid number")


def _json_line_to_item(line: Line) -> Item:
    if line.too_long:
        raise RecordError(f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        text = line.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"invalid UTF-8: {exc}") from None
    try:
        record = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except RecordError:
        raise
    except (ValueError, RecursionError) as exc:
        raise RecordError(f"invalid JSON: {exc}") from None
    return to_item(record)


class _CsvLineTap:
    """Feeds decoded lines to ``csv.reader`` and remembers what the current row consumed."""

    def __init__(self, lines: Iterable[Line]) -> None:
        self._lines = iter(lines)
        self._first: int | None = None
        self._raw: list[str] = []
        self._raw_len = 0
        self._error: str | None = None

    def __iter__(self) -> _CsvLineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        if self._first is None:
            self._first = line.number
        try:
            text = line.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._error = self._error or f"invalid UTF-8: {exc}"
            text = line.data.decode("utf-8", "replace")
        if line.too_long:
            self._error = self._error or f"line longer than {MAX_LINE_BYTES} bytes"
        self._remember(text)
        return "" if line.too_long else text + "\n"

    def _remember(self, text: str) -> None:
        if self._raw_len < RAW_MAX_CHARS:
            piece = text[: RAW_MAX_CHARS - self._raw_len]
            self._raw.append(piece)
            self._raw_len += len(piece)

    def take(self) -> tuple[int, str, str | None]:
        """Return (first line number, raw text, error) of the row just read, and reset."""
        result = (self._first or 0, "\n".join(self._raw), self._error)
        self._first, self._raw, self._raw_len, self._error = None, [], 0, None
        return result


def parse_csv(lines: Iterable[Line]) -> Iterator[Parsed]:
    """Yield one Parsed per non-blank data row of a CSV stream with a header row."""
    csv.field_size_limit(MAX_ITEM_BYTES)
    tap = _CsvLineTap(lines)
    reader = csv.reader(tap, strict=True)
    header: list[str] | None = None
    header_error: str | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number, raw, _ = tap.take()
            yield Parsed(number, raw, error=f"invalid CSV: {exc}")
            continue
        number, raw, error = tap.take()
        if not row and error is None:
            continue
        if header is None:
            header = [name.strip() for name in row]
            problem = error or _header_problem(header)
            header_error = f"invalid CSV header: {problem}" if problem else None
            if header_error:
                yield Parsed(number, raw, error=header_error)
            continue
        yield _csv_row(number, raw, row, header, error or header_error)


def _header_problem(header: list[str]) -> str | None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            return f"duplicate column {name!r}"
        seen.add(name)
    return None


def _csv_row(number: int, raw: str, row: list[str], header: list[str], error: str | None) -> Parsed:
    if error is not None:
        return Parsed(number, raw, error=error)
    if len(row) != len(header):
        return Parsed(number, raw, error=f"expected {len(header)} fields, got {len(row)}")
    try:
        item = to_item(dict(zip(header, row, strict=True)))
    except RecordError as exc:
        return Parsed(number, raw, error=str(exc))
    return Parsed(number, raw, item=item)


# --------------------------------------------------------------------------- validation


def to_item(record: Any) -> Item:
    """Validate a decoded record and convert it to a DynamoDB item (raises RecordError)."""
    if not isinstance(record, dict):
        raise RecordError("record must be a JSON object")
    item: Item = {}
    size = 0
    for name, value in record.items():
        if not isinstance(name, str) or not name:
            raise RecordError("attribute names must be non-empty strings")
        attr = _key_attribute(name, value) if name in ("id", "timestamp") else _attribute(name, value)
        item[name] = attr
        size += len(name.encode("utf-8")) + _attribute_size(attr)
    if "id" not in item:
        raise RecordError("id must be a non-empty string")
    if "timestamp" not in item:
        raise RecordError("timestamp is required")
    if size > MAX_ITEM_BYTES:
        raise RecordError(f"item larger than {MAX_ITEM_BYTES} bytes")
    return item


def _key_attribute(name: str, value: Any) -> dict[str, Any]:
    if name == "id":
        if not isinstance(value, str) or not value:
            raise RecordError("id must be a non-empty string")
        if len(value) > MAX_ID_CHARS:
            raise RecordError(f"id longer than {MAX_ID_CHARS} characters")
        return {"S": value}
    return {"N": str(_timestamp(value))}


def _timestamp(value: Any) -> int:
    if isinstance(value, str) and DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError("timestamp must be an integer or a string of digits")
    if value < 0:
        raise RecordError("timestamp must be >= 0")
    if len(str(value)) > MAX_NUMBER_DIGITS:
        raise RecordError(f"timestamp has more than {MAX_NUMBER_DIGITS} digits")
    return value


def _attribute(name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | float | Decimal):
        return {"N": _number(name, value)}
    raise RecordError(f"attribute {name!r}: unsupported type {type(value).__name__}")


def _number(name: str, value: int | float | Decimal) -> str:
    """Format a number as DynamoDB N, rejecting what DynamoDB would refuse."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise RecordError(f"attribute {name!r}: number must be finite")
    if number.is_zero():
        return "0"
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(digits) > MAX_NUMBER_DIGITS:
        raise RecordError(f"attribute {name!r}: more than {MAX_NUMBER_DIGITS} significant digits")
    if not -130 <= number.adjusted() <= 125:
        raise RecordError(f"attribute {name!r}: number out of DynamoDB range")
    return str(value) if isinstance(value, int) else str(number)


def _attribute_size(attr: dict[str, Any]) -> int:
    kind, value = next(iter(attr.items()))
    if kind in ("S", "N"):
        return len(value.encode("utf-8"))
    return 1


def item_key(item: Item) -> tuple[str, str]:
    return item["id"]["S"], item["timestamp"]["N"]


# --------------------------------------------------------------------------- quarantine


class Quarantine:
    """Rejected records as JSON lines into a spool file (memory, then /tmp when large)."""

    def __init__(self, spool: IO[bytes]) -> None:
        self._spool = spool
        self.count = 0

    def add(self, line: int, error: str, raw: str) -> None:
        entry = {"line": line, "error": error[:ERROR_MAX_CHARS], "raw": raw[:RAW_MAX_CHARS]}
        self._spool.write(json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n")
        self.count += 1

    def upload(self, s3: Any, bucket: str, key: str) -> None:
        self._spool.seek(0)
        s3.put_object(Bucket=bucket, Key=key, Body=self._spool, ContentType="application/x-ndjson")


# --------------------------------------------------------------------------- writing


@dataclass
class _Pending:
    parsed: Parsed
    merged: int = 1  # records folded into this entry (later duplicates replace earlier ones)


class BatchWriter:
    """Buffers items, de-duplicates keys within a batch and writes batches of 25."""

    def __init__(self, ddb: Any, table: str, quarantine: Quarantine,
                 sleep: Callable[[float], None] = time.sleep, max_attempts: int = MAX_BATCH_ATTEMPTS) -> None:
        self.ddb = ddb
        self.table = table
        self.quarantine = quarantine
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.written = 0
        self.rejected = 0
        self._pending: dict[tuple[str, str], _Pending] = {}

    def add(self, parsed: Parsed) -> None:
        if parsed.item is None:
            raise ValueError("only valid records can be written")
        key = item_key(parsed.item)
        previous = self._pending.pop(key, None)
        self._pending[key] = _Pending(parsed, previous.merged + 1 if previous else 1)
        if len(self._pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        requests = [{"PutRequest": {"Item": entry.parsed.item}} for entry in pending.values()]
        leftover = self._batch_write(requests)
        leftover_keys = {item_key(request["PutRequest"]["Item"]) for request in leftover}
        for key, entry in pending.items():
            if key in leftover_keys:
                self._put_one(entry)
            else:
                self.written += entry.merged

    def _batch_write(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """BatchWriteItem with exponential backoff; return requests still unprocessed."""
        for attempt in range(self.max_attempts):
            if attempt:
                self.sleep(backoff_delay(attempt))
            try:
                response = self.ddb.batch_write_item(RequestItems={self.table: requests})
            except ClientError as exc:
                if _error_code(exc) != "ValidationException":
                    raise
                LOGGER.warning("BatchWriteItem rejected the batch (%s); writing items one by one", exc)
                return requests
            requests = response.get("UnprocessedItems", {}).get(self.table, [])
            if not requests:
                return []
        LOGGER.warning("%d items still unprocessed after %d attempts; using PutItem",
                       len(requests), self.max_attempts)
        return requests

    def _put_one(self, entry: _Pending) -> None:
        try:
            self.ddb.put_item(TableName=self.table, Item=entry.parsed.item)
        except ClientError as exc:
            if _error_code(exc) != "ValidationException":
                raise
            error = f"DynamoDB rejected the item: {exc.response['Error'].get('Message', '')}"
            if entry.merged > 1:
                error += f" (and {entry.merged - 1} earlier duplicate(s) of this key)"
            self.quarantine.add(entry.parsed.line, error, entry.parsed.raw)
            self.rejected += entry.merged
        else:
            self.written += entry.merged


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with jitter for retry number ``attempt`` (1-based)."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# --------------------------------------------------------------------------- orchestration


def parser_for(key: str) -> Callable[[Iterable[Line]], Iterator[Parsed]] | None:
    lowered = key.lower()
    if lowered.endswith(JSON_SUFFIXES):
        return parse_json_lines
    if lowered.endswith(CSV_SUFFIXES):
        return parse_csv
    return None


def quarantine_key(key: str, settings: Settings) -> str:
    return f"{settings.quarantine_prefix}{key[len(settings.incoming_prefix):]}.rejected.jsonl"


def ingest(records: Iterable[Parsed], table: str, quarantine: Quarantine) -> Counts:
    """Write valid records to ``table`` and rejected ones to ``quarantine``."""
    counts = Counts(objects=1)
    writer = BatchWriter(client("dynamodb"), table, quarantine, sleep=SLEEP)
    for parsed in records:
        counts.records += 1
        if parsed.item is None:
            quarantine.add(parsed.line, parsed.error or "invalid record", parsed.raw)
            counts.rejected += 1
        else:
            writer.add(parsed)
    writer.flush()
    counts.written += writer.written
    counts.rejected += writer.rejected
    return counts


MISSING_CODES = ("NoSuchKey", "404")
DENIED_CODES = ("AccessDenied", "403")


def _open_object(s3: Any, bucket: str, key: str) -> Any:
    """Return the object's StreamingBody, or None when it no longer exists.

    Without s3:ListBucket S3 answers 403, not 404, for a missing key
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"):
    a 403 is only taken for "gone" when a listing of the key confirms it.
    """
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        code = _error_code(exc)
        if code in MISSING_CODES:
            LOGGER.warning("skipping s3://%s/%s: object no longer exists", bucket, key)
            return None
        if code in DENIED_CODES and not _key_listed(s3, bucket, key, exc):
            LOGGER.warning("skipping s3://%s/%s: object no longer exists (GetObject answered %s, "
                           "the key is not listed)", bucket, key, code)
            return None
        raise


def _key_listed(s3: Any, bucket: str, key: str, denied: ClientError) -> bool:
    """Whether ``key`` exists, by listing it; re-raise ``denied`` when listing is denied too."""
    try:
        response = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    except ClientError as exc:
        LOGGER.error("access denied reading s3://%s/%s (GetObject: %s) and listing it (ListObjectsV2: %s): "
                     "the role needs s3:GetObject on the object and s3:ListBucket on the bucket for "
                     "this prefix", bucket, key, _error_code(denied), _error_code(exc))
        raise denied from exc
    # The key itself sorts first among the keys it prefixes, so MaxKeys=1 is enough.
    listed = any(obj.get("Key") == key for obj in response.get("Contents", []))
    if listed:
        LOGGER.error("access denied reading s3://%s/%s: the object exists; the role (or the bucket, "
                     "key or endpoint policy) does not allow s3:GetObject on it", bucket, key)
    return listed


def process_object(bucket: str, key: str, settings: Settings) -> Counts:
    """Stream one object into the table; returns its counts (objects=1)."""
    parse = parser_for(key)
    if parse is None:
        LOGGER.warning("skipping s3://%s/%s: unsupported file type", bucket, key)
        return Counts()
    s3 = client("s3")
    body = _open_object(s3, bucket, key)
    if body is None:
        return Counts()
    try:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES, mode="w+b") as spool:
            quarantine = Quarantine(spool)
            counts = ingest(parse(iter_lines(body.iter_chunks(READ_CHUNK_BYTES))), settings.table, quarantine)
            if quarantine.count:
                quarantine.upload(s3, bucket, quarantine_key(key, settings))
    finally:
        body.close()
    LOGGER.info("processed s3://%s/%s: %s", bucket, key, counts.as_dict())
    return counts


def _object_location(record: dict[str, Any]) -> tuple[str, str] | None:
    event_name = record.get("eventName")
    if event_name is not None and not str(event_name).startswith("ObjectCreated"):
        return None
    s3_info = record.get("s3") or {}
    bucket = (s3_info.get("bucket") or {}).get("name")
    key = (s3_info.get("object") or {}).get("key")
    if not bucket or not key:
        return None
    return bucket, unquote_plus(key)


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Lambda entry point for S3 ObjectCreated notifications."""
    settings = Settings.from_env()
    total = Counts()
    for record in event.get("Records") or []:
        location = _object_location(record)
        if location is None:
            LOGGER.info("ignoring record that is not an S3 ObjectCreated notification")
            continue
        bucket, key = location
        if settings.bucket and bucket != settings.bucket:
            LOGGER.warning("ignoring s3://%s/%s: not BUCKET_NAME %s", bucket, key, settings.bucket)
            continue
        if not key.startswith(settings.incoming_prefix):
            LOGGER.info("ignoring s3://%s/%s: outside %s", bucket, key, settings.incoming_prefix)
            continue
        total.add(process_object(bucket, key, settings))
    return total.as_dict()
