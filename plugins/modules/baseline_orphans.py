#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: baseline_orphans
short_description: List (and on request remove) what carries the baseline's tags but is no longer managed
version_added: 0.3.0
description:
  - Finds, in the region, every resource that carries all of O(tags) (the baseline's C(ManagedBy)
    and C(Project) tags) and compares it with what the definition manages (O(managed), O(iam)).
    Each resource left over is an orphan - something an earlier release made and no longer manages
    (0.1.0's C(key_rotation) function in a region other than the home region), a setting that was
    renamed (another prefix, key alias, VPC CIDR), or a duplicate a crashed run left (a key without
    its alias).
  - The taggable kinds are read with one paginated C(tag:GetResources) per region (the Resource
    Groups Tagging API) - Lambda functions, SQS queues, SNS topics, CloudWatch Logs log groups,
    CloudWatch alarms, EventBridge rules, KMS keys, VPCs, subnets, route tables, security groups,
    VPC endpoints, S3 buckets (those of the region, C(ListBuckets) with C(BucketRegion), read only when
    a tagged bucket is not a managed one), DynamoDB tables and CloudTrail trails (in their home region).
    KMS aliases of the baseline's keys come from C(ListAliases); the CloudWatch Logs metric filters of
    O(managed.metric_filters) (they take no tags) from C(DescribeMetricFilters); IAM roles (global),
    when O(iam) is given, from a paginated C(ListRoles) (names, paths, ARNs - not
    C(GetAccountAuthorizationDetails), which IAM throttles and which answers every policy of the
    account), then C(ListRoleTags) for each candidate only - a role not managed that this host answers
    for (O(iam.regions), O(iam.home)).
  - A managed resource is never an orphan, whatever its tags. A resource of a kind the baseline does
    not make is ignored, tags or not.
  - With O(remove), the orphans are removed, in an order that leaves nothing dangling - rules (their
    targets first), alarms, metric filters, trails, functions (their event source mappings first),
    then, once Lambda has released the network interfaces of removed VPC functions, queues, topics,
    log groups, KMS aliases, VPC endpoints, security groups, subnets, route tables (associations
    first), VPCs and IAM roles (inline policies, managed policies and instance profiles first, read
    at removal with C(ListRolePolicies), C(ListAttachedRolePolicies) and C(ListInstanceProfilesForRole)).
  - Data stores - S3 buckets, DynamoDB tables and KMS keys - are only reported, unless
    O(remove_data_stores) is also set - then a table loses its deletion protection and is deleted, a
    bucket loses its policy, every object version and delete marker, and is deleted, and a key is
    scheduled for deletion (30 days, the longest window) before its aliases are deleted.
  - In check mode nothing is written; the orphans that O(remove) would remove are reported as such
    and the result is changed.
options:
  tags:
    description:
      - The tags that mark the baseline's resources; a resource must carry all of them.
    type: dict
    required: true
  managed:
    description:
      - What the definition manages in this region. Omit it to read no regional resource (IAM only).
    type: dict
    suboptions:
      functions:
        description: Lambda function names.
        type: list
        elements: str
        default: []
      queues:
        description: SQS queue names.
        type: list
        elements: str
        default: []
      topics:
        description: SNS topic names.
        type: list
        elements: str
        default: []
      log_groups:
        description: CloudWatch Logs log group names.
        type: list
        elements: str
        default: []
      metric_filters:
        description:
          - The metric filters of these log groups; any other filter of such a log group (when it
            carries O(tags)) is an orphan. Filters take no tags, so only the log groups listed here
            are read.
        type: list
        elements: dict
        default: []
        suboptions:
          log_group:
            description: The log group.
            type: str
            required: true
          names:
            description: The filter names the definition puts on it.
            type: list
            elements: str
            default: []
      alarms:
        description: CloudWatch metric alarm names.
        type: list
        elements: str
        default: []
      alarm_prefixes:
        description:
          - Alarms whose names start with one of these are never orphans here - another module owns
            that namespace and removes what it no longer defines (the monitoring role's
            M(secureinfra.baseline.cloudwatch_metric_alarms) with C(purge_prefix)), so check mode does
            not count them twice.
        type: list
        elements: str
        default: []
      rules:
        description: EventBridge rule names (default event bus).
        type: list
        elements: str
        default: []
      key_aliases:
        description:
          - KMS alias names (C(alias/...)); the keys they name are managed. Any other alias of a tagged
            key is an orphan alias.
        type: list
        elements: str
        default: []
      buckets:
        description: S3 bucket names.
        type: list
        elements: str
        default: []
      tables:
        description: DynamoDB table names.
        type: list
        elements: str
        default: []
      trails:
        description: CloudTrail trail names (of trails whose home is this region).
        type: list
        elements: str
        default: []
      ec2_ids:
        description: Ids of the VPC, subnets, route tables, security groups and VPC endpoints.
        type: list
        elements: str
        default: []
  iam:
    description:
      - The IAM roles this host answers for. IAM is global - each role is handled by one host of the
        account - the host of the region its name names (C(<prefix>-us-west-1-processor) by the
        C(us-west-1) host), and the home-region host (O(iam.home)) for a role that names none of
        O(iam.regions). Omit it to read no IAM role.
      - Service-linked roles (path C(/aws-service-role/)) are never read.
    type: dict
    suboptions:
      roles:
        description: The role names the definition manages among those this host answers for.
        type: list
        elements: str
        default: []
      regions:
        description: The regions of the account's hosts.
        type: list
        elements: str
        default: []
      home:
        description: Whether this host also answers for the roles that name none of O(iam.regions).
        type: bool
        default: false
  remove:
    description:
      - Remove the orphans (in check mode, report what would be removed). Data stores only with
        O(remove_data_stores) too.
      - V(false) - only report them.
    type: bool
    default: false
  remove_data_stores:
    description:
      - With O(remove), also remove the orphaned data stores - S3 buckets with every object version,
        DynamoDB tables, and KMS keys (scheduled for deletion in 30 days).
    type: bool
    default: false
  network_release_timeout:
    description:
      - Seconds to wait, after removing VPC functions, while Lambda still holds a network interface that
        no remaining function uses, before the subnets, security groups and roles go (Lambda deletes
        those interfaces with the function's role, up to 20 minutes after C(DeleteFunction)); an
        interface it released but could not delete is deleted. C(0) does not wait.
    type: int
    default: 2700
notes:
  - "IAM actions: C(tag:GetResources), C(kms:ListAliases), C(s3:ListAllMyBuckets) (when a tagged bucket is
    not managed), C(logs:DescribeMetricFilters) (with O(managed.metric_filters)),
    C(iam:ListRoles) and C(iam:ListRoleTags) (with O(iam)), C(kms:DescribeKey) (an unmanaged key);
    to remove also the C(Delete*) action of each kind, C(events:ListTargetsByRule),
    C(events:RemoveTargets), C(lambda:GetFunction), C(lambda:ListFunctions),
    C(lambda:ListEventSourceMappings), C(lambda:DeleteEventSourceMapping), C(sqs:GetQueueUrl),
    C(ec2:DescribeNetworkInterfaces), C(ec2:DescribeRouteTables), C(ec2:DisassociateRouteTable),
    C(iam:ListRolePolicies), C(iam:ListAttachedRolePolicies), C(iam:ListInstanceProfilesForRole),
    C(iam:DeleteRolePolicy), C(iam:DetachRolePolicy), C(iam:RemoveRoleFromInstanceProfile); for data
    stores C(dynamodb:DescribeTable), C(dynamodb:UpdateTable), C(s3:DeleteBucketPolicy),
    C(s3:ListBucketVersions), C(s3:DeleteObjectVersion), C(kms:ScheduleKeyDeletion)."
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: The resources tagged as the baseline's that the definition no longer manages
  secureinfra.baseline.baseline_orphans:
    tags:
      ManagedBy: ansible
      Project: secure-infrastructure
    managed:
      functions: [secureinfra-us-west-1-processor, secureinfra-us-west-1-analytics]
      queues: [secureinfra-us-west-1-processor-dlq, secureinfra-us-west-1-analytics-dlq]
      log_groups: [/aws/lambda/secureinfra-us-west-1-processor, /aws/lambda/secureinfra-us-west-1-analytics]
      rules: [secureinfra-us-west-1-analytics]
      key_aliases: [alias/secureinfra-baseline]
    iam:
      roles: [secureinfra-us-west-1-processor, secureinfra-us-west-1-analytics]
      regions: [us-east-1, us-west-1]
      home: false
  register: orphans

- name: Remove them (data stores too)
  secureinfra.baseline.baseline_orphans:
    tags: {ManagedBy: ansible, Project: secure-infrastructure}
    managed: "{{ managed }}"
    remove: true
    remove_data_stores: true
"""

RETURN = r"""
orphans:
  description: Every orphan found, in the order they are (or would be) removed.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: C(lambda function), C(SQS queue), C(SNS topic), C(log group), C(metric filter),
        C(CloudWatch alarm), C(EventBridge rule), C(KMS key), C(KMS alias), C(VPC), C(subnet),
        C(route table), C(security group), C(VPC endpoint), C(S3 bucket), C(DynamoDB table),
        C(CloudTrail trail) or C(IAM role).
      type: str
    name:
      description: Its name (an id for the EC2 kinds; C(<log group>:<filter>) for a metric filter).
      type: str
    arn:
      description: Its ARN (EC2 kinds, KMS aliases and metric filters - the ARN of the resource or its id).
      type: str
    region:
      description: The region, or C(global) for an IAM role.
      type: str
    why:
      description: Why it is an orphan.
      type: str
    data_store:
      description: Whether it is a data store (bucket, table, key).
      type: bool
    action:
      description: C(reported) (O(remove) off), C(removed), C(would remove) (check mode), or
        C(kept, a data store) (O(remove_data_stores) off).
      type: str
  sample:
    - kind: lambda function
      name: secureinfra-us-west-1-key_rotation
      arn: arn:aws:lambda:us-west-1:123456789012:function:secureinfra-us-west-1-key_rotation
      region: us-west-1
      why: >-
        carries ManagedBy=ansible, Project=secure-infrastructure; not one of the lambda functions
        the definition manages in us-west-1
      data_store: false
      action: removed
msg:
  description: The orphans in one line, when there are any.
  returned: when orphans are found
  type: str
"""

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.backoff import RetryPolicy, next_delay
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

# Removal order: what refers to something goes before it.
ORDER = (
    "EventBridge rule",
    "CloudWatch alarm",
    "metric filter",
    "CloudTrail trail",
    "lambda function",
    "SQS queue",
    "SNS topic",
    "log group",
    "KMS alias",
    "VPC endpoint",
    "security group",
    "subnet",
    "route table",
    "VPC",
    "IAM role",
    "DynamoDB table",
    "S3 bucket",
    "KMS key",
)
DATA_STORES = ("S3 bucket", "DynamoDB table", "KMS key")
EC2_KINDS = {
    "vpc": "VPC",
    "subnet": "subnet",
    "route-table": "route table",
    "security-group": "security group",
    "vpc-endpoint": "VPC endpoint",
}
MANAGED_KEYS = {
    "lambda function": "functions",
    "SQS queue": "queues",
    "SNS topic": "topics",
    "log group": "log_groups",
    "CloudWatch alarm": "alarms",
    "EventBridge rule": "rules",
    "S3 bucket": "buckets",
    "DynamoDB table": "tables",
    "CloudTrail trail": "trails",
}
KEY_DELETION_DAYS = 30
LAMBDA_ENI = "AWS Lambda VPC ENI*"
GONE_CODES = [
    "ResourceNotFoundException",
    "ResourceNotFound",
    "NoSuchEntity",
    "NoSuchBucket",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NotFound",
    "TrailNotFoundException",
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidVpcEndpointId.NotFound",
    "InvalidNetworkInterfaceID.NotFound",
]


@dataclass
class Orphan:
    kind: str
    name: str
    arn: str
    region: str
    why: str
    detail: dict[str, Any] = field(default_factory=dict)
    action: str = "reported"

    @property
    def data_store(self) -> bool:
        return self.kind in DATA_STORES

    def result(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "arn": self.arn,
            "region": self.region,
            "why": self.why,
            "data_store": self.data_store,
            "action": self.action,
        }

    def line(self) -> str:
        return f"{self.kind} {self.name} ({self.action})"


def input_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the arguments, found before any AWS call."""
    errors: list[str] = []
    tags = params["tags"] or {}
    if not tags:
        errors.append("tags: at least one tag is needed (the baseline's ManagedBy and Project)")
    errors.extend(
        f"tags.{key}: a tag value must be a non-empty string (got {value!r})"
        for key, value in tags.items()
        if not isinstance(value, str) or not value
    )
    if params["managed"] is None and params["iam"] is None:
        errors.append("managed or iam: give at least one (nothing would be read)")
    if params["network_release_timeout"] < 0:
        errors.append(f"network_release_timeout: 0 or more seconds (got {params['network_release_timeout']})")
    if params["remove_data_stores"] and not params["remove"]:
        errors.append("remove_data_stores: needs remove as well")
    for index, alias in enumerate((params["managed"] or {}).get("key_aliases") or []):
        if not alias.startswith("alias/"):
            errors.append(f"managed.key_aliases[{index}]: {alias} must start with alias/")
    return errors


def names_region(name: str, region: str) -> bool:
    """Whether a role name names the region as a dash-separated part: x-us-west-1-y."""
    return re.search(rf"(^|-){re.escape(region)}(-|$)", name) is not None


def arn_parts(arn: str) -> tuple[str, str, str]:
    """(service, region, resource) of an ARN."""
    parts = arn.split(":", 5)
    return parts[2], parts[3], parts[5] if len(parts) > 5 else ""


@AWSRetry.jittered_backoff()
def _paginate(client: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
    return client.get_paginator(operation).paginate(**kwargs).build_full_result()


class Orphans:
    """The region's tagged resources against the definition; orphans found, then removed in order."""

    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.region = module.region
        self.tags: dict[str, str] = module.params["tags"]
        self.managed: dict[str, Any] = module.params["managed"] or {}
        self.clients: dict[str, Any] = {}
        self.removed_functions: list[dict[str, Any]] = []
        self.tag_text = ", ".join(f"{key}={value}" for key, value in sorted(self.tags.items()))

    # -- helpers -----------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.module.client(service, retry_decorator=AWSRetry.jittered_backoff())
        return self.clients[service]

    def read(self, service: str, operation: str, key: str, **kwargs: Any) -> list[Any]:
        try:
            return _paginate(self.client(service), operation, **kwargs).get(key, [])
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to read {service} {operation}")

    def call(self, service: str, operation: str, what: str, gone_ok: bool = True, **kwargs: Any) -> Any:
        """One call with the collection's retries; a resource already gone is not an error."""
        try:
            return getattr(self.client(service), operation)(aws_retry=True, **kwargs)
        except is_boto3_error_code(GONE_CODES) as e:
            if gone_ok:
                return None
            self.module.fail_json_aws(e, msg=f"Failed to {what}")
        except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Failed to {what}")

    def why(self, kind: str) -> str:
        return f"carries {self.tag_text}; not one of the {kind}s the definition manages in {self.region}"

    # -- finding -----------------------------------------------------------------------------

    def tagged(self) -> list[str]:
        filters = [{"Key": key, "Values": [value]} for key, value in self.tags.items()]
        mappings = self.read(
            "resourcegroupstaggingapi",
            "get_resources",
            "ResourceTagMappingList",
            TagFilters=filters,
            ResourcesPerPage=100,
        )
        return sorted({mapping["ResourceARN"] for mapping in mappings})

    def regional(self) -> list[Orphan]:
        found: list[Orphan] = []
        buckets: dict[str, str] = {}  # name => ARN
        keys: dict[str, str] = {}  # key id => ARN
        groups: set[str] = set()  # tagged log groups
        for arn in self.tagged():
            service, region, resource = arn_parts(arn)
            if service == "s3":
                buckets[resource] = arn
                continue
            if region != self.region:
                continue
            orphan = self.classify(arn, service, resource)
            if orphan is None:
                continue
            if orphan.kind == "log group":
                groups.add(orphan.name)
            if orphan.kind == "KMS key":
                keys[orphan.name] = arn
            elif not self.is_managed(orphan):
                found.append(orphan)
        found += self.keys(keys)
        found += self.buckets(buckets)
        found += self.metric_filters(groups)
        return found

    def classify(self, arn: str, service: str, resource: str) -> Orphan | None:
        """The kind and name of a tagged ARN; None for a kind the baseline does not make."""
        kind, name = "", ""
        if service == "lambda" and resource.startswith("function:"):
            kind, name = "lambda function", resource.split(":")[1]
        elif service == "sqs" and resource and ":" not in resource:
            kind, name = "SQS queue", resource
        elif service == "sns" and resource and ":" not in resource:
            kind, name = "SNS topic", resource
        elif service == "logs" and resource.startswith("log-group:"):
            kind, name = "log group", resource[len("log-group:") :].removesuffix(":*")
        elif service == "cloudwatch" and resource.startswith("alarm:"):
            kind, name = "CloudWatch alarm", resource[len("alarm:") :]
        elif service == "events" and resource.startswith("rule/") and resource.count("/") == 1:
            kind, name = "EventBridge rule", resource[len("rule/") :]
        elif service == "kms" and resource.startswith("key/"):
            kind, name = "KMS key", resource[len("key/") :]
        elif service == "ec2" and resource.split("/", 1)[0] in EC2_KINDS and "/" in resource:
            kind, name = EC2_KINDS[resource.split("/", 1)[0]], resource.split("/", 1)[1]
        elif service == "dynamodb" and resource.startswith("table/") and resource.count("/") == 1:
            kind, name = "DynamoDB table", resource[len("table/") :]
        elif service == "cloudtrail" and resource.startswith("trail/"):
            kind, name = "CloudTrail trail", resource[len("trail/") :]
        if not kind:
            return None
        return Orphan(kind, name, arn, self.region, self.why(kind))

    def is_managed(self, orphan: Orphan) -> bool:
        if orphan.kind == "CloudWatch alarm" and orphan.name.startswith(
            tuple(self.managed.get("alarm_prefixes") or [])
        ):
            return True
        if orphan.kind in EC2_KINDS.values():
            return orphan.name in (self.managed.get("ec2_ids") or [])
        return orphan.name in (self.managed.get(MANAGED_KEYS[orphan.kind]) or [])

    def keys(self, tagged: dict[str, str]) -> list[Orphan]:
        """Tagged keys no managed alias names (and not already pending deletion), then the aliases of
        tagged keys that the definition does not define."""
        if not tagged:
            return []
        wanted = set(self.managed.get("key_aliases") or [])
        aliases = [a for a in self.read("kms", "list_aliases", "Aliases") if a.get("TargetKeyId") in tagged]
        managed_keys = {a["TargetKeyId"] for a in aliases if a["AliasName"] in wanted}
        found: list[Orphan] = []
        for key_id, arn in sorted(tagged.items()):
            if key_id in managed_keys:
                continue
            metadata = self.call("kms", "describe_key", f"read the key {key_id}", KeyId=key_id)
            state = ((metadata or {}).get("KeyMetadata") or {}).get("KeyState")
            if state in (None, "PendingDeletion", "PendingReplicaDeletion"):
                continue
            names = sorted(a["AliasName"] for a in aliases if a["TargetKeyId"] == key_id)
            why = f"carries {self.tag_text}; no alias the definition manages names it"
            why += f" (its aliases: {', '.join(names)})" if names else " (it has no alias)"
            found.append(Orphan("KMS key", key_id, arn, self.region, why, {"aliases": names}))
        for alias in aliases:
            if alias["AliasName"] in wanted or alias["TargetKeyId"] not in managed_keys:
                continue  # an alias of an orphaned key goes with that key
            why = f"an alias of the baseline's key {alias['TargetKeyId']} that the definition does not define"
            found.append(
                Orphan(
                    "KMS alias",
                    alias["AliasName"],
                    alias.get("AliasArn", alias["AliasName"]),
                    self.region,
                    why,
                )
            )
        return found

    def buckets(self, tagged: dict[str, str]) -> list[Orphan]:
        """Tagged buckets of this region that are not managed (the region is read only when needed)."""
        candidates = sorted(set(tagged) - set(self.managed.get("buckets") or []))
        if not candidates:
            return []
        here = {b["Name"] for b in self.read("s3", "list_buckets", "Buckets", BucketRegion=self.region)}
        return [
            Orphan("S3 bucket", name, tagged[name], self.region, self.why("S3 bucket"))
            for name in candidates
            if name in here
        ]

    def metric_filters(self, tagged: set[str]) -> list[Orphan]:
        """Filters of the listed log groups that carry the tags, other than the definition's."""
        found: list[Orphan] = []
        for entry in self.managed.get("metric_filters") or []:
            group, names = entry["log_group"], set(entry["names"] or [])
            if group not in tagged:
                continue
            try:
                filters = _paginate(self.client("logs"), "describe_metric_filters", logGroupName=group)
            except is_boto3_error_code("ResourceNotFoundException"):
                continue
            except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg=f"Failed to read the metric filters of {group}")
            for item in filters.get("metricFilters", []):
                if item.get("logGroupName", group) != group or item["filterName"] in names:
                    continue
                why = f"in the baseline's log group {group}; not one of the definition's filters there"
                found.append(
                    Orphan(
                        "metric filter",
                        f"{group}:{item['filterName']}",
                        f"{group}:{item['filterName']}",
                        self.region,
                        why,
                        {"log_group": group, "filter": item["filterName"]},
                    )
                )
        return found

    def roles(self) -> list[Orphan]:
        """The account's roles by name (ListRoles, no policies); the tags (ListRoleTags) are read only
        for the candidates - not managed, not service-linked, and answered for by this host."""
        spec = self.params["iam"]
        managed, regions = set(spec["roles"] or []), [r for r in spec["regions"] or [] if r]
        found: list[Orphan] = []
        for role in self.read("iam", "list_roles", "Roles"):
            name = role["RoleName"]
            if name in managed or (role.get("Path") or "/").startswith("/aws-service-role/"):
                continue
            if names_region(name, self.region):
                scope = f"named for {self.region}"
            elif spec["home"] and not any(names_region(name, r) for r in regions):
                scope = "named for none of the account's regions (the home region answers for it)"
            else:
                continue
            tag_list = self.role_list(name, "list_role_tags", "Tags")
            if tag_list is None:
                continue  # gone since ListRoles
            tags = {t["Key"]: t["Value"] for t in tag_list}
            if any(tags.get(key) != value for key, value in self.tags.items()):
                continue
            why = f"carries {self.tag_text}; {scope}, and not one of the roles the definition manages"
            found.append(Orphan("IAM role", name, role["Arn"], "global", why))
        return found

    def role_list(self, name: str, operation: str, key: str) -> list[Any] | None:
        """A paginated IAM read of one role; None when the role is gone."""
        try:
            return _paginate(self.client("iam"), operation, RoleName=name).get(key, [])
        except is_boto3_error_code("NoSuchEntity"):
            return None
        except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Failed to read iam {operation} of {name}")

    def find(self) -> list[Orphan]:
        found = self.regional() if self.params["managed"] is not None else []
        if self.params["iam"] is not None:
            found += self.roles()
        return sorted(found, key=lambda o: (ORDER.index(o.kind), o.name))

    # -- removing ----------------------------------------------------------------------------

    def remove(self, orphans: list[Orphan]) -> None:
        removers: dict[str, Callable[[Orphan], None]] = {
            "EventBridge rule": self.remove_rule,
            "CloudWatch alarm": self.remove_alarm,
            "metric filter": self.remove_metric_filter,
            "CloudTrail trail": self.remove_trail,
            "lambda function": self.remove_function,
            "SQS queue": self.remove_queue,
            "SNS topic": self.remove_topic,
            "log group": self.remove_log_group,
            "KMS alias": self.remove_alias,
            "VPC endpoint": self.remove_endpoint,
            "security group": self.remove_security_group,
            "subnet": self.remove_subnet,
            "route table": self.remove_route_table,
            "VPC": self.remove_vpc,
            "IAM role": self.remove_role,
            "DynamoDB table": self.remove_table,
            "S3 bucket": self.remove_bucket,
            "KMS key": self.remove_key,
        }
        released = False
        for orphan in orphans:
            if orphan.action != "removed":
                continue
            if not released and ORDER.index(orphan.kind) > ORDER.index("lambda function"):
                self.wait_for_lambda_interfaces()
                released = True
            removers[orphan.kind](orphan)
        if not released:
            self.wait_for_lambda_interfaces()

    def remove_rule(self, orphan: Orphan) -> None:
        targets = self.read("events", "list_targets_by_rule", "Targets", Rule=orphan.name)
        if targets:
            ids = [t["Id"] for t in targets]
            self.call(
                "events", "remove_targets", f"remove the targets of {orphan.name}", Rule=orphan.name, Ids=ids
            )
        self.call("events", "delete_rule", f"delete the rule {orphan.name}", Name=orphan.name)

    def remove_alarm(self, orphan: Orphan) -> None:
        self.call("cloudwatch", "delete_alarms", f"delete the alarm {orphan.name}", AlarmNames=[orphan.name])

    def remove_metric_filter(self, orphan: Orphan) -> None:
        self.call(
            "logs",
            "delete_metric_filter",
            f"delete the metric filter {orphan.name}",
            logGroupName=orphan.detail["log_group"],
            filterName=orphan.detail["filter"],
        )

    def remove_trail(self, orphan: Orphan) -> None:
        self.call("cloudtrail", "delete_trail", f"delete the trail {orphan.name}", Name=orphan.arn)

    def remove_function(self, orphan: Orphan) -> None:
        answer = self.call("lambda", "get_function", f"read {orphan.name}", FunctionName=orphan.name)
        if answer is None:
            return
        config = answer.get("Configuration") or {}
        for mapping in self.read(
            "lambda", "list_event_source_mappings", "EventSourceMappings", FunctionName=orphan.name
        ):
            self.call(
                "lambda",
                "delete_event_source_mapping",
                f"delete the event source mapping {mapping['UUID']}",
                UUID=mapping["UUID"],
            )
        self.call("lambda", "delete_function", f"delete the function {orphan.name}", FunctionName=orphan.name)
        vpc = config.get("VpcConfig") or {}
        if vpc.get("SubnetIds"):
            self.removed_functions.append(vpc)

    def wait_for_lambda_interfaces(self) -> None:
        """Wait while Lambda holds an interface of a removed VPC function that no remaining function
        uses (same subnet and security groups); delete those it released but could not delete."""
        if not self.removed_functions:
            return
        pairs = {
            (subnet, tuple(sorted(vpc.get("SecurityGroupIds") or [])))
            for vpc in self.removed_functions
            for subnet in vpc["SubnetIds"]
        }
        remaining = {
            (subnet, tuple(sorted((f.get("VpcConfig") or {}).get("SecurityGroupIds") or [])))
            for f in self.read("lambda", "list_functions", "Functions")
            for subnet in (f.get("VpcConfig") or {}).get("SubnetIds") or []
        }
        pairs -= remaining
        self.removed_functions = []
        policy = RetryPolicy(
            error_codes=(), timeout=float(self.params["network_release_timeout"]), max_delay=30.0
        )
        start, attempt = time.monotonic(), 0
        while True:
            held = []
            for eni in self.lambda_interfaces(pairs):
                if eni.get("Status") == "available":
                    self.call(
                        "ec2",
                        "delete_network_interface",
                        f"delete {eni['NetworkInterfaceId']}",
                        NetworkInterfaceId=eni["NetworkInterfaceId"],
                    )
                elif eni.get("Status") == "in-use":
                    held.append(eni["NetworkInterfaceId"])
            if not held:
                return
            delay = next_delay(policy, attempt, time.monotonic() - start)
            if delay is None:
                self.module.fail_json(
                    msg=f"Lambda still holds network interface(s) {', '.join(held)} of removed functions "
                    f"after {round(time.monotonic() - start)} s (network_release_timeout); run again later."
                )
            time.sleep(delay)
            attempt += 1

    def lambda_interfaces(self, pairs: set[tuple[str, tuple[str, ...]]]) -> Iterator[dict[str, Any]]:
        subnets = sorted({pair[0] for pair in pairs})
        if not subnets:
            return
        filters = [{"Name": "subnet-id", "Values": subnets}, {"Name": "description", "Values": [LAMBDA_ENI]}]
        for eni in self.read("ec2", "describe_network_interfaces", "NetworkInterfaces", Filters=filters):
            groups = tuple(sorted(g["GroupId"] for g in eni.get("Groups") or []))
            if eni.get("RequesterManaged") and (eni.get("SubnetId"), groups) in pairs:
                yield eni

    def remove_queue(self, orphan: Orphan) -> None:
        answer = self.call("sqs", "get_queue_url", f"find the queue {orphan.name}", QueueName=orphan.name)
        if answer:
            self.call("sqs", "delete_queue", f"delete the queue {orphan.name}", QueueUrl=answer["QueueUrl"])

    def remove_topic(self, orphan: Orphan) -> None:
        self.call("sns", "delete_topic", f"delete the topic {orphan.name}", TopicArn=orphan.arn)

    def remove_log_group(self, orphan: Orphan) -> None:
        self.call("logs", "delete_log_group", f"delete the log group {orphan.name}", logGroupName=orphan.name)

    def remove_alias(self, orphan: Orphan) -> None:
        self.call("kms", "delete_alias", f"delete the alias {orphan.name}", AliasName=orphan.name)

    def remove_endpoint(self, orphan: Orphan) -> None:
        self.call("ec2", "delete_vpc_endpoints", f"delete {orphan.name}", VpcEndpointIds=[orphan.name])

    def remove_security_group(self, orphan: Orphan) -> None:
        self.call("ec2", "delete_security_group", f"delete {orphan.name}", GroupId=orphan.name)

    def remove_subnet(self, orphan: Orphan) -> None:
        self.call("ec2", "delete_subnet", f"delete {orphan.name}", SubnetId=orphan.name)

    def remove_route_table(self, orphan: Orphan) -> None:
        filters = [{"Name": "route-table-id", "Values": [orphan.name]}]
        for table in self.read("ec2", "describe_route_tables", "RouteTables", Filters=filters):
            for association in table.get("Associations") or []:
                if not association.get("Main") and association.get("RouteTableAssociationId"):
                    self.call(
                        "ec2",
                        "disassociate_route_table",
                        f"disassociate {association['RouteTableAssociationId']}",
                        AssociationId=association["RouteTableAssociationId"],
                    )
        self.call("ec2", "delete_route_table", f"delete {orphan.name}", RouteTableId=orphan.name)

    def remove_vpc(self, orphan: Orphan) -> None:
        self.call("ec2", "delete_vpc", f"delete {orphan.name}", VpcId=orphan.name)

    def remove_role(self, orphan: Orphan) -> None:
        """What must go first, read at removal: inline policies, managed policies, instance profiles."""
        name = orphan.name
        inline = self.role_list(name, "list_role_policies", "PolicyNames")
        attached = self.role_list(name, "list_attached_role_policies", "AttachedPolicies")
        profiles = self.role_list(name, "list_instance_profiles_for_role", "InstanceProfiles")
        if inline is None or attached is None or profiles is None:
            return  # gone already
        for policy in inline:
            self.call(
                "iam",
                "delete_role_policy",
                f"delete the policy of {name}",
                RoleName=name,
                PolicyName=policy,
            )
        for policy in attached:
            self.call(
                "iam",
                "detach_role_policy",
                f"detach from {name}",
                RoleName=name,
                PolicyArn=policy["PolicyArn"],
            )
        for profile in profiles:
            self.call(
                "iam",
                "remove_role_from_instance_profile",
                f"remove {name} from {profile['InstanceProfileName']}",
                InstanceProfileName=profile["InstanceProfileName"],
                RoleName=name,
            )
        self.call("iam", "delete_role", f"delete the role {name}", RoleName=name)

    def remove_table(self, orphan: Orphan) -> None:
        answer = self.call("dynamodb", "describe_table", f"read {orphan.name}", TableName=orphan.name)
        if answer is None:
            return
        if answer["Table"].get("DeletionProtectionEnabled"):
            self.call(
                "dynamodb",
                "update_table",
                f"lift the deletion protection of {orphan.name}",
                TableName=orphan.name,
                DeletionProtectionEnabled=False,
            )
        self.call("dynamodb", "delete_table", f"delete the table {orphan.name}", TableName=orphan.name)
        try:
            self.client("dynamodb").get_waiter("table_not_exists").wait(
                TableName=orphan.name, WaiterConfig={"Delay": 2, "MaxAttempts": 150}
            )
        except (BotoCoreError, ClientError, WaiterError) as e:
            self.module.fail_json_aws(e, msg=f"Timed out waiting for the table {orphan.name} to go")

    def remove_bucket(self, orphan: Orphan) -> None:
        name = orphan.name
        self.call("s3", "delete_bucket_policy", f"delete the policy of {name}", Bucket=name)
        for page in self.pages("s3", "list_object_versions", Bucket=name):
            objects = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])
            ]
            for start in range(0, len(objects), 1000):
                answer = self.call(
                    "s3",
                    "delete_objects",
                    f"delete the objects of {name}",
                    Bucket=name,
                    Delete={"Objects": objects[start : start + 1000], "Quiet": True},
                )
                if answer and answer.get("Errors"):
                    self.module.fail_json(msg=f"Failed to delete objects of {name}: {answer['Errors'][:5]}")
        self.call("s3", "delete_bucket", f"delete the bucket {name}", Bucket=name)

    def pages(self, service: str, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        try:
            yield from self.client(service).get_paginator(operation).paginate(**kwargs)
        except is_boto3_error_code(GONE_CODES):
            return
        except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Failed to read {service} {operation}")

    def remove_key(self, orphan: Orphan) -> None:
        self.call(
            "kms",
            "schedule_key_deletion",
            f"schedule the deletion of {orphan.name}",
            KeyId=orphan.name,
            PendingWindowInDays=KEY_DELETION_DAYS,
        )
        for alias in orphan.detail.get("aliases") or []:
            self.call("kms", "delete_alias", f"delete the alias {alias}", AliasName=alias)

    # -- all ---------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        orphans = self.find()
        remove, data = self.params["remove"], self.params["remove_data_stores"]
        for orphan in orphans:
            if not remove:
                orphan.action = "reported"
            elif orphan.data_store and not data:
                orphan.action = "kept, a data store"
            else:
                orphan.action = "would remove" if self.module.check_mode else "removed"
        if not self.module.check_mode:
            self.remove(orphans)
        changing = [o for o in orphans if o.action in ("removed", "would remove")]
        result: dict[str, Any] = {"changed": bool(changing), "orphans": [o.result() for o in orphans]}
        if orphans:
            result["msg"] = f"{len(orphans)} orphan(s): " + "; ".join(o.line() for o in orphans)
        if self.module._diff:
            result["diff"] = {
                "before": {"orphans": [f"{o.kind} {o.name}" for o in orphans]},
                "after": {"orphans": [f"{o.kind} {o.name}" for o in orphans if o not in changing]},
            }
        return result


def main() -> None:
    share_botocore()
    names = {"type": "list", "elements": "str", "default": []}
    module = AnsibleAWSModule(
        argument_spec={
            "tags": {"type": "dict", "required": True},
            "managed": {
                "type": "dict",
                "options": {
                    "functions": names,
                    "queues": names,
                    "topics": names,
                    "log_groups": names,
                    "metric_filters": {
                        "type": "list",
                        "elements": "dict",
                        "default": [],
                        "options": {"log_group": {"type": "str", "required": True}, "names": names},
                    },
                    "alarms": names,
                    "alarm_prefixes": names,
                    "rules": names,
                    "key_aliases": {**names, "no_log": False},  # alias names, not secrets
                    "buckets": names,
                    "tables": names,
                    "trails": names,
                    "ec2_ids": names,
                },
            },
            "iam": {
                "type": "dict",
                "options": {"roles": names, "regions": names, "home": {"type": "bool", "default": False}},
            },
            "remove": {"type": "bool", "default": False},
            "remove_data_stores": {"type": "bool", "default": False},
            "network_release_timeout": {"type": "int", "default": 2700},
        },
        supports_check_mode=True,
    )
    errors = input_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    module.exit_json(**Orphans(module).run())


if __name__ == "__main__":
    main()
