"""Strict rule 12: CloudWatch refuses alarm periods and evaluation ranges AWS does not accept.

Found by the molecule localstack scenario's comparison: LocalStack refuses a period of 45 s,
moto 5.2.5 stores it. boto3 parses what the patched moto answers, so the ClientError's code
proves the wire format too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from scripts import strict_aws


@pytest.fixture
def cloudwatch(strict_patches: None) -> Iterator[Any]:
    strict_aws.CONFIG.update({"enabled": True})
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


def put_alarm(cloudwatch: Any, name: str, period: int, evaluation_periods: int = 1) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=period,
        EvaluationPeriods=evaluation_periods,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def alarm_names(cloudwatch: Any) -> list[str]:
    return [alarm["AlarmName"] for alarm in cloudwatch.describe_alarms()["MetricAlarms"]]


@pytest.mark.parametrize("period", [10, 20, 30, 60, 300, 86400])
def test_documented_periods_accepted(cloudwatch, period: int) -> None:
    put_alarm(cloudwatch, f"p{period}", period)
    assert alarm_names(cloudwatch) == [f"p{period}"]


@pytest.mark.parametrize(
    ("period", "evaluation_periods", "fragment"),
    [
        (45, 1, "Period must be 10, 20, 30 or a multiple of 60 (got 45)"),
        (90, 1, "(got 90)"),
        (5, 1, "(got 5)"),
        # under an hour: at most one day in all
        (300, 289, "(300 x 289) must not exceed 86400 seconds"),
        # an hour or more: at most seven days
        (3600, 169, "(3600 x 169) must not exceed 604800 seconds"),
    ],
)
def test_refused_and_not_stored(
    cloudwatch, capsys, period: int, evaluation_periods: int, fragment: str
) -> None:
    with pytest.raises(ClientError) as caught:
        put_alarm(cloudwatch, "bad", period, evaluation_periods)
    error = caught.value.response
    assert error["Error"]["Code"] == "ValidationError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fragment in error["Error"]["Message"]
    assert "strict_aws: refused: ValidationError 400" in capsys.readouterr().err
    assert alarm_names(cloudwatch) == []


def test_limits_themselves_accepted(cloudwatch) -> None:
    put_alarm(cloudwatch, "one-day", 300, 288)
    put_alarm(cloudwatch, "seven-days", 3600, 168)
    assert sorted(alarm_names(cloudwatch)) == ["one-day", "seven-days"]


def test_metric_query_period_checked(cloudwatch) -> None:
    query = {
        "Id": "m1",
        "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"},
            "Period": 45,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_metric_alarm(
            AlarmName="math",
            Metrics=[query],
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert "(got 45)" in caught.value.response["Error"]["Message"]


def test_any_period_stored_when_strict_is_off(cloudwatch) -> None:
    strict_aws.CONFIG.update({"enabled": False})
    put_alarm(cloudwatch, "loose", 45)
    assert alarm_names(cloudwatch) == ["loose"]


@pytest.mark.parametrize(
    ("period", "evaluation_periods", "accepted"),
    [(None, 1, True), (60, None, True), (0, 1, False), (-60, 1, False), (120, 720, True), (120, 721, False)],
)
def test_alarm_period_problem(period: int | None, evaluation_periods: int | None, accepted: bool) -> None:
    assert (strict_aws.alarm_period_problem(period, evaluation_periods) is None) is accepted
