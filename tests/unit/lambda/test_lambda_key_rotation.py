"""Unit tests for files/lambda/key_rotation/handler.py against in-process moto.

moto stamps CreateDate with the real creation time, so the tests move the handler's
clock (`utcnow`) instead of back-dating keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from support.lambda_helpers import documented_actions

DAY = timedelta(days=1)


@dataclass
class Env:
    mod: ModuleType
    iam: Any
    sqs: Any
    queue_url: str
    topic_arn: str
    monkeypatch: pytest.MonkeyPatch

    def user_with_key(self, name: str, status: str = "Active", tags: dict[str, str] | None = None) -> str:
        self.iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        if status != "Active":
            self.iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status=status)
        return key["AccessKeyId"]

    def created(self, user: str) -> datetime:
        """CreateDate of the user's newest key (as the handler will see it)."""
        return max(m["CreateDate"] for m in self.iam.list_access_keys(UserName=user)["AccessKeyMetadata"])

    def run_at(self, now: datetime) -> dict[str, Any]:
        self.monkeypatch.setattr(self.mod, "utcnow", lambda: now)
        return self.mod.handler({"detail-type": "Scheduled Event"}, None)

    def keys(self, user: str) -> dict[str, str]:
        metas = self.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        return {m["AccessKeyId"]: m["Status"] for m in metas}

    def notifications(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture
def env(aws: None, load_lambda: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch) -> Env:
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    topic_arn = sns.create_topic(Name="key-rotation")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="key-rotation-summary")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    queue_arn = attributes["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("TOPIC_ARN", topic_arn)
    for name in ("MAX_KEY_AGE_DAYS", "GRACE_PERIOD_DAYS", "EXEMPT_TAG_KEY", "DRY_RUN"):
        monkeypatch.delenv(name, raising=False)
    return Env(load_lambda("key_rotation"), boto3.client("iam"), sqs, queue_url, topic_arn, monkeypatch)


# --------------------------------------------------------------------------- age boundaries


@pytest.mark.parametrize(
    ("age", "expected_status", "acted"),
    [
        (89 * DAY, "Active", False),
        (90 * DAY, "Active", False),  # exactly 90 days: the limit is exclusive, key is kept
        (90 * DAY + timedelta(seconds=1), "Inactive", True),
        (91 * DAY, "Inactive", True),
    ],
    ids=["89d", "exactly-90d", "90d+1s", "91d"],
)
def test_active_key_age_boundary(env: Env, age: timedelta, expected_status: str, acted: bool) -> None:
    key_id = env.user_with_key("alice")

    summary = env.run_at(env.created("alice") + age)

    assert env.keys("alice") == {key_id: expected_status}
    assert summary["deactivated"] == int(acted)
    assert summary["users"] == 1 and summary["keys"] == 1
    if acted:
        (action,) = summary["actions"]
        assert action["access_key_id"] == key_id and action["action"] == "deactivate"
        assert action["result"] == "done" and action["user"] == "alice"
        assert action["age_days"] == round(age.total_seconds() / 86400, 2)
    else:
        assert summary["actions"] == []


@pytest.mark.parametrize(
    ("age", "deleted"),
    [(91 * DAY, False), (97 * DAY, False), (97 * DAY + timedelta(seconds=1), True), (120 * DAY, True)],
    ids=["91d", "exactly-97d", "97d+1s", "120d"],
)
def test_inactive_key_deleted_after_grace(env: Env, age: timedelta, deleted: bool) -> None:
    key_id = env.user_with_key("bob", status="Inactive")

    summary = env.run_at(env.created("bob") + age)

    assert env.keys("bob") == ({} if deleted else {key_id: "Inactive"})
    assert summary["deleted"] == int(deleted)
    assert summary["deactivated"] == 0


def test_custom_limits(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_KEY_AGE_DAYS", "30")
    monkeypatch.setenv("GRACE_PERIOD_DAYS", "0")
    active = env.user_with_key("carol")
    inactive = env.user_with_key("dave", status="Inactive")

    summary = env.run_at(env.created("dave") + 31 * DAY)

    assert env.keys("carol") == {active: "Inactive"}
    assert inactive not in env.keys("dave")
    assert (summary["deactivated"], summary["deleted"], summary["max_key_age_days"]) == (1, 1, 30)


# --------------------------------------------------------------------------- exemption / dry run


@pytest.mark.parametrize("value", ["true", "TRUE", "True"])
def test_exempt_user_is_only_reported(env: Env, value: str) -> None:
    active = env.user_with_key("svc", tags={"key-rotation-exempt": value})
    env.iam.create_access_key(UserName="svc")
    inactive = next(k for k in env.keys("svc") if k != active)
    env.iam.update_access_key(UserName="svc", AccessKeyId=inactive, Status="Inactive")

    summary = env.run_at(env.created("svc") + 200 * DAY)

    assert env.keys("svc") == {active: "Active", inactive: "Inactive"}
    assert summary["exempt"] == 2
    assert summary["deactivated"] == summary["deleted"] == 0
    assert {(a["access_key_id"], a["action"], a["result"]) for a in summary["actions"]} == {
        (active, "deactivate", "exempt"), (inactive, "delete", "exempt")}


def test_exempt_tag_must_say_true(env: Env) -> None:
    key_id = env.user_with_key("eve", tags={"key-rotation-exempt": "no"})
    summary = env.run_at(env.created("eve") + 91 * DAY)
    assert env.keys("eve") == {key_id: "Inactive"}
    assert summary["exempt"] == 0


def test_custom_exempt_tag_key(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXEMPT_TAG_KEY", "break-glass")
    key_id = env.user_with_key("root-ish", tags={"break-glass": "true", "key-rotation-exempt": "false"})
    summary = env.run_at(env.created("root-ish") + 91 * DAY)
    assert env.keys("root-ish") == {key_id: "Active"}
    assert summary["exempt"] == 1


def test_dry_run_changes_nothing(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "True")
    active = env.user_with_key("frank")
    inactive = env.user_with_key("grace", status="Inactive")

    summary = env.run_at(env.created("grace") + 120 * DAY)

    assert env.keys("frank") == {active: "Active"}
    assert env.keys("grace") == {inactive: "Inactive"}
    assert summary["dry_run"] is True
    assert (summary["would_deactivate"], summary["would_delete"]) == (1, 1)
    assert summary["deactivated"] == summary["deleted"] == 0
    (note,) = env.notifications()
    assert note["Subject"].startswith("[DRY RUN]")


# --------------------------------------------------------------------------- SNS summary


def test_summary_published_to_sns(env: Env) -> None:
    old = env.user_with_key("henry")
    gone = env.user_with_key("ivy", status="Inactive")
    env.iam.create_user(UserName="nokeys")
    secret = env.iam.create_access_key(UserName="nokeys")["AccessKey"]["SecretAccessKey"]

    summary = env.run_at(env.created("ivy") + 100 * DAY)

    (note,) = env.notifications()
    assert note["TopicArn"] == env.topic_arn
    assert len(note["Subject"]) <= 100
    assert note["Subject"] == "IAM key rotation: 2 deactivated, 1 deleted, 0 exempt, 0 errors"
    message = json.loads(note["Message"])
    assert message == json.loads(json.dumps(summary))
    assert (message["users"], message["keys"]) == (3, 3)
    assert {(a["user"], a["access_key_id"], a["action"]) for a in message["actions"]} >= {
        ("henry", old, "deactivate"), ("ivy", gone, "delete")}
    assert secret not in note["Message"]
    assert "SecretAccessKey" not in note["Message"]


def test_summary_published_even_when_nothing_to_do(env: Env) -> None:
    env.user_with_key("judy")
    summary = env.run_at(env.created("judy") + DAY)
    (note,) = env.notifications()
    assert json.loads(note["Message"])["actions"] == summary["actions"] == []


def test_subject_is_capped(env: Env) -> None:
    summary = env.mod.Summary(evaluated_at="x", dry_run=False, max_key_age_days=90, grace_period_days=7)
    env.monkeypatch.setattr(summary, "counts", lambda: dict.fromkeys(
        ("deactivated", "deleted", "exempt", "errors", "would_deactivate", "would_delete"), 10**40))
    assert len(env.mod.subject(summary)) == 100


def test_oversized_message_drops_action_detail(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env.mod, "MESSAGE_MAX_BYTES", 2000)
    for i in range(12):
        env.user_with_key(f"user-{i:02d}")
    summary = env.run_at(env.created("user-11") + 91 * DAY)

    assert len(summary["actions"]) == 12
    message = json.loads(env.notifications()[0]["Message"])
    assert len(message["actions"]) + message["actions_omitted"] == 12
    assert message["deactivated"] == 12


# --------------------------------------------------------------------------- errors / config


def test_failed_action_is_reported_and_run_continues(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    first = env.user_with_key("kate")
    second = env.user_with_key("liam")
    iam = env.mod.client("iam")
    real = iam.update_access_key

    def flaky(**kwargs: Any) -> Any:
        if kwargs["UserName"] == "kate":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "UpdateAccessKey")
        return real(**kwargs)

    monkeypatch.setattr(iam, "update_access_key", flaky)
    summary = env.run_at(env.created("liam") + 91 * DAY)

    assert env.keys("kate") == {first: "Active"}
    assert env.keys("liam") == {second: "Inactive"}
    assert (summary["errors"], summary["deactivated"]) == (1, 1)
    failed = next(a for a in summary["actions"] if a["user"] == "kate")
    assert failed["result"] == "error" and "AccessDenied" in failed["error"]
    assert env.notifications()[0]["Subject"].endswith("1 errors")


@pytest.mark.parametrize(("name", "value"), [("MAX_KEY_AGE_DAYS", "0"), ("GRACE_PERIOD_DAYS", "-1"),
                                             ("MAX_KEY_AGE_DAYS", "ninety")])
def test_bad_configuration_fails_before_touching_keys(env: Env, monkeypatch: pytest.MonkeyPatch,
                                                      name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    key_id = env.user_with_key("mia")
    with pytest.raises(ValueError):
        env.run_at(env.created("mia") + 200 * DAY)
    assert env.keys("mia") == {key_id: "Active"}


def test_calls_only_documented_actions(env: Env, api_calls: Any) -> None:
    documented = documented_actions(env.mod)
    assert documented == {"iam:ListUsers", "iam:ListAccessKeys", "iam:ListUserTags",
                          "iam:UpdateAccessKey", "iam:DeleteAccessKey", "sns:Publish"}
    env.user_with_key("ned")
    env.user_with_key("olga", status="Inactive")
    now = env.created("olga") + 100 * DAY
    with api_calls() as calls:
        env.run_at(now)
    assert set(calls) == documented
