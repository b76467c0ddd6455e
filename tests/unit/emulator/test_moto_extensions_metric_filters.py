"""scripts/moto_extensions.py: PutMetricFilter replaces the log group's filter of that name, as AWS
does (moto 5.2.5 appends a second one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.logs.metric_filters import MetricFilters

from scripts import moto_extensions


def _put(logs: Any, group: str, name: str, pattern: str) -> None:
    logs.put_metric_filter(
        logGroupName=group,
        filterName=name,
        filterPattern=pattern,
        metricTransformations=[{"metricName": name, "metricNamespace": "CIS", "metricValue": "1"}],
    )


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("logs", region_name="us-east-1")
        for group in ("/trail", "/other"):
            client.create_log_group(logGroupName=group)
            _put(client, group, "root-usage", '{ $.userIdentity.type = "Root" }')
        yield client


def _filters(logs: Any, group: str) -> list[tuple[str, str]]:
    found = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    return [(f["filterName"], f["filterPattern"]) for f in found]


def test_plain_moto_keeps_both_filters_of_one_name(logs: Any) -> None:
    _put(logs, "/trail", "root-usage", '{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }')
    assert [name for name, _ in _filters(logs, "/trail")] == ["root-usage", "root-usage"]


def test_putting_a_filter_again_replaces_it_in_its_log_group_only(logs: Any) -> None:
    new = '{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }'
    patched = moto_extensions._put_metric_filter(MetricFilters.add_filter)
    with mock.patch.object(MetricFilters, "add_filter", patched):
        _put(logs, "/trail", "root-usage", new)
        _put(logs, "/trail", "console-no-mfa", '{ $.eventName = "ConsoleLogin" }')
    assert _filters(logs, "/trail") == [
        ("root-usage", new),
        ("console-no-mfa", '{ $.eventName = "ConsoleLogin" }'),
    ]
    assert _filters(logs, "/other") == [("root-usage", '{ $.userIdentity.type = "Root" }')]
