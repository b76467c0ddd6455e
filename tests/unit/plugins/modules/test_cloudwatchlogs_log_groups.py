"""secureinfra.baseline.cloudwatchlogs_log_groups against in-process moto."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.client
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import cloudwatchlogs_log_groups as mod
from moto.core import DEFAULT_ACCOUNT_ID
from moto.logs.models import logs_backends

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
OTHER_KEY = KEY.replace("1111", "9999")
WRITES = {"CreateLogGroup", "PutRetentionPolicy", "DeleteRetentionPolicy", "AssociateKmsKey"} | {
    "TagResource",
    "UntagResource",
}


@pytest.fixture
def logs(aws):
    return boto3.client("logs", region_name="us-east-1")


@pytest.fixture
def calls(monkeypatch):
    """Names of the AWS operations called from now on. moto 5.2.5 has no AssociateKmsKey: the spy
    answers it by setting the key on moto's log group, as AWS does."""
    seen: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def spy(self, operation_name, api_params):
        seen.append(operation_name)
        if operation_name == "AssociateKmsKey":
            group = logs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].groups[api_params["logGroupName"]]
            group.kms_key_id = api_params["kmsKeyId"]
            return {}
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    return seen


def group(name: str = "/aws/lambda/baseline-processor", **overrides: Any) -> dict[str, Any]:
    return {"name": name, "retention": 30, "kms_key_id": KEY, "tags": {"Project": "baseline"}, **overrides}


def two() -> list[dict[str, Any]]:
    return [
        group(),
        group("/aws/lambda/baseline-analytics", tags={"Project": "baseline", "Function": "analytics"}),
    ]


def described(logs, name: str) -> dict[str, Any]:
    return next(
        g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name
    )


def tags(logs, name: str) -> dict[str, str]:
    arn = described(logs, name)["arn"].removesuffix(":*")
    return logs.list_tags_for_resource(resourceArn=arn)["tags"]


def test_create_then_rerun_reads_only(logs, run_module, calls):
    result = run_module(mod, {"log_groups": two()})
    assert result["changed"] is True
    assert [(g["name"], g["created"]) for g in result["log_groups"]] == [
        ("/aws/lambda/baseline-processor", True),
        ("/aws/lambda/baseline-analytics", True),
    ]
    assert "TagResource" not in calls and "AssociateKmsKey" not in calls  # key and tags in CreateLogGroup
    created = described(logs, "/aws/lambda/baseline-analytics")
    assert created["retentionInDays"] == 30
    assert created["kmsKeyId"] == KEY
    assert tags(logs, "/aws/lambda/baseline-analytics") == {"Project": "baseline", "Function": "analytics"}

    calls.clear()
    assert run_module(mod, {"log_groups": two()})["changed"] is False
    assert sorted(calls) == sorted(["DescribeLogGroups", "ListTagsForResource"] * 2)


def test_drift_repaired_with_diff(logs, run_module, calls):
    run_module(mod, {"log_groups": two()})
    logs.put_retention_policy(logGroupName="/aws/lambda/baseline-processor", retentionInDays=1)
    logs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].groups[
        "/aws/lambda/baseline-processor"
    ].kms_key_id = OTHER_KEY
    arn = described(logs, "/aws/lambda/baseline-processor")["arn"].removesuffix(":*")
    logs.tag_resource(resourceArn=arn, tags={"Extra": "x"})
    result = run_module(mod, {"log_groups": two()}, diff=True)
    assert [g["changed"] for g in result["log_groups"]] == [True, False]
    before = result["diff"]["before"]["/aws/lambda/baseline-processor"]
    after = result["diff"]["after"]["/aws/lambda/baseline-processor"]
    assert before == {"retention": 1, "kms_key_id": OTHER_KEY, "tags": {"Project": "baseline", "Extra": "x"}}
    assert after == {"retention": 30, "kms_key_id": KEY, "tags": {"Project": "baseline"}}
    assert "AssociateKmsKey" in calls
    now = described(logs, "/aws/lambda/baseline-processor")
    assert (now["retentionInDays"], now["kmsKeyId"]) == (30, KEY)
    assert tags(logs, "/aws/lambda/baseline-processor") == {"Project": "baseline"}
    assert run_module(mod, {"log_groups": two()})["changed"] is False


def test_retention_zero_keeps_events_forever(logs, run_module):
    run_module(mod, {"log_groups": [group()]})
    assert run_module(mod, {"log_groups": [group(retention=0)]})["changed"] is True
    assert "retentionInDays" not in described(logs, "/aws/lambda/baseline-processor")
    assert run_module(mod, {"log_groups": [group(retention=0)]})["changed"] is False


def test_check_mode_writes_nothing(logs, run_module, calls):
    run_module(mod, {"log_groups": [group()]})
    logs.put_retention_policy(logGroupName="/aws/lambda/baseline-processor", retentionInDays=7)
    calls.clear()
    result = run_module(mod, {"log_groups": two()}, check_mode=True, diff=True)
    assert [(g["created"], g["changed"]) for g in result["log_groups"]] == [(False, True), (True, True)]
    assert result["diff"]["before"]["/aws/lambda/baseline-analytics"] == {}
    assert not WRITES & set(calls)
    assert len(logs.describe_log_groups()["logGroups"]) == 1
    assert described(logs, "/aws/lambda/baseline-processor")["retentionInDays"] == 7


def test_prefix_sibling_is_not_taken_for_the_group(logs, run_module):
    logs.create_log_group(logGroupName="/aws/lambda/baseline-processor-old")
    result = run_module(mod, {"log_groups": [group()]})
    assert result["log_groups"][0]["created"] is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "bad name"}, "must be 1-512 letters"),
        ({"retention": 2}, "retention must be 0 (forever) or one of 1, 3, 5"),
        ({"kms_key_id": "alias/baseline"}, "kms_key_id must be a KMS key ARN"),
        ({"tags": {"aws:x": "y"}}, "not starting with 'aws:'"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "at most 50 tags"),
    ],
)
def test_bad_input_fails_before_any_call(logs, run_module, calls, overrides, message):
    result = run_module(mod, {"log_groups": [group(**overrides)]}, expect_failure=True)
    assert message in result["msg"]
    assert calls == []


def test_duplicate_names_fail(logs, run_module, calls):
    result = run_module(mod, {"log_groups": [group(), group()]}, expect_failure=True)
    assert "each name once" in result["msg"]
    assert calls == []
