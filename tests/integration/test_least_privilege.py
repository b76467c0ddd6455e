"""Least privilege, proven on the deployed policies.

Every execution role's policies, the data and log bucket policies, the trust policies, the KMS
key policies and the functions' resource policies are read back from the converged emulator
with boto3 and evaluated -- not compared with a template:

- a table of (function, action, resource, expected) requests, for both regions, is evaluated
  with `support.policy_eval` (a small evaluator following the IAM documentation) and
  cross-checked against moto's own evaluator (`moto.iam.access_control.IAMPolicy`) on the same
  table; where moto is known to be wrong the case names the gap (see the module docstring of
  support/policy_eval.py for the list, and test_moto_gap, which pins each one);
- the data bucket policy is evaluated with the request's principal, aws:PrincipalArn and
  aws:SecureTransport (moto cannot: it ignores ArnNotLike and Bool, and returns DENIED for a
  Deny statement whose condition is not met);
- key_rotation is account-wide: its role and function exist in the home region only;
- the processor's s3:ListBucket (limited to its incoming prefix, so that a missing key answers 404)
  is allowed by its role, not denied by the data bucket policy, and allowed by the S3 endpoint policy;
- mutation tests: each realistic widening of a deployed policy (a broader prefix, a wildcard
  action, another region, a dropped condition, ...) must make some case of the table fail,
  so the table can fail and does discriminate;
- parliament finds nothing in any deployed policy, except findings listed in
  PARLIAMENT_ACCEPTED with the reason each one is not a problem (an accepted finding that no
  longer occurs fails the test, so the list cannot go stale).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import REGIONS
from moto.iam.access_control import IAMPolicy, PermissionResult
from parliament import analyze_policy_string
from support.policy_eval import (
    Decision,
    Request,
    Unsupported,
    arn_like,
    evaluate,
    is_allowed,
    resource_matches,
)

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
PREFIX = "secureinfra"
FUNCTIONS = ("processor", "analytics", "key_rotation")
VPC_FUNCTIONS = ("processor", "analytics")
# Functions that read or write the data table (encrypted with the baseline key).
TABLE_FUNCTIONS = ("processor", "analytics")
HOME_REGION = "us-east-1"  # baseline_home_region (inventories/local/group_vars/all.yml)
HOME_ONLY = ("key_rotation",)  # account-wide: deployed in the home region only
OTHER_REGION = {REGIONS[0]: REGIONS[1], REGIONS[1]: REGIONS[0]}
KEY_ALIAS = "alias/secureinfra-baseline"
STREAM = ":log-stream:2026/01/01/[$LATEST]0123456789abcdef"


def functions_in(region: str) -> tuple[str, ...]:
    """The functions deployed in a region (the account-wide ones only in the home region)."""
    return FUNCTIONS if region == HOME_REGION else tuple(f for f in FUNCTIONS if f not in HOME_ONLY)


REGION_FUNCTIONS = [(r, f) for r in REGIONS for f in functions_in(r)]


def role_name(region: str, function: str) -> str:
    return f"{PREFIX}-{region}-{function}"


def role_arn(region: str, function: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{role_name(region, function)}"


def _region_names(region: str) -> dict[str, Any]:
    return {
        "data": f"arn:aws:s3:::{PREFIX}-data-{ACCOUNT}-{region}",
        "logs": f"arn:aws:s3:::{PREFIX}-logs-{ACCOUNT}-{region}",
        "table": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{PREFIX}-data",
        "topic": f"arn:aws:sns:{region}:{ACCOUNT}:{PREFIX}-alarms",
        "lg": {
            f: f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/{role_name(region, f)}"
            for f in FUNCTIONS
        },
        "q": {f: f"arn:aws:sqs:{region}:{ACCOUNT}:{role_name(region, f)}-dlq" for f in FUNCTIONS},
        "role": {f: role_arn(region, f) for f in FUNCTIONS},
        "fn": {f: f"arn:aws:lambda:{region}:{ACCOUNT}:function:{role_name(region, f)}" for f in FUNCTIONS},
        "subnet": f"arn:aws:ec2:{region}:{ACCOUNT}:subnet/subnet-0123456789abcdef0",
    }


def names(region: str, key_arns: dict[str, str]) -> dict[str, Any]:
    """What the case templates may refer to: {data}, {o_table}, {lg[processor]}, {key}, ..."""
    other = OTHER_REGION[region]
    own, theirs = _region_names(region), _region_names(other)
    return {
        "region": region,
        "other": other,
        "account": ACCOUNT,
        "other_account": OTHER_ACCOUNT,
        **own,
        **{f"o_{k}": v for k, v in theirs.items()},
        "key": key_arns[region],
        "o_key": key_arns[other],
    }


# --- what the emulator holds ---------------------------------------------------------------


@dataclass
class Deployed:
    roles: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    inline: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    attached: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    project_roles: set[str] = field(default_factory=set)
    # Project roles that are not function roles (e.g. a delivery role): name -> role, inline, attached.
    other_roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    bucket_policies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # Policies of any other bucket in the account: name -> policy.
    other_bucket_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_arns: dict[str, str] = field(default_factory=dict)
    key_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    function_roles: dict[tuple[str, str], str] = field(default_factory=dict)
    function_policies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # Resource policies of the project's topics and queues: ARN -> policy.
    topic_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    queue_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    resource_arns: dict[str, set[str]] = field(default_factory=dict)
    # Lambda function names per region, and the gateway endpoint policies: (region, service) -> policy.
    function_names: dict[str, set[str]] = field(default_factory=dict)
    endpoint_policies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def policies(self, region: str, function: str) -> list[dict[str, Any]]:
        return list(self.inline[region, function].values())

    def names(self, region: str) -> dict[str, Any]:
        return names(region, self.key_arns)


@pytest.fixture(scope="module")
def deployed(converged, aws) -> Deployed:
    """Everything the least-privilege tests evaluate, read back once from the converged emulator."""
    state = Deployed()
    iam = aws("iam")
    for page in iam.get_paginator("list_roles").paginate():
        state.project_roles |= {
            r["RoleName"] for r in page["Roles"] if r["RoleName"].startswith(f"{PREFIX}-")
        }
    function_role_names = {role_name(r, f) for r, f in REGION_FUNCTIONS}
    for name in sorted(state.project_roles - function_role_names):
        state.other_roles[name] = {
            "role": iam.get_role(RoleName=name)["Role"],
            "inline": {
                policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
                for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
            },
            "attached": iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"],
        }
    s3 = aws("s3", REGIONS[0])
    for bucket in s3.list_buckets()["Buckets"]:
        if bucket["Name"] in {f"{PREFIX}-{p}-{ACCOUNT}-{r}" for p in ("data", "logs") for r in REGIONS}:
            continue
        try:
            state.other_bucket_policies[bucket["Name"]] = json.loads(
                s3.get_bucket_policy(Bucket=bucket["Name"])["Policy"]
            )
        except ClientError as err:
            if err.response["Error"]["Code"] != "NoSuchBucketPolicy":
                raise
    for region in REGIONS:
        for function in functions_in(region):
            name = role_name(region, function)
            state.roles[region, function] = iam.get_role(RoleName=name)["Role"]
            state.inline[region, function] = {
                policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
                for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
            }
            state.attached[region, function] = iam.list_attached_role_policies(RoleName=name)[
                "AttachedPolicies"
            ]
        s3 = aws("s3", region)
        for purpose in ("data", "logs"):
            bucket = f"{PREFIX}-{purpose}-{ACCOUNT}-{region}"
            state.bucket_policies[region, purpose] = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        kms = aws("kms", region)
        alias = next(a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == KEY_ALIAS)
        state.key_arns[region] = kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]["Arn"]
        state.key_policies[region] = json.loads(
            kms.get_key_policy(KeyId=alias["TargetKeyId"], PolicyName="default")["Policy"]
        )
        lam = aws("lambda", region)
        state.function_names[region] = {
            f["FunctionName"]
            for page in lam.get_paginator("list_functions").paginate()
            for f in page["Functions"]
        }
        for service in ("s3", "dynamodb"):
            (endpoint,) = aws("ec2", region).describe_vpc_endpoints(
                Filters=[{"Name": "service-name", "Values": [f"com.amazonaws.{region}.{service}"]}]
            )["VpcEndpoints"]
            state.endpoint_policies[region, service] = json.loads(endpoint["PolicyDocument"])
        for function in functions_in(region):
            name = role_name(region, function)
            state.function_roles[region, function] = lam.get_function_configuration(FunctionName=name)["Role"]
            try:
                state.function_policies[region, function] = json.loads(
                    lam.get_policy(FunctionName=name)["Policy"]
                )
            except ClientError as err:
                if err.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
        arns = state.resource_arns.setdefault(region, set())
        arns |= {f"arn:aws:s3:::{b['Name']}" for b in s3.list_buckets()["Buckets"]}
        arns.add(aws("dynamodb", region).describe_table(TableName=f"{PREFIX}-data")["Table"]["TableArn"])
        sqs = aws("sqs", region)
        for url in sqs.list_queues().get("QueueUrls", []):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "Policy"])[
                "Attributes"
            ]
            arns.add(attributes["QueueArn"])
            if "Policy" in attributes and attributes["QueueArn"].split(":")[-1].startswith(f"{PREFIX}-"):
                state.queue_policies[attributes["QueueArn"]] = json.loads(attributes["Policy"])
        for group in aws("logs", region).describe_log_groups()["logGroups"]:
            arns.add(group["arn"].removesuffix(":*"))
        sns = aws("sns", region)
        for topic in sns.list_topics()["Topics"]:
            arns.add(topic["TopicArn"])
            if topic["TopicArn"].split(":")[-1].startswith(f"{PREFIX}-"):
                attributes = sns.get_topic_attributes(TopicArn=topic["TopicArn"])["Attributes"]
                state.topic_policies[topic["TopicArn"]] = json.loads(attributes["Policy"])
    return state


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    function: str
    action: str
    resource: str  # template, formatted with names(region)
    expected: bool
    why: str = ""
    context: tuple[tuple[str, str], ...] = ()  # templates too
    moto_gap: str | None = None  # moto's evaluator answers the opposite, for this reason

    @property
    def id(self) -> str:
        verdict = "allow" if self.expected else "deny"
        why = f"-{self.why}" if self.why else ""
        return f"{self.function}-{verdict}-{self.action}{why}".replace(" ", "_")

    def request(self, values: dict[str, Any], principal: str | None = None) -> Request:
        context = {k: v.format(**values) for k, v in self.context}
        return Request(self.action, self.resource.format(**values), principal, context)


def _c(function: str, action: str, resource: str, expected: bool, why: str = "", **kw: Any) -> Case:
    context = tuple(sorted(kw.pop("context", {}).items()))
    return Case(function, action, resource, expected, why, context, **kw)


def _via(service: str, region: str = "{region}") -> dict[str, str]:
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com"}


def _ddb(region: str = "{region}", account: str = "{account}") -> dict[str, str]:
    """The context of the KMS request DynamoDB makes on the caller's behalf (it always carries
    kms:CallerAccount, the caller's account)."""
    return {**_via("dynamodb", region), "kms:CallerAccount": account}


def _prefix(prefix: str) -> dict[str, str]:
    return {"s3:prefix": prefix}


MISSING_KEY_GAP = "moto treats a condition key missing from the request as satisfied"
STRING_LIKE_GAP = "moto ignores StringLike conditions"
UNMET_ALLOW_GAP = "moto denies when another Allow statement for the action has an unmet condition"

P, A, K = "processor", "analytics", "key_rotation"
CASES: list[Case] = [
    # analytics: scans the table read-only, writes reports under reports/ only.
    _c(A, "dynamodb:Scan", "{table}", True),
    *(
        _c(A, f"dynamodb:{op}", "{table}", False)
        for op in ("PutItem", "BatchWriteItem", "UpdateItem", "DeleteItem", "Query", "GetItem", "DeleteTable")
    ),
    _c(A, "dynamodb:Scan", "{table}/index/by-category", False, "index"),
    _c(A, "dynamodb:Scan", "{table}-copy", False, "look-alike table"),
    _c(A, "s3:PutObject", "arn:aws:s3:::another-bucket/reports/x.json", False, "other bucket"),
    _c(A, "s3:PutObject", "{data}/reports/2026/01/01/00/report-1767225600.json", True),
    _c(A, "s3:PutObject", "{data}/incoming/upload.jsonl", False, "incoming"),
    _c(A, "s3:PutObject", "{data}/quarantine/upload.rejected.jsonl", False, "quarantine"),
    _c(A, "s3:PutObject", "{data}/reports-copy/x.json", False, "look-alike prefix"),
    _c(A, "s3:PutObject", "{data}/tmp/reports/x.json", False, "prefix not at the root"),
    _c(A, "s3:PutObject", "{data}", False, "bucket"),
    _c(A, "s3:GetObject", "{data}/reports/x.json", False, "reports"),
    _c(A, "s3:GetObject", "{data}/incoming/upload.jsonl", False, "incoming"),
    _c(A, "s3:DeleteObject", "{data}/reports/x.json", False),
    _c(A, "s3:PutObjectAcl", "{data}/reports/x.json", False),
    _c(A, "s3:ListBucket", "{data}", False),
    # processor: reads incoming/, writes quarantine/, writes items.
    _c(P, "s3:GetObject", "{data}/incoming/2026/01/upload.jsonl", True),
    _c(P, "s3:PutObject", "{data}/quarantine/2026/01/upload.jsonl.rejected.jsonl", True),
    _c(P, "dynamodb:PutItem", "{table}", True),
    _c(P, "dynamodb:BatchWriteItem", "{table}", True),
    *(
        _c(P, f"dynamodb:{op}", "{table}", False)
        for op in ("Scan", "Query", "DeleteTable", "GetItem", "UpdateItem", "DeleteItem", "UpdateTable")
    ),
    _c(P, "dynamodb:PutItem", "{table}-copy", False, "look-alike table"),
    _c(P, "s3:PutObject", "{data}/incoming/upload.jsonl", False, "incoming"),
    _c(P, "s3:PutObject", "{data}/reports/x.json", False, "reports"),
    _c(P, "s3:GetObject", "{data}/quarantine/x.rejected.jsonl", False, "quarantine"),
    _c(P, "s3:GetObject", "{data}/reports/x.json", False, "reports"),
    _c(P, "s3:GetObject", "{data}/incoming-copy/x.jsonl", False, "look-alike prefix"),
    _c(P, "s3:GetObject", "arn:aws:s3:::another-bucket/incoming/x.jsonl", False, "other bucket"),
    _c(P, "s3:GetObject", "{data}-copy/incoming/x.jsonl", False, "look-alike bucket"),
    _c(P, "s3:DeleteObject", "{data}/incoming/upload.jsonl", False),
    _c(P, "s3:GetObjectVersion", "{data}/incoming/upload.jsonl", False),
    # ListBucket on the incoming prefix only (a missing key then answers 404, not 403).
    _c(P, "s3:ListBucket", "{data}", True, "incoming key", context=_prefix("incoming/2026/01/upload.jsonl")),
    _c(P, "s3:ListBucket", "{data}", True, "incoming", context=_prefix("incoming/")),
    _c(P, "s3:ListBucket", "{data}", False, "no prefix", moto_gap=MISSING_KEY_GAP),
    _c(P, "s3:ListBucket", "{data}", False, "empty prefix", context=_prefix(""), moto_gap=STRING_LIKE_GAP),
    _c(
        P,
        "s3:ListBucket",
        "{data}",
        False,
        "quarantine",
        context=_prefix("quarantine/"),
        moto_gap=STRING_LIKE_GAP,
    ),
    _c(
        P, "s3:ListBucket", "{data}", False, "reports", context=_prefix("reports/x"), moto_gap=STRING_LIKE_GAP
    ),
    _c(
        P,
        "s3:ListBucket",
        "{data}",
        False,
        "look-alike prefix",
        context=_prefix("incoming-copy/x"),
        moto_gap=STRING_LIKE_GAP,
    ),
    _c(P, "s3:ListBucket", "{data}-copy", False, "look-alike bucket", context=_prefix("incoming/")),
    _c(
        P, "s3:ListBucket", "arn:aws:s3:::another-bucket", False, "other bucket", context=_prefix("incoming/")
    ),
    _c(P, "s3:ListBucket", "{o_data}", False, "other region", context=_prefix("incoming/")),
    _c(P, "s3:ListBucketVersions", "{data}", False, context=_prefix("incoming/")),
    # key_rotation: lists users and their keys, deactivates/deletes keys, publishes a summary.
    _c(K, "iam:ListUsers", "*", True),
    *(
        _c(K, f"iam:{op}", "arn:aws:iam::{account}:user/alice", True)
        for op in ("ListAccessKeys", "ListUserTags", "UpdateAccessKey", "DeleteAccessKey")
    ),
    _c(K, "iam:UpdateAccessKey", "arn:aws:iam::{account}:user/team/bob", True, "user with a path"),
    _c(K, "sns:Publish", "{topic}", True),
    _c(K, "iam:CreateAccessKey", "arn:aws:iam::{account}:user/alice", False),
    _c(K, "iam:CreateUser", "arn:aws:iam::{account}:user/mallory", False),
    _c(K, "iam:AttachRolePolicy", "{role[key_rotation]}", False),
    _c(K, "iam:PutRolePolicy", "{role[key_rotation]}", False),
    _c(K, "iam:AttachUserPolicy", "arn:aws:iam::{account}:user/alice", False),
    _c(K, "iam:CreateLoginProfile", "arn:aws:iam::{account}:user/alice", False),
    _c(K, "iam:UpdateAccessKey", "arn:aws:iam::{other_account}:user/alice", False, "other account"),
    _c(K, "sns:Publish", "arn:aws:sns:{region}:{account}:another-topic", False, "other topic"),
    _c(K, "sns:Publish", "{topic}-copy", False, "look-alike topic"),
    _c(K, "sns:Subscribe", "{topic}", False),
    _c(K, "s3:GetObject", "{data}/incoming/upload.jsonl", False, "data bucket"),
    _c(K, "s3:GetObject", "{data}/reports/x.json", False, "data bucket reports"),
    _c(K, "dynamodb:Scan", "{table}", False),
    _c(K, "ec2:CreateNetworkInterface", "{subnet}", False, "not a VPC function"),
    _c(K, "kms:GenerateDataKey", "{key}", True, "via SNS", context=_via("sns")),
    _c(K, "kms:Decrypt", "{key}", True, "via SNS", context=_via("sns")),
]
for _f in FUNCTIONS:
    _others = [o for o in FUNCTIONS if o != _f]
    CASES += [
        # Its own log streams only.
        _c(_f, "logs:CreateLogStream", f"{{lg[{_f}]}}{STREAM}", True, "own group"),
        _c(_f, "logs:PutLogEvents", f"{{lg[{_f}]}}{STREAM}", True, "own group"),
        *(_c(_f, "logs:PutLogEvents", f"{{lg[{o}]}}{STREAM}", False, f"{o} group") for o in _others),
        *(_c(_f, "logs:CreateLogStream", f"{{lg[{o}]}}{STREAM}", False, f"{o} group") for o in _others),
        _c(_f, "logs:PutLogEvents", f"{{lg[{_f}]}}-copy{STREAM}", False, "look-alike group"),
        _c(_f, "logs:CreateLogGroup", f"{{lg[{_f}]}}:*", False, "own group"),
        _c(_f, "logs:DeleteLogGroup", f"{{lg[{_f}]}}:*", False, "own group"),
        _c(_f, "logs:PutRetentionPolicy", f"{{lg[{_f}]}}:*", False, "own group"),
        # X-Ray has no resource-level permissions.
        _c(_f, "xray:PutTraceSegments", "*", True),
        # Its own dead-letter queue, send only.
        _c(_f, "sqs:SendMessage", f"{{q[{_f}]}}", True, "own queue"),
        *(_c(_f, "sqs:SendMessage", f"{{q[{o}]}}", False, f"{o} queue") for o in _others),
        _c(_f, "sqs:ReceiveMessage", f"{{q[{_f}]}}", False, "own queue"),
        _c(_f, "sqs:PurgeQueue", f"{{q[{_f}]}}", False, "own queue"),
        # The baseline key, only through SQS (and SNS for key_rotation) in its own region.
        _c(
            _f,
            "kms:GenerateDataKey",
            "{key}",
            True,
            "via SQS",
            context=_via("sqs"),
            # the table writer's key grant also allows GenerateDataKey, through DynamoDB only
            moto_gap=UNMET_ALLOW_GAP if _f == P else None,
        ),
        _c(
            _f,
            "kms:Decrypt",
            "{key}",
            True,
            "via SQS",
            context=_via("sqs"),
            moto_gap=UNMET_ALLOW_GAP if _f in TABLE_FUNCTIONS else None,
        ),
        _c(_f, "kms:Decrypt", "{key}", False, "direct", moto_gap=MISSING_KEY_GAP),
        _c(_f, "kms:Decrypt", "{key}", False, "via S3", context=_via("s3")),
        _c(_f, "kms:Decrypt", "{key}", False, "via other region's SQS", context=_via("sqs", "{other}")),
        _c(_f, "kms:Encrypt", "{key}", False, "via SQS", context=_via("sqs")),
        _c(_f, "kms:CreateGrant", "{key}", False, "via SQS", context=_via("sqs")),
        # Nothing to escalate with.
        _c(_f, "iam:PassRole", f"{{role[{_f}]}}", False, "own role"),
        _c(_f, "iam:PutRolePolicy", f"{{role[{_f}]}}", False, "own role"),
        _c(_f, "sts:AssumeRole", f"{{role[{_others[0]}]}}", False),
        _c(_f, "lambda:UpdateFunctionCode", f"{{fn[{_f}]}}", False, "own function"),
        _c(_f, "ec2:RunInstances", "arn:aws:ec2:{region}:{account}:instance/*", False),
        _c(_f, "s3:GetObject", "{logs}/s3-access/data/2026-01-01-00-00-00-ABC", False, "log bucket"),
        # The other region's resources: bucket, table, log group, topic, queue, key.
        _c(_f, "s3:GetObject", "{o_data}/incoming/upload.jsonl", False, "other region"),
        _c(_f, "s3:PutObject", "{o_data}/quarantine/x.rejected.jsonl", False, "other region quarantine"),
        _c(_f, "s3:PutObject", "{o_data}/reports/x.json", False, "other region reports"),
        *(
            _c(_f, f"dynamodb:{op}", "{o_table}", False, "other region")
            for op in ("PutItem", "BatchWriteItem", "Scan")
        ),
        _c(_f, "logs:PutLogEvents", f"{{o_lg[{_f}]}}{STREAM}", False, "other region"),
        _c(_f, "logs:CreateLogStream", f"{{o_lg[{_f}]}}{STREAM}", False, "other region"),
        _c(_f, "sns:Publish", "{o_topic}", False, "other region"),
        _c(_f, "sqs:SendMessage", f"{{o_q[{_f}]}}", False, "other region"),
        _c(_f, "kms:Decrypt", "{o_key}", False, "other region via SQS", context=_via("sqs", "{other}")),
        _c(
            _f,
            "kms:GenerateDataKey",
            "{o_key}",
            False,
            "other region via SNS",
            context=_via("sns", "{other}"),
        ),
        _c(_f, "ec2:CreateNetworkInterface", "{o_subnet}", False, "other region"),
    ]
    if _f in VPC_FUNCTIONS:
        CASES += [
            _c(_f, "ec2:CreateNetworkInterface", "{subnet}", True),
            _c(_f, "ec2:DescribeNetworkInterfaces", "*", True),
            # AWSLambdaVPCAccessExecutionRole v3 has ec2:DescribeSubnets (no resource types: "*").
            _c(_f, "ec2:DescribeSubnets", "*", True),
            _c(
                _f,
                "ec2:DeleteNetworkInterface",
                "arn:aws:ec2:{region}:{account}:network-interface/eni-0123456789abcdef0",
                True,
                "interface",
            ),
            _c(_f, "ec2:DeleteNetworkInterface", "{subnet}", False, "subnet"),
            _c(_f, "ec2:AssignPrivateIpAddresses", "{subnet}", False, "subnet"),
            _c(_f, "ec2:DeleteSubnet", "{subnet}", False),
            _c(_f, "ec2:CreateNetworkInterfacePermission", "*", False),
            _c(
                _f,
                "ec2:CreateNetworkInterface",
                "arn:aws:ec2:{region}:{other_account}:subnet/subnet-0123456789abcdef0",
                False,
                "other account",
            ),
        ]
    if _f != K:  # only key_rotation publishes to the (encrypted) topic
        CASES.append(_c(_f, "kms:Decrypt", "{key}", False, "via SNS", context=_via("sns")))
    if _f in TABLE_FUNCTIONS:
        # The data table is encrypted with the baseline key: DynamoDB decrypts the table key on
        # the caller's behalf (reads and writes). Only kms:Decrypt, only through DynamoDB of this
        # region, only for this account; the key used any other way stays denied.
        CASES += [
            _c(_f, "kms:Decrypt", "{key}", True, "via DynamoDB", context=_ddb(), moto_gap=UNMET_ALLOW_GAP),
            _c(
                _f,
                "kms:Decrypt",
                "{key}",
                False,
                "via DynamoDB without caller account",
                context=_via("dynamodb"),
                moto_gap=None,
            ),
            _c(
                _f,
                "kms:Decrypt",
                "{key}",
                False,
                "via DynamoDB for another account",
                context=_ddb(account="{other_account}"),
            ),
            _c(_f, "kms:Decrypt", "{key}", False, "via other region's DynamoDB", context=_ddb("{other}")),
            _c(
                _f,
                "kms:Decrypt",
                "{o_key}",
                False,
                "other region key via its DynamoDB",
                context=_ddb("{other}"),
            ),
            _c(_f, "kms:Decrypt", "{o_key}", False, "other region key via DynamoDB", context=_ddb()),
            # Writes also need GenerateDataKey and Encrypt (real-aws.md finding 5): the writer
            # (processor) has them through DynamoDB, the reader (analytics) does not.
            *(
                _c(
                    _f,
                    f"kms:{op}",
                    "{key}",
                    _f == P,
                    "via DynamoDB",
                    context=_ddb(),
                    # the queue statement also allows GenerateDataKey, through SQS only
                    moto_gap=UNMET_ALLOW_GAP if (_f, op) == (P, "GenerateDataKey") else None,
                )
                for op in ("GenerateDataKey", "Encrypt")
            ),
            *(
                _c(_f, f"kms:{op}", "{key}", False, "via other region's DynamoDB", context=_ddb("{other}"))
                for op in ("GenerateDataKey", "Encrypt")
            ),
            _c(_f, "kms:DescribeKey", "{key}", False, "via DynamoDB", context=_ddb()),
            _c(_f, "kms:CreateGrant", "{key}", False, "via DynamoDB", context=_ddb()),
            _c(_f, "kms:ReEncryptFrom", "{key}", False, "via DynamoDB", context=_ddb()),
            _c(_f, "kms:Decrypt", "{key}", False, "via Lambda", context={**_ddb(), **_via("lambda")}),
        ]
    else:
        CASES.append(_c(_f, "kms:Decrypt", "{key}", False, "via DynamoDB", context=_ddb()))

CASE_IDS = [c.id for c in CASES]
# (region, case) for the functions deployed in each region.
REGION_CASES = [(r, c) for r in REGIONS for c in CASES if c.function in functions_in(r)]
REGION_CASE_IDS = [f"{r}-{c.id}" for r, c in REGION_CASES]


def _explain(policies: list[dict[str, Any]], request: Request) -> str:
    matched = [
        f"{s.get('Sid', '?')}: {evaluate({'Statement': [s]}, request).value}"
        for p in policies
        for s in (p["Statement"] if isinstance(p["Statement"], list) else [p["Statement"]])
        if evaluate({"Statement": [s]}, request) is not Decision.NEUTRAL
    ]
    return f"{request} -> statements that apply: {matched or 'none'}"


def test_case_table_is_unique_and_balanced() -> None:
    duplicates = sorted({i for i in CASE_IDS if CASE_IDS.count(i) > 1})
    assert duplicates == [], "cases with the same id"
    for function in FUNCTIONS:
        outcomes = {c.expected for c in CASES if c.function == function}
        assert outcomes == {True, False}, f"{function}: the table must hold allowed and denied requests"


@pytest.mark.parametrize(("region", "case"), REGION_CASES, ids=REGION_CASE_IDS)
def test_role_policy(deployed: Deployed, region: str, case: Case) -> None:
    policies = deployed.policies(region, case.function)
    request = case.request(deployed.names(region))
    assert is_allowed(policies, request) is case.expected, _explain(policies, request)


def _moto_allows(policies: list[dict[str, Any]], request: Request) -> bool:
    results = [
        IAMPolicy(json.dumps(p)).is_action_permitted(
            request.action, request.resource, request.principal, dict(request.context) or None
        )
        for p in policies
    ]
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


@pytest.mark.parametrize(("region", "case"), REGION_CASES, ids=REGION_CASE_IDS)
def test_role_policy_moto_cross_check(deployed: Deployed, region: str, case: Case) -> None:
    """moto's evaluator agrees on every case, except the ones that name a moto gap."""
    request = case.request(deployed.names(region))
    moto = _moto_allows(deployed.policies(region, case.function), request)
    if case.moto_gap:
        assert moto is not case.expected, f"moto no longer has this gap ({case.moto_gap}): drop moto_gap"
    else:
        assert moto is case.expected


def test_case_resources_are_the_deployed_ones(deployed: Deployed) -> None:
    """The table names the real resources: the ARNs it uses exist in the emulator."""
    for region in REGIONS:
        values = deployed.names(region)
        expected = {
            values["data"],
            values["logs"],
            values["table"],
            values["topic"],
            *(values["lg"][f] for f in functions_in(region)),
            *(values["q"][f] for f in functions_in(region)),
        }
        missing = expected - deployed.resource_arns[region]
        assert not missing, f"{region}: the cases name resources that are not deployed: {missing}"
        for function in functions_in(region):
            assert deployed.function_roles[region, function] == role_arn(region, function)


# --- roles: what is attached, and who may assume them ------------------------------------------


def _trusts_lambda(role: dict[str, Any]) -> bool:
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    services = [s.get("Principal", {}).get("Service") for s in trust["Statement"]]
    return any(svc == "lambda.amazonaws.com" or "lambda.amazonaws.com" in (svc or []) for svc in services)


def test_every_function_role_is_evaluated(deployed: Deployed) -> None:
    """The table covers every execution role of every region (no stray or missing one): every role
    named for a region that Lambda may assume. The others (the flow logs' delivery role) are
    services' roles, judged by parliament below."""
    regional = {
        n
        for n in deployed.project_roles
        if any(n.startswith(f"{PREFIX}-{r}-") for r in REGIONS)
        and (n not in deployed.other_roles or _trusts_lambda(deployed.other_roles[n]["role"]))
    }
    assert regional
    assert regional == {role_name(r, f) for r, f in REGION_FUNCTIONS}


@pytest.mark.parametrize("region", [r for r in REGIONS if r != HOME_REGION])
@pytest.mark.parametrize("function", HOME_ONLY)
def test_account_wide_function_only_in_the_home_region(
    deployed: Deployed, region: str, function: str
) -> None:
    """key_rotation works on IAM (global): one per account, in the home region, like the trail."""
    values = deployed.names(region)
    assert role_name(region, function) not in deployed.project_roles
    assert role_name(region, function) not in deployed.function_names[region]
    assert values["lg"][function] not in deployed.resource_arns[region]
    assert values["q"][function] not in deployed.resource_arns[region]
    assert role_name(HOME_REGION, function) in deployed.function_names[HOME_REGION]
    assert role_name(HOME_REGION, function) in deployed.project_roles


def test_no_project_role_has_attached_policies(deployed: Deployed) -> None:
    """No managed policy, AWS-managed or customer-managed, on any role of the project."""
    attached = {role_name(r, f): deployed.attached[r, f] for r, f in REGION_FUNCTIONS}
    attached |= {name: other["attached"] for name, other in deployed.other_roles.items()}
    assert {name: policies for name, policies in attached.items() if policies} == {}


@pytest.mark.parametrize(("region", "function"), REGION_FUNCTIONS)
def test_role_has_only_its_inline_policy(deployed: Deployed, region: str, function: str) -> None:
    assert deployed.attached[region, function] == [], "no managed policy (AWS-managed or other)"
    assert list(deployed.inline[region, function]) == [role_name(region, function)]


LAMBDA = "lambda.amazonaws.com"
TRUST_CASES = [
    # (why, principal, action, context, expected)
    ("lambda for this account", LAMBDA, "sts:AssumeRole", {"aws:SourceAccount": ACCOUNT}, True),
    ("lambda for another account", LAMBDA, "sts:AssumeRole", {"aws:SourceAccount": OTHER_ACCOUNT}, False),
    ("lambda without source account", LAMBDA, "sts:AssumeRole", {}, False),
    ("ec2", "ec2.amazonaws.com", "sts:AssumeRole", {"aws:SourceAccount": ACCOUNT}, False),
    ("events", "events.amazonaws.com", "sts:AssumeRole", {"aws:SourceAccount": ACCOUNT}, False),
    ("account root", f"arn:aws:iam::{ACCOUNT}:root", "sts:AssumeRole", {"aws:SourceAccount": ACCOUNT}, False),
    ("a user", f"arn:aws:iam::{ACCOUNT}:user/alice", "sts:AssumeRole", {"aws:SourceAccount": ACCOUNT}, False),
    ("lambda, web identity", LAMBDA, "sts:AssumeRoleWithWebIdentity", {"aws:SourceAccount": ACCOUNT}, False),
    ("lambda, tag session", LAMBDA, "sts:TagSession", {"aws:SourceAccount": ACCOUNT}, False),
]


def _trust_wrong(trust: dict[str, Any]) -> list[str]:
    wrong = []
    for why, principal, action, context, expected in TRUST_CASES:
        request = Request(action, "*", principal, context)
        if is_allowed([trust], request) is not expected:
            wrong.append(why)
    return wrong


@pytest.mark.parametrize(("region", "function"), REGION_FUNCTIONS)
def test_trust_policy(deployed: Deployed, region: str, function: str) -> None:
    role = deployed.roles[region, function]
    assert role["MaxSessionDuration"] == 3600
    assert role["Path"] == "/"
    trust = role["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": LAMBDA}
    assert statement["Action"] in ("sts:AssumeRole", ["sts:AssumeRole"])
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert _trust_wrong(trust) == []


# --- the bucket policies ------------------------------------------------------------------------


def _s3_request(action: str, resource: str, principal: str, tls: bool = True) -> Request:
    context = {"aws:PrincipalArn": principal, "aws:SecureTransport": "true" if tls else "false"}
    return Request(action, resource, principal, context)


# (why, principal template, expected decision of the data bucket policy for s3:GetObject over TLS)
BUCKET_PRINCIPALS = [
    ("processor", "{role[processor]}", Decision.NEUTRAL),
    ("analytics", "{role[analytics]}", Decision.NEUTRAL),
    ("intruder", "arn:aws:iam::{account}:role/intruder", Decision.DENY),
    ("key_rotation", "{role[key_rotation]}", Decision.DENY),
    ("other region processor", "{o_role[processor]}", Decision.DENY),
    ("account root", "arn:aws:iam::{account}:root", Decision.DENY),
    ("a user", "arn:aws:iam::{account}:user/alice", Decision.DENY),
    ("look-alike role", "{role[processor]}-copy", Decision.DENY),
    ("role with a path", "arn:aws:iam::{account}:role/team/secureinfra-{region}-processor", Decision.DENY),
    (
        "other account processor",
        "arn:aws:iam::{other_account}:role/secureinfra-{region}-processor",
        Decision.DENY,
    ),
]
BUCKET_IDS = [b[0].replace(" ", "_") for b in BUCKET_PRINCIPALS]


def _bucket_wrong(policy: dict[str, Any], values: dict[str, Any]) -> list[str]:
    """Every principal x object action, over TLS and not; and the bucket itself without TLS."""
    wrong = []
    for why, template, expected in BUCKET_PRINCIPALS:
        principal = template.format(**values)
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            obj = values["data"] + "/incoming/upload.jsonl"
            if evaluate(policy, _s3_request(action, obj, principal)) is not expected:
                wrong.append(f"{why} {action} over TLS")
            if evaluate(policy, _s3_request(action, obj, principal, tls=False)) is not Decision.DENY:
                wrong.append(f"{why} {action} without TLS")
        if (
            evaluate(policy, _s3_request("s3:ListBucket", values["data"], principal, tls=False))
            is not Decision.DENY
        ):
            wrong.append(f"{why} s3:ListBucket without TLS")
    return wrong


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(("why", "principal", "expected"), BUCKET_PRINCIPALS, ids=BUCKET_IDS)
def test_data_bucket_policy_principals(
    deployed: Deployed, region: str, why: str, principal: str, expected: Decision
) -> None:
    """Only the listed roles escape the ArnNotLike aws:PrincipalArn deny (the policy has no Allow)."""
    values = deployed.names(region)
    policy = deployed.bucket_policies[region, "data"]
    request = _s3_request(
        "s3:GetObject", values["data"] + "/incoming/upload.jsonl", principal.format(**values)
    )
    assert evaluate(policy, request) is expected, why


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(("why", "principal", "expected"), BUCKET_PRINCIPALS, ids=BUCKET_IDS)
def test_data_bucket_policy_denies_insecure_transport_for_everyone(
    deployed: Deployed, region: str, why: str, principal: str, expected: Decision
) -> None:
    values = deployed.names(region)
    policy = deployed.bucket_policies[region, "data"]
    arn = principal.format(**values)
    for action, resource in (
        ("s3:GetObject", values["data"] + "/incoming/upload.jsonl"),
        ("s3:PutObject", values["data"] + "/reports/x.json"),
        ("s3:ListBucket", values["data"]),
        ("s3:GetBucketPolicy", values["data"]),
    ):
        assert evaluate(policy, _s3_request(action, resource, arn, tls=False)) is Decision.DENY, (why, action)


@pytest.mark.parametrize("region", REGIONS)
def test_data_bucket_policy_restricts_objects_not_the_bucket(deployed: Deployed, region: str) -> None:
    """Over TLS, bucket-level actions are left to identity policies; every object action is denied
    to an unlisted principal, whatever the action (s3:* in the Deny)."""
    values = deployed.names(region)
    policy = deployed.bucket_policies[region, "data"]
    intruder = f"arn:aws:iam::{ACCOUNT}:role/intruder"
    assert evaluate(policy, _s3_request("s3:ListBucket", values["data"], intruder)) is Decision.NEUTRAL
    for action in ("s3:GetObjectVersion", "s3:PutObjectAcl", "s3:RestoreObject", "s3:GetObjectTagging"):
        request = _s3_request(action, values["data"] + "/reports/x.json", intruder)
        assert evaluate(policy, request) is Decision.DENY, action


# (why, function or principal, action, key, tls, expected): identity policy + bucket policy together
EFFECTIVE = [
    ("processor reads incoming", P, "s3:GetObject", "incoming/upload.jsonl", True, True),
    ("processor reads incoming without TLS", P, "s3:GetObject", "incoming/upload.jsonl", False, False),
    ("processor writes quarantine", P, "s3:PutObject", "quarantine/x.rejected.jsonl", True, True),
    ("analytics writes reports", A, "s3:PutObject", "reports/x.json", True, True),
    ("analytics writes reports without TLS", A, "s3:PutObject", "reports/x.json", False, False),
    ("analytics reads incoming", A, "s3:GetObject", "incoming/upload.jsonl", True, False),
    ("key_rotation reads incoming", K, "s3:GetObject", "incoming/upload.jsonl", True, False),
]


@pytest.mark.parametrize(
    ("region", "why", "function", "action", "key", "tls", "expected"),
    [(r, *e) for r in REGIONS for e in EFFECTIVE if e[1] in functions_in(r)],
    ids=[f"{r}-{e[0]}".replace(" ", "_") for r in REGIONS for e in EFFECTIVE if e[1] in functions_in(r)],
)
def test_effective_data_bucket_access(
    deployed: Deployed, region: str, why: str, function: str, action: str, key: str, tls: bool, expected: bool
) -> None:
    values = deployed.names(region)
    policies = [*deployed.policies(region, function), deployed.bucket_policies[region, "data"]]
    request = _s3_request(action, f"{values['data']}/{key}", role_arn(region, function), tls)
    assert is_allowed(policies, request) is expected, why


@pytest.mark.parametrize("region", REGIONS)
def test_data_bucket_policy_overrides_a_broad_identity_policy(deployed: Deployed, region: str) -> None:
    """An unlisted principal whose own policy allows s3:* still cannot use the objects."""
    values = deployed.names(region)
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    bucket = deployed.bucket_policies[region, "data"]
    intruder = f"arn:aws:iam::{ACCOUNT}:role/intruder"
    obj = values["data"] + "/incoming/upload.jsonl"
    assert is_allowed([everything], _s3_request("s3:GetObject", obj, intruder))  # sanity: the grant works
    assert not is_allowed([everything, bucket], _s3_request("s3:GetObject", obj, intruder))


def _endpoint_request(action: str, resource: str, principal: str, **context: str) -> Request:
    """A request through the gateway endpoint, with the keys its policy conditions on."""
    ctx = {
        "aws:PrincipalArn": principal,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:ResourceAccount": ACCOUNT,
        "aws:SecureTransport": "true",
        **context,
    }
    return Request(action, resource, principal, ctx)


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("incoming/2026/01/upload.jsonl", True), ("incoming/", True), ("quarantine/", False), ("", False)],
)
def test_processor_listing_passes_every_policy(
    deployed: Deployed, region: str, prefix: str, expected: bool
) -> None:
    """GetObject of a missing key answers 404 only with s3:ListBucket (API_GetObject.html): the
    processor's listing of its prefix is allowed by its role, not denied by the data bucket policy
    (which governs objects; bucket-level actions only need TLS), and allowed by the S3 endpoint policy."""
    values = deployed.names(region)
    request = _endpoint_request("s3:ListBucket", values["data"], role_arn(region, P), **{"s3:prefix": prefix})
    policies = [*deployed.policies(region, P), deployed.bucket_policies[region, "data"]]
    assert is_allowed(policies, request) is expected, _explain(policies, request)
    assert evaluate(deployed.endpoint_policies[region, "s3"], request) is Decision.ALLOW


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("function", TABLE_FUNCTIONS)
def test_table_key_is_usable_through_dynamodb_only(deployed: Deployed, region: str, function: str) -> None:
    """The key policy delegates to IAM (the account root statement), so the role's
    UseBaselineKeyThroughDynamoDB grant is what decides: Decrypt through DynamoDB of this region
    for this account is allowed; the same key directly, or through another service, is not."""
    values = deployed.names(region)
    key_policy = deployed.key_policies[region]
    principal = role_arn(region, function)
    through_ddb = Request("kms:Decrypt", values["key"], principal, {**_ddb(region, ACCOUNT)})
    assert evaluate(key_policy, through_ddb) is Decision.ALLOW  # the root statement: IAM decides
    assert is_allowed([*deployed.policies(region, function), key_policy], through_ddb)
    (grant,) = [s for s in deployed.policies(region, function)[0]["Statement"] if s.get("Sid") == DDB_KEY]
    writer = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    assert grant["Action"] == (writer if function == "processor" else ["kms:Decrypt"])
    for context in ({}, _via("s3", region), _via("lambda", region), _ddb(OTHER_REGION[region], ACCOUNT)):
        request = Request("kms:Decrypt", values["key"], principal, context)
        assert not is_allowed(deployed.policies(region, function), request), context


@pytest.mark.parametrize("region", REGIONS)
def test_log_bucket_policy(deployed: Deployed, region: str) -> None:
    """Only S3 server access logging, for this region's data bucket and this account, writes logs."""
    values = deployed.names(region)
    policy = deployed.bucket_policies[region, "logs"]
    service = "logging.s3.amazonaws.com"
    log_object = values["logs"] + "/s3-access/data/2026-01-01-00-00-00-ABC"

    def decision(resource: str = log_object, tls: bool = True, **context: str) -> Decision:
        ctx = {"aws:SecureTransport": "true" if tls else "false", **context}
        return evaluate(policy, Request("s3:PutObject", resource, service, ctx))

    own = {"aws:SourceArn": values["data"], "aws:SourceAccount": ACCOUNT}
    assert decision(**own) is Decision.ALLOW
    assert decision(tls=False, **own) is Decision.DENY
    assert decision(**{**own, "aws:SourceArn": values["o_data"]}) is Decision.NEUTRAL
    assert decision(**{**own, "aws:SourceAccount": OTHER_ACCOUNT}) is Decision.NEUTRAL
    assert decision(**{"aws:SourceAccount": ACCOUNT}) is Decision.NEUTRAL
    assert decision(values["logs"] + "/elsewhere/x", **own) is Decision.NEUTRAL
    for function in functions_in(region):
        request = _s3_request("s3:GetObject", log_object, role_arn(region, function))
        assert not is_allowed([*deployed.policies(region, function), policy], request)


@pytest.mark.parametrize("region", REGIONS)
def test_alarm_topic_policy(deployed: Deployed, region: str) -> None:
    """Publishers: this account's principals (through their IAM policies, e.g. key_rotation) and
    CloudWatch / EventBridge on behalf of this account; nobody else."""
    values = deployed.names(region)
    policy = deployed.topic_policies[values["topic"]]

    def decision(principal: str, action: str = "sns:Publish", **context: str) -> Decision:
        return evaluate(policy, Request(action, values["topic"], principal, context))

    assert decision(role_arn(region, K)) is Decision.ALLOW
    if K in functions_in(region):
        assert is_allowed(deployed.policies(region, K), Request("sns:Publish", values["topic"]))
    assert decision(f"arn:aws:iam::{OTHER_ACCOUNT}:role/intruder") is Decision.NEUTRAL
    for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
        assert decision(service, **{"aws:SourceAccount": ACCOUNT}) is Decision.ALLOW
        assert decision(service, **{"aws:SourceAccount": OTHER_ACCOUNT}) is Decision.NEUTRAL
        assert decision(service) is Decision.NEUTRAL
        for action in ("sns:Subscribe", "sns:SetTopicAttributes", "sns:AddPermission"):
            assert decision(service, action, **{"aws:SourceAccount": ACCOUNT}) is Decision.NEUTRAL, action
    assert decision("s3.amazonaws.com", **{"aws:SourceAccount": ACCOUNT}) is Decision.NEUTRAL
    assert (
        evaluate(policy, Request("sns:Publish", values["o_topic"], role_arn(region, K))) is Decision.NEUTRAL
    )


# --- the tables can fail: realistic widenings are caught -------------------------------------------

Mutation = Callable[[dict[str, Any], str, str], dict[str, Any]]


def _fill(text: str, region: str, function: str) -> str:
    data = f"arn:aws:s3:::{PREFIX}-data-{ACCOUNT}-{region}"
    return text.replace("<region>", region).replace("<function>", function).replace("<data>", data)


def _replace(*pairs: tuple[str, str]) -> Mutation:
    """Replace text in the JSON of the document; <region>, <function>, <data> are filled in."""

    def mutate(doc: dict[str, Any], region: str, function: str) -> dict[str, Any]:
        text = json.dumps(doc)
        for old, new in pairs:
            text = text.replace(_fill(old, region, function), _fill(new, region, function))
        return json.loads(text)

    return mutate


def _drop_conditions(doc: dict[str, Any], region: str, function: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for statement in doc["Statement"]:
        statement.pop("Condition", None)
    return doc


def _edit_statement(sid: str, edit: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Mutation:
    """Replace the statement with this Sid by edit(statement) (None removes it)."""

    def mutate(doc: dict[str, Any], region: str, function: str) -> dict[str, Any]:
        statements = []
        for statement in doc["Statement"]:
            if statement.get("Sid") == sid:
                statement = edit(copy.deepcopy(statement))
            if statement is not None:
                statements.append(statement)
        return {**doc, "Statement": statements}

    return mutate


def _set(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda statement: {**statement, **fields}


def _without_condition_key(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def edit(statement: dict[str, Any]) -> dict[str, Any]:
        for values in statement["Condition"].values():
            values.pop(key, None)
        return statement

    return edit


DDB_KEY = "UseBaselineKeyThroughDynamoDB"


def _add_statement(statement: dict[str, Any]) -> Mutation:
    def mutate(doc: dict[str, Any], region: str, function: str) -> dict[str, Any]:
        return {**doc, "Statement": [*doc["Statement"], statement]}

    return mutate


ROLE_MUTATIONS: list[tuple[str, tuple[str, ...], Mutation]] = [
    ("whole bucket instead of incoming/", (P,), _replace(("/incoming/*", "/*"))),
    ("whole bucket instead of quarantine/", (P,), _replace(("/quarantine/*", "/*"))),
    ("whole bucket instead of reports/", (A,), _replace(("/reports/*", "/*"))),
    ("prefix without its slash", (P,), _replace(("/incoming/*", "/incoming*"))),
    ("every bucket", (P, A), _replace(("<data>/", "arn:aws:s3:::*/"))),
    ("look-alike buckets", (P, A), _replace(("<data>/", "<data>*/"))),
    ("every table action", (P,), _replace(('"dynamodb:PutItem"', '"dynamodb:*"'))),
    ("every table action", (A,), _replace(('"dynamodb:Scan"', '"dynamodb:*"'))),
    ("Query next to Scan", (A,), _replace(('["dynamodb:Scan"]', '["dynamodb:Query", "dynamodb:Scan"]'))),
    ("every table", (P, A), _replace((f"table/{PREFIX}-data", "table/*"))),
    ("every region", FUNCTIONS, _replace((":<region>:", ":*:"))),
    (
        "every function's log group",
        FUNCTIONS,
        _replace((f"/aws/lambda/{PREFIX}-<region>-<function>", f"/aws/lambda/{PREFIX}-<region>-*")),
    ),
    ("log group name as a prefix", FUNCTIONS, _replace(('<function>:*"', '<function>*"'))),
    ("every queue", FUNCTIONS, _replace(("<function>-dlq", "*"))),
    ("every topic", (K,), _replace((f":{PREFIX}-alarms", ":*"))),
    ("access-key wildcard", (K,), _replace(('"iam:UpdateAccessKey"', '"iam:*AccessKey"'))),
    ("every IAM action", (K,), _replace(('"iam:ListUsers"', '"iam:*"'))),
    ("users of any account", (K,), _replace((f"arn:aws:iam::{ACCOUNT}:user/*", "*"))),
    ("key without kms:ViaService", FUNCTIONS, _drop_conditions),
    (
        "key through any service",
        FUNCTIONS,
        _replace(
            ('"StringEquals": {"kms:ViaService"', '"StringLike": {"kms:ViaService"'), ("sqs.<region>", "*")
        ),
    ),
    (
        "a broad extra grant",
        FUNCTIONS,
        _add_statement({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}),
    ),
]
ROLE_MUTATIONS += [
    # The table's key grant: removed, widened to any service, account, action or key.
    ("table key grant removed", TABLE_FUNCTIONS, _edit_statement(DDB_KEY, lambda statement: None)),
    (
        "table key through any service",
        TABLE_FUNCTIONS,
        _edit_statement(DDB_KEY, _without_condition_key("kms:ViaService")),
    ),
    (
        "table key for any account",
        TABLE_FUNCTIONS,
        _edit_statement(DDB_KEY, _without_condition_key("kms:CallerAccount")),
    ),
    ("table key, every KMS action", TABLE_FUNCTIONS, _edit_statement(DDB_KEY, _set(Action=["kms:*"]))),
    (
        "table key, GenerateDataKey for the reader",
        (A,),
        _edit_statement(DDB_KEY, _set(Action=["kms:Decrypt", "kms:GenerateDataKey"])),
    ),
    (
        "table key, writer without GenerateDataKey",
        (P,),
        _edit_statement(DDB_KEY, _set(Action=["kms:Decrypt"])),
    ),
    ("table key, every key", TABLE_FUNCTIONS, _edit_statement(DDB_KEY, _set(Resource="*"))),
    # The processor's listing: any prefix, or no condition.
    ("ListBucket on every prefix", (P,), _replace(('"s3:prefix": ["incoming/*"]', '"s3:prefix": ["*"]'))),
    (
        "ListBucket without its condition",
        (P,),
        _edit_statement("ListIncomingPrefix", lambda st: {k: v for k, v in st.items() if k != "Condition"}),
    ),
    ("ListBucket on every bucket", (P,), _edit_statement("ListIncomingPrefix", _set(Resource="*"))),
    # Lambda's network-interface actions on any resource.
    (
        "interface actions anywhere",
        VPC_FUNCTIONS,
        _edit_statement("LambdaManagesVpcNetworkInterfaces", _set(Resource="*")),
    ),
]
ROLE_MUTATION_CASES = [(name, f, m) for name, functions, m in ROLE_MUTATIONS for f in functions]
ROLE_MUTATION_IDS = [f"{f}-{n}-{i}".replace(" ", "_") for i, (n, f, _) in enumerate(ROLE_MUTATION_CASES)]
REGION_ROLE_MUTATIONS = [
    (r, *case) for r in REGIONS for case in ROLE_MUTATION_CASES if case[1] in functions_in(r)
]
REGION_ROLE_MUTATION_IDS = [
    f"{r}-{i}"
    for r in REGIONS
    for case, i in zip(ROLE_MUTATION_CASES, ROLE_MUTATION_IDS, strict=True)
    if case[1] in functions_in(r)
]


def _table_wrong(deployed: Deployed, region: str, function: str, policies: list[dict[str, Any]]) -> list[str]:
    values = deployed.names(region)
    return [
        c.id
        for c in CASES
        if c.function == function and is_allowed(policies, c.request(values)) is not c.expected
    ]


@pytest.mark.parametrize(
    ("region", "name", "function", "mutate"), REGION_ROLE_MUTATIONS, ids=REGION_ROLE_MUTATION_IDS
)
def test_role_table_catches_widening(
    deployed: Deployed, region: str, name: str, function: str, mutate: Mutation
) -> None:
    policies = deployed.policies(region, function)
    assert _table_wrong(deployed, region, function, policies) == []  # the deployed policy passes
    mutated = [mutate(p, region, function) for p in policies]
    assert mutated != policies, f"mutation {name!r} no longer applies to {function}: update it"
    assert _table_wrong(deployed, region, function, mutated), f"no case catches: {name}"


BUCKET_MUTATIONS: list[tuple[str, Mutation]] = [
    ("ArnLike instead of ArnNotLike", _replace(('"ArnNotLike"', '"ArnLike"'))),
    ("every role of the account", _replace((f"role/{PREFIX}-<region>-processor", "role/*"))),
    ("every project role", _replace((f"role/{PREFIX}-<region>-processor", f"role/{PREFIX}-*"))),
    (
        "role name as a prefix",
        _replace((f"role/{PREFIX}-<region>-processor", f"role/{PREFIX}-<region>-processor*")),
    ),
    (
        "any path before the role name",
        _replace((f"role/{PREFIX}-<region>-processor", f"role/*{PREFIX}-<region>-processor")),
    ),
    ("SecureTransport true", _replace(('"aws:SecureTransport": "false"', '"aws:SecureTransport": "true"'))),
    ("TLS deny on the bucket only", _replace(('"<data>", "<data>/*"', '"<data>"'))),
    ("no conditions", _drop_conditions),
    (
        "an allow for everyone",
        _add_statement({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}),
    ),
]


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(
    ("name", "mutate"), BUCKET_MUTATIONS, ids=[m[0].replace(" ", "_") for m in BUCKET_MUTATIONS]
)
def test_bucket_table_catches_widening(deployed: Deployed, region: str, name: str, mutate: Mutation) -> None:
    values = deployed.names(region)
    policy = deployed.bucket_policies[region, "data"]
    assert _bucket_wrong(policy, values) == []  # the deployed policy passes
    mutated = mutate(policy, region, P)
    assert mutated != policy, f"mutation {name!r} no longer applies: update it"
    assert _bucket_wrong(mutated, values), f"no case catches: {name}"


TRUST_MUTATIONS: list[tuple[str, Mutation]] = [
    ("no SourceAccount condition", _drop_conditions),
    (
        "any source account",
        _replace(
            (
                f'"StringEquals": {{"aws:SourceAccount": "{ACCOUNT}"}}',
                '"StringLike": {"aws:SourceAccount": "*"}',
            )
        ),
    ),
    ("StringNotEquals", _replace(('"StringEquals"', '"StringNotEquals"'))),
    ("ec2 too", _replace(('"lambda.amazonaws.com"', '["ec2.amazonaws.com", "lambda.amazonaws.com"]'))),
    (
        "the account too",
        _replace(('{"Service": "lambda.amazonaws.com"}', f'{{"Service": "{LAMBDA}", "AWS": "{ACCOUNT}"}}')),
    ),
    ("every sts action", _replace(('"sts:AssumeRole"', '"sts:*"'))),
]


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(
    ("name", "mutate"), TRUST_MUTATIONS, ids=[m[0].replace(" ", "_") for m in TRUST_MUTATIONS]
)
def test_trust_table_catches_widening(deployed: Deployed, region: str, name: str, mutate: Mutation) -> None:
    trust = deployed.roles[region, P]["AssumeRolePolicyDocument"]
    mutated = mutate(trust, region, P)
    assert mutated != trust, f"mutation {name!r} no longer applies: update it"
    assert _trust_wrong(mutated), f"no trust case catches: {name}"


# --- parliament -----------------------------------------------------------------------------------------

# (kind of policy, function or None for any, issue) -> why the finding is not a problem.
PARLIAMENT_ACCEPTED: dict[tuple[str, str | None, str], str] = {
    ("trust", None, "MALFORMED"): (
        "'Statement contains neither Resource nor NotResource': parliament reads every document as an "
        "identity policy; a role trust policy has no Resource element (IAM rejects one that has)"
    ),
    ("role", K, "CREDENTIALS_EXPOSURE"): (
        "community auditor, raised for iam:UpdateAccessKey: deactivating keys older than the limit is the "
        "function's job; the call returns no credential; scoped to this account's users (see the table)"
    ),
    ("role", K, "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "community auditor, raised for iam:UpdateAccessKey and iam:DeleteAccessKey: the function's job; no "
        "action that grants permissions (Create*/Attach*/Put*) is allowed (see the table)"
    ),
    ("key", None, "RESOURCE_STAR"): (
        'in a KMS key policy "Resource": "*" means this key and nothing else (the policy is attached to it)'
    ),
    ("key", None, "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "community auditor, raised for kms:* to the account root: the default key-policy statement that lets "
        "IAM policies of the account administer the key (without it the key becomes unmanageable)"
    ),
    ("key", None, "UNKNOWN_CONDITION_FOR_ACTION"): (
        "kms:EncryptionContext:aws:logs:arn on kms:Describe*: the CloudWatch Logs statement of AWS's "
        "documented key policy; DescribeKey requests carry no encryption context, so the condition only "
        "narrows the grant"
    ),
    ("key", None, "MISMATCHED_TYPE"): (
        "'ArnLike requires a value of type Arn but given String': parliament types the templated key "
        "kms:EncryptionContext:${Key} as String; for aws:logs:arn AWS documents ArnLike/ArnEquals with ARNs"
    ),
    ("topic", None, "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "community auditor, raised for sns:SetTopicAttributes/AddPermission/RemovePermission granted to the "
        "account root principal: that delegates managing the topic to the account's IAM policies (as AWS's "
        "default topic policy does); no other principal gets them (see test_alarm_topic_policy)"
    ),
    ("function", None, "INVALID_SID"): (
        "Lambda resource policies take the StatementId of AddPermission ([A-Za-z0-9_-]+, dashes allowed); "
        "parliament checks the identity-policy Sid rule (alphanumeric only)"
    ),
}
# Findings accepted only when their detail is exactly this (parliament gives a string for these).
ACCEPTED_DETAILS = {
    "MALFORMED": {"Statement contains neither Resource nor NotResource"},
    "UNKNOWN_CONDITION_FOR_ACTION": {
        "Unknown condition kms:EncryptionContext:aws:logs:arn for action kms:DescribeKey",
        "Unknown condition kms:EncryptionContext:aws:logs:arn for action kms:DescribeCustomKeyStores",
    },
    "MISMATCHED_TYPE": {"Type mismatch: ArnLike requires a value of type Arn but given String"},
}


def _deployed_documents(deployed: Deployed) -> list[tuple[str, str | None, str, dict[str, Any]]]:
    """(kind, function, label, document) of every policy the baseline deploys."""
    docs: list[tuple[str, str | None, str, dict[str, Any]]] = []
    for (region, function), role in deployed.roles.items():
        docs.append(
            ("trust", function, f"trust policy of {role['RoleName']}", role["AssumeRolePolicyDocument"])
        )
        for name, doc in deployed.inline[region, function].items():
            docs.append(("role", function, f"inline policy {name}", doc))
    for name, other in deployed.other_roles.items():
        docs.append(("trust", name, f"trust policy of {name}", other["role"]["AssumeRolePolicyDocument"]))
        for policy_name, doc in other["inline"].items():
            docs.append(("role", name, f"inline policy {policy_name} of {name}", doc))
    for (region, purpose), doc in deployed.bucket_policies.items():
        docs.append(("bucket", None, f"{purpose} bucket policy ({region})", doc))
    for name, doc in deployed.other_bucket_policies.items():
        docs.append(("bucket", None, f"bucket policy of {name}", doc))
    for region, doc in deployed.key_policies.items():
        docs.append(("key", None, f"key policy ({region})", doc))
    for (region, function), doc in deployed.function_policies.items():
        docs.append(("function", function, f"resource policy of {role_name(region, function)}", doc))
    for arn, doc in deployed.topic_policies.items():
        docs.append(("topic", None, f"policy of topic {arn}", doc))
    for arn, doc in deployed.queue_policies.items():
        docs.append(("queue", None, f"policy of queue {arn}", doc))
    return docs


def _accepted(kind: str, function: str | None, finding: Any) -> tuple[str, str | None, str] | None:
    for key in ((kind, function, finding.issue), (kind, None, finding.issue)):
        if key in PARLIAMENT_ACCEPTED:
            details = ACCEPTED_DETAILS.get(finding.issue)
            if details is None or finding.detail in details:
                return key
    return None


def test_parliament_finds_nothing_unexplained(deployed: Deployed) -> None:
    docs = _deployed_documents(deployed)
    assert {kind for kind, *_ in docs} >= {"trust", "role", "bucket", "key", "function", "topic"}
    unexplained, used = [], set()
    for kind, function, label, doc in docs:
        policy = analyze_policy_string(json.dumps(doc), include_community_auditors=True)
        for finding in policy.findings:
            key = _accepted(kind, function, finding)
            if key is None:
                unexplained.append(f"{label}: {finding.issue} {finding.detail} {finding.location}")
            else:
                used.add(key)
    assert unexplained == []
    assert set(PARLIAMENT_ACCEPTED) - used == set(), "accepted findings that no longer occur: remove them"


def test_parliament_default_auditors_find_nothing_in_role_policies(deployed: Deployed) -> None:
    for region, function in deployed.inline:
        for name, doc in deployed.inline[region, function].items():
            assert analyze_policy_string(json.dumps(doc)).findings == [], name


def test_parliament_flags_bad_policies() -> None:
    """Sanity: parliament runs and flags what it should, so 'no findings' means something."""

    def issues(statement: dict[str, Any]) -> set[str]:
        doc = {"Version": "2012-10-17", "Statement": [statement]}
        return {f.issue for f in analyze_policy_string(json.dumps(doc)).findings}

    assert "RESOURCE_STAR" in issues({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    assert "UNKNOWN_ACTION" in issues(
        {"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "arn:aws:s3:::b/*"}
    )
    assert "RESOURCE_MISMATCH" in issues(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}
    )


# --- the evaluator itself (no emulator) -----------------------------------------------------------------


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(**kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", **kw}


def _deny(**kw: Any) -> dict[str, Any]:
    return {"Effect": "Deny", **kw}


BUCKET_OBJ = "arn:aws:s3:::bucket/incoming/a.json"
EVALUATOR_CASES = [
    # (why, policy, request, expected)
    (
        "exact",
        _policy(_allow(Action="s3:GetObject", Resource=BUCKET_OBJ)),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.ALLOW,
    ),
    (
        "default deny",
        _policy(_allow(Action="s3:GetObject", Resource=BUCKET_OBJ)),
        Request("s3:PutObject", BUCKET_OBJ),
        Decision.NEUTRAL,
    ),
    (
        "action case-insensitive",
        _policy(_allow(Action="S3:getobject", Resource="*")),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.ALLOW,
    ),
    (
        "action wildcard",
        _policy(_allow(Action="s3:Get*", Resource="*")),
        Request("s3:GetObjectTagging", BUCKET_OBJ),
        Decision.ALLOW,
    ),
    (
        "action ?",
        _policy(_allow(Action="s3:?etObject", Resource="*")),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.ALLOW,
    ),
    (
        "action ? is one char",
        _policy(_allow(Action="s3:?etObject", Resource="*")),
        Request("s3:GGetObject", BUCKET_OBJ),
        Decision.NEUTRAL,
    ),
    (
        "resource case-sensitive",
        _policy(_allow(Action="s3:GetObject", Resource="arn:aws:s3:::Bucket/*")),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.NEUTRAL,
    ),
    (
        "resource * spans /",
        _policy(_allow(Action="s3:GetObject", Resource="arn:aws:s3:::bucket/*")),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.ALLOW,
    ),
    (
        "resource ?",
        _policy(_allow(Action="s3:GetObject", Resource="arn:aws:s3:::bucket/incoming/?.json")),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.ALLOW,
    ),
    (
        "resource . is literal",
        _policy(_allow(Action="s3:GetObject", Resource="arn:aws:s3:::b.cket/*")),
        Request("s3:GetObject", "arn:aws:s3:::bucket/x"),
        Decision.NEUTRAL,
    ),
    (
        "prefix needs the slash",
        _policy(_allow(Action="s3:GetObject", Resource="arn:aws:s3:::bucket/incoming/*")),
        Request("s3:GetObject", "arn:aws:s3:::bucket/incoming-x/a"),
        Decision.NEUTRAL,
    ),
    (
        "segment * stays in segment",
        _policy(_allow(Action="sns:Publish", Resource="arn:aws:sns:*-1:123456789012:t")),
        Request("sns:Publish", "arn:aws:sns:us-east-1:123456789012:t"),
        Decision.ALLOW,
    ),
    (
        "mid-segment * does not span colons",
        _policy(_allow(Action="sns:Publish", Resource="arn:aws:sns:us-*1:123456789012:t")),
        Request("sns:Publish", "arn:aws:sns:us-east-1:999:1:123456789012:t"),
        Decision.NEUTRAL,
    ),
    (
        "trailing * spans colons",
        _policy(_allow(Action="logs:PutLogEvents", Resource="arn:aws:logs:r:1:log-group:g:*")),
        Request("logs:PutLogEvents", "arn:aws:logs:r:1:log-group:g:log-stream:s"),
        Decision.ALLOW,
    ),
    (
        "NotAction",
        _policy(_allow(NotAction="iam:*", Resource="*")),
        Request("iam:CreateUser", "*"),
        Decision.NEUTRAL,
    ),
    (
        "NotAction other service",
        _policy(_allow(NotAction="iam:*", Resource="*")),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.ALLOW,
    ),
    (
        "NotResource excluded",
        _policy(_allow(Action="s3:GetObject", NotResource="arn:aws:s3:::bucket/*")),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.NEUTRAL,
    ),
    (
        "NotResource other",
        _policy(_allow(Action="s3:GetObject", NotResource="arn:aws:s3:::bucket/*")),
        Request("s3:GetObject", "arn:aws:s3:::other/a"),
        Decision.ALLOW,
    ),
    (
        "explicit deny wins",
        _policy(_allow(Action="s3:*", Resource="*"), _deny(Action="s3:GetObject", Resource=BUCKET_OBJ)),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.DENY,
    ),
    (
        "deny elsewhere",
        _policy(
            _allow(Action="s3:*", Resource="*"), _deny(Action="s3:GetObject", Resource="arn:aws:s3:::other/*")
        ),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.ALLOW,
    ),
    (
        "missing key: positive false",
        _policy(
            _allow(
                Action="kms:Decrypt",
                Resource="*",
                Condition={"StringEquals": {"kms:ViaService": "sqs.r.amazonaws.com"}},
            )
        ),
        Request("kms:Decrypt", "k"),
        Decision.NEUTRAL,
    ),
    (
        "missing key: negated true",
        _policy(
            _deny(
                Action="s3:*",
                Resource="*",
                Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/x"}},
            )
        ),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.DENY,
    ),
    (
        "IfExists on a missing key",
        _policy(
            _allow(
                Action="s3:*", Resource="*", Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}
            )
        ),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.ALLOW,
    ),
    (
        "key names case-insensitive",
        _policy(_allow(Action="s3:*", Resource="*", Condition={"StringEquals": {"AWS:SourceAccount": "1"}})),
        Request("s3:GetObject", BUCKET_OBJ, None, {"aws:sourceaccount": "1"}),
        Decision.ALLOW,
    ),
    (
        "values: any one",
        _policy(_allow(Action="s3:*", Resource="*", Condition={"StringEquals": {"k": ["a", "b"]}})),
        Request("s3:GetObject", BUCKET_OBJ, None, {"k": "b"}),
        Decision.ALLOW,
    ),
    (
        "negated values: none",
        _policy(_deny(Action="s3:*", Resource="*", Condition={"StringNotEquals": {"k": ["a", "b"]}})),
        Request("s3:GetObject", BUCKET_OBJ, None, {"k": "b"}),
        Decision.NEUTRAL,
    ),
    (
        "operators AND",
        _policy(
            _allow(Action="s3:*", Resource="*", Condition={"StringEquals": {"k": "a"}, "Bool": {"b": "true"}})
        ),
        Request("s3:GetObject", BUCKET_OBJ, None, {"k": "a", "b": "false"}),
        Decision.NEUTRAL,
    ),
    (
        "Bool",
        _policy(_deny(Action="s3:*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "false"}})),
        Request("s3:GetObject", BUCKET_OBJ, None, {"aws:SecureTransport": "false"}),
        Decision.DENY,
    ),
    (
        "Bool not met",
        _policy(_deny(Action="s3:*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "false"}})),
        Request("s3:GetObject", BUCKET_OBJ, None, {"aws:SecureTransport": "true"}),
        Decision.NEUTRAL,
    ),
    (
        "Null",
        _policy(_deny(Action="s3:*", Resource="*", Condition={"Null": {"aws:SourceVpce": "true"}})),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.DENY,
    ),
    (
        "StringLike",
        _policy(_allow(Action="s3:*", Resource="*", Condition={"StringLike": {"k": "ab*"}})),
        Request("s3:GetObject", BUCKET_OBJ, None, {"k": "abc"}),
        Decision.ALLOW,
    ),
    (
        "ArnNotLike listed",
        _policy(
            _deny(
                Action="s3:*",
                Resource="*",
                Condition={
                    "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]}
                },
            )
        ),
        Request("s3:GetObject", BUCKET_OBJ, None, {"aws:PrincipalArn": "arn:aws:iam::1:role/b"}),
        Decision.NEUTRAL,
    ),
    (
        "ArnNotLike unlisted",
        _policy(
            _deny(
                Action="s3:*",
                Resource="*",
                Condition={"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::1:role/a"]}},
            )
        ),
        Request("s3:GetObject", BUCKET_OBJ, None, {"aws:PrincipalArn": "arn:aws:iam::1:role/ab"}),
        Decision.DENY,
    ),
    (
        "Principal AWS *",
        _policy(_deny(Principal={"AWS": "*"}, Action="s3:*", Resource="*")),
        Request("s3:GetObject", BUCKET_OBJ, "arn:aws:iam::1:role/x"),
        Decision.DENY,
    ),
    (
        "Principal account",
        _policy(_allow(Principal={"AWS": "arn:aws:iam::111122223333:root"}, Action="s3:*", Resource="*")),
        Request("s3:GetObject", BUCKET_OBJ, "arn:aws:iam::111122223333:role/x"),
        Decision.ALLOW,
    ),
    (
        "Principal other account",
        _policy(_allow(Principal={"AWS": "111122223333"}, Action="s3:*", Resource="*")),
        Request("s3:GetObject", BUCKET_OBJ, "arn:aws:iam::444455556666:role/x"),
        Decision.NEUTRAL,
    ),
    (
        "Principal service",
        _policy(_allow(Principal={"Service": "lambda.amazonaws.com"}, Action="sts:AssumeRole")),
        Request("sts:AssumeRole", "*", "lambda.amazonaws.com"),
        Decision.ALLOW,
    ),
    (
        "Principal other service",
        _policy(_allow(Principal={"Service": "lambda.amazonaws.com"}, Action="sts:AssumeRole")),
        Request("sts:AssumeRole", "*", "ec2.amazonaws.com"),
        Decision.NEUTRAL,
    ),
]


@pytest.mark.parametrize(
    ("why", "policy", "request_", "expected"),
    EVALUATOR_CASES,
    ids=[e[0].replace(" ", "_") for e in EVALUATOR_CASES],
)
def test_evaluator(why: str, policy: dict[str, Any], request_: Request, expected: Decision) -> None:
    assert evaluate(policy, request_) is expected, why


def test_evaluator_arn_like_compares_components() -> None:
    assert arn_like("arn:aws:iam::*:role/x", "arn:aws:iam::123456789012:role/x")
    assert not arn_like("arn:aws:iam::*:role/x", "arn:aws:iam::1:2:role/x")  # * stays in its component
    assert arn_like("arn:aws:logs:r:1:log-group:/a/*", "arn:aws:logs:r:1:log-group:/a/b:*")
    assert not arn_like("arn:aws:iam::1:role/x", "role/x")
    assert resource_matches("*", "anything:at:all")


@pytest.mark.parametrize(
    "statement",
    [
        _allow(NotPrincipal={"AWS": "*"}, Action="s3:*", Resource="*"),
        _allow(Action="s3:*", Resource="*", Condition={"NumericLessThan": {"s3:max-keys": "10"}}),
        _allow(Action="s3:*", Resource="*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}),
        _allow(Action="s3:*", Resource="arn:aws:s3:::bucket/${aws:username}/*"),
    ],
    ids=["NotPrincipal", "numeric", "set-operator", "policy-variable"],
)
def test_evaluator_refuses_what_it_does_not_implement(statement: dict[str, Any]) -> None:
    with pytest.raises(Unsupported):
        evaluate(_policy(statement), Request("s3:GetObject", BUCKET_OBJ, "arn:aws:iam::1:role/x"))


def _moto(policy: dict[str, Any], request: Request) -> PermissionResult:
    context = dict(request.context) or None
    return IAMPolicy(json.dumps(policy)).is_action_permitted(
        request.action, request.resource, request.principal, context
    )


# (gap, policy, request, what AWS decides, what moto 5.2.5 answers)
MOTO_GAPS = [
    (
        "? is not a wildcard",
        _policy(_allow(Action="s3:GetObject", Resource="arn:aws:s3:::bucket/incoming/?.json")),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.ALLOW,
        PermissionResult.NEUTRAL,
    ),
    (
        "regex characters unescaped",
        _policy(_allow(Action="s3:GetObject", Resource="arn:aws:s3:::b.cket/*")),
        Request("s3:GetObject", "arn:aws:s3:::bucket/x"),
        Decision.NEUTRAL,
        PermissionResult.PERMITTED,
    ),
    (
        "actions case-sensitive",
        _policy(_allow(Action="S3:getobject", Resource="*")),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.ALLOW,
        PermissionResult.NEUTRAL,
    ),
    (
        "NotResource ignored",
        _policy(_allow(Action="s3:GetObject", NotResource="arn:aws:s3:::bucket/*")),
        Request("s3:GetObject", BUCKET_OBJ),
        Decision.NEUTRAL,
        PermissionResult.PERMITTED,
    ),
    (
        "missing condition key satisfied",
        _policy(
            _allow(
                Action="kms:Decrypt",
                Resource="*",
                Condition={"StringEquals": {"kms:ViaService": "sqs.r.amazonaws.com"}},
            )
        ),
        Request("kms:Decrypt", "k"),
        Decision.NEUTRAL,
        PermissionResult.PERMITTED,
    ),
    (
        "unmet Allow condition denies",
        _policy(
            _allow(Action="s3:*", Resource="*", Condition={"StringEquals": {"k": "a"}}),
            _allow(Action="s3:*", Resource="*"),
        ),
        Request("s3:GetObject", BUCKET_OBJ, None, {"k": "b"}),
        Decision.ALLOW,
        PermissionResult.DENIED,
    ),
    (
        "unmet Deny condition denies",
        _policy(
            _deny(Action="s3:*", Resource="*", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}}),
            _allow(Action="s3:*", Resource="*"),
        ),
        Request("s3:GetObject", BUCKET_OBJ, None, {"aws:SourceVpce": "vpce-2"}),
        Decision.ALLOW,
        PermissionResult.DENIED,
    ),
    (
        "conditional Deny on another resource denies",
        _policy(
            _deny(Action="s3:*", Resource="arn:aws:s3:::other/*", Condition={"StringEquals": {"k": "a"}}),
            _allow(Action="s3:*", Resource="*"),
        ),
        Request("s3:GetObject", BUCKET_OBJ, None, {"k": "b"}),
        Decision.ALLOW,
        PermissionResult.DENIED,
    ),
    (
        "ArnNotLike ignored",
        _policy(
            _deny(
                Principal={"AWS": "*"},
                Action="s3:*",
                Resource="*",
                Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/a"}},
            )
        ),
        Request(
            "s3:GetObject", BUCKET_OBJ, "arn:aws:iam::1:role/a", {"aws:PrincipalArn": "arn:aws:iam::1:role/a"}
        ),
        Decision.NEUTRAL,
        PermissionResult.DENIED,
    ),
    (
        "Bool ignored",
        _policy(
            _allow(Action="s3:*", Resource="*"),
            _deny(Action="s3:*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
        ),
        Request("s3:GetObject", BUCKET_OBJ, None, {"aws:SecureTransport": "true"}),
        Decision.ALLOW,
        PermissionResult.DENIED,
    ),
    (
        "StringLike ignored",
        _policy(
            _allow(
                Action="s3:ListBucket",
                Resource="arn:aws:s3:::bucket",
                Condition={"StringLike": {"s3:prefix": "incoming/*"}},
            )
        ),
        Request("s3:ListBucket", "arn:aws:s3:::bucket", None, {"s3:prefix": "quarantine/"}),
        Decision.NEUTRAL,
        PermissionResult.PERMITTED,
    ),
    (
        "* spans colons mid-segment",
        _policy(_allow(Action="sns:Publish", Resource="arn:aws:sns:us-*1:123456789012:t")),
        Request("sns:Publish", "arn:aws:sns:us-east-1:999:1:123456789012:t"),
        Decision.NEUTRAL,
        PermissionResult.PERMITTED,
    ),
]


@pytest.mark.parametrize(
    ("gap", "policy", "request_", "aws", "moto"), MOTO_GAPS, ids=[g[0].replace(" ", "_") for g in MOTO_GAPS]
)
def test_moto_gap(
    gap: str, policy: dict[str, Any], request_: Request, aws: Decision, moto: PermissionResult
) -> None:
    """Each gap of moto's evaluator, pinned: ours gives AWS's answer, moto 5.2.5 another."""
    assert evaluate(policy, request_) is aws
    assert _moto(policy, request_) is moto, f"moto changed ({gap}): update scripts/policy_eval.py's docstring"


def test_moto_fails_on_service_principals() -> None:
    trust = _policy(_allow(Principal={"Service": "lambda.amazonaws.com"}, Action="sts:AssumeRole"))
    with pytest.raises(TypeError):
        _moto(trust, Request("sts:AssumeRole", "*", "lambda.amazonaws.com"))
    assert evaluate(trust, Request("sts:AssumeRole", "*", "lambda.amazonaws.com")) is Decision.ALLOW


@pytest.mark.parametrize("region", REGIONS)
def test_moto_misjudges_the_data_bucket_policy(deployed: Deployed, region: str) -> None:
    """Why the bucket policy is not evaluated with moto: it denies the listed roles over TLS."""
    values = deployed.names(region)
    policy = deployed.bucket_policies[region, "data"]
    request = _s3_request("s3:GetObject", values["data"] + "/incoming/upload.jsonl", role_arn(region, P))
    assert evaluate(policy, request) is Decision.NEUTRAL
    assert _moto(policy, request) is PermissionResult.DENIED
