"""secureinfra.baseline.lambda_concurrency against in-process moto."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import lambda_concurrency as mod

FUNCTION = "rotate-keys"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def lam(aws):
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    client = boto3.client("lambda", region_name="us-east-1")
    client.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )
    return client


def _reserved(lam, name=FUNCTION):
    return lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")


def test_set_then_idempotent(lam, run_module):
    assert _reserved(lam) is None
    result = run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 10})
    assert result["changed"] is True
    assert result["reserved_concurrent_executions"] == 10
    assert _reserved(lam) == 10
    assert (
        run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 10})["changed"] is False
    )
    assert _reserved(lam) == 10


def test_function_arn_is_accepted(lam, run_module):
    arn = lam.get_function(FunctionName=FUNCTION)["Configuration"]["FunctionArn"]
    assert run_module(mod, {"function_name": arn, "reserved_concurrent_executions": 3})["changed"] is True
    assert _reserved(lam) == 3
    assert run_module(mod, {"function_name": arn, "reserved_concurrent_executions": 3})["changed"] is False


def test_update_with_diff(lam, run_module):
    run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 10})
    result = run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 25}, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {
        "before": {"reserved_concurrent_executions": 10},
        "after": {"reserved_concurrent_executions": 25},
    }
    assert _reserved(lam) == 25


def test_zero_is_a_reservation_not_an_absence(lam, run_module):
    assert (
        run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 0})["changed"] is True
    )
    assert _reserved(lam) == 0
    assert (
        run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 0})["changed"] is False
    )
    result = run_module(mod, {"function_name": FUNCTION, "state": "absent"}, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {"reserved_concurrent_executions": 0}
    assert _reserved(lam) is None


def test_absent_removes_reservation(lam, run_module):
    run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 10})
    result = run_module(mod, {"function_name": FUNCTION, "state": "absent"})
    assert result["changed"] is True
    assert result["reserved_concurrent_executions"] is None
    assert _reserved(lam) is None
    assert run_module(mod, {"function_name": FUNCTION, "state": "absent"})["changed"] is False


def test_check_mode_on_absent_and_present(lam, run_module):
    args = {"function_name": FUNCTION, "reserved_concurrent_executions": 10}
    result = run_module(mod, args, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {"reserved_concurrent_executions": None}
    assert _reserved(lam) is None
    run_module(mod, args)
    assert run_module(mod, dict(args, reserved_concurrent_executions=50), check_mode=True)["changed"] is True
    assert _reserved(lam) == 10
    assert run_module(mod, {"function_name": FUNCTION, "state": "absent"}, check_mode=True)["changed"] is True
    assert _reserved(lam) == 10
    assert run_module(mod, args, check_mode=True)["changed"] is False


def test_missing_function_fails_clearly(lam, run_module):
    result = run_module(
        mod, {"function_name": "nope", "reserved_concurrent_executions": 1}, expect_failure=True
    )
    assert "'nope' does not exist" in result["msg"]


def test_api_rejection_is_reported(lam, run_module, monkeypatch):
    # moto enforces the account quota only when this is set (AWS keeps 100 unreserved)
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000")
    result = run_module(
        mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 950}, expect_failure=True
    )
    assert "Failed to set the reserved concurrency" in result["msg"]
    assert _reserved(lam) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"reserved_concurrent_executions": -1}, "at least 0"),
        ({"reserved_concurrent_executions": 5, "state": "absent"}, "must be omitted"),
        ({}, "reserved_concurrent_executions"),
        ({"reserved_concurrent_executions": None}, "required with state: present"),
        ({"reserved_concurrent_executions": "many"}, "int"),
    ],
)
def test_bad_input(lam, run_module, args, message):
    result = run_module(mod, {"function_name": FUNCTION, **args}, expect_failure=True)
    assert message in result["msg"]
    assert _reserved(lam) is None
