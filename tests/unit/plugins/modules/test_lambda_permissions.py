"""secureinfra.baseline.lambda_permissions against in-process moto."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import lambda_permissions as mod

WRITES = {"AddPermission", "RemovePermission"}
BUCKET = "arn:aws:s3:::baseline-data"
RULE = "arn:aws:events:us-east-1:123456789012:rule/baseline-analytics"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def lam(aws):
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda", region_name="us-east-1")
    for name in ("processor", "analytics"):
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
        )
    return client


def s3(**overrides: Any) -> dict[str, Any]:
    return {
        "function_name": "processor",
        "statement_id": "s3-data-bucket",
        "action": "lambda:InvokeFunction",
        "principal": "s3.amazonaws.com",
        "source_arn": BUCKET,
        "source_account": "123456789012",
        **overrides,
    }


def events(**overrides: Any) -> dict[str, Any]:
    return {
        "function_name": "analytics",
        "statement_id": "eventbridge-schedule",
        "action": "lambda:InvokeFunction",
        "principal": "events.amazonaws.com",
        "source_arn": RULE,
        **overrides,
    }


def statements(lam, function: str) -> dict[str, dict[str, Any]]:
    policy = json.loads(lam.get_policy(FunctionName=function)["Policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def test_add_then_rerun_reads_only(lam, run_module, calls):
    result = run_module(mod, {"permissions": [s3(), events()]})
    assert result["changed"] is True
    assert [p["changed"] for p in result["permissions"]] == [True, True]
    added = statements(lam, "processor")["s3-data-bucket"]
    assert added["Principal"] == {"Service": "s3.amazonaws.com"}
    assert added["Condition"] == {
        "ArnLike": {"AWS:SourceArn": BUCKET},
        "StringEquals": {"AWS:SourceAccount": "123456789012"},
    }
    assert statements(lam, "analytics")["eventbridge-schedule"]["Condition"] == {
        "ArnLike": {"AWS:SourceArn": RULE}
    }

    calls.clear()
    assert run_module(mod, {"permissions": [s3(), events()]})["changed"] is False
    assert calls == ["GetPolicy", "GetPolicy"]


def test_changed_statement_is_replaced_with_diff(lam, run_module, calls):
    run_module(mod, {"permissions": [s3()]})
    other = "arn:aws:s3:::somebody-elses-bucket"
    result = run_module(mod, {"permissions": [s3(source_arn=other)]}, diff=True)
    assert result["changed"] is True
    key = "processor/s3-data-bucket"
    assert result["diff"]["before"][key]["condition"]["ArnLike"] == {"AWS:SourceArn": BUCKET}
    assert result["diff"]["after"][key]["condition"]["ArnLike"] == {"AWS:SourceArn": other}
    assert calls.count("RemovePermission") == 1
    assert statements(lam, "processor")["s3-data-bucket"]["Condition"]["ArnLike"] == {"AWS:SourceArn": other}
    assert run_module(mod, {"permissions": [s3(source_arn=other)]})["changed"] is False


def test_other_statements_are_left_alone(lam, run_module):
    lam.add_permission(
        FunctionName="processor",
        StatementId="theirs",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
    )
    run_module(mod, {"permissions": [s3()]})
    assert set(statements(lam, "processor")) == {"theirs", "s3-data-bucket"}


def test_check_mode_writes_nothing(lam, run_module, calls):
    result = run_module(mod, {"permissions": [s3(), events()]}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert set(result["diff"]["after"]) == {"processor/s3-data-bucket", "analytics/eventbridge-schedule"}
    assert not WRITES & set(calls)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName="processor")


def test_missing_function_fails_clearly(lam, run_module, calls):
    result = run_module(mod, {"permissions": [s3(function_name="nope")]}, expect_failure=True)
    assert result["msg"] == "Lambda function 'nope' does not exist"
    assert not WRITES & set(calls)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"statement_id": "has space"}, "statement_id must be 1-100 letters"),
        ({"function_name": "arn:aws:lambda:us-east-1:1:function:x"}, "function_name must be a function name"),
        ({"action": "s3:GetObject"}, "action must be a Lambda action"),
        ({"source_account": "1234"}, "source_account must be a 12-digit account id"),
    ],
)
def test_bad_input_fails_before_any_call(lam, run_module, calls, overrides, message):
    result = run_module(mod, {"permissions": [s3(**overrides)]}, expect_failure=True)
    assert message in result["msg"]
    assert calls == []


def test_duplicate_statements_fail(lam, run_module, calls):
    result = run_module(mod, {"permissions": [s3(), s3()]}, expect_failure=True)
    assert "each name once, got processor/s3-data-bucket more than once" in result["msg"]
    assert calls == []
