"""Generate files/iam/deployer-policy.json: the IAM policy a deployer needs for site.yml.

    deployer_policy.py generate [--port 4660] [--output files/iam/deployer-policy.json]
    deployer_policy.py render --prefix myco [--partition aws] [--account 123456789012]
    deployer_policy.py actions RECORDING.jsonl     (print the IAM actions of a moto recording)

`generate` starts a private moto server with its request recorder (scripts/emulator.py) and
records every request of: site.yml in check mode on a fresh account, a converge of both
regions, a rerun, site.yml in check mode on the converged account and the drift report
(playbooks/drift.yml); the site with documented settings changed (CHANGED_SETTINGS: another
alarm subscriber, a reservation removed, the removal of planted orphans); the teardown with
teardown_orphans (dry run, keeping the data, destroying it) and a converge again; then, after
`apply_drift` changed settings behind the playbooks' back (a function's code and timeout,
versioning, key rotation, a log group's key, the trail, ...), the drift report and the
converge that puts them right; last, playbooks/verify.yml. Each request is mapped to the IAM
actions it needs:

- JSON and query protocols name their operation (X-Amz-Target, Action); REST calls (S3,
  Lambda) are matched on method + path + query against botocore's service model (the
  `requestUri` of every operation), so `PUT /bucket?logging` is PutBucketLogging;
- an operation becomes `<iam prefix>:<operation>`, except where the Service Authorization
  Reference names it otherwise (S3_ACTIONS: HeadBucket is s3:ListBucket, PutBucketEncryption
  is s3:PutEncryptionConfiguration, ...; SERVICE_PREFIX: CloudWatch signs as `monitoring`);
- EXTRA_ACTIONS adds the actions an operation needs besides its own (iam:PassRole for a
  function's role, kms:CreateGrant/DescribeKey for a table under our key, tag-on-create ...),
  each with the document that says so; NO_PERMISSION drops calls that need none.

Each action is scoped to the project's resource names when the Service Authorization
Reference gives it a resource type (RESOURCE_PATTERNS); actions without one get "*". The
reference data is parliament's copy of the Service Authorization Reference
(parliament/iam_definition.json, installed with the dev requirements).

The file is written sorted and indented, so a regeneration that finds nothing new is a no-op.
Placeholders: the shipped file is rendered for prefix `secureinfra`, partition `aws` and any
account (`*` in the account field of every ARN). `render` writes a copy for another prefix,
partition or a pinned account id.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

REPO_ROOT = Path(__file__).resolve().parent.parent
POLICY_PATH = REPO_ROOT / "files" / "iam" / "deployer-policy.json"
DEFAULT_PREFIX = "secureinfra"
DEFAULT_PARTITION = "aws"
ANY_ACCOUNT = "*"
EMULATOR_ACCOUNT = "123456789012"  # moto's default account, which the recorded runs use
SAR_URL = "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"

# Signing name (credential scope) -> IAM service prefix, where they differ.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
# The Resource Groups Tagging API signs as `tagging`; its actions are `tag:` (the orphans role).
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonresourcegrouptaggingapi.html
SERVICE_PREFIX = {"monitoring": "cloudwatch", "tagging": "tag"}
# Signing name -> botocore's service model name, where they differ (REST calls are routed by the model).
MODEL_NAME = {"access-analyzer": "accessanalyzer"}

# S3 API operation -> IAM action, where the names differ. Source: the Service Authorization
# Reference for S3 ("Actions defined by Amazon S3", column "Actions" vs the API operations)
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html and
# "Required permissions for Amazon S3 API operations"
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
# S3 Control (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html):
# the account-level Block Public Access calls, on paths under /v20180820/ and signed as "s3".
# The actions have no resource type (resource "*"); DeletePublicAccessBlock needs the Put action.
S3_CONTROL_PATH = "/v20180820/"
S3_CONTROL_ACTIONS = {
    "GetPublicAccessBlock": "GetAccountPublicAccessBlock",
    "PutPublicAccessBlock": "PutAccountPublicAccessBlock",
    "DeletePublicAccessBlock": "PutAccountPublicAccessBlock",
}

S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "HeadObject": "GetObject",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "DeleteBucketTagging": "PutBucketTagging",
    "DeleteBucketWebsite": "DeleteBucketWebsite",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "CopyObject": "PutObject",
    # "To use this operation, you must have s3:DeleteObject permission" (API_DeleteObjects), and
    # s3:DeleteObjectVersion for a version (EXTRA_ACTIONS). The teardown empties buckets with it.
    "DeleteObjects": "DeleteObject",
}

# Lambda API operation -> IAM action, where the names differ (the API version suffixes of
# botocore's older operation names). https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
LAMBDA_ACTIONS = {"ListTags": "ListTags"}

# API calls that need no permission at all.
NO_PERMISSION = {
    # "No permissions are required to perform this operation."
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    "sts:GetCallerIdentity",
}

_LAMBDA_PERMS = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html"
_LAMBDA_VPC = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html"
_CT_SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html"
_DDB_KMS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html"
_KMS_SAR = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html"
)
_EC2_TAGS = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html"
_IAM_TAGS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html"
_SNS_TAGS = "https://docs.aws.amazon.com/sns/latest/dg/sns-tags-configuring.html"
_SQS_TAGS = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-tags.html"
_CW_ALARM = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"
_LOGS_TAGS = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"
_EVENTS_TAGS = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html"
_DDB_TAGS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Tagging.Operations.html"
_LAMBDA_TAGS = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html"
_EVENTS_ROLE = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html"
_S3_DELETE = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html"
# The security services (security_services role, network hardening).
_FLOW_LOGS_ROLE = "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html"
_CONFIG_ROLE = "https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html"
_SLR = "https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html#service-linked-role-permissions"
_SECURITYHUB_TAGS = "https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_EnableSecurityHub.html"
_GUARDDUTY_TAGS = "https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateDetector.html"
_ANALYZER_TAGS = "https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_CreateAnalyzer.html"
# "If your CreateBucket request includes the x-amz-object-ownership header, then the
# s3:PutBucketOwnershipControls permission is required."
_S3_CREATE = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html"


@dataclass(frozen=True)
class Extra:
    """Actions an API call needs besides its own, when its request carries `when` (or always)."""

    api_action: str
    actions: tuple[str, ...]
    source: str
    when: str = ""  # a request parameter name (any depth); "" = always


# The documented table of extra actions. `when` is matched against the parameter names of the
# recorded request, so an extra is added only when the call really uses the feature.
EXTRA_ACTIONS: tuple[Extra, ...] = (
    # "iam:PassRole ... on the IAM role that the user specifies as the execution role".
    Extra("lambda:CreateFunction", ("iam:PassRole",), _LAMBDA_PERMS),
    Extra("lambda:UpdateFunctionConfiguration", ("iam:PassRole",), _LAMBDA_PERMS, "Role"),
    # User permissions to configure a function's VPC access.
    Extra(
        "lambda:CreateFunction",
        ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"),
        _LAMBDA_VPC,
        "VpcConfig",
    ),
    Extra(
        "lambda:UpdateFunctionConfiguration",
        ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"),
        _LAMBDA_VPC,
        "VpcConfig",
    ),
    Extra("lambda:CreateFunction", ("lambda:TagResource",), _LAMBDA_TAGS, "Tags"),
    # CreateTrail/UpdateTrail with CloudWatch Logs delivery pass the delivery role to
    # CloudTrail; the reference lists iam:GetRole (and AddTags for tags) as dependent actions.
    Extra("cloudtrail:CreateTrail", ("iam:PassRole", "iam:GetRole"), _CT_SAR, "CloudWatchLogsRoleArn"),
    Extra("cloudtrail:UpdateTrail", ("iam:PassRole", "iam:GetRole"), _CT_SAR, "CloudWatchLogsRoleArn"),
    Extra("cloudtrail:CreateTrail", ("cloudtrail:AddTags",), _CT_SAR, "TagsList"),
    # A table under a customer managed key: DynamoDB creates a grant and describes the key
    # on behalf of the caller, with the caller's permissions.
    Extra("dynamodb:CreateTable", ("kms:CreateGrant", "kms:DescribeKey"), _DDB_KMS, "KMSMasterKeyId"),
    Extra("dynamodb:UpdateTable", ("kms:CreateGrant", "kms:DescribeKey"), _DDB_KMS, "KMSMasterKeyId"),
    Extra("dynamodb:CreateTable", ("dynamodb:TagResource",), _DDB_TAGS, "Tags"),
    # CreateKey with a policy and tags: the reference's dependent actions.
    Extra("kms:CreateKey", ("kms:PutKeyPolicy",), _KMS_SAR, "Policy"),
    Extra("kms:CreateKey", ("kms:TagResource",), _KMS_SAR, "Tags"),
    # Tag on create: each service authorizes the tags with its tagging action too.
    Extra("ec2:CreateVpc", ("ec2:CreateTags",), _EC2_TAGS, "TagSpecification"),
    Extra("ec2:CreateSubnet", ("ec2:CreateTags",), _EC2_TAGS, "TagSpecification"),
    Extra("ec2:CreateRouteTable", ("ec2:CreateTags",), _EC2_TAGS, "TagSpecification"),
    Extra("ec2:CreateSecurityGroup", ("ec2:CreateTags",), _EC2_TAGS, "TagSpecification"),
    Extra("ec2:CreateVpcEndpoint", ("ec2:CreateTags",), _EC2_TAGS, "TagSpecification"),
    Extra("iam:CreateRole", ("iam:TagRole",), _IAM_TAGS, "Tags"),
    Extra("sns:CreateTopic", ("sns:TagResource",), _SNS_TAGS, "Tags"),
    Extra("sqs:CreateQueue", ("sqs:TagQueue",), _SQS_TAGS, "tags"),
    Extra("cloudwatch:PutMetricAlarm", ("cloudwatch:TagResource",), _CW_ALARM, "Tags"),
    Extra("logs:CreateLogGroup", ("logs:TagResource",), _LOGS_TAGS, "tags"),
    Extra("events:PutRule", ("events:TagResource",), _EVENTS_TAGS, "Tags"),
    Extra("events:PutTargets", ("iam:PassRole",), _EVENTS_ROLE, "RoleArn"),
    # Deleting a given version of an object (or a delete marker) needs DeleteObjectVersion.
    Extra("s3:DeleteObject", ("s3:DeleteObjectVersion",), _S3_DELETE, "VersionId"),
    Extra("s3:DeleteObject", ("s3:DeleteObjectVersion",), _S3_DELETE, "versionId"),
    # A bucket created with its Object Ownership (s3_buckets: BucketOwnerEnforced).
    Extra("s3:CreateBucket", ("s3:PutBucketOwnershipControls",), _S3_CREATE, "x-amz-object-ownership"),
    # A flow log to CloudWatch Logs passes its delivery role to VPC Flow Logs; tags on create.
    Extra("ec2:CreateFlowLogs", ("iam:PassRole",), _FLOW_LOGS_ROLE, "DeliverLogsPermissionArn"),
    Extra("ec2:CreateFlowLogs", ("ec2:CreateTags",), _EC2_TAGS, "TagSpecification"),
    # The recorder names its role (the service-linked role), passed to AWS Config.
    Extra("config:PutConfigurationRecorder", ("iam:PassRole",), _CONFIG_ROLE, "roleARN"),
    # Enabling Security Hub, GuardDuty or an analyzer makes the service's service-linked role on
    # first use, with the caller's iam:CreateServiceLinkedRole; tags on create.
    Extra("securityhub:EnableSecurityHub", ("iam:CreateServiceLinkedRole",), _SLR),
    Extra("securityhub:EnableSecurityHub", ("securityhub:TagResource",), _SECURITYHUB_TAGS, "Tags"),
    Extra("guardduty:CreateDetector", ("iam:CreateServiceLinkedRole",), _SLR),
    Extra("guardduty:CreateDetector", ("guardduty:TagResource",), _GUARDDUTY_TAGS, "tags"),
    Extra("access-analyzer:CreateAnalyzer", ("iam:CreateServiceLinkedRole",), _SLR),
    Extra("access-analyzer:CreateAnalyzer", ("access-analyzer:TagResource",), _ANALYZER_TAGS, "tags"),
)

# The service-linked roles of the security services (security_services role): the name and the
# service of each; IAM names them in ARNs under their path role/aws-service-role/<service>/.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
SERVICE_LINKED_ROLES = {
    "AWSServiceRoleForAccessAnalyzer": "access-analyzer.amazonaws.com",
    "AWSServiceRoleForAmazonGuardDuty": "guardduty.amazonaws.com",
    "AWSServiceRoleForConfig": "config.amazonaws.com",
    "AWSServiceRoleForSecurityHub": "securityhub.amazonaws.com",
}
SERVICE_LINKED_ROLE_ARNS = tuple(
    f"arn:{{partition}}:iam::{{account}}:role/aws-service-role/{service}/{name}"
    for name, service in sorted(SERVICE_LINKED_ROLES.items())
)
# Actions whose resources are not (only) the project's: the roles they may act on. GetRole also
# reads whether Config's service-linked role exists; CreateServiceLinkedRole makes only these.
ACTION_RESOURCES: dict[str, tuple[str, ...]] = {
    "iam:GetRole": ("arn:{partition}:iam::{account}:role/{prefix}-*", *SERVICE_LINKED_ROLE_ARNS),
    "iam:CreateServiceLinkedRole": SERVICE_LINKED_ROLE_ARNS,
}
# Roles passed that are not the project's: the recorder passes Config's service-linked role.
# https://docs.aws.amazon.com/config/latest/developerguide/using-service-linked-roles-config.html
PASSED_SERVICE_LINKED_ROLES = {"config.amazonaws.com": "AWSServiceRoleForConfig"}

# iam:PassRole: the services our roles are passed to, per API call that passes one.
PASSED_TO = {
    "lambda:CreateFunction": "lambda.amazonaws.com",
    "lambda:UpdateFunctionConfiguration": "lambda.amazonaws.com",
    "cloudtrail:CreateTrail": "cloudtrail.amazonaws.com",
    "cloudtrail:UpdateTrail": "cloudtrail.amazonaws.com",
    "events:PutTargets": "events.amazonaws.com",
    "ec2:CreateFlowLogs": "vpc-flow-logs.amazonaws.com",
    "config:PutConfigurationRecorder": "config.amazonaws.com",
}

# Resource types of the Service Authorization Reference -> the project's resources of that
# type. {partition}, {account} and {prefix} are filled in by `render`. A resource type not
# listed here (a VPC, a subnet, a KMS key by id, ...) has no name we control: such actions get
# "*" unless every required resource type is listed.
RESOURCE_PATTERNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "bucket"): ("arn:{partition}:s3:::{prefix}-*",),
    ("s3", "object"): ("arn:{partition}:s3:::{prefix}-*/*",),
    ("iam", "role"): ("arn:{partition}:iam::{account}:role/{prefix}-*",),
    ("iam", "policy"): ("arn:{partition}:iam::{account}:policy/{prefix}-*",),
    ("lambda", "function"): ("arn:{partition}:lambda:*:{account}:function:{prefix}-*",),
    ("dynamodb", "table"): ("arn:{partition}:dynamodb:*:{account}:table/{prefix}-*",),
    ("sqs", "queue"): ("arn:{partition}:sqs:*:{account}:{prefix}-*",),
    ("sns", "topic"): ("arn:{partition}:sns:*:{account}:{prefix}-*",),
    ("logs", "log-group"): (
        "arn:{partition}:logs:*:{account}:log-group:/aws/lambda/{prefix}-*",
        "arn:{partition}:logs:*:{account}:log-group:/{prefix}/*",
    ),
    ("cloudtrail", "trail"): ("arn:{partition}:cloudtrail:*:{account}:trail/{prefix}-*",),
    ("events", "rule-on-default-event-bus"): ("arn:{partition}:events:*:{account}:rule/{prefix}-*",),
    ("cloudwatch", "alarm"): ("arn:{partition}:cloudwatch:*:{account}:alarm:{prefix}-*",),
    ("kms", "alias"): ("arn:{partition}:kms:*:{account}:alias/{prefix}-*",),
    ("kms", "key"): ("arn:{partition}:kms:*:{account}:key/*",),
    ("securityhub", "hub"): ("arn:{partition}:securityhub:*:{account}:hub/default",),
    ("guardduty", "detector"): ("arn:{partition}:guardduty:*:{account}:detector/*",),
    ("access-analyzer", "Analyzer"): ("arn:{partition}:access-analyzer:*:{account}:analyzer/{prefix}-*",),
    # The state lock (docs/locking.md): the parameter /<prefix>/baseline/lock and its -break marker;
    # an SSM parameter's ARN names it without its leading slash (Service Authorization Reference).
    ("ssm", "parameter"): ("arn:{partition}:ssm:*:{account}:parameter/{prefix}/baseline/lock*",),
}

# Statements with a condition, keyed by action. kms:CreateGrant is only ever made for us by
# DynamoDB (see EXTRA_ACTIONS): "kms:GrantIsForAWSResource" limits it to grants an AWS
# service creates. https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource
CONDITIONS: dict[str, dict[str, Any]] = {
    "kms:CreateGrant": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    # Only the security services' service-linked roles (security_services role).
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_awsservicename
    "iam:CreateServiceLinkedRole": {
        "StringEquals": {
            "iam:AWSServiceName": [
                "access-analyzer.amazonaws.com",
                "config.amazonaws.com",
                "guardduty.amazonaws.com",
                "securityhub.amazonaws.com",
            ]
        }
    },
}
# The statement id's ending for an action with a condition (its statement has the action alone).
CONDITION_SIDS = {
    "kms:CreateGrant": "WhenForAwsResource",
    "iam:CreateServiceLinkedRole": "OfTheSecurityServices",
}


# --- the Service Authorization Reference (parliament's copy) ---------------------------------


@functools.lru_cache(maxsize=1)
def _reference() -> dict[str, dict[str, Any]]:
    import parliament

    path = Path(parliament.__file__).resolve().parent / "iam_definition.json"
    return {service["prefix"]: service for service in json.loads(path.read_text())}


@functools.cache
def _privileges(prefix: str) -> dict[str, dict[str, Any]]:
    service = _reference().get(prefix)
    if service is None:
        return {}
    return {p["privilege"].lower(): p for p in service["privileges"]}


def known_action(action: str) -> bool:
    prefix, _, name = action.partition(":")
    return name.lower() in _privileges(prefix)


def canonical_action(action: str) -> str:
    """The action spelled as the reference spells it (e.g. s3:GetBucketCORS)."""
    prefix, _, name = action.partition(":")
    privilege = _privileges(prefix).get(name.lower())
    return f"{prefix}:{privilege['privilege']}" if privilege else action


def resource_types(action: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, optional) resource types of the action in the reference (`*` = required)."""
    prefix, _, name = action.partition(":")
    privilege = _privileges(prefix).get(name.lower())
    if not privilege:
        return (), ()
    types = [r["resource_type"] for r in privilege["resource_types"] if r["resource_type"]]
    required = tuple(t.rstrip("*") for t in types if t.endswith("*"))
    optional = tuple(t for t in types if not t.endswith("*"))
    return required, optional


def required_resource_types(action: str) -> tuple[str, ...]:
    """The types a statement for the action must cover: every required type, or, when the
    reference marks none required, the alternatives (the call acts on one of them)."""
    required, optional = resource_types(action)
    return required or optional


def scope(action: str) -> tuple[str, ...]:
    """Resource patterns (unrendered) for the action, or ("*",).

    Every required resource type must be one we name, else "*". An action whose types are
    all optional (alternatives: lambda:TagResource on a function, an event source mapping or a
    code signing config) is scoped to the alternatives we name; `scoped_by_recording` then
    checks that every recorded request of it names one of our resources."""
    if action in ACTION_RESOURCES:
        return ACTION_RESOURCES[action]
    prefix = action.split(":", 1)[0]
    required, optional = resource_types(action)
    patterns: list[str] = []
    for resource_type in required or optional:
        mapped = RESOURCE_PATTERNS.get((prefix, resource_type))
        if mapped is None:
            if required:
                return ("*",)
            continue
        patterns.extend(mapped)
    return tuple(patterns) if patterns else ("*",)


# --- REST routing with botocore's service models ----------------------------------------------


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    path: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]  # required keys (and values)
    literal: int  # characters of literal path, to prefer /x/configuration over /x/{y}


def _route(name: str, http: dict[str, Any], required_query: Iterable[str]) -> Route:
    uri, _, query = http["requestUri"].partition("?")
    parts = re.split(r"(\{[^}]+\})", uri)
    regex = ""
    literal = 0
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            regex += "(.+)" if part.endswith("+}") else "([^/]+)"
        else:
            regex += re.escape(part)
            literal += len(part)
    keys: list[tuple[str, str | None]] = []
    for item in filter(None, query.split("&")):
        key, eq, value = item.partition("=")
        keys.append((key, value if eq else None))
    keys.extend((key, None) for key in required_query)
    return Route(name, http["method"], re.compile(f"^{regex}/?$"), tuple(keys), literal)


@functools.cache
def routes(service: str) -> tuple[Route, ...]:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    found = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        shape = operation.input_shape
        required_query: list[str] = []
        if shape is not None:
            for member in shape.required_members:
                serialization = shape.members[member].serialization
                if serialization.get("location") == "querystring":
                    required_query.append(serialization["name"])
        found.append(_route(name, operation.http, required_query))
    return tuple(found)


def match_rest(service: str, method: str, path: str, query: dict[str, list[str]]) -> str | None:
    """The API operation of a REST request, the most specific route that matches."""
    best: tuple[int, int, str] | None = None
    for route in routes(service):
        if route.method != method or not route.path.match(path):
            continue
        if not all(k in query and (v is None or v in query[k]) for k, v in route.query):
            continue
        rank = (len(route.query), route.literal, route.operation)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


# --- recorded requests -> IAM actions ----------------------------------------------------------

_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/")


@dataclass(frozen=True)
class ApiCall:
    service: str  # IAM prefix
    operation: str  # API operation
    region: str
    params: dict[str, Any]  # request parameters (JSON body, form, or REST path/query)
    path: str = ""

    @property
    def action(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass(frozen=True)
class Permission:
    action: str
    resource: str | None  # the ARN the request acts on, when known
    api_action: str  # the call that needs it


# Request headers that are API parameters (EXTRA_ACTIONS' `when` can name them).
REST_PARAM_HEADERS = ("x-amz-object-ownership",)


def _header(entry: dict[str, Any], name: str) -> str:
    for key, value in (entry.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def _body(entry: dict[str, Any]) -> str:
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        return base64.b64decode(body).decode("utf-8", errors="replace")
    return body if isinstance(body, str) else json.dumps(body)


def api_call(entry: dict[str, Any]) -> ApiCall | None:
    """The API call of one recorded request; None for requests without AWS credentials."""
    match = _CREDENTIAL.search(_header(entry, "Authorization"))
    if not match:
        return None
    region, signing = match.group(1), match.group(2)
    service = SERVICE_PREFIX.get(signing, signing)
    url = urlparse(entry["url"])
    body = _body(entry)
    target = _header(entry, "X-Amz-Target")
    if target:
        try:
            params = json.loads(body) if body.strip() else {}
        except ValueError:
            params = {}
        return ApiCall(service, target.rsplit(".", 1)[-1], region, params)
    form = {k: v[0] for k, v in parse_qs(body).items()} if "=" in body else {}
    form.update({k: v[0] for k, v in parse_qs(url.query).items() if k == "Action"})
    if "Action" in form:
        return ApiCall(service, form.pop("Action"), region, form)
    query = parse_qs(url.query, keep_blank_values=True)
    if signing == "s3" and url.path.startswith(S3_CONTROL_PATH):
        # S3 Control signs as "s3": route it with its own model, and name the account-level
        # IAM action (its GetPublicAccessBlock is not the bucket's).
        operation = match_rest("s3control", entry["method"].upper(), url.path, query)
        if operation is not None:
            return ApiCall(service, S3_CONTROL_ACTIONS.get(operation, operation), region, {}, "")
    operation = match_rest(MODEL_NAME.get(signing, signing), entry["method"].upper(), url.path, query)
    if operation is None:
        return ApiCall(service, f"UNKNOWN {entry['method']} {url.path}?{url.query}", region, {})
    params: dict[str, Any] = {k: v[0] for k, v in query.items()}
    # REST APIs carry some parameters in x-amz-* headers (CreateBucket's x-amz-object-ownership).
    headers = {
        k.lower(): v for k, v in (entry.get("headers") or {}).items() if k.lower() in REST_PARAM_HEADERS
    }
    if headers:
        params["_headers"] = headers
    if body.strip().startswith("{"):
        with contextlib.suppress(ValueError):
            params.update(json.loads(body))
    elif body.strip().startswith("<"):
        params["_xml"] = body
    return ApiCall(service, operation, region, params, unquote(url.path))


def iam_action(call: ApiCall) -> str:
    if call.service == "s3":
        return f"s3:{S3_ACTIONS.get(call.operation, call.operation)}"
    if call.service == "lambda":
        return f"lambda:{LAMBDA_ACTIONS.get(call.operation, call.operation)}"
    return call.action


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _has_param(call: ApiCall, name: str) -> bool:
    if any(k == name or k.startswith(f"{name}.") for k in _keys(call.params)):
        return True
    return f"<{name}>" in str(call.params.get("_xml", ""))


def extras(call: ApiCall) -> list[Extra]:
    action = iam_action(call)
    return [e for e in EXTRA_ACTIONS if e.api_action == action and (not e.when or _has_param(call, e.when))]


def permissions(entry: dict[str, Any], account: str = "123456789012") -> list[Permission]:
    """The IAM actions one recorded request needs (with its resource ARN when known)."""
    call = api_call(entry)
    if call is None:
        return []
    action = iam_action(call)
    if action in NO_PERMISSION:
        return []
    found = [Permission(action, resource_arn(call, action, account), action)]
    for extra in extras(call):
        for needed in extra.actions:
            found.append(Permission(needed, extra_resource(call, needed, account), action))
    return found


def extra_resource(call: ApiCall, action: str, account: str) -> str | None:
    if action in ("iam:PassRole", "iam:GetRole"):
        role = (
            call.params.get("Role") or call.params.get("CloudWatchLogsRoleArn") or call.params.get("RoleArn")
        )
        if not role:
            for target in call.params.get("Targets") or []:
                role = role or target.get("RoleArn")
        return role
    if action.startswith("ec2:") or action.startswith("kms:"):
        return None
    return resource_arn(call, action, account)


def _name(params: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = params.get(key)
        if isinstance(value, str) and value:
            return value
    return None


# Services whose request names its resource (or gives its ARN): the parameters that may hold it,
# and the resource part of the ARN before the name.
NAMED_RESOURCES: dict[str, tuple[tuple[str, ...], str]] = {
    "dynamodb": (("TableName", "ResourceArn"), "table/"),
    "events": (("Name", "Rule", "ResourceARN"), "rule/"),
    "cloudwatch": (("AlarmName", "ResourceARN"), "alarm:"),
}


def _arn_or_name(name: str | None, prefix: str) -> str | None:
    """The ARN itself when the request gave one, else prefix + name; None without either."""
    if name is None:
        return None
    return name if name.startswith("arn:") else prefix + name


def resource_arn(call: ApiCall, action: str, account: str) -> str | None:
    """The ARN a request acts on, for the resource types the project names; None otherwise."""
    if scope(action) == ("*",):
        return None
    region, params, partition = call.region, call.params, DEFAULT_PARTITION
    service = action.split(":", 1)[0]
    if service == "s3":
        parts = call.path.lstrip("/").split("/", 1)
        if not parts[0]:
            return None
        if call.operation == "DeleteObjects":  # POST /bucket?delete: the objects it names
            return f"arn:{partition}:s3:::{parts[0]}/*"
        return f"arn:{partition}:s3:::{parts[0]}" + (f"/{parts[1]}" if len(parts) > 1 and parts[1] else "")
    if service == "lambda":
        match = re.match(r"^/[^/]+/(?:functions|tags)/([^/]+)", call.path)
        name = unquote(match.group(1)) if match else _name(params, "FunctionName")
        return _arn_or_name(name, f"arn:{partition}:lambda:{region}:{account}:function:")
    if service in NAMED_RESOURCES:
        keys, kind = NAMED_RESOURCES[service]
        return _arn_or_name(_name(params, *keys), f"arn:{partition}:{service}:{region}:{account}:{kind}")
    if service == "iam":
        name = _name(params, "RoleName")
        if action == "iam:CreateServiceLinkedRole":  # the role named by the service it is for
            # (a service's first use, e.g. EnableSecurityHub, makes that service's role)
            service_name = _name(params, "AWSServiceName") or (
                f"{call.service}.amazonaws.com" if call.service != "iam" else None
            )
            name = next((n for n, svc in SERVICE_LINKED_ROLES.items() if svc == service_name), service_name)
            if name is None:
                return None
        if name in SERVICE_LINKED_ROLES:
            return f"arn:{partition}:iam::{account}:role/aws-service-role/{SERVICE_LINKED_ROLES[name]}/{name}"
        return f"arn:{partition}:iam::{account}:role/{name}" if name else None
    if service == "sqs":
        name = _name(params, "QueueName", "QueueUrl")
        return f"arn:{partition}:sqs:{region}:{account}:{name.rsplit('/', 1)[-1]}" if name else None
    if service == "sns":
        arn = _name(params, "TopicArn", "ResourceArn")
        name = _name(params, "Name")
        return arn or (f"arn:{partition}:sns:{region}:{account}:{name}" if name else None)
    if service == "logs":
        arn = _name(params, "resourceArn")
        name = _name(params, "logGroupName")
        return arn or (f"arn:{partition}:logs:{region}:{account}:log-group:{name}" if name else None)
    if service == "cloudtrail":
        names = params.get("ResourceIdList")
        name = _name(params, "Name", "TrailName", "ResourceId") or (
            names[0] if isinstance(names, list) and len(names) == 1 else None
        )
        return _arn_or_name(name, f"arn:{partition}:cloudtrail:{region}:{account}:trail/")
    if service == "access-analyzer":
        arn = _name(params, "resourceArn")
        match = re.match(r"^/analyzer/([^/]+)", call.path)
        name = unquote(match.group(1)) if match else _name(params, "analyzerName")
        return arn or (
            f"arn:{partition}:access-analyzer:{region}:{account}:analyzer/{name}" if name else None
        )
    if service == "ssm":
        name = _name(params, "Name")
        return f"arn:{partition}:ssm:{region}:{account}:parameter/{name.lstrip('/')}" if name else None
    if service == "kms":
        alias = _name(params, "AliasName")
        if alias and action == "kms:CreateAlias":
            return f"arn:{partition}:kms:{region}:{account}:{alias}"
        key = _name(params, "KeyId", "TargetKeyId")
        if key is None or key.startswith("alias/"):
            return None
        return key if key.startswith("arn:") else f"arn:{partition}:kms:{region}:{account}:key/{key}"
    return None


def read_recording(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def all_permissions(entries: Iterable[dict[str, Any]]) -> list[Permission]:
    found = {p for entry in entries for p in permissions(entry)}
    return sorted(found, key=lambda p: (p.action, p.resource or "", p.api_action))


def unknown_calls(entries: Iterable[dict[str, Any]]) -> list[str]:
    """Recorded calls whose IAM action the reference does not know (a mapping to fix)."""
    found = set()
    for entry in entries:
        for permission in permissions(entry):
            if not known_action(permission.action):
                found.add(f"{permission.action} (from {permission.api_action})")
    return sorted(found)


# --- the policy --------------------------------------------------------------------------------


def _sid(action: str, patterns: tuple[str, ...], condition: dict[str, Any] | None) -> str:
    """A statement id naming the resource types, e.g. S3Bucket, KmsAliasKey, NoResourceType."""
    suffix = CONDITION_SIDS.get(action, "WithCondition") if condition else ""
    if patterns == ("*",):
        return f"NoResourceType{suffix}"
    linked = sum(_SERVICE_LINKED in p for p in patterns)
    if linked == len(patterns):
        return f"IamServiceLinkedRoles{suffix}"
    service = action.split(":", 1)[0]
    kinds = [t for t in required_resource_types(action) if (service, t) in RESOURCE_PATTERNS]
    words = re.sub(r"[^A-Za-z0-9]+", " ", " ".join([service, *kinds])).title().replace(" ", "")
    return f"{words}{'AndServiceLinkedRoles' if linked else ''}{suffix}"


def glob_match(pattern: str, value: str) -> bool:
    """IAM's Resource wildcards: `*` any run of characters, `?` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


_SERVICE_LINKED = "/aws-service-role/"


def _named(pattern: str) -> bool:
    """A pattern naming resources (the project's, or the service-linked roles), not any key."""
    return "{prefix}" in pattern or _SERVICE_LINKED in pattern


def scoped_by_recording(perms: Iterable[Permission]) -> set[str]:
    """Actions that may keep their resource scope: every recorded request of the action names
    a resource inside the project's patterns (or the patterns name no resource of ours, like
    a KMS key by id). The others get "*": a list call without a resource (DescribeAlarms of
    every alarm), or a resource outside our names, would be denied with a scope."""
    verdict: dict[str, bool] = {}
    for permission in perms:
        action = canonical_action(permission.action)
        patterns = [
            render({"p": p}, DEFAULT_PREFIX, DEFAULT_PARTITION, ANY_ACCOUNT)["p"]
            for p in scope(action)
            if _named(p)
        ]
        inside = not patterns or (
            permission.resource is not None and any(glob_match(p, permission.resource) for p in patterns)
        )
        verdict[action] = verdict.get(action, True) and inside
    return {action for action, ok in verdict.items() if ok}


def build_policy(
    actions: Iterable[str], passed_to: Iterable[str], scoped: set[str] | None = None
) -> dict[str, Any]:
    """The policy document (unrendered patterns) for the actions, grouped by scope, sorted.

    `scoped`: the actions that keep their resource scope (default: all of them)."""
    groups: dict[tuple[tuple[str, ...], str], set[str]] = {}
    for action in {canonical_action(a) for a in actions}:
        if action == "iam:PassRole":
            continue
        condition = CONDITIONS.get(action)
        patterns = scope(action) if scoped is None or action in scoped else ("*",)
        key = (patterns, json.dumps(condition, sort_keys=True) if condition else "")
        groups.setdefault(key, set()).add(action)
    statements = []
    for (patterns, condition_text), members in groups.items():
        condition = json.loads(condition_text) if condition_text else None
        statement: dict[str, Any] = {
            "Sid": _sid(min(members), patterns, condition),
            "Effect": "Allow",
            "Action": sorted(members, key=str.lower),
            "Resource": list(patterns) if len(patterns) > 1 else patterns[0],
        }
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    linked = sorted(set(passed_to) & set(PASSED_SERVICE_LINKED_ROLES))
    if linked:
        arns = [
            f"arn:{{partition}}:iam::{{account}}:role/aws-service-role/{svc}/{PASSED_SERVICE_LINKED_ROLES[svc]}"
            for svc in linked
        ]
        statements.append(
            {
                "Sid": "PassServiceLinkedRolesToTheirServices",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": arns if len(arns) > 1 else arns[0],
                "Condition": {
                    "StringEquals": {"iam:PassedToService": linked[0] if len(linked) == 1 else linked}
                },
            }
        )
    services = sorted(set(passed_to) - set(PASSED_SERVICE_LINKED_ROLES))
    if services:
        statements.append(
            {
                "Sid": "PassProjectRolesToTheirServices",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": RESOURCE_PATTERNS[("iam", "role")][0],
                "Condition": {
                    "StringEquals": {"iam:PassedToService": services if len(services) > 1 else services[0]}
                },
            }
        )
    statements.sort(key=lambda s: s["Sid"])
    return {"Version": "2012-10-17", "Statement": statements}


def render(policy: dict[str, Any], prefix: str, partition: str, account: str) -> dict[str, Any]:
    """Fill {prefix}, {partition}, {account} into every Resource of the policy."""
    text = json.dumps(policy)
    for key, value in (("prefix", prefix), ("partition", partition), ("account", account)):
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


def template(rendered: dict[str, Any], prefix: str, partition: str, account: str) -> dict[str, Any]:
    """The inverse of `render` for the shipped file: turn its Resources back into patterns."""
    policy = json.loads(json.dumps(rendered))
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        items = resources if isinstance(resources, list) else [resources]
        back = []
        for item in items:
            if item == "*":
                back.append(item)
                continue
            parts = item.split(":", 5)
            parts[1] = "{partition}"
            if parts[4] == account:
                parts[4] = "{account}"
            back.append(
                ":".join(parts).replace(f"{prefix}-", "{prefix}-").replace(f"/{prefix}/", "/{prefix}/")
            )
        statement["Resource"] = back if isinstance(resources, list) else back[0]
    return policy


def policy_from_entries(entries: list[dict[str, Any]]) -> dict[str, Any]:
    perms = all_permissions(entries)
    actions = {p.action for p in perms}
    passed = set()
    for entry in entries:
        call = api_call(entry)
        if call is None:
            continue
        api = iam_action(call)
        if api in PASSED_TO and any(
            e.actions == ("iam:PassRole",) or "iam:PassRole" in e.actions for e in extras(call)
        ):
            passed.add(PASSED_TO[api])
    return build_policy(actions, passed, scoped_by_recording(perms))


def dump(policy: dict[str, Any]) -> str:
    return json.dumps(policy, indent=2, sort_keys=False) + "\n"


def action_count(policy: dict[str, Any]) -> int:
    found = set()
    for statement in policy["Statement"]:
        actions = statement["Action"]
        found.update([actions] if isinstance(actions, str) else actions)
    return len(found)


# --- recording the runs ------------------------------------------------------------------------


def _recorder(endpoint: str, action: str, method: str = "POST") -> str:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/recorder/{action}", method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


DRIFT_PLAYBOOK = "playbooks/drift.yml"


def _run(cmd: list[str], endpoint: str) -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg")}
    print(
        "deployer-policy: " + " ".join(Path(cmd[0]).name if i == 0 else c for i, c in enumerate(cmd)),
        flush=True,
    )
    with tempfile.TemporaryDirectory() as reports:
        # The drift playbook's reports (drift.json says whether a non-zero exit was drift).
        env["ANSIBLE_DRIFT_REPORT_DIR"] = reports
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
        drift = Path(reports, "drift.json")
        status = json.loads(drift.read_text())["status"] if drift.exists() else None
    # The drift playbook exits 2 when a region drifts (drift.json: status drift); anything else
    # non-zero, or a drift report whose run failed, is a failed run.
    drifted = DRIFT_PLAYBOOK in cmd and proc.returncode == 2 and status == "drift"
    if proc.returncode != 0 and not drifted:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(
            f"deployer-policy: {' '.join(cmd)} failed with {proc.returncode} (drift report: {status})"
        )


DRIFT_REGIONS = ("us-east-1", "us-west-1")


# The emulator's dummy credentials; apply_drift(..., credentials=) for a server enforcing IAM.
DRIFT_CREDENTIALS = ("testing", "testing")


def _clients(endpoint: str, credentials: tuple[str, str]) -> Callable[[str, str], Any]:
    import boto3

    def client(service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint or None,
            aws_access_key_id=credentials[0],
            aws_secret_access_key=credentials[1],
        )

    return client


def _drift_functions(client: Callable[[str, str], Any], region: str, prefix: str) -> list[str]:
    lam = client("lambda", region)
    done = []
    for function in lam.list_functions()["Functions"]:
        name = function["FunctionName"]
        if name.startswith(f"{prefix}-"):
            lam.update_function_configuration(FunctionName=name, Timeout=function["Timeout"] + 1)
            lam.delete_function_concurrency(FunctionName=name)
            lam.tag_resource(Resource=function["FunctionArn"], Tags={"Drift": "yes"})
            done.append(f"function {name}: timeout, concurrency, tag")
    return done


def _drift_storage(client: Callable[[str, str], Any], region: str, prefix: str) -> list[str]:
    s3 = client("s3", region)
    done = []
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        if name.startswith(f"{prefix}-") and name.endswith(f"-{region}"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
            s3.delete_public_access_block(Bucket=name)
            done.append(f"bucket {name}: versioning, public access block")
    return done


def _drift_data(client: Callable[[str, str], Any], region: str, prefix: str) -> list[str]:
    done = []
    kms = client("kms", region)
    for alias in kms.list_aliases()["Aliases"]:
        if alias["AliasName"].startswith(f"alias/{prefix}-") and alias.get("TargetKeyId"):
            kms.disable_key_rotation(KeyId=alias["TargetKeyId"])
            done.append(f"key {alias['AliasName']}: rotation")
    ddb = client("dynamodb", region)
    for table in ddb.list_tables()["TableNames"]:
        if table.startswith(f"{prefix}-"):
            ddb.update_continuous_backups(
                TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
            )
            done.append(f"table {table}: point-in-time recovery")
    logs = client("logs", region)
    for group in logs.describe_log_groups()["logGroups"]:
        name = group["logGroupName"]
        if name.startswith((f"/aws/lambda/{prefix}-", f"/{prefix}/")):
            logs.put_retention_policy(logGroupName=name, retentionInDays=1)
            done.append(f"log group {name}: retention")
    sqs = client("sqs", region)
    for url in sqs.list_queues(QueueNamePrefix=f"{prefix}-").get("QueueUrls", []):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60"})
        done.append(f"queue {url.rsplit('/', 1)[-1]}: retention")
    events = client("events", region)
    for rule in events.list_rules(NamePrefix=f"{prefix}-")["Rules"]:
        events.disable_rule(Name=rule["Name"])
        done.append(f"rule {rule['Name']}: disabled")
    trail = client("cloudtrail", region)
    for found in trail.describe_trails(includeShadowTrails=False)["trailList"]:
        if found["Name"].startswith(f"{prefix}-"):
            trail.stop_logging(Name=found["Name"])
            done.append(f"trail {found['Name']}: logging stopped")
    return done


def _drift_network(client: Callable[[str, str], Any], region: str, prefix: str) -> list[str]:
    """The repairs of vpc_network: a route table off a gateway endpoint, a subnet that maps public
    IPs, an ingress rule on the functions' security group, a tag off the VPC."""
    ec2 = client("ec2", region)
    done = []
    name = f"{prefix}-{region}"
    for vpc in ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]:
        vpc_id = vpc["VpcId"]
        ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "Project"}])
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Drift", "Value": "yes"}])
        for endpoint in ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "VpcEndpoints"
        ]:
            if endpoint.get("RouteTableIds"):
                ec2.modify_vpc_endpoint(
                    VpcEndpointId=endpoint["VpcEndpointId"], RemoveRouteTableIds=endpoint["RouteTableIds"][:1]
                )
                done.append(f"endpoint {endpoint['ServiceName']}: a route table removed")
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        for subnet in subnets[:1]:
            ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
            done.append(f"subnet {subnet['CidrBlock']}: maps public IPs")
        groups = ec2.describe_security_groups(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "group-name", "Values": [f"{name}-functions"]},
            ]
        )["SecurityGroups"]
        for group in groups:
            ec2.authorize_security_group_ingress(
                GroupId=group["GroupId"],
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 22,
                        "ToPort": 22,
                        "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
                    }
                ],
            )
            done.append(f"security group {group['GroupName']}: SSH ingress")
        done.append(f"vpc {name}: tags")
    return done


def _drift_role(client: Callable[[str, str], Any], region: str, prefix: str) -> list[str]:
    """The repairs of iam_roles on the processor's role: its trust policy, session length, a tag and
    an attached managed policy."""
    iam = client("iam", region)
    name = f"{prefix}-{region}-processor"
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return []
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    iam.update_role(RoleName=name, MaxSessionDuration=7200, Description=role.get("Description", ""))
    iam.tag_role(RoleName=name, Tags=[{"Key": "Drift", "Value": "yes"}])
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
    }
    try:
        policy = iam.create_policy(PolicyName=f"{prefix}-drift", PolicyDocument=json.dumps(document))[
            "Policy"
        ]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        policy = f"arn:aws:iam::{role['Arn'].split(':')[4]}:policy/{prefix}-drift"
    iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    return [f"role {name}: trust policy, session, tag, managed policy"]


def _drift_supporting(client: Callable[[str, str], Any], region: str, prefix: str) -> list[str]:
    """The repairs of the list modules: the topic's key off and a tag on it, an invoke permission
    from another bucket, an extra tag on a log group and on a queue."""
    done = []
    sns = client("sns", region)
    for topic in sns.list_topics()["Topics"]:
        arn = topic["TopicArn"]
        if arn.endswith(f":{prefix}-alarms"):
            sns.set_topic_attributes(TopicArn=arn, AttributeName="KmsMasterKeyId", AttributeValue="")
            sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "Drift", "Value": "yes"}])
            done.append(f"topic {arn}: encryption off, tag")
    lam = client("lambda", region)
    processor = f"{prefix}-{region}-processor"
    if any(f["FunctionName"] == processor for f in lam.list_functions()["Functions"]):
        sid = "s3-data-bucket-object-created"
        with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
            lam.remove_permission(FunctionName=processor, StatementId=sid)
        lam.add_permission(
            FunctionName=processor,
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn="arn:aws:s3:::somebody-elses-bucket",
        )
        done.append(f"function {processor}: invoke permission from another bucket")
    logs = client("logs", region)
    for group in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{prefix}-")["logGroups"][:1]:
        logs.tag_resource(resourceArn=group["arn"].removesuffix(":*"), tags={"Drift": "yes"})
        done.append(f"log group {group['logGroupName']}: tag")
    sqs = client("sqs", region)
    for url in sqs.list_queues(QueueNamePrefix=f"{prefix}-").get("QueueUrls", [])[:1]:
        sqs.tag_queue(QueueUrl=url, Tags={"Drift": "yes"})
        done.append(f"queue {url.rsplit('/', 1)[-1]}: tag")
    return done


def _zip(source: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


def _drift_code(client: Callable[[str, str], Any], region: str, prefix: str) -> list[str]:
    """The processor's code replaced by another zip: the converge then deploys the definition's
    code again with UpdateFunctionCode, as an upgrade that changes a handler does (every release
    that touches files/lambda/)."""
    lam = client("lambda", region)
    name = f"{prefix}-{region}-processor"
    if not any(f["FunctionName"] == name for f in lam.list_functions()["Functions"]):
        return []
    lam.update_function_code(
        FunctionName=name, ZipFile=_zip("def handler(event, context):\n    return 'old'\n")
    )
    return [f"function {name}: code"]


def _drift_encryption(client: Callable[[str, str], Any], region: str, prefix: str) -> list[str]:
    """The repairs that encrypt again: a log group's KMS key disassociated (AssociateKmsKey), EBS
    default encryption off (the security services: EnableEbsEncryptionByDefault)."""
    done = []
    logs = client("logs", region)
    for group in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{prefix}-")["logGroups"]:
        if group.get("kmsKeyId"):
            logs.disassociate_kms_key(logGroupName=group["logGroupName"])
            done.append(f"log group {group['logGroupName']}: KMS key disassociated")
            break
    ec2 = client("ec2", region)
    if ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]:
        ec2.disable_ebs_encryption_by_default()
        done.append("EBS default encryption: off")
    return done


def _drift_trail(client: Callable[[str, str], Any], region: str, prefix: str) -> list[str]:
    """The trail's settings changed (UpdateTrail puts them back): global service events and log
    file validation off. Its home region only (UpdateTrail is refused elsewhere)."""
    trail = client("cloudtrail", region)
    done = []
    for found in trail.describe_trails(includeShadowTrails=False)["trailList"]:
        if found["Name"].startswith(f"{prefix}-") and found.get("HomeRegion", region) == region:
            trail.update_trail(
                Name=found["Name"], IncludeGlobalServiceEvents=False, EnableLogFileValidation=False
            )
            done.append(f"trail {found['Name']}: global service events, log file validation")
    return done


def apply_drift(
    endpoint: str,
    prefix: str = DEFAULT_PREFIX,
    regions: Iterable[str] = DRIFT_REGIONS,
    credentials: tuple[str, str] | None = None,
) -> list[str]:
    """Change the converged resources behind the playbooks' back (as an admin would by hand),
    so that the next converge records the calls that put them right: UpdateFunctionConfiguration,
    UpdateFunctionCode (what an upgrade that changes a handler does), PutFunctionConcurrency,
    PutBucketVersioning, EnableKeyRotation, StartLogging, UpdateTrail, AssociateKmsKey,
    EnableEbsEncryptionByDefault, ModifyVpcEndpoint, RemovePermission, SetTopicAttributes,
    UntagResource, UpdateAssumeRolePolicy, DetachRolePolicy, ..."""
    client = _clients(endpoint, credentials or DRIFT_CREDENTIALS)
    done = []
    for region in regions:
        done += _drift_functions(client, region, prefix)
        done += _drift_code(client, region, prefix)
        done += _drift_storage(client, region, prefix)
        done += _drift_data(client, region, prefix)
        done += _drift_encryption(client, region, prefix)
        done += _drift_trail(client, region, prefix)
        done += _drift_network(client, region, prefix)
        done += _drift_role(client, region, prefix)
        done += _drift_supporting(client, region, prefix)
    return done


# Documented settings changed for one run (the next converge with the inventory's values puts them
# back): another alarm subscriber (sns:Subscribe and sns:Unsubscribe; the local inventory has one),
# no reserved concurrency for the analytics function (DeleteFunctionConcurrency; "null: no
# reservation"), and the removal of orphans (the orphans role).
CHANGED_SETTINGS: dict[str, Any] = {
    "monitoring_subscriptions": [{"protocol": "email", "endpoint": "oncall@example.com"}],
    "functions_reserved_concurrency": {"processor": 10, "analytics": None, "key_rotation": 1},
    "baseline_remove_orphans": True,
}
ORPHAN_TAGS = {"ManagedBy": "ansible", "Project": "secure-infrastructure"}  # the local inventory's


def plant_orphans(
    endpoint: str,
    prefix: str = DEFAULT_PREFIX,
    region: str = DRIFT_REGIONS[0],
    credentials: tuple[str, str] | None = None,
) -> list[str]:
    """What an earlier release or a crashed run leaves with the baseline's tags (as
    tests/integration/test_orphans.py plants it): a retired function with its role (an inline
    policy), queue, log group and schedule (a target), and a KMS key without alias (a data store,
    removed by the teardown with teardown_orphans and teardown_destroy_data only)."""
    import time

    client = _clients(endpoint, credentials or DRIFT_CREDENTIALS)
    tags = [{"Key": k, "Value": v} for k, v in ORPHAN_TAGS.items()]
    name = f"{prefix}-{region}-retired"
    iam = client("iam", region)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=tags)["Role"][
        "Arn"
    ]
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(document))
    lam = client("lambda", region)
    for attempt in range(60):  # IAM propagation (strict mode): until Lambda accepts the new role
        try:
            function = lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": _zip("def handler(event, context):\n    return None\n")},
                Tags=ORPHAN_TAGS,
            )["FunctionArn"]
            break
        except lam.exceptions.InvalidParameterValueException:
            if attempt == 59:
                raise
            time.sleep(1)
    client("sqs", region).create_queue(QueueName=f"{name}-dlq", tags=ORPHAN_TAGS)
    client("logs", region).create_log_group(logGroupName=f"/aws/lambda/{name}", tags=ORPHAN_TAGS)
    events = client("events", region)
    events.put_rule(Name=name, ScheduleExpression="rate(1 day)", Tags=tags)
    events.put_targets(Rule=name, Targets=[{"Id": "retired", "Arn": function}])
    kms = client("kms", region)
    key = kms.create_key(Tags=[{"TagKey": k, "TagValue": v} for k, v in ORPHAN_TAGS.items()])
    return [
        f"orphans in {region}: function, role, queue, log group, rule {name}; "
        f"key {key['KeyMetadata']['KeyId']} (no alias)"
    ]


def strand_lambda_interfaces(
    endpoint: str,
    prefix: str = DEFAULT_PREFIX,
    region: str = DRIFT_REGIONS[1],
    credentials: tuple[str, str] | None = None,
) -> list[str]:
    """The region's VPC functions deleted by hand with their execution roles, as a teardown of an
    earlier release (roles before the network) or an admin's clean-up leaves them: Lambda releases
    their network interfaces without the role that could delete them, so they stay `available`
    and the teardown deletes them (lambda_network_interfaces: ec2:DeleteNetworkInterface). The
    functions outside the VPC and their roles are left to the teardown."""
    client = _clients(endpoint, credentials or DRIFT_CREDENTIALS)
    lam, iam = client("lambda", region), client("iam", region)
    done = []
    for function in lam.list_functions()["Functions"]:
        name = function["FunctionName"]
        if not name.startswith(f"{prefix}-") or not (function.get("VpcConfig") or {}).get("SubnetIds"):
            continue
        lam.delete_function(FunctionName=name)
        role = function["Role"].rsplit("/", 1)[-1]
        for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=policy)
        for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=role, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=role)
        done.append(f"function {name} and its role {role} deleted by hand")
    return done


def add_iam_user(
    endpoint: str, name: str = "ci-reader", credentials: tuple[str, str] | None = None
) -> list[str]:
    """An IAM user with an access key: verify reads every user's keys (ListUsers, ListAccessKeys),
    and a fresh emulator account has no user."""
    iam = _clients(endpoint, credentials or DRIFT_CREDENTIALS)("iam", DRIFT_REGIONS[0])
    iam.create_user(UserName=name)
    iam.create_access_key(UserName=name)
    return [f"IAM user {name} with an access key"]


def record_runs(port: int) -> list[dict[str, Any]]:
    """Every request of: check on a fresh account, converge, rerun, check, drift report; then, with
    orphans planted (`plant_orphans`), the site with CHANGED_SETTINGS (another subscriber, a
    reservation removed, baseline_remove_orphans); the teardown with teardown_orphans (its dry run,
    the one that keeps the data stores - after `strand_lambda_interfaces` in us-west-1 -, the one
    that deletes them) and a converge again; then, after `apply_drift` (code, configuration,
    encryption, trail, network, role ... changed by hand), the drift report and the converge that
    puts the resources right; last, with an IAM user (`add_iam_user`), playbooks/verify.yml."""
    sys.path.insert(0, str(REPO_ROOT))
    from scripts import emulator

    endpoint = f"http://127.0.0.1:{port}"
    bindir = Path(sys.executable).parent
    playbook = [str(bindir / "ansible-playbook"), "site.yml"]
    drift = [str(bindir / "ansible-playbook"), DRIFT_PLAYBOOK]
    verify = [str(bindir / "ansible-playbook"), "playbooks/verify.yml"]
    confirm = f"teardown_confirm={EMULATOR_ACCOUNT}"
    teardown = [str(bindir / "ansible-playbook"), "playbooks/teardown.yml", "-e", confirm]
    runs = [[*playbook, "--check", "--diff"], playbook, playbook, [*playbook, "--check", "--diff"], drift]
    with tempfile.TemporaryDirectory() as tmp:
        # Strict mode (scripts/strict_aws.py): the retries AWS makes necessary are recorded too.
        started = emulator.start(port, record=True, recording_path=Path(tmp) / "recording.jsonl", strict=True)
        try:
            emulator.reset(port)
            _recorder(endpoint, "reset-recording")
            _recorder(endpoint, "start-recording")
            try:
                for cmd in runs:
                    _run(cmd, endpoint)
                # Orphans planted by hand (not the deployer's requests), then the documented
                # settings changed for one run: subscribers, a reservation, orphans removed.
                _recorder(endpoint, "stop-recording")
                for planted in plant_orphans(endpoint):
                    print(f"deployer-policy: {planted}", flush=True)
                _recorder(endpoint, "start-recording")
                _run([*playbook, "-e", json.dumps(CHANGED_SETTINGS)], endpoint)
                # The guarded teardown (playbooks/teardown.yml), with the orphans (the planted
                # key, a data store, is left to the last): its dry run, the default that keeps
                # the data stores, the one that deletes them too; then the converge that builds
                # the baseline again, with the inventory's settings. Before the drift below, whose
                # versioning suspension leaves null-version delete markers that moto 5.2.5 cannot
                # delete (AWS can).
                _run([*teardown, "-e", "teardown_orphans=true", "--check"], endpoint)
                # In one region, the VPC functions and their roles deleted by hand first: the
                # teardown deletes the interfaces Lambda could not (the other region: Lambda does).
                _recorder(endpoint, "stop-recording")
                for change in strand_lambda_interfaces(endpoint):
                    print(f"deployer-policy: {change}", flush=True)
                _recorder(endpoint, "start-recording")
                for extra in ([], ["-e", "teardown_destroy_data=true"]):
                    _run([*teardown, "-e", "teardown_orphans=true", *extra], endpoint)
                _run(playbook, endpoint)
                _recorder(endpoint, "stop-recording")  # our own drift is not the deployer's
                for change in apply_drift(endpoint):
                    print(f"deployer-policy: drift: {change}", flush=True)
                _recorder(endpoint, "start-recording")
                _run(drift, endpoint)
                _run(playbook, endpoint)
                _recorder(endpoint, "stop-recording")
                for change in add_iam_user(endpoint):
                    print(f"deployer-policy: {change}", flush=True)
                _recorder(endpoint, "start-recording")
                _run(verify, endpoint)
            finally:
                # Kept for `generate --recording` (a rerun of the mapping without the runs).
                _recorder(endpoint, "stop-recording")
                text = _recorder(endpoint, "download-recording", method="GET")
                emulator.STATE_DIR.mkdir(exist_ok=True)
                saved = emulator.STATE_DIR / f"deployer-policy-recording-{port}.jsonl"
                saved.write_text(text)
                print(f"deployer-policy: recording saved in {saved}", flush=True)
            return read_recording(text)
        finally:
            if started:
                emulator.stop(port)


def generate(port: int, output: Path, recording: Path | None = None) -> dict[str, Any]:
    entries = read_recording(recording.read_text()) if recording else record_runs(port)
    unknown = unknown_calls(entries)
    if unknown:
        raise SystemExit("deployer-policy: no IAM action known for: " + ", ".join(unknown))
    policy = render(policy_from_entries(entries), DEFAULT_PREFIX, DEFAULT_PARTITION, ANY_ACCOUNT)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(dump(policy))
    print(f"deployer-policy: {len(entries)} requests, {action_count(policy)} actions -> {output}")
    return policy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="record the runs on a private emulator and write the policy")
    gen.add_argument("--port", type=int, default=int(os.environ.get("DEPLOYER_POLICY_PORT", "4660")))
    gen.add_argument("--output", type=Path, default=POLICY_PATH)
    gen.add_argument("--recording", type=Path, help="use this moto recording instead of recording runs")
    ren = sub.add_parser("render", help="write the shipped policy for another prefix/partition/account")
    ren.add_argument("--prefix", default=DEFAULT_PREFIX)
    ren.add_argument("--partition", default=DEFAULT_PARTITION)
    ren.add_argument("--account", default=ANY_ACCOUNT)
    ren.add_argument("--policy", type=Path, default=POLICY_PATH)
    act = sub.add_parser("actions", help="print the IAM actions of a moto recording")
    act.add_argument("recording", type=Path)
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate(args.port, args.output, args.recording)
    elif args.command == "render":
        shipped = json.loads(args.policy.read_text())
        patterns = template(shipped, DEFAULT_PREFIX, DEFAULT_PARTITION, ANY_ACCOUNT)
        sys.stdout.write(dump(render(patterns, args.prefix, args.partition, args.account)))
    else:
        for permission in all_permissions(read_recording(args.recording.read_text())):
            print(f"{permission.action}\t{permission.resource or '*'}\t(from {permission.api_action})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
