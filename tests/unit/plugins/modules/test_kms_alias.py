"""secureinfra.baseline.kms_alias against in-process moto."""

from __future__ import annotations

import boto3
import botocore.client
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import kms_alias as mod


@pytest.fixture
def kms(aws):
    return boto3.client("kms", region_name="us-east-1")


@pytest.fixture
def key(kms):
    return kms.create_key()["KeyMetadata"]


@pytest.fixture
def calls(monkeypatch):
    """Names of the AWS operations called from now on."""
    seen: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def spy(self, operation_name, api_params):
        seen.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    return seen


def _target(kms, name):
    aliases = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == name]
    return aliases[0].get("TargetKeyId") if aliases else None


def test_create_then_idempotent(kms, key, run_module):
    result = run_module(mod, {"alias": "baseline", "target_key_id": key["Arn"]}, diff=True)
    assert result["changed"] is True
    assert result["alias"] == "alias/baseline"
    assert result["diff"] == {"before": {}, "after": {"target_key_id": key["KeyId"]}}
    assert _target(kms, "alias/baseline") == key["KeyId"]
    again = run_module(mod, {"alias": "alias/baseline", "target_key_id": key["KeyId"]})
    assert again["changed"] is False


def test_update_points_at_the_other_key(kms, key, run_module):
    other = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/baseline", TargetKeyId=key["KeyId"])
    result = run_module(mod, {"alias": "baseline", "target_key_id": other["KeyId"]})
    assert result["changed"] is True
    assert _target(kms, "alias/baseline") == other["KeyId"]


def test_delete_then_idempotent_key_left(kms, key, run_module, calls):
    kms.create_alias(AliasName="alias/baseline", TargetKeyId=key["KeyId"])
    result = run_module(mod, {"alias": "baseline", "state": "absent"}, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"target_key_id": key["KeyId"]}, "after": {}}
    assert result["target_key_id"] is None
    assert _target(kms, "alias/baseline") is None
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    calls.clear()
    assert run_module(mod, {"alias": "baseline", "state": "absent"})["changed"] is False
    assert calls == ["ListAliases"]


def test_delete_alias_of_a_key_pending_deletion(kms, key, run_module):
    kms.create_alias(AliasName="alias/baseline", TargetKeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=30)
    assert run_module(mod, {"alias": "baseline", "state": "absent"})["changed"] is True
    assert _target(kms, "alias/baseline") is None


def test_check_mode_reads_only(kms, key, run_module, calls):
    kms.create_alias(AliasName="alias/baseline", TargetKeyId=key["KeyId"])
    calls.clear()
    result = run_module(mod, {"alias": "baseline", "state": "absent"}, check_mode=True)
    assert result["changed"] is True
    assert set(calls) == {"ListAliases"}
    assert _target(kms, "alias/baseline") == key["KeyId"]
    calls.clear()
    result = run_module(mod, {"alias": "new", "target_key_id": key["KeyId"]}, check_mode=True)
    assert result["changed"] is True
    assert set(calls) == {"ListAliases"}
    assert _target(kms, "alias/new") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"alias": "aws/s3", "state": "absent"}, "AWS managed key"),
        ({"alias": "alias/", "state": "absent"}, "must name an alias"),
        ({"alias": "baseline"}, "target_key_id is required"),
        ({"alias": "baseline", "state": "absent", "target_key_id": "k"}, "must be omitted"),
    ],
)
def test_bad_input_fails_before_any_call(aws, run_module, calls, args, message):
    result = run_module(mod, args, expect_failure=True)
    assert message in result["msg"]
    assert calls == []


def test_key_id_of_an_arn():
    assert mod.key_id("arn:aws:kms:us-east-1:123456789012:key/abc-1") == "abc-1"
    assert mod.key_id("abc-1") == "abc-1"
