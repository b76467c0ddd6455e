"""Unit tests for files/lambda/processor/handler.py against in-process moto."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from botocore.exceptions import ClientError
from support.lambda_helpers import create_data_stores, documented_actions

BUCKET = "ingest-bucket"
TABLE = "ingest-table"


def s3_event(*keys: str, bucket: str = BUCKET, event_name: str = "ObjectCreated:Put") -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": event_name,
                "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key), "size": 1}},
            }
            for key in keys
        ]
    }


@dataclass
class Env:
    mod: ModuleType
    s3: Any
    ddb: Any
    sleeps: list[float] = field(default_factory=list)

    def put(self, key: str, body: str | bytes) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)

    def run(self, *keys: str) -> dict[str, int]:
        return self.mod.handler(s3_event(*keys), None)

    def items(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for page in self.ddb.get_paginator("scan").paginate(TableName=TABLE):
            for raw in page["Items"]:
                found[f"{raw['id']['S']}@{raw['timestamp']['N']}"] = _plain(raw)
        return found

    def quarantine(self, key: str) -> list[dict[str, Any]]:
        body = self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("utf-8")
        return [json.loads(line) for line in body.splitlines()]

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def _plain(raw: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in raw.items()}


@pytest.fixture
def env(aws: None, load_lambda: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch) -> Env:
    create_data_stores(BUCKET, TABLE, monkeypatch)
    s3 = boto3.client("s3")
    ddb = boto3.client("dynamodb")
    monkeypatch.delenv("QUARANTINE_PREFIX", raising=False)
    monkeypatch.delenv("INCOMING_PREFIX", raising=False)
    env = Env(load_lambda("processor"), s3, ddb)
    monkeypatch.setattr(env.mod, "SLEEP", env.sleeps.append)
    return env


def jsonl(*records: Any) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


# --------------------------------------------------------------------------- happy paths


def test_jsonl_records_are_written_with_dynamodb_types(env: Env) -> None:
    env.put("incoming/batch.jsonl", jsonl(
        {"id": "a", "timestamp": 1700000000, "category": "x", "value": 1.5, "ok": True, "none": None},
        {"id": "b", "timestamp": "1700000001", "value": 10},
        "",
        {"id": "c", "timestamp": 0, "big": 12345678901234567890123456789012345678},
    ))

    assert env.run("incoming/batch.jsonl") == {"objects": 1, "records": 3, "written": 3, "rejected": 0}

    items = env.items()
    assert set(items) == {"a@1700000000", "b@1700000001", "c@0"}
    assert items["a@1700000000"] == {"id": "a", "timestamp": Decimal(1700000000), "category": "x",
                                     "value": Decimal("1.5"), "ok": True, "none": None}
    assert items["b@1700000001"]["timestamp"] == Decimal(1700000001)
    assert items["c@0"]["big"] == Decimal("12345678901234567890123456789012345678")
    assert env.keys("quarantine/") == []


@pytest.mark.parametrize("suffix", [".json", ".ndjson", ".JSONL"])
def test_other_json_lines_suffixes(env: Env, suffix: str) -> None:
    env.put(f"incoming/x{suffix}", jsonl({"id": "a", "timestamp": 1}))
    assert env.run(f"incoming/x{suffix}")["written"] == 1


def test_url_encoded_key_and_nested_quarantine_path(env: Env) -> None:
    key = "incoming/2024/01/my file+v1.jsonl"
    env.put(key, jsonl({"id": "a", "timestamp": 1}, "not json"))

    assert env.run(key) == {"objects": 1, "records": 2, "written": 1, "rejected": 1}
    assert env.keys("quarantine/") == ["quarantine/2024/01/my file+v1.jsonl.rejected.jsonl"]


def test_crlf_bom_and_no_trailing_newline(env: Env) -> None:
    body = b"\xef\xbb\xbf" + b'{"id": "a", "timestamp": 1}\r\n{"id": "b", "timestamp": 2}'
    env.put("incoming/win.jsonl", body)
    assert env.run("incoming/win.jsonl") == {"objects": 1, "records": 2, "written": 2, "rejected": 0}


def test_several_records_in_one_event(env: Env) -> None:
    env.put("incoming/one.jsonl", jsonl({"id": "a", "timestamp": 1}))
    env.put("incoming/two.csv", "id,timestamp\nb,2\n")
    assert env.run("incoming/one.jsonl", "incoming/two.csv") == {
        "objects": 2, "records": 2, "written": 2, "rejected": 0}


# --------------------------------------------------------------------------- rejects


def test_malformed_and_invalid_records_are_quarantined(env: Env) -> None:
    lines = [
        {"id": "good", "timestamp": 5},                      # 1
        '{"id": "broken", ',                                 # 2 invalid JSON
        "[1, 2]",                                            # 3 not an object
        {"timestamp": 1},                                    # 4 missing id
        {"id": "", "timestamp": 1},                          # 5 empty id
        {"id": "x" * 257, "timestamp": 1},                   # 6 id too long
        {"id": 7, "timestamp": 1},                           # 7 id not a string
        {"id": "neg", "timestamp": -1},                      # 8 negative timestamp
        {"id": "float", "timestamp": 1.5},                   # 9 non-integer timestamp
        {"id": "word", "timestamp": "soon"},                 # 10 non-numeric string
        {"id": "nested", "timestamp": 1, "tags": ["a"]},     # 11 unsupported type
        '{"id": "nan", "timestamp": 1, "value": NaN}',       # 12 NaN
        {"id": "huge", "timestamp": 1, "value": 1e200},      # 13 out of DynamoDB range
        {"id": "notime"},                                    # 14 missing timestamp
        {"id": "bool", "timestamp": True},                   # 15 bool timestamp
        {"id": "x" * 256, "timestamp": 1},                   # 16 id of exactly 256 chars is fine
    ]
    env.put("incoming/mixed.jsonl", jsonl(*lines))

    assert env.run("incoming/mixed.jsonl") == {"objects": 1, "records": 16, "written": 2, "rejected": 14}

    assert set(env.items()) == {"good@5", f"{'x' * 256}@1"}
    rejected = env.quarantine("quarantine/mixed.jsonl.rejected.jsonl")
    assert [r["line"] for r in rejected] == list(range(2, 16))
    assert all(set(r) == {"line", "error", "raw"} for r in rejected)
    errors = {r["line"]: r["error"] for r in rejected}
    assert errors[2].startswith("invalid JSON")
    assert errors[3] == "record must be a JSON object"
    assert errors[4] == errors[5] == errors[7] == "id must be a non-empty string"
    assert "longer than 256" in errors[6]
    assert errors[8] == "timestamp must be >= 0"
    assert "integer" in errors[9] and "integer" in errors[10] and "integer" in errors[15]
    assert "unsupported type list" in errors[11]
    assert "NaN" in errors[12]
    assert "range" in errors[13]
    assert errors[14] == "timestamp is required"
    assert rejected[0]["raw"] == '{"id": "broken", '


def test_quarantine_raw_is_capped_and_invalid_utf8_reported(env: Env) -> None:
    long_bad = "{" + "x" * 5000
    env.put("incoming/raw.jsonl", long_bad.encode() + b"\n" + b'{"id": "\xff", "timestamp": 1}\n')

    assert env.run("incoming/raw.jsonl")["rejected"] == 2
    first, second = env.quarantine("quarantine/raw.jsonl.rejected.jsonl")
    assert first["raw"] == long_bad[: env.mod.RAW_MAX_CHARS]
    assert second["error"].startswith("invalid UTF-8")


def test_overlong_line_rejected_without_buffering_it(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env.mod, "MAX_LINE_BYTES", 100)
    body = jsonl({"id": "long", "timestamp": 1, "pad": "p" * 500}, {"id": "ok", "timestamp": 2})
    env.put("incoming/long.jsonl", body)

    assert env.run("incoming/long.jsonl") == {"objects": 1, "records": 2, "written": 1, "rejected": 1}
    (entry,) = env.quarantine("quarantine/long.jsonl.rejected.jsonl")
    assert entry["line"] == 1 and "longer than 100 bytes" in entry["error"]


def test_many_rejects_spill_to_disk_and_upload(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env.mod, "SPOOL_MAX_BYTES", 1024)
    env.put("incoming/bad.jsonl", "nope\n" * 2000)

    assert env.run("incoming/bad.jsonl") == {"objects": 1, "records": 2000, "written": 0, "rejected": 2000}
    rejected = env.quarantine("quarantine/bad.jsonl.rejected.jsonl")
    assert len(rejected) == 2000 and rejected[-1]["line"] == 2000


def test_custom_prefixes(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCOMING_PREFIX", "in/")
    monkeypatch.setenv("QUARANTINE_PREFIX", "errors/")
    env.put("in/a.jsonl", "bad\n")
    env.put("incoming/b.jsonl", "bad\n")

    assert env.run("in/a.jsonl", "incoming/b.jsonl")["objects"] == 1
    assert env.keys("errors/") == ["errors/a.jsonl.rejected.jsonl"]


def test_quarantine_prefix_under_incoming_is_refused(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARANTINE_PREFIX", "incoming/rejected/")
    with pytest.raises(ValueError, match="QUARANTINE_PREFIX"):
        env.run("incoming/a.jsonl")


# --------------------------------------------------------------------------- CSV


def test_csv_with_header(env: Env) -> None:
    body = (
        "\ufeffid,timestamp,category,note\r\n"
        "a,100,x,plain\r\n"
        'b,200,y,"with, comma and ""quotes"""\r\n'
        'c,300,z,"multi\nline"\r\n'
        "\r\n"
        "d,400,too,many,fields\r\n"
        "e,-5,x,negative\r\n"
        ",500,x,no id\r\n"
        "f,600,,\r\n"
    )
    env.put("incoming/data.csv", body)

    assert env.run("incoming/data.csv") == {"objects": 1, "records": 7, "written": 4, "rejected": 3}

    items = env.items()
    assert set(items) == {"a@100", "b@200", "c@300", "f@600"}
    assert items["b@200"]["note"] == 'with, comma and "quotes"'
    assert items["c@300"]["note"] == "multi\nline"
    assert items["a@100"]["category"] == "x"  # CSV values stay strings
    assert items["f@600"]["category"] == ""
    rejected = env.quarantine("quarantine/data.csv.rejected.jsonl")
    assert [(r["line"], r["error"]) for r in rejected] == [
        (7, "expected 4 fields, got 5"),
        (8, "timestamp must be an integer or a string of digits"),
        (9, "id must be a non-empty string"),
    ]
    assert rejected[0]["raw"] == "d,400,too,many,fields"


def test_csv_bad_header_rejects_every_row(env: Env) -> None:
    env.put("incoming/dup.csv", "id,timestamp,id\na,1,b\n")
    assert env.run("incoming/dup.csv") == {"objects": 1, "records": 2, "written": 0, "rejected": 2}
    errors = [r["error"] for r in env.quarantine("quarantine/dup.csv.rejected.jsonl")]
    assert errors == ["invalid CSV header: duplicate column 'id'"] * 2


def test_csv_quoting_error_is_rejected_and_parsing_continues(env: Env) -> None:
    env.put("incoming/q.csv", 'id,timestamp\n"a"b,1\nc,2\n')
    assert env.run("incoming/q.csv") == {"objects": 1, "records": 2, "written": 1, "rejected": 1}
    (entry,) = env.quarantine("quarantine/q.csv.rejected.jsonl")
    assert entry["line"] == 2 and entry["error"].startswith("invalid CSV")


# --------------------------------------------------------------------------- skips


def test_empty_object(env: Env) -> None:
    env.put("incoming/empty.jsonl", b"")
    assert env.run("incoming/empty.jsonl") == {"objects": 1, "records": 0, "written": 0, "rejected": 0}
    assert env.items() == {}
    assert env.keys("quarantine/") == []


def test_key_outside_incoming_is_ignored(env: Env) -> None:
    env.put("other/data.jsonl", jsonl({"id": "a", "timestamp": 1}))
    assert env.run("other/data.jsonl") == {"objects": 0, "records": 0, "written": 0, "rejected": 0}
    assert env.items() == {}


def test_unsupported_suffix_other_bucket_and_other_events_are_ignored(env: Env) -> None:
    env.put("incoming/readme.txt", "hello")
    event = s3_event("incoming/readme.txt")
    event["Records"] += s3_event("incoming/a.jsonl", bucket="someone-else")["Records"]
    event["Records"] += s3_event("incoming/a.jsonl", event_name="ObjectRemoved:Delete")["Records"]
    assert env.mod.handler(event, None) == {"objects": 0, "records": 0, "written": 0, "rejected": 0}
    assert env.mod.handler({"Event": "s3:TestEvent"}, None)["objects"] == 0


def test_missing_object_is_skipped(env: Env, api_calls: Any) -> None:
    with api_calls() as calls:
        assert env.run("incoming/gone.jsonl")["objects"] == 0
    assert calls == ["s3:GetObject"]  # 404 NoSuchKey: gone, nothing to list


# --------------------------------------------------------------------------- missing vs denied
# Without s3:ListBucket S3 answers GetObject of a missing key with 403 AccessDenied, not 404
# (API_GetObject.html, "Permissions"). moto answers 404, so the 403 is injected here.


def _deny_get_object(
    env: Env, monkeypatch: pytest.MonkeyPatch, list_denied: bool = False
) -> list[dict[str, Any]]:
    """GetObject (and ListObjectsV2 when list_denied) answer 403 AccessDenied; returns the listings made."""
    s3 = env.mod.client("s3")
    listings: list[dict[str, Any]] = []
    real_list = s3.list_objects_v2

    def denied(operation: str) -> ClientError:
        return ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, operation)

    def get_object(**kwargs: Any) -> Any:
        raise denied("GetObject")

    def list_objects_v2(**kwargs: Any) -> Any:
        listings.append(kwargs)
        if list_denied:
            raise denied("ListObjectsV2")
        return real_list(**kwargs)

    monkeypatch.setattr(s3, "get_object", get_object)
    monkeypatch.setattr(s3, "list_objects_v2", list_objects_v2)
    return listings


def test_denied_and_not_listed_is_gone(env: Env, monkeypatch: pytest.MonkeyPatch,
                                       caplog: pytest.LogCaptureFixture) -> None:
    env.put("incoming/gone.jsonl.bak", "x")  # a longer key under the same prefix is not the object
    listings = _deny_get_object(env, monkeypatch)
    assert env.run("incoming/gone.jsonl")["objects"] == 0
    assert listings == [{"Bucket": BUCKET, "Prefix": "incoming/gone.jsonl", "MaxKeys": 1}]
    assert "object no longer exists" in caplog.text and "AccessDenied" in caplog.text


def test_denied_but_listed_fails_and_names_the_permission(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    env.put("incoming/there.jsonl", jsonl({"id": "a", "timestamp": 1}))
    listings = _deny_get_object(env, monkeypatch)
    with pytest.raises(ClientError, match="GetObject") as raised:
        env.run("incoming/there.jsonl")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert len(listings) == 1
    assert "the object exists" in caplog.text and "s3:GetObject" in caplog.text
    assert env.items() == {}


def test_denied_and_listing_denied_fails(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    listings = _deny_get_object(env, monkeypatch, list_denied=True)
    with pytest.raises(ClientError, match="GetObject") as raised:
        env.run("incoming/gone.jsonl")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert isinstance(raised.value.__cause__, ClientError)  # the ListObjectsV2 denial
    assert len(listings) == 1
    assert "s3:ListBucket" in caplog.text


def test_other_get_object_errors_are_not_taken_for_gone(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = env.mod.client("s3")

    def get_object(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your request rate"}}, "GetObject")

    monkeypatch.setattr(s3, "get_object", get_object)
    with pytest.raises(ClientError, match="SlowDown"):
        env.run("incoming/a.jsonl")


# --------------------------------------------------------------------------- idempotency / batching


def test_duplicates_and_reruns_are_idempotent(env: Env) -> None:
    records = [{"id": f"id-{i}", "timestamp": 1, "n": i} for i in range(30)]
    records += [{"id": "id-0", "timestamp": "1", "n": "last"},  # same key as line 1, other batch
                {"id": "dup", "timestamp": 2, "n": "first"},
                {"id": "dup", "timestamp": 2, "n": "second"}]  # same batch: last one wins
    env.put("incoming/dups.jsonl", jsonl(*records))

    first = env.run("incoming/dups.jsonl")
    second = env.run("incoming/dups.jsonl")

    assert first == second == {"objects": 1, "records": 33, "written": 33, "rejected": 0}
    items = env.items()
    assert len(items) == 31
    assert items["dup@2"]["n"] == "second"
    assert items["id-0@1"]["n"] == "last"


def test_batches_hold_at_most_25_distinct_keys(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    ddb = env.mod.client("dynamodb")
    sizes: list[int] = []
    real = ddb.batch_write_item

    def spy(**kwargs: Any) -> Any:
        requests = kwargs["RequestItems"][TABLE]
        keys = {(r["PutRequest"]["Item"]["id"]["S"], r["PutRequest"]["Item"]["timestamp"]["N"])
                for r in requests}
        assert len(keys) == len(requests)
        sizes.append(len(requests))
        return real(**kwargs)

    monkeypatch.setattr(ddb, "batch_write_item", spy)
    env.put("incoming/many.jsonl", jsonl(*({"id": str(i), "timestamp": i} for i in range(60))))

    assert env.run("incoming/many.jsonl")["written"] == 60
    assert sizes == [25, 25, 10]


def _unprocessed_once(ddb: Any, monkeypatch: pytest.MonkeyPatch, times: int | None) -> list[int]:
    """Make batch_write_item write nothing and return everything unprocessed `times` times."""
    calls: list[int] = []
    real = ddb.batch_write_item

    def fake(**kwargs: Any) -> Any:
        calls.append(len(kwargs["RequestItems"][TABLE]))
        if times is None or len(calls) <= times:
            return {"UnprocessedItems": kwargs["RequestItems"]}
        return real(**kwargs)

    monkeypatch.setattr(ddb, "batch_write_item", fake)
    return calls


def _count_puts(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    puts: list[str] = []
    real = ddb.put_item

    def spy(**kwargs: Any) -> Any:
        puts.append(kwargs["Item"]["id"]["S"])
        return real(**kwargs)

    monkeypatch.setattr(ddb, "put_item", spy)
    return puts


def test_unprocessed_items_are_retried_with_backoff(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    ddb = env.mod.client("dynamodb")
    calls = _unprocessed_once(ddb, monkeypatch, times=1)
    puts = _count_puts(ddb, monkeypatch)
    env.put("incoming/r.jsonl", jsonl(*({"id": str(i), "timestamp": 1} for i in range(5))))

    assert env.run("incoming/r.jsonl")["written"] == 5
    assert calls == [5, 5]
    assert len(env.sleeps) == 1 and 0 < env.sleeps[0] <= env.mod.BACKOFF_MAX_SECONDS
    assert puts == []
    assert len(env.items()) == 5


def test_always_unprocessed_falls_back_to_put_item(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    ddb = env.mod.client("dynamodb")
    calls = _unprocessed_once(ddb, monkeypatch, times=None)
    puts = _count_puts(ddb, monkeypatch)
    env.put("incoming/r.jsonl", jsonl(*({"id": str(i), "timestamp": 1} for i in range(3))))

    assert env.run("incoming/r.jsonl") == {"objects": 1, "records": 3, "written": 3, "rejected": 0}
    assert len(calls) == env.mod.MAX_BATCH_ATTEMPTS
    assert len(env.sleeps) == env.mod.MAX_BATCH_ATTEMPTS - 1
    ceilings = [env.mod.BACKOFF_BASE_SECONDS * 2 ** n for n in range(len(env.sleeps))]
    assert all(c / 2 <= d <= c for d, c in zip(env.sleeps, ceilings, strict=True))
    assert sorted(puts) == ["0", "1", "2"]
    assert len(env.items()) == 3


def test_backoff_grows_exponentially_and_is_capped(env: Env) -> None:
    delays = [env.mod.backoff_delay(n) for n in range(1, 12)]
    ceilings = [min(env.mod.BACKOFF_MAX_SECONDS, env.mod.BACKOFF_BASE_SECONDS * 2 ** (n - 1))
                for n in range(1, 12)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))


def test_item_dynamodb_refuses_is_quarantined(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    ddb = env.mod.client("dynamodb")
    validation = ClientError({"Error": {"Code": "ValidationException", "Message": "nope"}}, "X")

    def batch(**kwargs: Any) -> Any:
        raise validation

    real_put = ddb.put_item

    def put(**kwargs: Any) -> Any:
        if kwargs["Item"]["id"]["S"] == "bad":
            raise validation
        return real_put(**kwargs)

    monkeypatch.setattr(ddb, "batch_write_item", batch)
    monkeypatch.setattr(ddb, "put_item", put)
    env.put("incoming/v.jsonl", jsonl({"id": "ok", "timestamp": 1}, {"id": "bad", "timestamp": 1}))

    assert env.run("incoming/v.jsonl") == {"objects": 1, "records": 2, "written": 1, "rejected": 1}
    (entry,) = env.quarantine("quarantine/v.jsonl.rejected.jsonl")
    assert entry["line"] == 2 and "DynamoDB rejected the item" in entry["error"]


def test_other_dynamodb_errors_fail_the_invocation(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    env.put("incoming/a.jsonl", jsonl({"id": "a", "timestamp": 1}))
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        env.run("incoming/a.jsonl")


# --------------------------------------------------------------------------- streaming / IAM


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_iter_lines_across_chunk_boundaries(env: Env, chunk: int) -> None:
    data = b"one\r\ntwo\n\nthree\r\nfour"
    chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    lines = list(env.mod.iter_lines(chunks))
    assert [(line.number, line.data) for line in lines] == [
        (1, b"one"), (2, b"two"), (3, b""), (4, b"three"), (5, b"four")]


def test_parsing_memory_is_constant(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    class NullDynamo:
        def batch_write_item(self, **kwargs: Any) -> dict[str, Any]:
            return {}

    monkeypatch.setattr(env.mod, "client", lambda service: NullDynamo())
    line = json.dumps({"id": "x" * 40, "timestamp": 1, "payload": "p" * 150}).encode() + b"\n"
    total_chunks = 8 * 1024 * 1024 // (64 * 1024)  # 8 MiB streamed in 64 KiB chunks
    chunk = line * (64 * 1024 // len(line))

    tracemalloc.start()
    try:
        lines = env.mod.iter_lines(chunk for _ in range(total_chunks))
        counts = env.mod.ingest(env.mod.parse_json_lines(lines), TABLE, env.mod.Quarantine(None))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counts.written == counts.records > 30_000
    assert peak < 2 * 1024 * 1024


def test_calls_only_documented_actions(env: Env, api_calls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    documented = documented_actions(env.mod)
    assert documented == {
        "s3:GetObject", "s3:ListBucket", "s3:PutObject", "dynamodb:BatchWriteItem", "dynamodb:PutItem"}
    env.put("incoming/a.jsonl", jsonl({"id": "a", "timestamp": 1}, "bad"))
    env.put("incoming/b.jsonl", jsonl({"id": "b", "timestamp": 1}))

    with api_calls() as calls:
        env.run("incoming/a.jsonl", "incoming/missing.jsonl")  # batch write + quarantine
    _unprocessed_once(env.mod.client("dynamodb"), monkeypatch, times=None)
    with api_calls() as fallback_calls:
        env.run("incoming/b.jsonl")  # PutItem fallback
    _deny_get_object(env, monkeypatch)
    with api_calls() as denied_calls:
        env.run("incoming/missing.jsonl")  # 403: listed to tell gone from denied

    # IAM action of each operation (ListObjectsV2 is authorized as s3:ListBucket).
    actions = {"s3:ListObjectsV2": "s3:ListBucket"}
    made = {actions.get(call, call) for call in [*calls, *fallback_calls, *denied_calls]}
    assert made == documented
