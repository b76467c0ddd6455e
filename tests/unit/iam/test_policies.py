"""The IAM role's policies, rendered by the role itself, checked with parliament and against the handlers.

A tiny playbook runs roles/iam/tasks/policies.yml (pure set_fact, no AWS call) with the facts
the earlier roles would set, and dumps the trust policy and the inline policies. Then:

- parliament (`analyze_policy_string`) finds nothing in any inline policy;
- no Action contains a wildcard, every statement is an Allow with Action and Resource;
- each policy's actions are exactly the handler's documented "AWS actions" (the list the
  handler tests in tests/unit/lambda check the calls against) plus the runtime actions every
  function needs (own log streams, X-Ray, own dead-letter queue and the key for it,
  the key through DynamoDB for the functions that use the table, VPC network interfaces
  for the VPC functions only);
- account-wide functions (key_rotation) get a role in the home region only;
- Resource "*" appears only for actions that have no resource-level permissions;
- every other resource is the exact resource the function touches.

Accepted parliament findings: none with parliament's default auditors. With the community
auditors, the key_rotation policy gets two findings that are its purpose (see
COMMUNITY_ACCEPTED); the other policies get none.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from parliament import analyze_policy_string

REPO_ROOT = Path(__file__).resolve().parents[3]
LAMBDA_ROOT = REPO_ROOT / "files" / "lambda"
ACTION_LINE = re.compile(r"^\s*-\s*([a-z0-9-]+:[A-Za-z0-9]+)\s*$")

FUNCTIONS = ("processor", "analytics", "key_rotation")
VPC_FUNCTIONS = ("processor", "analytics")

# Actions AWS authorizes only on "*" (no resource types in the Service Authorization Reference).
NO_RESOURCE_LEVEL = {
    "iam:ListUsers",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
# What running a handler as a Lambda function needs, on top of the handler's own calls.
RUNTIME_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "sqs:SendMessage",
    "kms:GenerateDataKey",
    "kms:Decrypt",
}
# AWSLambdaVPCAccessExecutionRole v3 without its logs actions.
TABLE_WRITES = {"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
VPC_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}
# Parliament issue codes accepted, with the reason. Keep empty unless a finding is a false positive.
ACCEPTED_FINDINGS: dict[str, str] = {}
# Findings of parliament's community auditors accepted per function, with the reason.
COMMUNITY_ACCEPTED: dict[str, dict[str, str]] = {
    "key_rotation": {
        "CREDENTIALS_EXPOSURE": (
            "raised for iam:UpdateAccessKey, which the function needs to deactivate keys older than the "
            "limit (the call returns no credential); scoped to this account's users"
        ),
        "PERMISSIONS_MANAGEMENT_ACTIONS": (
            "iam:UpdateAccessKey and iam:DeleteAccessKey are 'Permissions management' actions: "
            "deactivating and deleting stale keys is the function's job; scoped to this account's users, "
            "and no action that grants permissions (Put*/Attach*/Create*) is allowed"
        ),
    },
}

CONTEXTS = {
    "aws": {"baseline_partition": "aws", "baseline_region": "us-east-1", "home": "us-east-1"},
    "aws-us-gov": {
        "baseline_partition": "aws-us-gov",
        "baseline_region": "us-gov-west-1",
        "home": "us-gov-west-1",
    },
}
# A region that is not the home region: no role for the account-wide functions.
OTHER_REGION = {"baseline_partition": "aws", "baseline_region": "us-west-1", "home": "us-east-1"}
HOME_REGION_FUNCTIONS = ("key_rotation",)
ACCOUNT = "123456789012"
PREFIX = "secureinfra"
KEY_ID = "11111111-2222-3333-4444-555555555555"


def _facts(partition: str, region: str, home: str) -> dict[str, Any]:
    """The facts preflight, encryption, storage and table would set."""
    bucket = f"{PREFIX}-data-{ACCOUNT}-{region}"
    return {
        "baseline_prefix": PREFIX,
        "baseline_region": region,
        "baseline_home_region": home,
        "baseline_partition": partition,
        "baseline_account_id": ACCOUNT,
        "baseline_project": "secure-infrastructure",
        "baseline_environment": "test",
        "baseline_owner": "o",
        "encryption_key_arn": f"arn:{partition}:kms:{region}:{ACCOUNT}:key/{KEY_ID}",
        "storage_data_bucket_arn": f"arn:{partition}:s3:::{bucket}",
        "table_arns": {"data": f"arn:{partition}:dynamodb:{region}:{ACCOUNT}:table/{PREFIX}-data"},
    }


@pytest.fixture(scope="module", params=sorted(CONTEXTS))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run roles/iam/tasks/policies.yml in a throwaway playbook; return what it computed."""
    return _render(CONTEXTS[request.param], tmp_path_factory.mktemp(f"iam-{request.param}"))


@pytest.fixture(scope="module")
def rendered_other_region(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _render(OTHER_REGION, tmp_path_factory.mktemp("iam-other-region"))


def _render(ctx: dict[str, str], work: Path) -> dict[str, Any]:
    facts = _facts(ctx["baseline_partition"], ctx["baseline_region"], ctx["home"])
    out = work / "out.json"
    playbook = [
        {
            "name": "Render the IAM role's policies",
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {
                **facts,
                # The iam role depends on preflight: validation only (the account is given above),
                # for this partition's regions too.
                "preflight_check_connection": False,
                "preflight_supported_regions": sorted({ctx["baseline_region"], ctx["home"]}),
                "ansible_python_interpreter": sys.executable,
            },
            "tasks": [
                {
                    "name": "Compute the policies",
                    "ansible.builtin.import_role": {
                        "name": "secureinfra.baseline.iam",
                        "tasks_from": "policies",
                    },
                },
                {
                    "name": "Dump them",
                    "ansible.builtin.copy": {
                        "dest": str(out),
                        "mode": "0600",
                        "content": "{{ {'trust': iam_trust_policy, 'policies': iam_policies,"
                        " 'role_arns': iam_role_arns, 'role_names': iam_role_names} | to_json }}",
                    },
                },
            ],
        }
    ]
    (work / "render.yml").write_text(yaml.safe_dump(playbook, sort_keys=False))
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            str(work / "render.yml"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"facts": facts, **json.loads(out.read_text())}


def documented_actions(function: str) -> set[str]:
    """The `service:Action` list under "AWS actions" in the handler's docstring."""
    source = (LAMBDA_ROOT / function / "handler.py").read_text()
    doc = source.split('"""', 2)[1]
    section = doc.split("AWS actions", 1)[1].split("\n\n", 1)[0]
    return {m.group(1) for line in section.splitlines() if (m := ACTION_LINE.match(line))}


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return policy["Statement"]


def actions(policy: dict[str, Any]) -> set[str]:
    return {a for s in statements(policy) for a in as_list(s["Action"])}


def grants(policy: dict[str, Any], action: str) -> set[str]:
    """Resources on which the policy allows the action."""
    return {r for s in statements(policy) if action in as_list(s["Action"]) for r in as_list(s["Resource"])}


def name(facts: dict[str, Any], function: str) -> str:
    return f"{facts['baseline_prefix']}-{facts['baseline_region']}-{function}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_parliament_finds_nothing(rendered: dict[str, Any], function: str) -> None:
    policy = rendered["policies"][function]
    findings = analyze_policy_string(json.dumps(policy)).findings
    unexpected = [f for f in findings if f.issue not in ACCEPTED_FINDINGS]
    assert unexpected == [], "\n".join(f"{f.issue}: {f.detail} {f.location}" for f in unexpected)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_parliament_community_auditors_find_only_the_accepted(
    rendered: dict[str, Any], function: str
) -> None:
    policy = rendered["policies"][function]
    findings = analyze_policy_string(json.dumps(policy), include_community_auditors=True).findings
    assert {f.issue for f in findings} == set(COMMUNITY_ACCEPTED.get(function, {}))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_statements_are_plain_allows_without_wildcard_actions(
    rendered: dict[str, Any], function: str
) -> None:
    for statement in statements(rendered["policies"][function]):
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement
        assert as_list(statement["Action"]) and as_list(statement["Resource"])
        for action in as_list(statement["Action"]):
            assert "*" not in action and "?" not in action, action
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), action
    sids = [s["Sid"] for s in statements(rendered["policies"][function])]
    assert len(sids) == len(set(sids))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_actions_are_exactly_the_handler_calls_plus_runtime_needs(
    rendered: dict[str, Any], function: str
) -> None:
    expected = documented_actions(function) | RUNTIME_ACTIONS
    if function in VPC_FUNCTIONS:
        expected |= VPC_ACTIONS
    if expected & TABLE_WRITES:  # a table writer encrypts through DynamoDB (real-aws.md #5)
        expected |= {"kms:Encrypt"}
    assert actions(rendered["policies"][function]) == expected
    assert "logs:CreateLogGroup" not in actions(rendered["policies"][function])


def test_documented_actions_are_found() -> None:
    # Guards the docstring parsing above (an empty set would make the equality test weaker).
    assert documented_actions("processor") == {
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "dynamodb:BatchWriteItem",
        "dynamodb:PutItem",
    }
    assert documented_actions("analytics") == {"dynamodb:Scan", "s3:PutObject"}
    assert len(documented_actions("key_rotation")) == 6


@pytest.mark.parametrize("function", FUNCTIONS)
def test_star_resource_only_where_aws_allows_nothing_else(rendered: dict[str, Any], function: str) -> None:
    for statement in statements(rendered["policies"][function]):
        if "*" in as_list(statement["Resource"]):
            assert as_list(statement["Resource"]) == ["*"]
            assert set(as_list(statement["Action"])) <= NO_RESOURCE_LEVEL, statement


@pytest.mark.parametrize("function", FUNCTIONS)
def test_runtime_grants_are_the_functions_own(rendered: dict[str, Any], function: str) -> None:
    facts = rendered["facts"]
    policy = rendered["policies"][function]
    partition, region = facts["baseline_partition"], facts["baseline_region"]
    group = f"arn:{partition}:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/{name(facts, function)}"
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert grants(policy, action) == {group, group + ":*"}
    assert grants(policy, "sqs:SendMessage") == {
        f"arn:{partition}:sqs:{region}:{ACCOUNT}:{name(facts, function)}-dlq"
    }
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert grants(policy, action) == {facts["encryption_key_arn"]}
    (kms,) = [s for s in statements(policy) if s["Sid"] == "UseBaselineKeyThroughQueueAndTopic"]
    assert sorted(kms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    services = {"sqs", "sns"} if function == "key_rotation" else {"sqs"}
    assert kms["Condition"] == {
        "StringEquals": {"kms:ViaService": sorted(f"{s}.{region}.amazonaws.com" for s in services)}
    }
    for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
        assert grants(policy, action) == {"*"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_table_users_get_the_key_through_dynamodb_only(rendered: dict[str, Any], function: str) -> None:
    """DynamoDB uses the key with the caller's permissions: reads need kms:Decrypt, writes also
    kms:GenerateDataKey and kms:Encrypt (real-aws.md finding 5). AWS's condition: ViaService +
    CallerAccount. Only the functions that call DynamoDB get it."""
    facts, policy = rendered["facts"], rendered["policies"][function]
    found = [s for s in statements(policy) if s["Sid"] == "UseBaselineKeyThroughDynamoDB"]
    if not any(a.startswith("dynamodb:") for a in actions(policy)):
        assert found == []
        return
    assert found == [
        {
            "Sid": "UseBaselineKeyThroughDynamoDB",
            "Effect": "Allow",
            "Action": (
                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
                if {"dynamodb:PutItem", "dynamodb:BatchWriteItem"} & set(actions(policy))
                else ["kms:Decrypt"]
            ),
            "Resource": [facts["encryption_key_arn"]],
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": ACCOUNT,
                    "kms:ViaService": f"dynamodb.{facts['baseline_region']}.amazonaws.com",
                }
            },
        }
    ]


def test_the_data_functions_use_the_table(rendered: dict[str, Any]) -> None:
    # Guards the test above: it must not pass by finding no DynamoDB user.
    for function in VPC_FUNCTIONS:
        sids = [s["Sid"] for s in statements(rendered["policies"][function])]
        assert "UseBaselineKeyThroughDynamoDB" in sids


@pytest.mark.parametrize("function", FUNCTIONS)
def test_vpc_permissions_only_for_vpc_functions(rendered: dict[str, Any], function: str) -> None:
    policy = rendered["policies"][function]
    ec2 = {a for a in actions(policy) if a.startswith("ec2:")}
    if function not in VPC_FUNCTIONS:
        assert ec2 == set()
        return
    facts = rendered["facts"]
    scope = f"arn:{facts['baseline_partition']}:ec2:{facts['baseline_region']}:{ACCOUNT}:"
    assert ec2 == VPC_ACTIONS
    # Service Authorization Reference: the Describe actions have no resource types; Create takes
    # the interface, subnet and security group; the others the interface only.
    for action in ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"):
        assert grants(policy, action) == {"*"}
    assert grants(policy, "ec2:CreateNetworkInterface") == {
        scope + "network-interface/*",
        scope + "security-group/*",
        scope + "subnet/*",
    }
    for action in VPC_ACTIONS - {
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:CreateNetworkInterface",
    }:
        assert grants(policy, action) == {scope + "network-interface/*"}


def test_processor_grants(rendered: dict[str, Any]) -> None:
    facts, policy = rendered["facts"], rendered["policies"]["processor"]
    bucket, table = facts["storage_data_bucket_arn"], facts["table_arns"]["data"]
    assert grants(policy, "s3:GetObject") == {f"{bucket}/incoming/*"}
    assert grants(policy, "s3:PutObject") == {f"{bucket}/quarantine/*"}
    # ListBucket (so that a missing key answers 404) on the incoming prefix only.
    (listing,) = [s for s in statements(policy) if "s3:ListBucket" in as_list(s["Action"])]
    assert listing["Action"] == ["s3:ListBucket"]
    assert listing["Resource"] == [bucket]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["incoming/*"]}}
    assert grants(policy, "dynamodb:PutItem") == {table}
    assert grants(policy, "dynamodb:BatchWriteItem") == {table}


def test_analytics_grants(rendered: dict[str, Any]) -> None:
    facts, policy = rendered["facts"], rendered["policies"]["analytics"]
    assert grants(policy, "dynamodb:Scan") == {facts["table_arns"]["data"]}
    assert grants(policy, "s3:PutObject") == {f"{facts['storage_data_bucket_arn']}/reports/*"}


def test_key_rotation_grants(rendered: dict[str, Any]) -> None:
    facts, policy = rendered["facts"], rendered["policies"]["key_rotation"]
    partition, region = facts["baseline_partition"], facts["baseline_region"]
    users = f"arn:{partition}:iam::{ACCOUNT}:user/*"
    for action in ("iam:ListAccessKeys", "iam:ListUserTags", "iam:UpdateAccessKey", "iam:DeleteAccessKey"):
        assert grants(policy, action) == {users}
    assert grants(policy, "iam:ListUsers") == {"*"}  # no resource-level permissions
    assert grants(policy, "sns:Publish") == {f"arn:{partition}:sns:{region}:{ACCOUNT}:{PREFIX}-alarms"}
    assert not {a for a in actions(policy) if a.startswith(("s3:", "dynamodb:", "ec2:"))}


def test_trust_policy(rendered: dict[str, Any]) -> None:
    assert rendered["trust"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LambdaAssumesRoleForThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }


def test_account_wide_functions_only_in_the_home_region(
    rendered: dict[str, Any], rendered_other_region: dict[str, Any]
) -> None:
    assert set(rendered["policies"]) == set(rendered["role_names"]) == set(FUNCTIONS)
    others = rendered_other_region
    expected = set(FUNCTIONS) - set(HOME_REGION_FUNCTIONS)
    assert set(others["policies"]) == set(others["role_names"]) == set(others["role_arns"]) == expected
    assert others["role_names"] == {f: f"{PREFIX}-us-west-1-{f}" for f in expected}


def test_role_names_are_the_ones_the_data_bucket_trusts(rendered: dict[str, Any]) -> None:
    facts = rendered["facts"]
    partition, region = facts["baseline_partition"], facts["baseline_region"]
    assert rendered["role_names"] == {f: f"{PREFIX}-{region}-{f}" for f in FUNCTIONS}
    assert rendered["role_arns"] == {
        f: f"arn:{partition}:iam::{ACCOUNT}:role/{PREFIX}-{region}-{f}" for f in FUNCTIONS
    }
    storage = yaml.safe_load((REPO_ROOT / "roles" / "storage" / "defaults" / "main.yml").read_text())
    trusted = {
        n.replace("{{ baseline_prefix }}", PREFIX).replace("{{ baseline_region }}", region)
        for n in storage["storage_data_bucket_function_roles"]
    }
    assert trusted == {rendered["role_names"]["processor"], rendered["role_names"]["analytics"]}
