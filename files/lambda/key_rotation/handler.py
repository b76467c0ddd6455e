"""Daily enforcement of a maximum IAM access-key age.

For every IAM user: Active keys older than MAX_KEY_AGE_DAYS are deactivated; Inactive
keys older than MAX_KEY_AGE_DAYS + GRACE_PERIOD_DAYS are deleted. Keys of users tagged
``<EXEMPT_TAG_KEY>=true`` (tag key and value compared case-insensitively) are only
reported; ListUserTags is only called for users that have a key to act on.

Age is ``now - CreateDate``, and a key is acted on only when its age is *strictly
greater* than the limit: a key exactly 90 days old is left alone, one 90 days and
1 second old is deactivated (likewise for deletion at exactly 97 days). A summary
(counts and per-key actions; access key IDs but never secrets) is published to
TOPIC_ARN on every run, and returned.

Limitation: the grace period is measured from CreateDate, not from deactivation (the
function has no permission to record when it deactivated a key), so an Active key
found already older than the limit + grace is deactivated on one run and deleted on the
next.

AWS actions (the IAM role is generated from this list):
    - iam:ListUsers
    - iam:ListAccessKeys
    - iam:ListUserTags
    - iam:UpdateAccessKey
    - iam:DeleteAccessKey
    - sns:Publish

Environment:
    TOPIC_ARN          SNS topic receiving the summary (required)
    MAX_KEY_AGE_DAYS   default 90
    GRACE_PERIOD_DAYS  default 7
    EXEMPT_TAG_KEY     default ``key-rotation-exempt``
    DRY_RUN            default false; true/1/yes/on only reports what would be done

``now`` comes from the module-level ``utcnow()`` (patched by tests); it is deliberately
not taken from the event, so an invoker cannot age every key artificially.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

SUBJECT_MAX_CHARS = 100
MESSAGE_MAX_BYTES = 250_000  # SNS limit is 256 KiB
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})

DEACTIVATE = "deactivate"
DELETE = "delete"


def utcnow() -> datetime:
    """Current time (UTC); tests replace this function."""
    return datetime.now(UTC)


@functools.cache
def client(service: str) -> Any:
    """Create (once per container) a boto3 client; honours AWS_ENDPOINT_URL."""
    return boto3.client(service)


@dataclass(frozen=True)
class Settings:
    topic_arn: str
    max_age: timedelta
    grace: timedelta
    exempt_tag_key: str
    dry_run: bool

    @classmethod
    def from_env(cls) -> Settings:
        max_days = int(os.environ.get("MAX_KEY_AGE_DAYS", "90"))
        grace_days = int(os.environ.get("GRACE_PERIOD_DAYS", "7"))
        if max_days < 1 or grace_days < 0:
            raise ValueError("MAX_KEY_AGE_DAYS must be >= 1 and GRACE_PERIOD_DAYS >= 0")
        return cls(
            topic_arn=os.environ["TOPIC_ARN"],
            max_age=timedelta(days=max_days),
            grace=timedelta(days=grace_days),
            exempt_tag_key=os.environ.get("EXEMPT_TAG_KEY", "key-rotation-exempt"),
            dry_run=os.environ.get("DRY_RUN", "false").strip().lower() in TRUE_WORDS,
        )


@dataclass
class KeyAction:
    user: str
    access_key_id: str
    status: str
    created: str
    age_days: float
    action: str  # deactivate | delete
    result: str = "pending"  # done | dry_run | exempt | error
    error: str | None = None


@dataclass
class Summary:
    evaluated_at: str
    dry_run: bool
    max_key_age_days: int
    grace_period_days: int
    users: int = 0
    keys: int = 0
    actions: list[KeyAction] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        def count(action: str, result: str) -> int:
            return sum(1 for a in self.actions if a.action == action and a.result == result)

        return {
            "deactivated": count(DEACTIVATE, "done"),
            "deleted": count(DELETE, "done"),
            "would_deactivate": count(DEACTIVATE, "dry_run"),
            "would_delete": count(DELETE, "dry_run"),
            "exempt": sum(1 for a in self.actions if a.result == "exempt"),
            "errors": sum(1 for a in self.actions if a.result == "error"),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluated_at": self.evaluated_at,
            "dry_run": self.dry_run,
            "max_key_age_days": self.max_key_age_days,
            "grace_period_days": self.grace_period_days,
            "users": self.users,
            "keys": self.keys,
            **self.counts(),
            "actions": [asdict(a) for a in self.actions],
        }


def decide(status: str, age: timedelta, settings: Settings) -> str | None:
    """The action a key needs: deactivate, delete or None (limits are exclusive)."""
    if status == "Active" and age > settings.max_age:
        return DEACTIVATE
    if status == "Inactive" and age > settings.max_age + settings.grace:
        return DELETE
    return None


def iter_users() -> Iterator[str]:
    for page in client("iam").get_paginator("list_users").paginate():
        for user in page["Users"]:
            yield user["UserName"]


def list_keys(user: str) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = []
    for page in client("iam").get_paginator("list_access_keys").paginate(UserName=user):
        keys.extend(page["AccessKeyMetadata"])
    return keys


def is_exempt(user: str, tag_key: str) -> bool:
    wanted = tag_key.lower()
    for page in client("iam").get_paginator("list_user_tags").paginate(UserName=user):
        for tag in page["Tags"]:
            if tag["Key"].lower() == wanted and tag["Value"].strip().lower() == "true":
                return True
    return False


def plan_user(user: str, keys: list[dict[str, Any]], now: datetime, settings: Settings) -> list[KeyAction]:
    planned = []
    for key in keys:
        created: datetime = key["CreateDate"]
        age = now - created
        action = decide(key["Status"], age, settings)
        if action:
            planned.append(KeyAction(
                user=user,
                access_key_id=key["AccessKeyId"],
                status=key["Status"],
                created=created.isoformat(),
                age_days=round(age.total_seconds() / 86400, 2),
                action=action,
            ))
    return planned


def apply(action: KeyAction) -> None:
    """Perform one action, recording the outcome on it (errors do not stop the run)."""
    iam = client("iam")
    try:
        if action.action == DEACTIVATE:
            iam.update_access_key(UserName=action.user, AccessKeyId=action.access_key_id, Status="Inactive")
        else:
            iam.delete_access_key(UserName=action.user, AccessKeyId=action.access_key_id)
    except ClientError as exc:
        action.result = "error"
        action.error = f"{exc.response.get('Error', {}).get('Code', 'Error')}: {exc}"
        LOGGER.error("%s of %s (%s) failed: %s", action.action, action.access_key_id, action.user, exc)
    else:
        action.result = "done"
        LOGGER.info("%s %s of user %s", action.action, action.access_key_id, action.user)


def process_user(user: str, now: datetime, settings: Settings, summary: Summary) -> None:
    try:
        keys = list_keys(user)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise
        LOGGER.info("user %s disappeared during the run", user)
        return
    summary.users += 1
    summary.keys += len(keys)
    planned = plan_user(user, keys, now, settings)
    exempt = bool(planned) and is_exempt(user, settings.exempt_tag_key)
    for action in planned:
        if exempt:
            action.result = "exempt"
        elif settings.dry_run:
            action.result = "dry_run"
        else:
            apply(action)
        summary.actions.append(action)


def subject(summary: Summary) -> str:
    counts = summary.counts()
    if summary.dry_run:
        text = (f"[DRY RUN] IAM key rotation: would deactivate {counts['would_deactivate']}, "
                f"would delete {counts['would_delete']}, {counts['exempt']} exempt")
    else:
        text = (f"IAM key rotation: {counts['deactivated']} deactivated, {counts['deleted']} deleted, "
                f"{counts['exempt']} exempt, {counts['errors']} errors")
    return text[:SUBJECT_MAX_CHARS]


def message(summary: dict[str, Any]) -> str:
    """JSON message, dropping per-key detail if it would exceed the SNS size limit."""
    actions = summary["actions"]
    shown = len(actions)
    while True:
        body = dict(summary, actions=actions[:shown])
        if shown < len(actions):
            body["actions_omitted"] = len(actions) - shown
        text = json.dumps(body, indent=2, default=str)
        if len(text.encode("utf-8")) <= MESSAGE_MAX_BYTES or shown == 0:
            return text
        shown //= 2


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (EventBridge schedule)."""
    settings = Settings.from_env()
    now = utcnow()
    summary = Summary(
        evaluated_at=now.isoformat(),
        dry_run=settings.dry_run,
        max_key_age_days=settings.max_age.days,
        grace_period_days=settings.grace.days,
    )
    for user in iter_users():
        process_user(user, now, settings, summary)
    result = summary.as_dict()
    client("sns").publish(TopicArn=settings.topic_arn, Subject=subject(summary), Message=message(result))
    LOGGER.info("key rotation summary: %s", summary.counts())
    return result
