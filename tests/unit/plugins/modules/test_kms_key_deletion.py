"""secureinfra.baseline.kms_key_deletion against in-process moto."""

from __future__ import annotations

import datetime

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import kms_key_deletion as mod

ALIAS = "alias/baseline"


@pytest.fixture
def kms(aws):
    return boto3.client("kms", region_name="us-east-1")


@pytest.fixture
def key(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=ALIAS, TargetKeyId=key_id)
    return key_id


def _aliases(kms):
    return [a["AliasName"] for a in kms.list_aliases()["Aliases"] if a["AliasName"] == ALIAS]


def test_schedules_30_days_deletes_alias_then_changes_nothing(kms, key, run_module, calls):
    result = run_module(mod, {"alias": "baseline"}, diff=True)
    assert result["changed"] is True
    assert result["key_id"] == key and result["key_state"] == "PendingDeletion"
    assert result["diff"] == {
        "before": {"alias": ALIAS, "key_id": key, "key_state": "Enabled"},
        "after": {"key_id": key, "key_state": "PendingDeletion"},
    }
    metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert metadata["KeyState"] == "PendingDeletion"
    now = datetime.datetime.now(tz=metadata["DeletionDate"].tzinfo)
    assert 29 <= (metadata["DeletionDate"] - now).days <= 30
    assert _aliases(kms) == []
    calls.clear()
    again = run_module(mod, {"alias": "baseline"})
    assert again["changed"] is False and again["key_id"] is None
    assert calls == ["ListAliases"]


def test_interrupted_after_scheduling_is_completed(kms, key, run_module, calls):
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=30)
    calls.clear()
    result = run_module(mod, {"alias": ALIAS})
    assert result["changed"] is True
    assert "ScheduleKeyDeletion" not in calls and "DeleteAlias" in calls
    assert _aliases(kms) == []


def test_keep_alias(kms, key, run_module):
    assert run_module(mod, {"alias": ALIAS, "pending_window": 7, "delete_alias": False})["changed"] is True
    assert _aliases(kms) == [ALIAS]
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert run_module(mod, {"alias": ALIAS, "delete_alias": False})["changed"] is False


def test_check_mode_reads_only(kms, key, run_module, calls):
    calls.clear()
    result = run_module(mod, {"alias": ALIAS}, check_mode=True, diff=True)
    assert result["changed"] is True and result["key_state"] == "PendingDeletion"
    assert set(calls) == {"ListAliases", "DescribeKey"}
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    assert _aliases(kms) == [ALIAS]


def test_no_alias_no_change(aws, run_module, calls):
    result = run_module(mod, {"alias": "nothing-here"}, diff=True)
    assert result == {
        "changed": False,
        "alias": "alias/nothing-here",
        "key_id": None,
        "diff": {"before": {}, "after": {}},
    }
    assert calls == ["ListAliases"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"alias": "aws/s3"}, "AWS managed key"),
        ({"alias": "alias/"}, "must name an alias"),
        ({"alias": "baseline", "pending_window": 31}, "pending_window must be 7-30"),
        ({"alias": "baseline", "pending_window": 6}, "pending_window must be 7-30"),
    ],
)
def test_bad_input_fails_before_any_call(aws, run_module, calls, args, message):
    result = run_module(mod, args, expect_failure=True)
    assert message in result["msg"]
    assert calls == []
