"""Helpers of the Lambda handler unit tests (tests/unit/lambda), importable as `support.lambda_helpers`.

They live here rather than in tests/unit/lambda/conftest.py so that the tests import them the same
way under pytest and under `ansible-test units` (which imports test modules as
`ansible_collections.secureinfra.baseline.tests.unit.lambda.*`, where `conftest` is no top-level
module).
"""

from __future__ import annotations

import re
from types import ModuleType

import boto3
import pytest

ACTION_LINE = re.compile(r"^\s*-\s*([a-z0-9-]+:[A-Za-z0-9]+)\s*$")


def documented_actions(module: ModuleType) -> set[str]:
    """The `service:Action` list under "AWS actions" in the module docstring."""
    doc = module.__doc__ or ""
    section = doc.split("AWS actions", 1)[1].split("\n\n", 1)[0]
    return {m.group(1) for line in section.splitlines() if (m := ACTION_LINE.match(line))}


def create_data_stores(bucket: str, table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bucket and the data table (id S / timestamp N) a data function uses, and its environment."""
    boto3.client("s3").create_bucket(Bucket=bucket)
    ddb = boto3.client("dynamodb")
    ddb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "id", "KeyType": "HASH"},
            {"AttributeName": "timestamp", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "timestamp", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=table)
    monkeypatch.setenv("TABLE_NAME", table)
    monkeypatch.setenv("BUCKET_NAME", bucket)
