"""Unit tests for files/lambda/analytics/handler.py against in-process moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest
from support.lambda_helpers import create_data_stores, documented_actions

BUCKET = "report-bucket"
TABLE = "ingest-table"
EVENT_TIME = "2024-03-05T07:00:00Z"
EVENT_EPOCH = int(datetime(2024, 3, 5, 7, tzinfo=UTC).timestamp())


@pytest.fixture
def mod(aws: None, load_lambda: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    create_data_stores(BUCKET, TABLE, monkeypatch)
    monkeypatch.delenv("REPORT_PREFIX", raising=False)
    monkeypatch.delenv("SCAN_PAGE_SIZE", raising=False)
    return load_lambda("analytics")


def put_items(items: list[dict[str, Any]]) -> None:
    with boto3.resource("dynamodb").Table(TABLE).batch_writer() as writer:
        for item in items:
            writer.put_item(Item=item)


def read_report(key: str) -> tuple[dict[str, Any], str]:
    obj = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)
    return json.loads(obj["Body"].read()), obj["ContentType"]


KNOWN_ITEMS = [
    {"id": "a", "timestamp": 100, "category": "red", "value": 10},
    {"id": "b", "timestamp": 250, "category": "red", "value": "2.5"},  # numeric string (CSV ingest)
    {"id": "c", "timestamp": 50, "category": "blue", "value": -4},
    {"id": "d", "timestamp": 300, "category": "blue"},
    {"id": "e", "timestamp": 200, "value": "n/a"},  # not numeric: ignored
    {"id": "f", "timestamp": 150, "category": 7, "flag": True},
]


def test_aggregates_known_data_and_writes_report(mod: ModuleType) -> None:
    put_items([dict(item) for item in KNOWN_ITEMS])

    result = mod.handler({"time": EVENT_TIME, "detail-type": "Scheduled Event"}, None)

    key = f"reports/2024/03/05/07/report-{EVENT_EPOCH}.json"
    assert result["report_key"] == key
    report = result["report"]
    assert report["item_count"] == 6
    assert report["categories"] == {"blue": 2, "red": 2, "7": 1}
    assert report["uncategorized"] == 1
    assert report["categories_overflow"] == 0
    assert report["timestamp"] == {"min": 50, "max": 300}
    assert report["value"] == {"count": 3, "sum": 8.5, "min": -4, "max": 10, "mean": pytest.approx(8.5 / 3)}
    assert report["table"] == TABLE
    assert report["generated_at"] == "2024-03-05T07:00:00+00:00"

    stored, content_type = read_report(key)
    assert content_type == "application/json"
    assert stored == json.loads(json.dumps(report))


def test_empty_table(mod: ModuleType) -> None:
    report = mod.handler({"time": EVENT_TIME}, None)["report"]
    assert report["item_count"] == 0
    assert report["categories"] == {}
    assert report["timestamp"] == {"min": None, "max": None}
    assert report["value"] == {"count": 0, "sum": 0, "min": None, "max": None, "mean": None}


def test_pagination_over_many_items(mod: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                    api_calls: Any) -> None:
    monkeypatch.setenv("SCAN_PAGE_SIZE", "50")
    put_items([{"id": f"item-{i}", "timestamp": i, "category": f"c{i % 3}", "value": i}
               for i in range(1, 1001)])

    with api_calls() as calls:
        report = mod.handler({"time": EVENT_TIME}, None)["report"]

    assert calls.count("dynamodb:Scan") == report["pages"] >= 20
    assert report["item_count"] == 1000
    assert report["categories"] == {"c0": 333, "c1": 334, "c2": 333}
    assert report["timestamp"] == {"min": 1, "max": 1000}
    assert report["value"] == {"count": 1000, "sum": 500500, "min": 1, "max": 1000, "mean": 500.5}


def test_category_cardinality_is_bounded(mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mod, "MAX_CATEGORIES", 5)
    put_items([{"id": str(i), "timestamp": i, "category": f"cat-{i}"} for i in range(8)])

    report = mod.handler({"time": EVENT_TIME}, None)["report"]

    assert len(report["categories"]) == 5
    assert report["categories_overflow"] == 3


def test_report_prefix_and_current_time(mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORT_PREFIX", "custom/")
    before = int(datetime.now(UTC).timestamp())

    key = mod.handler({}, None)["report_key"]

    now = datetime.now(UTC)
    assert key.startswith(f"custom/{now:%Y/%m/%d}/")
    epoch = int(key.rsplit("report-", 1)[1].removesuffix(".json"))
    assert before <= epoch <= int(now.timestamp())
    assert read_report(key)[1] == "application/json"


def test_exact_sums_of_large_decimals(mod: ModuleType) -> None:
    put_items([{"id": "a", "timestamp": 1, "value": 10**30}, {"id": "b", "timestamp": 2, "value": 10**30}])
    assert mod.handler({"time": EVENT_TIME}, None)["report"]["value"]["sum"] == 2 * 10**30


def test_calls_only_documented_actions(mod: ModuleType, api_calls: Any) -> None:
    documented = documented_actions(mod)
    assert documented == {"dynamodb:Scan", "s3:PutObject"}
    put_items([dict(item) for item in KNOWN_ITEMS])
    with api_calls() as calls:
        mod.handler({"time": EVENT_TIME}, None)
    assert set(calls) == documented
