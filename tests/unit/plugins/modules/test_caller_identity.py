"""Unit tests for secureinfra.baseline.caller_identity against in-process moto."""

from __future__ import annotations

import boto3
from ansible_collections.secureinfra.baseline.plugins.modules import caller_identity as mod


def test_returns_the_account_arn_and_user_id_sts_answers(run_module, aws) -> None:
    expected = boto3.client("sts", region_name="us-east-1").get_caller_identity()
    result = run_module(mod, {})
    assert result["changed"] is False
    assert (result["account"], result["arn"], result["user_id"]) == (
        expected["Account"],
        expected["Arn"],
        expected["UserId"],
    )
    assert run_module(mod, {}, check_mode=True)["account"] == expected["Account"]


def test_an_unreachable_endpoint_fails_with_what_was_tried(run_module, aws) -> None:
    result = run_module(mod, {"endpoint_url": "http://127.0.0.1:9"}, expect_failure=True)
    assert "Failed to identify the caller (STS GetCallerIdentity)" in result["msg"]
