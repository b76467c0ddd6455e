"""Hourly aggregate report of the ingest table, written to S3 as JSON.

Scans the table read-only with a Scan paginator (projecting only the attributes it
needs), aggregates while paginating (memory does not grow with the table), and writes
``<REPORT_PREFIX>YYYY/MM/DD/HH/report-<epoch>.json`` (UTC).

AWS actions (the IAM role is generated from this list):
    - dynamodb:Scan
    - s3:PutObject

Environment:
    TABLE_NAME      table to read (hash key ``id`` S, range key ``timestamp`` N)
    BUCKET_NAME     bucket receiving the reports
    REPORT_PREFIX   default ``reports/``
    SCAN_PAGE_SIZE  optional Scan ``Limit`` per page (default: DynamoDB's 1 MB pages)

Report: ``item_count``; ``categories`` (item count per value of the optional
``category`` attribute, at most MAX_CATEGORIES distinct values, the rest counted in
``categories_overflow``) and ``uncategorized``; ``timestamp`` min/max; ``value``
count/sum/min/max/mean over items whose ``value`` is a number (N, or a string holding
a finite number, since CSV ingestion stores strings). The report time is the
EventBridge event's ``time`` when present (so a retried invocation overwrites the same
report), otherwise the current time.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Context, Decimal, InvalidOperation
from typing import Any

import boto3

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

MAX_CATEGORIES = 1000
MAX_CATEGORY_CHARS = 256
SUM_CONTEXT = Context(prec=60)  # DynamoDB numbers have up to 38 digits; keep sums exact
PROJECTION = {"#ts": "timestamp", "#cat": "category", "#val": "value"}


@functools.cache
def client(service: str) -> Any:
    """Create (once per container) a boto3 client; honours AWS_ENDPOINT_URL."""
    return boto3.client(service)


@dataclass
class Stats:
    """Running count/sum/min/max of Decimals."""

    count: int = 0
    total: Decimal = Decimal(0)
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def add(self, number: Decimal) -> None:
        self.count += 1
        self.total = SUM_CONTEXT.add(self.total, number)
        self.minimum = number if self.minimum is None else min(self.minimum, number)
        self.maximum = number if self.maximum is None else max(self.maximum, number)

    def mean(self) -> Decimal | None:
        return SUM_CONTEXT.divide(self.total, self.count) if self.count else None


@dataclass
class Aggregator:
    """Aggregates raw (low-level client) DynamoDB items one at a time."""

    item_count: int = 0
    pages: int = 0
    uncategorized: int = 0
    categories_overflow: int = 0
    categories: dict[str, int] = field(default_factory=dict)
    timestamps: Stats = field(default_factory=Stats)
    values: Stats = field(default_factory=Stats)

    def add_page(self, items: list[dict[str, Any]]) -> None:
        self.pages += 1
        for item in items:
            self.add(item)

    def add(self, item: dict[str, Any]) -> None:
        self.item_count += 1
        self._add_category(item.get("category"))
        timestamp = _number(item.get("timestamp"), allow_string=False)
        if timestamp is not None:
            self.timestamps.add(timestamp)
        value = _number(item.get("value"), allow_string=True)
        if value is not None:
            self.values.add(value)

    def _add_category(self, attr: dict[str, Any] | None) -> None:
        name = _category_name(attr)
        if name is None:
            self.uncategorized += 1
        elif name in self.categories or len(self.categories) < MAX_CATEGORIES:
            self.categories[name] = self.categories.get(name, 0) + 1
        else:
            self.categories_overflow += 1

    def report(self, table: str, generated_at: datetime) -> dict[str, Any]:
        return {
            "table": table,
            "generated_at": generated_at.isoformat(),
            "pages": self.pages,
            "item_count": self.item_count,
            "categories": dict(sorted(self.categories.items())),
            "uncategorized": self.uncategorized,
            "categories_overflow": self.categories_overflow,
            "timestamp": {"min": _plain(self.timestamps.minimum), "max": _plain(self.timestamps.maximum)},
            "value": {
                "count": self.values.count,
                "sum": _plain(self.values.total),
                "min": _plain(self.values.minimum),
                "max": _plain(self.values.maximum),
                "mean": _plain(self.values.mean()),
            },
        }


def _category_name(attr: dict[str, Any] | None) -> str | None:
    """Category as a string key: S and N as-is, BOOL as true/false; other types ignored."""
    if not attr:
        return None
    if "S" in attr:
        return str(attr["S"])[:MAX_CATEGORY_CHARS]
    if "N" in attr:
        return str(attr["N"])
    if "BOOL" in attr:
        return "true" if attr["BOOL"] else "false"
    return None


def _number(attr: dict[str, Any] | None, allow_string: bool) -> Decimal | None:
    if not attr:
        return None
    text = attr.get("N")
    if text is None and allow_string:
        text = attr.get("S")
    if text is None:
        return None
    try:
        number = Decimal(str(text).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal | None) -> int | float | None:
    """JSON-friendly number: int when integral, float otherwise."""
    if number is None:
        return None
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def scan_table(table: str, page_size: int | None = None) -> Aggregator:
    """Aggregate the whole table with a Scan paginator."""
    paginator = client("dynamodb").get_paginator("scan")
    config = {"PageSize": page_size} if page_size else {}
    aggregator = Aggregator()
    pages = paginator.paginate(
        TableName=table,
        ProjectionExpression=", ".join(PROJECTION),
        ExpressionAttributeNames=PROJECTION,
        PaginationConfig=config,
    )
    for page in pages:
        aggregator.add_page(page.get("Items", []))
    return aggregator


def report_time(event: dict[str, Any] | None) -> datetime:
    """The scheduled time of an EventBridge event, else now (UTC)."""
    when = (event or {}).get("time")
    if isinstance(when, str):
        try:
            parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            LOGGER.warning("ignoring unparseable event time %r", when)
        else:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def report_key(prefix: str, when: datetime) -> str:
    return f"{prefix}{when:%Y/%m/%d/%H}/report-{int(when.timestamp())}.json"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (EventBridge schedule)."""
    table = os.environ["TABLE_NAME"]
    bucket = os.environ["BUCKET_NAME"]
    prefix = os.environ.get("REPORT_PREFIX", "reports/")
    page_size = int(os.environ.get("SCAN_PAGE_SIZE") or 0) or None
    when = report_time(event)
    report = scan_table(table, page_size).report(table, when)
    key = report_key(prefix, when)
    body = json.dumps(report, indent=2, sort_keys=True).encode("utf-8")
    client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    LOGGER.info("wrote s3://%s/%s (%d items)", bucket, key, report["item_count"])
    return {"report_key": key, "report": report}
