# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Read one account x region back: what the verify controls evaluate (reads only).

`read_snapshot(clients, spec)` returns a plain dict of what AWS reports for the resources the
baseline promises (spec: the expected names, see plugins/modules/baseline_controls.py). A missing
resource reads as None (or `{"exists": False}`); any other error is raised, so the module fails
with AWS's message rather than reporting a control it could not read. Every list call goes
through a paginator where the API has one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

try:
    from botocore.exceptions import ClientError
except ImportError:  # reported by AnsibleAWSModule
    ClientError = Exception  # type: ignore[assignment,misc]

Clients = Callable[[str], Any]
Snapshot = dict[str, Any]

# Error codes that mean "this resource (or this configuration) does not exist".
MISSING = {
    "NoSuchBucket",
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchLifecycleConfiguration",
    "NoSuchTagSet",
    "NoSuchTagSetError",
    "ResourceNotFoundException",
    "TableNotFoundException",
    "NoSuchEntity",
    "NotFoundException",
    "NotFound",
    "TrailNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
}


def error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def optional(call: Callable[..., Any], **kwargs: Any) -> Any:
    """The call's answer, or None when AWS says the resource/configuration does not exist."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if error_code(exc) in MISSING:
            return None
        raise


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def tag_dict(tags: Any) -> dict[str, str]:
    """Tags as a dict, from a list of {Key, Value} (any capitalisation) or a dict."""
    if tags is None:
        return {}
    if isinstance(tags, dict):
        return dict(tags)
    result = {}
    for tag in tags:
        key = tag.get("Key", tag.get("key", tag.get("TagKey")))
        value = tag.get("Value", tag.get("value", tag.get("TagValue", "")))
        result[key] = value
    return result


def policy_document(raw: Any) -> Any:
    """A policy document as a dict (IAM returns it URL-encoded or already decoded)."""
    if raw is None or isinstance(raw, dict):
        return raw
    text = str(raw)
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(unquote(text))


# --- S3 -------------------------------------------------------------------------------------


def read_bucket(s3: Any, name: str) -> dict[str, Any]:
    if optional(s3.head_bucket, Bucket=name) is None:
        return {"exists": False}
    encryption = optional(s3.get_bucket_encryption, Bucket=name)
    pab = optional(s3.get_public_access_block, Bucket=name)
    policy = optional(s3.get_bucket_policy, Bucket=name)
    logging = s3.get_bucket_logging(Bucket=name)
    lifecycle = optional(s3.get_bucket_lifecycle_configuration, Bucket=name)
    tagging = optional(s3.get_bucket_tagging, Bucket=name)
    return {
        "exists": True,
        "encryption": [
            rule.get("ApplyServerSideEncryptionByDefault", {})
            for rule in (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        ],
        "public_access_block": (pab or {}).get("PublicAccessBlockConfiguration"),
        "policy": policy_document((policy or {}).get("Policy")),
        "versioning": s3.get_bucket_versioning(Bucket=name).get("Status", "Disabled"),
        "logging": logging.get("LoggingEnabled"),
        "lifecycle": [
            {"id": rule.get("ID"), "status": rule.get("Status")}
            for rule in (lifecycle or {}).get("Rules", [])
        ],
        "tags": tag_dict((tagging or {}).get("TagSet")),
    }


def read_account_public_access_block(s3control: Any, account_id: str) -> dict[str, Any] | None:
    answer = optional(s3control.get_public_access_block, AccountId=account_id)
    return None if answer is None else answer.get("PublicAccessBlockConfiguration")


# --- DynamoDB, Lambda, SQS, logs --------------------------------------------------------------


def read_table(dynamodb: Any, name: str) -> dict[str, Any]:
    described = optional(dynamodb.describe_table, TableName=name)
    if described is None:
        return {"exists": False}
    table = described["Table"]
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus", "DISABLED")
    tags = paginate(dynamodb, "list_tags_of_resource", "Tags", ResourceArn=table["TableArn"])
    return {
        "exists": True,
        "arn": table["TableArn"],
        "sse": table.get("SSEDescription", {}),
        "pitr": pitr,
        "deletion_protection": bool(table.get("DeletionProtectionEnabled")),
        "tags": tag_dict(tags),
    }


def read_function(awslambda: Any, name: str) -> dict[str, Any]:
    answer = optional(awslambda.get_function, FunctionName=name)
    if answer is None:
        return {"exists": False}
    config = answer["Configuration"]
    return {
        "exists": True,
        "memory": config.get("MemorySize"),
        "runtime": config.get("Runtime"),
        "vpc": {
            "vpc_id": config.get("VpcConfig", {}).get("VpcId", ""),
            "subnet_ids": sorted(config.get("VpcConfig", {}).get("SubnetIds", [])),
            "security_group_ids": sorted(config.get("VpcConfig", {}).get("SecurityGroupIds", [])),
        },
        "tracing": config.get("TracingConfig", {}).get("Mode", "PassThrough"),
        "dead_letter_target": config.get("DeadLetterConfig", {}).get("TargetArn", ""),
        "tags": tag_dict(answer.get("Tags")),
    }


def read_queue(sqs: Any, name: str) -> dict[str, Any]:
    answer = optional(sqs.get_queue_url, QueueName=name)
    if answer is None:
        return {"exists": False}
    url = answer["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "KmsMasterKeyId"])
    return {
        "exists": True,
        "arn": attributes["Attributes"].get("QueueArn"),
        "kms": attributes["Attributes"].get("KmsMasterKeyId", ""),
        "tags": tag_dict(sqs.list_queue_tags(QueueUrl=url).get("Tags")),
    }


def read_log_group(logs: Any, name: str, account_id: str, partition: str, region: str) -> dict[str, Any]:
    groups = paginate(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=name)
    group = next((g for g in groups if g["logGroupName"] == name), None)
    if group is None:
        return {"exists": False}
    arn = f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}"
    tags = optional(logs.list_tags_for_resource, resourceArn=arn)
    return {"exists": True, "kms": group.get("kmsKeyId", ""), "tags": tag_dict((tags or {}).get("tags"))}


# --- IAM ----------------------------------------------------------------------------------------


def read_role(iam: Any, name: str) -> dict[str, Any]:
    answer = optional(iam.get_role, RoleName=name)
    if answer is None:
        return {"exists": False}
    role = answer["Role"]
    inline = {
        policy_name: policy_document(
            iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
        )
        for policy_name in paginate(iam, "list_role_policies", "PolicyNames", RoleName=name)
    }
    attached = {}
    for policy in paginate(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name):
        version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)["PolicyVersion"][
            "Document"
        ]
        attached[policy["PolicyArn"]] = policy_document(document)
    tags = paginate(iam, "list_role_tags", "Tags", RoleName=name)
    return {
        "exists": True,
        "max_session_duration": role.get("MaxSessionDuration"),
        "policies": {**inline, **attached},
        "tags": tag_dict(tags),
    }


def read_password_policy(iam: Any) -> dict[str, Any] | None:
    answer = optional(iam.get_account_password_policy)
    return None if answer is None else answer.get("PasswordPolicy", {})


def read_access_keys(iam: Any, now: datetime) -> list[dict[str, Any]]:
    keys = []
    for user in paginate(iam, "list_users", "Users"):
        for key in paginate(iam, "list_access_keys", "AccessKeyMetadata", UserName=user["UserName"]):
            created = key["CreateDate"]
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            keys.append(
                {
                    "user": user["UserName"],
                    # The key id is an identifier, not a secret; the end is enough to find it.
                    "key": "..." + key["AccessKeyId"][-4:],
                    "status": key.get("Status"),
                    "age_days": (now - created).days,
                }
            )
    return keys


# --- KMS, CloudTrail ------------------------------------------------------------------------


def read_key(kms: Any, alias: str) -> dict[str, Any]:
    described = optional(kms.describe_key, KeyId=f"alias/{alias}")
    if described is None:
        return {"exists": False}
    meta = described["KeyMetadata"]
    rotation = kms.get_key_rotation_status(KeyId=meta["KeyId"]).get("KeyRotationEnabled", False)
    tags = paginate(kms, "list_resource_tags", "Tags", KeyId=meta["KeyId"])
    return {
        "exists": True,
        "arn": meta["Arn"],
        "state": meta.get("KeyState"),
        "rotation": bool(rotation),
        "tags": tag_dict(tags),
    }


def read_trail(cloudtrail: Any, arn: str) -> dict[str, Any]:
    trails = cloudtrail.describe_trails(trailNameList=[arn], includeShadowTrails=False).get("trailList", [])
    if not trails:
        return {"exists": False}
    trail = trails[0]
    status = cloudtrail.get_trail_status(Name=arn)
    selectors = cloudtrail.get_event_selectors(TrailName=arn)
    tags = cloudtrail.list_tags(ResourceIdList=[arn]).get("ResourceTagList", [])
    return {
        "exists": True,
        "multi_region": bool(trail.get("IsMultiRegionTrail")),
        "global_service_events": bool(trail.get("IncludeGlobalServiceEvents")),
        "logging": bool(status.get("IsLogging")),
        "log_file_validation": bool(trail.get("LogFileValidationEnabled")),
        "kms_key_id": trail.get("KmsKeyId", ""),
        "cloudwatch_logs_log_group_arn": trail.get("CloudWatchLogsLogGroupArn", ""),
        "event_selectors": selectors.get("EventSelectors", []),
        "advanced_event_selectors": selectors.get("AdvancedEventSelectors", []),
        "tags": tag_dict(tags[0].get("TagsList") if tags else []),
    }


# --- Network ------------------------------------------------------------------------------------


def read_network(ec2: Any, vpc_name: str) -> dict[str, Any]:
    vpcs = paginate(ec2, "describe_vpcs", "Vpcs", Filters=[{"Name": "tag:Name", "Values": [vpc_name]}])
    if not vpcs:
        return {"exists": False}
    vpc = vpcs[0]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    subnets = paginate(ec2, "describe_subnets", "Subnets", Filters=in_vpc)
    tables = paginate(ec2, "describe_route_tables", "RouteTables", Filters=in_vpc)
    groups = paginate(ec2, "describe_security_groups", "SecurityGroups", Filters=in_vpc)
    endpoints = paginate(ec2, "describe_vpc_endpoints", "VpcEndpoints", Filters=in_vpc)
    private_tables = [t for t in tables if not any(a.get("Main") for a in t.get("Associations", []))]
    return {
        "exists": True,
        "vpc_id": vpc["VpcId"],
        "subnet_ids": sorted(s["SubnetId"] for s in subnets),
        "private_route_table_ids": sorted(t["RouteTableId"] for t in private_tables),
        "security_group_ids": sorted(g["GroupId"] for g in groups),
        "endpoints": [
            {
                "id": e["VpcEndpointId"],
                "service": e["ServiceName"],
                "type": e.get("VpcEndpointType"),
                "state": e.get("State"),
                "policy": policy_document(e.get("PolicyDocument")),
                "route_table_ids": sorted(e.get("RouteTableIds", [])),
                "tags": tag_dict(e.get("Tags")),
            }
            for e in endpoints
            if str(e.get("State", "")).lower() not in ("deleted", "deleting")
        ],
        "tagged": {
            **{vpc["VpcId"]: tag_dict(vpc.get("Tags"))},
            **{s["SubnetId"]: tag_dict(s.get("Tags")) for s in subnets},
            **{t["RouteTableId"]: tag_dict(t.get("Tags")) for t in private_tables},
            **{g["GroupId"]: tag_dict(g.get("Tags")) for g in groups if g.get("GroupName") != "default"},
        },
    }


# --- Monitoring ---------------------------------------------------------------------------------


def read_topic(sns: Any, arn: str) -> dict[str, Any]:
    attributes = optional(sns.get_topic_attributes, TopicArn=arn)
    if attributes is None:
        return {"exists": False}
    subscriptions = paginate(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)
    tags = sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
    return {
        "exists": True,
        "kms": attributes["Attributes"].get("KmsMasterKeyId", ""),
        "subscriptions": [
            {
                "protocol": s.get("Protocol"),
                "endpoint": s.get("Endpoint"),
                "confirmed": s.get("SubscriptionArn") not in (None, "", "PendingConfirmation"),
            }
            for s in subscriptions
        ],
        "tags": tag_dict(tags),
    }


def read_alarms(cloudwatch: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(names), 100):  # DescribeAlarms takes up to 100 names
        for alarm in paginate(
            cloudwatch, "describe_alarms", "MetricAlarms", AlarmNames=names[start : start + 100]
        ):
            tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags", [])
            found[alarm["AlarmName"]] = {
                "actions": alarm.get("AlarmActions", []),
                "actions_enabled": bool(alarm.get("ActionsEnabled")),
                "metric": alarm.get("MetricName"),
                "namespace": alarm.get("Namespace"),
                "tags": tag_dict(tags),
            }
    return found


def read_metric_filters(logs: Any, log_group: str) -> list[dict[str, Any]]:
    filters = optional(
        lambda **kw: paginate(logs, "describe_metric_filters", "metricFilters", **kw), logGroupName=log_group
    )
    return [
        {
            "name": f["filterName"],
            "pattern": f.get("filterPattern", ""),
            "metrics": [
                (t.get("metricNamespace"), t.get("metricName")) for t in f.get("metricTransformations", [])
            ],
        }
        for f in filters or []
    ]


# --- The whole snapshot ---------------------------------------------------------------------------


def read_snapshot(clients: Clients, spec: dict[str, Any], now: datetime | None = None) -> Snapshot:
    """Everything the controls evaluate, for one account x region (one client per service)."""
    now = now or datetime.now(UTC)
    region, account, partition = spec["region"], spec["account_id"], spec["partition"]
    s3, logs, iam = clients("s3"), clients("logs"), clients("iam")
    dynamodb, awslambda, sqs = clients("dynamodb"), clients("lambda"), clients("sqs")
    home = spec["region"] == spec["home_region"]
    alarm_names = spec["alarms"] + ([c["alarm_name"] for c in spec["cis_catalog"]] if home else [])
    snapshot: Snapshot = {
        "buckets": {b["name"]: read_bucket(s3, b["name"]) for b in spec["buckets"]},
        "tables": {name: read_table(dynamodb, name) for name in spec["tables"]},
        "functions": {f["name"]: read_function(awslambda, f["name"]) for f in spec["functions"]},
        "queues": {name: read_queue(sqs, name) for name in spec["queues"]},
        "log_groups": {
            name: read_log_group(logs, name, account, partition, region) for name in spec["log_groups"]
        },
        "roles": {name: read_role(iam, name) for name in spec["roles"]},
        "key": read_key(clients("kms"), spec["key_alias"]),
        "network": read_network(clients("ec2"), spec["vpc_name"]),
        "topic": read_topic(clients("sns"), spec["topic_arn"]),
        "alarms": read_alarms(clients("cloudwatch"), alarm_names),
    }
    if home:
        snapshot["account_public_access_block"] = read_account_public_access_block(
            clients("s3control"), account
        )
        snapshot["password_policy"] = read_password_policy(iam)
        snapshot["access_keys"] = read_access_keys(iam, now)
        snapshot["trail"] = (
            read_trail(clients("cloudtrail"), spec["trail"]["arn"]) if spec.get("trail") else None
        )
        snapshot["metric_filters"] = (
            read_metric_filters(logs, spec["cis_log_group"]) if spec["cis_catalog"] else []
        )
    return snapshot
