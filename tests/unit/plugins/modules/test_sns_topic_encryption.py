"""secureinfra.baseline.sns_topic_encryption against in-process moto."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import sns_topic_encryption as mod

KEY = "alias/aws/sns"


@pytest.fixture
def sns(aws):
    return boto3.client("sns", region_name="us-east-1")


@pytest.fixture
def topic(sns):
    return sns.create_topic(Name="baseline-alarms")["TopicArn"]


def _key(sns, arn):
    return sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("KmsMasterKeyId") or None


def test_set_then_idempotent(sns, topic, run_module):
    assert _key(sns, topic) is None
    result = run_module(mod, {"topic_arn": topic, "kms_master_key_id": KEY})
    assert result["changed"] is True
    assert result["kms_master_key_id"] == KEY
    assert result["topic_arn"] == topic
    assert _key(sns, topic) == KEY
    assert run_module(mod, {"topic_arn": topic, "kms_master_key_id": KEY})["changed"] is False
    assert _key(sns, topic) == KEY


def test_update_to_customer_key_with_diff(sns, topic, run_module):
    key_arn = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    run_module(mod, {"topic_arn": topic, "kms_master_key_id": KEY})
    result = run_module(mod, {"topic_arn": topic, "kms_master_key_id": key_arn}, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"kms_master_key_id": KEY}, "after": {"kms_master_key_id": key_arn}}
    assert _key(sns, topic) == key_arn
    assert run_module(mod, {"topic_arn": topic, "kms_master_key_id": key_arn})["changed"] is False


@pytest.mark.parametrize("args", [{"state": "absent"}, {"kms_master_key_id": ""}])
def test_disable(sns, topic, run_module, args):
    run_module(mod, {"topic_arn": topic, "kms_master_key_id": KEY})
    result = run_module(mod, {"topic_arn": topic, **args}, diff=True)
    assert result["changed"] is True
    assert result["kms_master_key_id"] is None
    assert result["diff"] == {"before": {"kms_master_key_id": KEY}, "after": {"kms_master_key_id": None}}
    assert _key(sns, topic) is None
    assert run_module(mod, {"topic_arn": topic, **args})["changed"] is False


def test_check_mode_changes_nothing(sns, topic, run_module, calls):
    result = run_module(mod, {"topic_arn": topic, "kms_master_key_id": KEY}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"kms_master_key_id": None}, "after": {"kms_master_key_id": KEY}}
    assert _key(sns, topic) is None
    assert "SetTopicAttributes" not in calls

    sns.set_topic_attributes(TopicArn=topic, AttributeName="KmsMasterKeyId", AttributeValue=KEY)
    calls.clear()
    assert run_module(mod, {"topic_arn": topic, "state": "absent"}, check_mode=True)["changed"] is True
    assert run_module(mod, {"topic_arn": topic, "kms_master_key_id": "alias/x"}, check_mode=True)["changed"]
    assert (
        run_module(mod, {"topic_arn": topic, "kms_master_key_id": KEY}, check_mode=True)["changed"] is False
    )
    assert _key(sns, topic) == KEY
    assert "SetTopicAttributes" not in calls


def test_missing_topic_fails_clearly(sns, topic, run_module, calls):
    missing = topic.replace("baseline-alarms", "nope")
    result = run_module(mod, {"topic_arn": missing, "kms_master_key_id": KEY}, expect_failure=True)
    assert result["msg"] == f"SNS topic '{missing}' does not exist"
    assert "SetTopicAttributes" not in calls


def test_missing_topic_in_check_mode_reports_would_set(sns, topic, run_module, calls):
    missing = topic.replace("baseline-alarms", "created-by-an-earlier-task")
    result = run_module(mod, {"topic_arn": missing, "kms_master_key_id": KEY}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["kms_master_key_id"] == KEY
    assert result["diff"]["after"] == {"kms_master_key_id": KEY}
    # a new topic has no SSE, so disabling it would change nothing
    assert run_module(mod, {"topic_arn": missing, "state": "absent"}, check_mode=True)["changed"] is False
    assert "SetTopicAttributes" not in calls
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [topic]


def test_topic_in_another_region(aws, run_module):
    eu = boto3.client("sns", region_name="eu-west-1")
    arn = eu.create_topic(Name="eu-topic")["TopicArn"]
    result = run_module(mod, {"topic_arn": arn, "kms_master_key_id": KEY})  # module region: us-east-1
    assert result["changed"] is True
    assert _key(eu, arn) == KEY


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"kms_master_key_id": KEY, "state": "absent"}, "must be omitted or empty with state: absent"),
        ({}, "kms_master_key_id"),
        ({"kms_master_key_id": None}, "required with state: present"),
        ({"kms_master_key_id": " alias/aws/sns"}, "whitespace"),
        ({"kms_master_key_id": KEY, "state": "enabled"}, "state"),
        ({"kms_master_key_id": KEY, "topic_arn": "baseline-alarms"}, "must be an SNS topic ARN"),
        (
            {"kms_master_key_id": KEY, "topic_arn": "arn:aws:sqs:us-east-1:123456789012:q"},
            "must be an SNS topic ARN",
        ),
    ],
)
def test_bad_input(sns, topic, run_module, calls, args, message):
    result = run_module(mod, {"topic_arn": topic, **args}, expect_failure=True)
    assert message in result["msg"]
    assert _key(sns, topic) is None
    assert "SetTopicAttributes" not in calls
