"""Unit tests for secureinfra.baseline.s3_account_public_access_block against in-process moto.

moto 5.2.5 keeps one S3 Control configuration per account, answers
NoSuchPublicAccessBlockConfiguration when there is none, and AccessDenied for another account's id.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import s3_account_public_access_block as mod
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


@pytest.fixture
def s3control(aws):
    return boto3.client("s3control", region_name="us-east-1")


def _read(client) -> dict[str, Any] | None:
    try:
        return client.get_public_access_block(AccountId=ACCOUNT)["PublicAccessBlockConfiguration"]
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration"
        return None


def test_sets_every_setting_then_reports_no_change(run_module, s3control) -> None:
    result = run_module(mod, {"account_id": ACCOUNT}, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {"before": {}, "after": {o: True for o in mod.FIELDS}}
    assert _read(s3control) == ALL
    again = run_module(mod, {"account_id": ACCOUNT})
    assert again["changed"] is False
    assert again["public_access_block"] == {o: True for o in mod.FIELDS}


def test_check_mode_reports_the_change_and_writes_nothing(run_module, s3control) -> None:
    result = run_module(mod, {"account_id": ACCOUNT}, check_mode=True)
    assert result["changed"] is True
    assert _read(s3control) is None


def test_a_drifted_setting_is_put_back(run_module, s3control) -> None:
    s3control.put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={**ALL, "RestrictPublicBuckets": False}
    )
    result = run_module(mod, {"account_id": ACCOUNT}, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["restrict_public_buckets"] is False
    assert _read(s3control) == ALL


def test_settings_can_be_turned_off_one_by_one(run_module, s3control) -> None:
    result = run_module(mod, {"account_id": ACCOUNT, "ignore_public_acls": False})
    assert result["changed"] is True
    assert _read(s3control) == {**ALL, "IgnorePublicAcls": False}
    assert run_module(mod, {"account_id": ACCOUNT, "ignore_public_acls": False})["changed"] is False


def test_absent_removes_the_configuration_once(run_module, s3control) -> None:
    s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=ALL)
    assert run_module(mod, {"account_id": ACCOUNT, "state": "absent"}, check_mode=True)["changed"] is True
    assert _read(s3control) == ALL
    assert run_module(mod, {"account_id": ACCOUNT, "state": "absent"})["changed"] is True
    assert _read(s3control) is None
    assert run_module(mod, {"account_id": ACCOUNT, "state": "absent"})["changed"] is False


def test_another_accounts_id_is_refused(run_module, aws) -> None:
    result = run_module(mod, {"account_id": "210987654321"}, expect_failure=True)
    assert "account 210987654321" in result["msg"]


@pytest.mark.parametrize("account_id", ["12345678901", "abcdefghijkl", "1234567890123", ""])
def test_a_malformed_account_id_fails_before_any_call(run_module, aws, account_id: str) -> None:
    result = run_module(mod, {"account_id": account_id}, expect_failure=True)
    assert "12-digit" in result["msg"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://123456789012.127.0.0.1:4566/v20180820/configuration/publicAccessBlock",
            "http://127.0.0.1:4566/v20180820/configuration/publicAccessBlock",
        ),
        ("http://123456789012.localhost:4566/v20180820/x", "http://localhost:4566/v20180820/x"),
        (
            "https://123456789012.s3-control.us-east-1.amazonaws.com/v20180820/x",
            "https://123456789012.s3-control.us-east-1.amazonaws.com/v20180820/x",
        ),
        (
            "https://123456789012.vpce-1a2b.s3-control.us-east-1.vpce.amazonaws.com/x",
            "https://123456789012.vpce-1a2b.s3-control.us-east-1.vpce.amazonaws.com/x",
        ),
    ],
)
def test_the_account_prefix_is_dropped_only_before_an_address_or_localhost(url: str, expected: str) -> None:
    request = SimpleNamespace(url=url)
    mod.strip_account_prefix(request)
    assert request.url == expected
