"""secureinfra.baseline.sns_encrypted_topic against in-process moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import sns_encrypted_topic as mod

ARN = "arn:aws:sns:us-east-1:123456789012:baseline-alarms"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "CloudWatchPublishes",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": ARN,
        }
    ],
}
WRITES = {"CreateTopic", "SetTopicAttributes", "TagResource", "UntagResource", "Subscribe", "Unsubscribe"} | {
    "DeleteTopic"
}
OPS = {"protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:123456789012:ops"}


@pytest.fixture
def sns(aws):
    return boto3.client("sns", region_name="us-east-1")


def args(**overrides: Any) -> dict[str, Any]:
    return {
        "topic_arn": ARN,
        "display_name": "baseline alarms",
        "policy": json.dumps(POLICY),
        "kms_master_key_id": KEY,
        "tags": {"Project": "baseline", "Owner": "platform"},
        "subscriptions": [OPS],
        **overrides,
    }


def attributes(sns) -> dict[str, str]:
    return sns.get_topic_attributes(TopicArn=ARN)["Attributes"]


def tags(sns) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=ARN)["Tags"]}


def endpoints(sns) -> list[str]:
    return sorted(s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=ARN)["Subscriptions"])


def test_create_in_one_call_then_rerun_reads_only(sns, run_module, calls):
    result = run_module(mod, args())
    assert result["changed"] is True and result["created"] is True
    assert result["topic_arn"] == ARN
    # encryption, policy, display name and tags come with the topic itself
    assert calls[:2] == ["GetTopicAttributes", "CreateTopic"]
    assert "SetTopicAttributes" not in calls and "TagResource" not in calls
    created = attributes(sns)
    assert created["KmsMasterKeyId"] == KEY
    assert created["DisplayName"] == "baseline alarms"
    assert json.loads(created["Policy"]) == POLICY
    assert tags(sns) == {"Project": "baseline", "Owner": "platform"}
    assert endpoints(sns) == ["arn:aws:sqs:us-east-1:123456789012:ops"]
    assert [s["protocol"] for s in result["subscriptions"]] == ["sqs"]

    calls.clear()
    rerun = run_module(mod, args())
    assert rerun["changed"] is False and rerun["created"] is False
    assert sorted(calls) == ["GetTopicAttributes", "ListSubscriptionsByTopic", "ListTagsForResource"]


def test_drift_is_repaired_with_diff(sns, run_module):
    run_module(mod, args())
    sns.set_topic_attributes(TopicArn=ARN, AttributeName="KmsMasterKeyId", AttributeValue="")
    sns.set_topic_attributes(TopicArn=ARN, AttributeName="DisplayName", AttributeValue="other")
    sns.untag_resource(ResourceArn=ARN, TagKeys=["Owner"])
    sns.tag_resource(ResourceArn=ARN, Tags=[{"Key": "Extra", "Value": "x"}])
    result = run_module(mod, args(), diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["kms_master_key_id"] == ""
    assert result["diff"]["after"]["kms_master_key_id"] == KEY
    assert result["diff"]["before"]["tags"] == {"Project": "baseline", "Extra": "x"}
    assert result["diff"]["after"]["tags"] == {"Project": "baseline", "Owner": "platform"}
    assert attributes(sns)["KmsMasterKeyId"] == KEY
    assert attributes(sns)["DisplayName"] == "baseline alarms"
    assert tags(sns) == {"Project": "baseline", "Owner": "platform"}
    assert run_module(mod, args())["changed"] is False


def test_policy_compared_as_a_policy(sns, run_module):
    run_module(mod, args())
    # same policy, statement keys in another order and a list for the one action
    statement = {**POLICY["Statement"][0], "Action": ["sns:Publish"]}
    reordered = {"Statement": [statement], "Version": "2012-10-17"}
    assert run_module(mod, args(policy=json.dumps(reordered)))["changed"] is False
    other = {**POLICY, "Statement": [{**POLICY["Statement"][0], "Sid": "Other"}]}
    assert run_module(mod, args(policy=json.dumps(other)))["changed"] is True
    assert json.loads(attributes(sns)["Policy"])["Statement"][0]["Sid"] == "Other"


def test_subscriptions_added_and_purged(sns, run_module):
    run_module(mod, args())
    https = {"protocol": "https", "endpoint": "https://hooks.example.com/alarms"}
    result = run_module(mod, args(subscriptions=[https]))
    assert result["changed"] is True
    assert endpoints(sns) == ["https://hooks.example.com/alarms"]
    kept = run_module(
        mod,
        args(subscriptions=[OPS], purge_subscriptions=False),
    )
    assert kept["changed"] is True
    assert endpoints(sns) == ["arn:aws:sqs:us-east-1:123456789012:ops", "https://hooks.example.com/alarms"]


def test_check_mode_on_a_new_topic_writes_nothing(sns, run_module, calls):
    result = run_module(mod, args(), check_mode=True, diff=True)
    assert result["changed"] is True and result["created"] is True
    assert result["subscriptions"] == [{**OPS, "subscription_arn": "PendingConfirmation"}]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["kms_master_key_id"] == KEY
    assert not WRITES & set(calls)
    assert sns.list_topics()["Topics"] == []


def test_check_mode_on_drift_writes_nothing(sns, run_module, calls):
    run_module(mod, args())
    sns.set_topic_attributes(TopicArn=ARN, AttributeName="KmsMasterKeyId", AttributeValue="")
    calls.clear()
    assert run_module(mod, args(), check_mode=True)["changed"] is True
    assert not WRITES & set(calls)
    assert attributes(sns).get("KmsMasterKeyId", "") == ""
    assert run_module(mod, args(kms_master_key_id=""), check_mode=True)["changed"] is False


def test_unmanaged_options_are_left_alone(sns, run_module, calls):
    run_module(mod, args())
    calls.clear()
    result = run_module(mod, {"topic_arn": ARN})
    assert result["changed"] is False
    assert calls == ["GetTopicAttributes"]
    assert "subscriptions" not in result


def test_absent_deletes_then_is_a_no_op(sns, run_module, calls):
    run_module(mod, args())
    assert run_module(mod, {"topic_arn": ARN, "state": "absent"}, check_mode=True)["changed"] is True
    assert len(sns.list_topics()["Topics"]) == 1
    assert run_module(mod, {"topic_arn": ARN, "state": "absent"})["changed"] is True
    assert sns.list_topics()["Topics"] == []
    assert run_module(mod, {"topic_arn": ARN, "state": "absent"})["changed"] is False


def test_created_arn_must_match(sns, run_module):
    other_account = ARN.replace("123456789012", "210987654321")
    result = run_module(mod, args(topic_arn=other_account, policy=None), expect_failure=True)
    assert "CreateTopic returned" in result["msg"] and other_account in result["msg"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"topic_arn": "baseline-alarms"}, "topic_arn must be the ARN of a standard topic"),
        ({"topic_arn": ARN + ".fifo"}, "topic_arn must be the ARN of a standard topic"),
        ({"display_name": "x" * 101}, "display_name must be at most 100 characters"),
        ({"kms_master_key_id": " alias/x"}, "whitespace"),
        ({"tags": {"aws:owner": "x"}}, "must be 1-128 characters and not start with 'aws:'"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "at most 50 tags"),
        ({"subscriptions": [{"protocol": "email", "endpoint": " "}]}, "needs an endpoint"),
        ({"subscriptions": [{"protocol": "pager", "endpoint": "x"}]}, "protocol"),
    ],
)
def test_bad_input_fails_before_any_call(sns, run_module, calls, overrides, message):
    result = run_module(mod, args(**overrides), expect_failure=True)
    assert message in result["msg"]
    assert calls == []
