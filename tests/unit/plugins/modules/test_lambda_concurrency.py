"""secureinfra.baseline.lambda_concurrency against in-process moto."""

from __future__ import annotations

import io
import json
import zipfile
from unittest import mock

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


@pytest.fixture(autouse=True)
def account(aws):
    """GetAccountSettings as AWS answers it (moto 5.2 does not implement it): the limit is
    account["limit"]; Unreserved = limit - every function's reservation. Calls are counted."""
    from botocore.client import BaseClient

    state = {"limit": 1000, "reads": 0}
    original = BaseClient._make_api_call

    def make_api_call(client, operation, params):
        if operation != "GetAccountSettings":
            return original(client, operation, params)
        state["reads"] += 1
        names = [f["FunctionName"] for f in original(client, "ListFunctions", {})["Functions"]]
        reserved = sum(
            original(client, "GetFunctionConcurrency", {"FunctionName": n}).get(
                "ReservedConcurrentExecutions"
            )
            or 0
            for n in names
        )
        return {
            "AccountLimit": {
                "ConcurrentExecutions": state["limit"],
                "UnreservedConcurrentExecutions": state["limit"] - reserved,
            },
            "AccountUsage": {"FunctionCount": len(names)},
        }

    with mock.patch.object(BaseClient, "_make_api_call", make_api_call):
        yield state


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


def test_api_rejection_is_reported(lam, run_module, monkeypatch, account):
    # moto enforces the account quota only when this is set (AWS keeps 100 unreserved); the
    # account settings claim more, so our own check lets the call through to AWS's refusal
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000")
    account["limit"] = 5000
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


# --- the account's concurrency quota (GetAccountSettings) -------------------------------------


def _other_function(lam, name="other-fn"):
    role = lam.get_function(FunctionName=FUNCTION)["Configuration"]["Role"]
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )
    return name


def test_new_account_quota_of_10_skips_with_a_warning(lam, run_module, account):
    account["limit"] = 10
    args = {"function_name": FUNCTION, "reserved_concurrent_executions": 1}
    predicted = run_module(mod, args, check_mode=True)
    result = run_module(mod, args)
    for outcome in (predicted, result):
        assert outcome["changed"] is False
        assert outcome["reservation_skipped"] is True
        assert outcome["reserved_concurrent_executions"] is None
        (warning,) = outcome["warnings"]
        assert "ConcurrentExecutions" in warning
        assert "is 10 in this region, 10 unreserved" in warning
        assert "would leave 9 unreserved, below AWS's minimum of 10" in warning
    assert _reserved(lam) is None


def test_strict_fails_with_the_same_message(lam, run_module, account):
    account["limit"] = 10
    args = {"function_name": FUNCTION, "reserved_concurrent_executions": 1, "strict": True}
    for check_mode in (True, False):
        result = run_module(mod, args, check_mode=check_mode, expect_failure=True)
        assert "would leave 9 unreserved, below AWS's minimum of 10" in result["msg"]
        assert "ConcurrentExecutions" in result["msg"]
    assert _reserved(lam) is None


def test_minimum_is_100_above_a_limit_of_100(lam, run_module, account):
    account["limit"] = 150
    assert (
        run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 50})["changed"] is True
    )
    result = run_module(mod, {"function_name": _other_function(lam), "reserved_concurrent_executions": 1})
    assert result["reservation_skipped"] is True
    assert "would leave 99 unreserved, below AWS's minimum of 100" in result["warnings"][0]
    assert "Lambda function 'other-fn'" in result["warnings"][0]


def test_own_reservation_counts_as_returned_to_the_pool(lam, run_module, account):
    account["limit"] = 150
    run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 40})
    # 110 unreserved now; 40 + 110 - 50 = 100 left: exactly the minimum, allowed
    result = run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 50})
    assert result["changed"] is True and result["reservation_skipped"] is False
    assert result["account_concurrency"] == {
        "concurrent_executions": 150,
        "unreserved_concurrent_executions": 110,
        "minimum_unreserved": 100,
    }
    assert _reserved(lam) == 50
    # 51 would leave 99: skipped, the current 50 is kept
    result = run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 51})
    assert result["reservation_skipped"] is True
    assert result["reserved_concurrent_executions"] == 50
    assert "50 of them reserved by this function now" in result["warnings"][0]
    assert _reserved(lam) == 50


def test_lowering_or_removing_never_reads_the_account(lam, run_module, account):
    account["limit"] = 1000
    run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 10})
    reads = account["reads"]
    account["limit"] = 10  # a lower quota now: lowering is still allowed
    assert (
        run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 5})["changed"] is True
    )
    assert (
        run_module(mod, {"function_name": FUNCTION, "reserved_concurrent_executions": 5})["changed"] is False
    )
    assert run_module(mod, {"function_name": FUNCTION, "state": "absent"})["changed"] is True
    assert account["reads"] == reads


# --- several functions in one run (functions) ------------------------------------------------


def test_list_counts_each_reservation_against_the_ones_before_it(lam, run_module, account):
    account["limit"] = 150
    other = _other_function(lam)
    args = {
        "functions": [
            {"function_name": FUNCTION, "reserved_concurrent_executions": 30},
            {"function_name": other, "reserved_concurrent_executions": 30},
        ]
    }
    # 150 - 30 = 120 left after the first; the second would leave 90, below 100: skipped. Check mode
    # predicts the same, although nothing is reserved yet when it reads the account.
    predicted = run_module(mod, args, check_mode=True, diff=True)
    assert _reserved(lam) is None
    result = run_module(mod, args, diff=True)
    for outcome in (predicted, result):
        assert outcome["changed"] is True
        assert [
            (f["function_name"], f["reserved_concurrent_executions"], f["reservation_skipped"])
            for f in outcome["functions"]
        ] == [
            (FUNCTION, 30, False),
            (other, None, True),
        ]
        assert "would leave 90 unreserved, below AWS's minimum of 100" in outcome["warnings"][0]
        assert outcome["diff"] == {
            "before": {FUNCTION: {"reserved_concurrent_executions": None}},
            "after": {FUNCTION: {"reserved_concurrent_executions": 30}},
        }
    assert account["reads"] == 2  # once per run
    assert (_reserved(lam), _reserved(lam, other)) == (30, None)


def test_list_removes_and_is_idempotent_without_reading_the_account(lam, run_module, account):
    other = _other_function(lam)
    run_module(mod, {"function_name": other, "reserved_concurrent_executions": 5})
    reads = account["reads"]
    args = {
        "functions": [
            {"function_name": FUNCTION, "reserved_concurrent_executions": None},
            {"function_name": other, "reserved_concurrent_executions": None},
        ]
    }
    result = run_module(mod, args)
    assert result["changed"] is True
    assert [f["changed"] for f in result["functions"]] == [False, True]
    assert _reserved(lam, other) is None
    assert run_module(mod, args)["changed"] is False
    assert account["reads"] == reads


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"state": "absent"}, "apply to function_name only"),
        ({"reserved_concurrent_executions": 1}, "apply to function_name only"),
        ({"function_name": FUNCTION}, "mutually exclusive"),
    ],
)
def test_list_bad_input(lam, run_module, extra, message):
    args = {"functions": [{"function_name": FUNCTION, "reserved_concurrent_executions": 1}], **extra}
    assert message in run_module(mod, args, expect_failure=True)["msg"]
    assert _reserved(lam) is None


def test_list_rejects_negative_and_duplicates(lam, run_module):
    args = {
        "functions": [
            {"function_name": FUNCTION, "reserved_concurrent_executions": -1},
            {"function_name": FUNCTION, "reserved_concurrent_executions": 2},
        ]
    }
    message = run_module(mod, args, expect_failure=True)["msg"]
    assert f"functions[{FUNCTION}].reserved_concurrent_executions must be at least 0, got -1" in message
    assert f"each name once, got {FUNCTION} more than once" in message
    assert _reserved(lam) is None
