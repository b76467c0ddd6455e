"""Table, IAM and functions: every property read back from the converged emulator."""

from __future__ import annotations

import json

import pytest
from conftest import REGIONS

ACCOUNT = "123456789012"
FUNCTIONS = ("processor", "analytics", "key_rotation")
VPC_FUNCTIONS = ("processor", "analytics")
HOME_REGION = "us-east-1"  # baseline_home_region (inventories/local/group_vars/all.yml)
# key_rotation is account-wide (IAM is global): deployed in the home region only.
REGION_FUNCTIONS = [(r, f) for r in REGIONS for f in FUNCTIONS if r == HOME_REGION or f != "key_rotation"]
REQUIRED_TAGS = {
    "Environment": "dev",
    "Owner": "platform-team",
    "Project": "secure-infrastructure",
    "ManagedBy": "ansible",
}


def _has_tags(tags: dict[str, str]) -> bool:
    return all(tags.get(k) == v for k, v in REQUIRED_TAGS.items())


def _key_arn(aws, region: str) -> str:
    return aws("kms", region).describe_key(KeyId="alias/secureinfra-baseline")["KeyMetadata"]["Arn"]


@pytest.mark.parametrize("region", [r for r in REGIONS if r != HOME_REGION])
def test_key_rotation_only_in_the_home_region(converged, aws, region: str) -> None:
    """Nothing of key_rotation outside the home region: role, function, log group, queue, rule."""
    name = f"secureinfra-{region}-key_rotation"
    assert name not in {r["RoleName"] for r in aws("iam").list_roles()["Roles"]}
    assert name not in {f["FunctionName"] for f in aws("lambda", region).list_functions()["Functions"]}
    groups = aws("logs", region).describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    assert groups == []
    assert not any(u.endswith(f"{name}-dlq") for u in aws("sqs", region).list_queues().get("QueueUrls", []))
    assert aws("events", region).list_rules(NamePrefix=name)["Rules"] == []


# --- table ----------------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_table(converged, aws, region: str) -> None:
    ddb = aws("dynamodb", region)
    table = ddb.describe_table(TableName="secureinfra-data")["Table"]
    assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
        ("id", "HASH"),
        ("timestamp", "RANGE"),
    }
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        ("id", "S"),
        ("timestamp", "N"),
    }
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["SSEDescription"]["KMSMasterKeyArn"] == _key_arn(aws, region)
    assert table["DeletionProtectionEnabled"] is True
    backups = ddb.describe_continuous_backups(TableName="secureinfra-data")["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]}
    assert _has_tags(tags)


# --- iam ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "function"), REGION_FUNCTIONS)
def test_function_role(converged, aws, region: str, function: str) -> None:
    iam = aws("iam")
    role = iam.get_role(RoleName=f"secureinfra-{region}-{function}")["Role"]
    assert role["MaxSessionDuration"] == 3600
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert _has_tags({t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]})
    assert iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"] == []
    assert len(iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]) == 1


def test_password_policy_and_no_long_lived_credentials(converged, aws) -> None:
    iam = aws("iam")
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] >= 14
    assert policy["PasswordReusePrevention"] == 24
    assert policy["MaxPasswordAge"] == 90
    assert all(
        policy[k]
        for k in (
            "RequireSymbols",
            "RequireNumbers",
            "RequireUppercaseCharacters",
            "RequireLowercaseCharacters",
        )
    )
    assert iam.list_users()["Users"] == []  # no IAM user, so no access key, is ever created


# --- functions ------------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "function"), REGION_FUNCTIONS)
def test_function(converged, aws, region: str, function: str) -> None:
    name = f"secureinfra-{region}-{function}"
    lam = aws("lambda", region)
    config = lam.get_function_configuration(FunctionName=name)
    assert config["MemorySize"] == 128
    assert config["Runtime"] == "python3.12"
    assert config["Handler"] == "handler.handler"
    assert config["Timeout"] == 60
    assert config["TracingConfig"]["Mode"] == "Active"
    assert config["Role"] == f"arn:aws:iam::{ACCOUNT}:role/{name}"
    dlq = f"arn:aws:sqs:{region}:{ACCOUNT}:{name}-dlq"
    assert config["DeadLetterConfig"]["TargetArn"] == dlq
    env = config["Environment"]["Variables"]
    if function == "key_rotation":
        assert env["TOPIC_ARN"] == f"arn:aws:sns:{region}:{ACCOUNT}:secureinfra-alarms"
        assert env["MAX_KEY_AGE_DAYS"] == "90"
        assert not config.get("VpcConfig", {}).get("SubnetIds")
    else:
        assert env["TABLE_NAME"] == "secureinfra-data"
        assert env["BUCKET_NAME"] == f"secureinfra-data-{ACCOUNT}-{region}"
        subnets = aws("ec2", region).describe_subnets(
            Filters=[{"Name": "tag:Name", "Values": [f"secureinfra-{region}-private-*"]}]
        )["Subnets"]
        assert sorted(config["VpcConfig"]["SubnetIds"]) == sorted(s["SubnetId"] for s in subnets)
        group = aws("ec2", region).describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [f"secureinfra-{region}-functions"]}]
        )["SecurityGroups"][0]
        assert config["VpcConfig"]["SecurityGroupIds"] == [group["GroupId"]]
    tags = lam.list_tags(Resource=config["FunctionArn"])["Tags"]
    assert _has_tags(tags) and tags["Function"] == function
    reserved = lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"]
    assert reserved == {"processor": 10, "analytics": 1, "key_rotation": 1}[function]

    logs = aws("logs", region)
    (group,) = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    assert group["retentionInDays"] == 30
    assert group["kmsKeyId"] == _key_arn(aws, region)

    sqs = aws("sqs", region)
    url = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == _key_arn(aws, region)
    assert attributes["QueueArn"] == dlq


@pytest.mark.parametrize("function", VPC_FUNCTIONS)
def test_code_is_packaged_deterministically(converged, aws, function: str) -> None:
    """Both regions' builds of the same code have the same hash (so a rerun changes nothing)."""
    hashes = {
        aws("lambda", r).get_function_configuration(FunctionName=f"secureinfra-{r}-{function}")["CodeSha256"]
        for r in REGIONS
    }
    assert len(hashes) == 1


@pytest.mark.parametrize("region", REGIONS)
def test_s3_invokes_processor_for_incoming_objects(converged, aws, region: str) -> None:
    bucket = f"secureinfra-data-{ACCOUNT}-{region}"
    processor = f"arn:aws:lambda:{region}:{ACCOUNT}:function:secureinfra-{region}-processor"
    config = aws("s3", region).get_bucket_notification_configuration(Bucket=bucket)
    (notification,) = config["LambdaFunctionConfigurations"]
    assert notification["LambdaFunctionArn"] == processor
    assert notification["Events"] == ["s3:ObjectCreated:*"]
    rules = {r["Name"].lower(): r["Value"] for r in notification["Filter"]["Key"]["FilterRules"]}
    assert rules["prefix"] == "incoming/"
    policy = json.loads(aws("lambda", region).get_policy(FunctionName=processor)["Policy"])
    (statement,) = [s for s in policy["Statement"] if s["Principal"] == {"Service": "s3.amazonaws.com"}]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == f"arn:aws:s3:::{bucket}"
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT


@pytest.mark.parametrize(
    ("region", "function", "schedule"),
    [(r, "analytics", "rate(1 hour)") for r in REGIONS] + [(HOME_REGION, "key_rotation", "rate(1 day)")],
)
def test_schedules(converged, aws, region: str, function: str, schedule: str) -> None:
    name = f"secureinfra-{region}-{function}"
    events = aws("events", region)
    rule = events.describe_rule(Name=name)
    assert rule["ScheduleExpression"] == schedule and rule["State"] == "ENABLED"
    function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == [function_arn]
    policy = json.loads(aws("lambda", region).get_policy(FunctionName=name)["Policy"])
    (statement,) = [s for s in policy["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]
    tags = {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]}
    assert _has_tags(tags)
