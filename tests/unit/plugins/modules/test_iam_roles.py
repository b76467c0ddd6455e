"""secureinfra.baseline.iam_roles against in-process moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.client
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import iam_roles as mod
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
NAMES = ["baseline-us-east-1-processor", "baseline-us-east-1-analytics"]
# Each role is read on its own (GetRole, its inline policies, its attached ones), nothing else.
READ_ONE = ["GetRole", "ListRolePolicies", "GetRolePolicy", "ListAttachedRolePolicies"]
READS = READ_ONE * len(NAMES)
MUTATING_PREFIXES = ("Create", "Update", "Put", "Delete", "Tag", "Untag", "Detach", "Attach")


def _trust(account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LambdaAssumesRoleForThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def _policy(name: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/{name}:*"],
            },
            {
                "Sid": "ReadIncoming",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::data-bucket/incoming/a+b c&d*",
            },
        ],
    }


def _role(role_name: str, **overrides: Any) -> dict[str, Any]:
    name = role_name
    item = {
        "name": name,
        "path": "/",
        "description": f"Execution role of the {name} Lambda function (baseline)",
        "assume_role_policy_document": _trust(),
        "max_session_duration": 3600,
        "tags": {"Project": "baseline", "Function": name.rsplit("-", 1)[-1]},
        "inline_policy": {"name": name, "document": _policy(name)},
    }
    item.update(overrides)
    return item


def _args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"roles": [_role(n) for n in NAMES]}
    args.update(overrides)
    return args


@pytest.fixture
def iam(aws):
    return boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def calls(calls_with_params):
    """(operation, params) of every AWS call made (by the module or the test) from now on."""
    return calls_with_params


def _ops(calls) -> list[str]:
    return [op for op, _ in calls]


def _mutations(calls) -> list[str]:
    return [op for op, _ in calls if op.startswith(MUTATING_PREFIXES)]


def _state(iam, name: str) -> dict[str, Any]:
    role = iam.get_role(RoleName=name)["Role"]
    names = iam.list_role_policies(RoleName=name)["PolicyNames"]
    return {
        "role": role,
        "tags": {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]},
        "inline": {n: iam.get_role_policy(RoleName=name, PolicyName=n)["PolicyDocument"] for n in names},
        "attached": iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"],
    }


def _converged(iam, run_module) -> None:
    result = run_module(mod, _args())
    assert result["changed"]


def test_create_then_idempotent_reading_its_roles_only(iam, run_module, calls):
    result = run_module(mod, _args())
    # One GetRole per role (NoSuchEntity), then each inline policy is put once its role is visible
    # (the RoleExists waiter's GetRole).
    assert _ops(calls) == ["GetRole"] * len(NAMES) + ["CreateRole", "GetRole", "PutRolePolicy"] * 2
    assert result["changed"]
    assert [r["changes"] for r in result["roles"]] == [["created"], ["created"]]
    assert result["arns"] == {n: f"arn:aws:iam::{ACCOUNT}:role/{n}" for n in NAMES}
    assert result["msg"] == "; ".join(f"{n}: create" for n in NAMES)
    for name in NAMES:
        state = _state(iam, name)
        assert state["role"]["AssumeRolePolicyDocument"] == _trust()
        assert state["role"]["Description"] == f"Execution role of the {name} Lambda function (baseline)"
        assert state["role"]["MaxSessionDuration"] == 3600
        assert state["tags"] == {"Project": "baseline", "Function": name.rsplit("-", 1)[-1]}
        assert state["inline"] == {name: _policy(name)}
        assert state["attached"] == []

    calls.clear()
    again = run_module(mod, _args())
    assert not again["changed"]
    assert again["msg"] == "all roles in line with the definition"
    assert [r["changes"] for r in again["roles"]] == [[], []]
    assert again["arns"] == result["arns"]
    assert [r["role_id"] for r in again["roles"]] == [r["role_id"] for r in result["roles"]]
    assert _ops(calls) == READS


def test_check_mode_on_an_empty_account_writes_nothing_and_predicts_the_arns(iam, run_module, calls):
    result = run_module(mod, _args(), check_mode=True, diff=True)
    assert result["changed"]
    assert result["arns"] == {n: f"arn:aws:iam::{ACCOUNT}:role/{n}" for n in NAMES}
    assert all(r["created"] and r["role_id"] is None for r in result["roles"])
    assert result["msg"] == "; ".join(f"{n}: would create" for n in NAMES)
    assert _mutations(calls) == []
    # One GetRole per role; the account is asked once, for both predictions.
    assert _ops(calls) == ["GetRole"] * len(NAMES) + ["GetCallerIdentity"]
    assert iam.list_roles()["Roles"] == []
    assert result["diff"]["before"] == {n: {} for n in NAMES}
    assert result["diff"]["after"][NAMES[0]]["inline_policies"] == {NAMES[0]: _policy(NAMES[0])}


def test_check_mode_on_a_converged_account_is_unchanged(iam, run_module, calls):
    _converged(iam, run_module)
    calls.clear()
    result = run_module(mod, _args(), check_mode=True)
    assert not result["changed"]
    assert _ops(calls) == READS


def test_semantically_equal_documents_are_no_change(iam, run_module, calls):
    _converged(iam, run_module)
    reordered = []
    for name in NAMES:
        policy = _policy(name)
        policy["Statement"].reverse()
        policy["Statement"][1]["Action"].reverse()
        policy["Statement"][1]["Resource"] = policy["Statement"][1]["Resource"][0]  # one-element list
        trust = _trust()
        trust["Statement"][0]["Action"] = ["sts:AssumeRole"]
        reordered.append(
            _role(
                name,
                assume_role_policy_document=json.dumps(trust),
                inline_policy={"name": name, "document": policy},
            )
        )
    calls.clear()
    result = run_module(mod, {"roles": reordered})
    assert not result["changed"], result["msg"]
    assert _mutations(calls) == []


def _drift(iam, name: str) -> None:
    """Every kind of change the module repairs, out of band on one role."""
    policy = _policy(name)
    policy["Statement"].append(
        {"Sid": "AddedOutOfBand", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    )
    iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    iam.put_role_policy(RoleName=name, PolicyName="extra", PolicyDocument=json.dumps(_policy(name)))
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(_trust("210987654321")))
    iam.update_role(RoleName=name, Description="changed", MaxSessionDuration=7200)
    iam.tag_role(RoleName=name, Tags=[{"Key": "Stray", "Value": "x"}, {"Key": "Project", "Value": "other"}])
    managed = iam.create_policy(
        PolicyName="broad",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    iam.attach_role_policy(RoleName=name, PolicyArn=managed["Policy"]["Arn"])


ALL_CHANGES = [
    "trust policy",
    "description",
    "max session duration",
    "tags",
    "managed policies detached",
    "inline policy",
    "other inline policies deleted",
]


def test_drift_is_named_in_check_mode_and_repaired(iam, run_module, calls):
    _converged(iam, run_module)
    name = NAMES[0]
    _drift(iam, name)
    calls.clear()
    check = run_module(mod, _args(), check_mode=True, diff=True)
    assert check["changed"]
    assert _mutations(calls) == []
    assert check["roles"][0]["changes"] == ALL_CHANGES
    assert check["roles"][1]["changes"] == []
    assert check["msg"] == f"{name}: would update {', '.join(ALL_CHANGES)}"
    assert list(check["diff"]["before"]) == [name]
    assert set(check["diff"]["before"][name]["inline_policies"]) == {name, "extra"}
    assert check["diff"]["after"][name]["inline_policies"] == {name: _policy(name)}
    assert check["diff"]["before"][name]["tags"]["Stray"] == "x"

    calls.clear()
    repair = run_module(mod, _args())
    assert repair["changed"] and repair["roles"][0]["changes"] == ALL_CHANGES
    assert _mutations(calls) == [
        "UpdateAssumeRolePolicy",
        "UpdateRole",
        "UntagRole",
        "TagRole",
        "DetachRolePolicy",
        "PutRolePolicy",
        "DeleteRolePolicy",
    ]
    params = dict(calls)
    assert params["UntagRole"]["TagKeys"] == ["Stray"]
    assert params["TagRole"]["Tags"] == [{"Key": "Project", "Value": "baseline"}]
    assert params["DeleteRolePolicy"]["PolicyName"] == "extra"
    state = _state(iam, name)
    assert state["role"]["AssumeRolePolicyDocument"] == _trust()
    assert state["role"]["Description"].startswith("Execution role of")
    assert state["role"]["MaxSessionDuration"] == 3600
    assert state["tags"] == {"Project": "baseline", "Function": "processor"}
    assert state["inline"] == {name: _policy(name)}
    assert state["attached"] == []

    calls.clear()
    assert not run_module(mod, _args())["changed"]
    assert _mutations(calls) == []


def test_only_the_inline_policy_is_put_when_only_it_differs(iam, run_module, calls):
    _converged(iam, run_module)
    name = NAMES[1]
    policy = _policy(name)
    policy["Statement"][0]["Action"].append("logs:DeleteLogGroup")
    iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    calls.clear()
    result = run_module(mod, _args())
    assert result["msg"] == f"{name}: update inline policy"
    assert _mutations(calls) == ["PutRolePolicy"]
    assert calls[-1][1]["RoleName"] == name


def test_tags_are_kept_without_purge_and_description_left_when_unset(iam, run_module, calls):
    _converged(iam, run_module)
    iam.tag_role(RoleName=NAMES[0], Tags=[{"Key": "Owner", "Value": "team"}])
    iam.update_role(RoleName=NAMES[0], Description="set by hand")
    roles = [_role(NAMES[0], purge_tags=False, description=None), _role(NAMES[1])]
    calls.clear()
    result = run_module(mod, {"roles": roles})
    assert not result["changed"], result["msg"]
    assert _mutations(calls) == []


def test_only_the_managed_roles_are_read_however_many_the_account_has(iam, run_module, calls):
    """No account-wide listing (GetAccountAuthorizationDetails, ListRoles): the reads are the same
    with 40 other roles in the account, and none of them is read."""
    _converged(iam, run_module)
    for index in range(40):
        other = f"other-{index}"
        iam.create_role(RoleName=other, AssumeRolePolicyDocument=json.dumps(_trust()))
        iam.put_role_policy(RoleName=other, PolicyName=other, PolicyDocument=json.dumps(_policy(other)))
    calls.clear()
    result = run_module(mod, _args())
    assert not result["changed"], result["msg"]
    assert _ops(calls) == READS
    assert {params["RoleName"] for _, params in calls} == set(NAMES)


def test_put_inline_policy_retries_while_a_new_role_is_not_visible(iam, run_module, monkeypatch):
    monkeypatch.setattr(mod, "PROPAGATION_RETRY", {"retries": 3, "delay": 0, "backoff": 1.0, "max_delay": 0})
    original = botocore.client.BaseClient._make_api_call
    refused: list[str] = []

    def not_yet(self, operation_name, api_params):
        if operation_name == "PutRolePolicy" and api_params["RoleName"] not in refused:
            refused.append(api_params["RoleName"])
            raise ClientError({"Error": {"Code": "NoSuchEntity", "Message": "not yet"}}, operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", not_yet)
    result = run_module(mod, _args())
    assert result["changed"] and refused == NAMES
    assert _state(iam, NAMES[0])["inline"] == {NAMES[0]: _policy(NAMES[0])}


def test_a_different_path_fails_before_any_write(iam, run_module, calls):
    _converged(iam, run_module)
    iam.put_role_policy(RoleName=NAMES[1], PolicyName="extra", PolicyDocument=json.dumps(_policy("x")))
    calls.clear()
    result = run_module(
        mod, {"roles": [_role(NAMES[0], path="/other/"), _role(NAMES[1])]}, expect_failure=True
    )
    assert "IAM cannot change the path" in result["msg"] and NAMES[0] in result["msg"]
    assert _mutations(calls) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "bad name!"}, "must be 1-64 characters"),
        ({"name": "x" * 65}, "must be 1-64 characters"),
        ({"path": "no-slash"}, "must be / or /<segments>/"),
        ({"max_session_duration": 60}, "max_session_duration: 60 is not within 3600-43200"),
        ({"description": "x" * 1001}, "description: at most 1000"),
        ({"tags": {"aws:reserved": "x"}}, "not starting with aws:"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "at most 50 tags"),
        ({"assume_role_policy_document": "{not json"}, "assume_role_policy_document: not valid JSON"),
        ({"assume_role_policy_document": {"Version": "2012-10-17"}}, "must be a policy document"),
        (
            {"inline_policy": {"name": "p", "document": "[]"}},
            "inline_policy.document: must be a policy document",
        ),
        ({"inline_policy": {"name": "bad/name", "document": _policy("x")}}, "inline_policy.name"),
        (
            {
                "inline_policy": {
                    "name": "p",
                    "document": {
                        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "a" * 10300}]
                    },
                }
            },
            "IAM allows 10240",
        ),
    ],
)
def test_bad_input_fails_before_any_call(iam, run_module, calls, overrides, message):
    result = run_module(mod, {"roles": [_role(NAMES[0], **overrides)]}, expect_failure=True)
    assert message in result["msg"], result["msg"]
    assert calls == []


def test_duplicate_names_differing_in_case_fail_before_any_call(iam, run_module, calls):
    roles = [_role(NAMES[0]), _role(NAMES[0].upper())]
    result = run_module(mod, {"roles": roles}, expect_failure=True)
    assert "duplicate names" in result["msg"]
    assert calls == []


def test_an_aws_error_names_the_role(iam, run_module, monkeypatch):
    original = botocore.client.BaseClient._make_api_call

    def refuse(self, operation_name, api_params):
        if operation_name == "CreateRole":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
    result = run_module(mod, _args(), expect_failure=True)
    assert f"Could not create the role {NAMES[0]}" in result["msg"]


def test_a_role_get_role_does_not_return_yet_is_updated_not_created_twice(
    iam, run_module, calls, monkeypatch
):
    """IAM is eventually consistent: GetRole answers NoSuchEntity, CreateRole EntityAlreadyExists;
    the role is read again and converged."""
    _converged(iam, run_module)
    description = _role(NAMES[0])["description"]
    iam.update_role(RoleName=NAMES[0], Description=description, MaxSessionDuration=7200)
    original = botocore.client.BaseClient._make_api_call
    stale = [NAMES[0]]

    def not_visible_once(self, operation_name, api_params):
        if operation_name == "GetRole" and api_params["RoleName"] in stale:
            stale.remove(api_params["RoleName"])
            raise ClientError({"Error": {"Code": "NoSuchEntity", "Message": "not yet"}}, operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", not_visible_once)
    result = run_module(mod, _args())
    assert result["roles"][0]["changes"] == ["max session duration"]
    assert not result["roles"][0]["created"]
    role = iam.get_role(RoleName=NAMES[0])["Role"]
    assert (role["MaxSessionDuration"], role["Description"]) == (3600, description)
    monkeypatch.undo()
    assert not run_module(mod, _args())["changed"]


def test_a_read_refused_names_the_role_and_the_permissions(iam, run_module, monkeypatch):
    original = botocore.client.BaseClient._make_api_call

    def refuse(self, operation_name, api_params):
        if operation_name == "ListAttachedRolePolicies":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, operation_name)
        return original(self, operation_name, api_params)

    _converged(iam, run_module)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
    result = run_module(mod, _args(), expect_failure=True)
    assert f"Could not read the role {NAMES[0]}" in result["msg"]
    assert "iam:ListAttachedRolePolicies" in result["msg"]
