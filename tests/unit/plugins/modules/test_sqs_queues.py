"""secureinfra.baseline.sqs_queues against in-process moto."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import sqs_queues as mod

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
WRITES = {"CreateQueue", "SetQueueAttributes", "TagQueue", "UntagQueue", "DeleteQueue"}


@pytest.fixture
def sqs(aws):
    return boto3.client("sqs", region_name="us-east-1")


def queue(name: str = "baseline-processor-dlq", **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kms_master_key_id": KEY,
        "kms_data_key_reuse_period_seconds": 300,
        "message_retention_period": 1209600,
        "tags": {"Project": "baseline", "Function": name.split("-")[1] if "-" in name else name},
        **overrides,
    }


def two() -> list[dict[str, Any]]:
    return [queue(), queue("baseline-analytics-dlq")]


def state(sqs, name: str) -> tuple[dict[str, str], dict[str, str]]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return attributes, sqs.list_queue_tags(QueueUrl=url).get("Tags", {})


def test_create_with_attributes_and_tags_then_rerun_reads_only(sqs, run_module, calls):
    result = run_module(mod, {"queues": two()})
    assert result["changed"] is True
    assert [(q["name"], q["created"], q["changed"]) for q in result["queues"]] == [
        ("baseline-processor-dlq", True, True),
        ("baseline-analytics-dlq", True, True),
    ]
    # attributes and tags in CreateQueue; no call on a queue just created (SQS asks for a second)
    assert calls == ["GetQueueUrl", "CreateQueue"] * 2
    attributes, tags = state(sqs, "baseline-processor-dlq")
    assert attributes["KmsMasterKeyId"] == KEY
    assert attributes["KmsDataKeyReusePeriodSeconds"] == "300"
    assert attributes["MessageRetentionPeriod"] == "1209600"
    assert tags == {"Project": "baseline", "Function": "processor"}
    assert result["queues"][0]["queue_arn"] == attributes["QueueArn"]

    calls.clear()
    rerun = run_module(mod, {"queues": two()})
    assert rerun["changed"] is False
    assert sorted(calls) == sorted(["GetQueueUrl", "GetQueueAttributes", "ListQueueTags"] * 2)
    assert [q["queue_arn"] for q in rerun["queues"]] == [q["queue_arn"] for q in result["queues"]]


def test_drift_repaired_with_diff(sqs, run_module):
    run_module(mod, {"queues": two()})
    url = sqs.get_queue_url(QueueName="baseline-analytics-dlq")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["Project"])
    sqs.tag_queue(QueueUrl=url, Tags={"Extra": "x"})
    result = run_module(mod, {"queues": two()}, diff=True)
    assert result["changed"] is True
    assert [q["changed"] for q in result["queues"]] == [False, True]
    assert list(result["diff"]["before"]) == ["baseline-analytics-dlq"]
    assert result["diff"]["before"]["baseline-analytics-dlq"]["MessageRetentionPeriod"] == "60"
    assert result["diff"]["before"]["baseline-analytics-dlq"]["tags"] == {
        "Function": "analytics",
        "Extra": "x",
    }
    assert result["diff"]["after"]["baseline-analytics-dlq"]["tags"] == {
        "Function": "analytics",
        "Project": "baseline",
    }
    attributes, tags = state(sqs, "baseline-analytics-dlq")
    assert attributes["MessageRetentionPeriod"] == "1209600"
    assert tags == {"Project": "baseline", "Function": "analytics"}
    assert run_module(mod, {"queues": two()})["changed"] is False


def test_purge_tags_false_keeps_other_tags(sqs, run_module):
    run_module(mod, {"queues": [queue()]})
    url = sqs.get_queue_url(QueueName="baseline-processor-dlq")["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"Extra": "x"})
    assert run_module(mod, {"queues": [queue()], "purge_tags": False})["changed"] is False
    assert state(sqs, "baseline-processor-dlq")[1]["Extra"] == "x"


def test_unset_options_are_left_alone(sqs, run_module, calls):
    run_module(mod, {"queues": [queue()]})
    calls.clear()
    bare = {"name": "baseline-processor-dlq"}
    result = run_module(mod, {"queues": [bare]})
    assert result["changed"] is False
    assert "ListQueueTags" not in calls


def test_check_mode_writes_nothing(sqs, run_module, calls):
    run_module(mod, {"queues": [queue()]})
    url = sqs.get_queue_url(QueueName="baseline-processor-dlq")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsDataKeyReusePeriodSeconds": "600"})
    calls.clear()
    result = run_module(mod, {"queues": two()}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert [(q["created"], q["changed"]) for q in result["queues"]] == [(False, True), (True, True)]
    new = result["queues"][1]
    assert new["queue_arn"] == "arn:aws:sqs:us-east-1:123456789012:baseline-analytics-dlq"
    assert new["queue_url"].endswith("/123456789012/baseline-analytics-dlq")
    assert result["diff"]["before"]["baseline-analytics-dlq"] == {}
    assert not WRITES & set(calls)
    assert len(sqs.list_queues()["QueueUrls"]) == 1
    assert state(sqs, "baseline-processor-dlq")[0]["KmsDataKeyReusePeriodSeconds"] == "600"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "q" * 81}, "must be 1-80 letters"),
        ({"name": "orders.fifo"}, "standard queues only"),
        ({"message_retention_period": 59}, "message_retention_period must be 60-1209600, got 59"),
        ({"message_retention_period": 1209601}, "message_retention_period must be 60-1209600"),
        ({"kms_data_key_reuse_period_seconds": 86401}, "kms_data_key_reuse_period_seconds must be 60-86400"),
        ({"kms_master_key_id": ""}, "kms_master_key_id must be a key id"),
        ({"tags": {"aws:x": "y"}}, "not starting with 'aws:'"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "at most 50 tags"),
    ],
)
def test_bad_input_fails_before_any_call(sqs, run_module, calls, overrides, message):
    result = run_module(mod, {"queues": [queue(**overrides)]}, expect_failure=True)
    assert message in result["msg"]
    assert calls == []


def test_duplicate_names_fail(sqs, run_module, calls):
    result = run_module(mod, {"queues": [queue(), queue()]}, expect_failure=True)
    assert "each name once" in result["msg"] and "baseline-processor-dlq" in result["msg"]
    assert calls == []
