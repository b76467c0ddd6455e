"""Unit tests for secureinfra.baseline.iam_password_policy against in-process moto."""

from __future__ import annotations

from typing import Any
from unittest import mock

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import iam_password_policy as mod
from botocore.exceptions import ClientError

BASELINE = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "MaxPasswordAge": 90,
    "PasswordReusePrevention": 24,
    "HardExpiry": False,
}


@pytest.fixture
def iam(aws):
    return boto3.client("iam", region_name="us-east-1")


def _read(iam) -> dict[str, Any] | None:
    try:
        return iam.get_account_password_policy()["PasswordPolicy"]
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchEntity"
        return None


def _subset(policy: dict[str, Any] | None, expected: dict[str, Any]) -> bool:
    return policy is not None and all(policy.get(k) == v for k, v in expected.items())


def test_create_with_defaults_then_idempotent(iam, run_module):
    result = run_module(mod, {})
    assert result["changed"] is True
    assert _subset(_read(iam), BASELINE)

    with mock.patch.object(mod, "update_policy", side_effect=AssertionError("write on idempotent run")):
        again = run_module(mod, {})
    assert again["changed"] is False
    assert again["password_policy"]["min_pw_length"] == 14


def test_update_only_differences(iam, run_module):
    run_module(mod, {})
    result = run_module(mod, {"min_pw_length": 20, "pw_expire": True, "require_symbols": False})
    assert result["changed"] is True
    policy = _read(iam)
    assert _subset(
        policy, {**BASELINE, "MinimumPasswordLength": 20, "HardExpiry": True, "RequireSymbols": False}
    )
    assert (
        run_module(mod, {"min_pw_length": 20, "pw_expire": True, "require_symbols": False})["changed"]
        is False
    )


def test_weaker_existing_policy_is_corrected(iam, run_module):
    iam.update_account_password_policy(MinimumPasswordLength=8)  # everything else omitted / false
    assert run_module(mod, {})["changed"] is True
    assert _subset(_read(iam), BASELINE)


def test_check_mode_on_absent(iam, run_module):
    result = run_module(mod, {}, check_mode=True)
    assert result["changed"] is True
    assert _read(iam) is None


def test_check_mode_on_present(iam, run_module):
    iam.update_account_password_policy(**BASELINE)
    assert run_module(mod, {"min_pw_length": 30}, check_mode=True)["changed"] is True
    assert run_module(mod, {"state": "absent"}, check_mode=True)["changed"] is True
    assert run_module(mod, {}, check_mode=True)["changed"] is False
    assert _subset(_read(iam), BASELINE)


def test_check_mode_makes_no_write_call(iam, run_module):
    iam.update_account_password_policy(MinimumPasswordLength=8)
    with (
        mock.patch.object(mod, "update_policy", side_effect=AssertionError("write in check mode")),
        mock.patch.object(mod, "delete_policy", side_effect=AssertionError("write in check mode")),
    ):
        assert run_module(mod, {}, check_mode=True)["changed"] is True
        assert run_module(mod, {"state": "absent"}, check_mode=True)["changed"] is True


def test_diff(iam, run_module):
    result = run_module(mod, {}, diff=True)
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["pw_max_age"] == 90

    result = run_module(mod, {"pw_max_age": 30}, diff=True)
    assert result["diff"]["before"]["pw_max_age"] == 90
    assert result["diff"]["after"]["pw_max_age"] == 30

    result = run_module(mod, {"state": "absent"}, diff=True)
    assert result["diff"]["after"] == {}
    assert result["diff"]["before"]["min_pw_length"] == 14


def test_delete_then_idempotent(iam, run_module):
    run_module(mod, {})
    assert run_module(mod, {"state": "absent"})["changed"] is True
    assert _read(iam) is None
    assert run_module(mod, {"state": "absent"})["changed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"min_pw_length": 5}, "min_pw_length must be between 6 and 128, got 5"),
        ({"min_pw_length": 129}, "min_pw_length must be between 6 and 128"),
        ({"pw_max_age": 0}, "pw_max_age must be between 1 and 1095, got 0"),
        ({"pw_max_age": 1096}, "pw_max_age must be between 1 and 1095"),
        ({"pw_reuse_prevent": 0}, "pw_reuse_prevent must be between 1 and 24"),
        ({"pw_reuse_prevent": 25}, "pw_reuse_prevent must be between 1 and 24"),
    ],
)
def test_range_validation_before_any_call(iam, run_module, args, message):
    with mock.patch.object(mod.AnsibleAWSModule, "client", side_effect=AssertionError("AWS called")):
        result = run_module(mod, args, expect_failure=True)
    assert message in result["msg"]
    assert _read(iam) is None


def test_bad_type(iam, run_module):
    result = run_module(mod, {"min_pw_length": "long"}, expect_failure=True)
    assert "min_pw_length" in result["msg"]


def test_policy_from_api_tolerates_missing_fields():
    policy = mod.policy_from_api({"MinimumPasswordLength": 8})
    assert policy == {
        "min_pw_length": 8,
        "require_symbols": False,
        "require_numbers": False,
        "require_uppercase": False,
        "require_lowercase": False,
        "allow_pw_change": False,
        "pw_max_age": None,
        "pw_reuse_prevent": None,
        "pw_expire": False,
    }
