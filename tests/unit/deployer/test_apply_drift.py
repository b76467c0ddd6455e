"""apply_drift changes what the playbooks converge, so the generator records the repairs."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
from moto import mock_aws

from scripts import deployer_policy as dp

REGION = "us-east-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _seed() -> dict[str, str]:
    def client(service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    role = client("iam").create_role(RoleName="secureinfra-fn", AssumeRolePolicyDocument=json.dumps(TRUST))
    lam = client("lambda")
    lam.create_function(
        FunctionName="secureinfra-us-east-1-processor",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": _zip()},
        Timeout=30,
    )
    lam.put_function_concurrency(
        FunctionName="secureinfra-us-east-1-processor", ReservedConcurrentExecutions=2
    )
    lam.create_function(
        FunctionName="other-fn",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": _zip()},
        Timeout=30,
    )
    s3 = client("s3")
    s3.create_bucket(Bucket="secureinfra-data-123456789012-us-east-1")
    s3.put_bucket_versioning(
        Bucket="secureinfra-data-123456789012-us-east-1", VersioningConfiguration={"Status": "Enabled"}
    )
    kms = client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key)
    kms.create_alias(AliasName="alias/secureinfra-baseline", TargetKeyId=key)
    ddb = client("dynamodb")
    ddb.create_table(
        TableName="secureinfra-data",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.update_continuous_backups(
        TableName="secureinfra-data", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    client("logs").create_log_group(logGroupName="/secureinfra/cloudtrail")
    client("sqs").create_queue(QueueName="secureinfra-us-east-1-processor-dlq")
    client("events").put_rule(Name="secureinfra-us-east-1-analytics", ScheduleExpression="rate(1 hour)")
    s3.create_bucket(Bucket="secureinfra-trail-123456789012-us-east-1")
    trail = client("cloudtrail")
    trail.create_trail(Name="secureinfra-trail", S3BucketName="secureinfra-trail-123456789012-us-east-1")
    trail.start_logging(Name="secureinfra-trail")
    return {"key": key}


@mock_aws
def test_apply_drift_changes_each_converged_setting_of_ours_only() -> None:
    seeded = _seed()
    done = dp.apply_drift("", regions=[REGION])
    assert len(done) >= 8, done
    lam = boto3.client("lambda", region_name=REGION)
    processor = lam.get_function(FunctionName="secureinfra-us-east-1-processor")
    assert processor["Configuration"]["Timeout"] == 31
    assert "Concurrency" not in processor or not processor["Concurrency"].get("ReservedConcurrentExecutions")
    assert lam.get_function(FunctionName="other-fn")["Configuration"]["Timeout"] == 30
    s3 = boto3.client("s3", region_name=REGION)
    versioning = s3.get_bucket_versioning(Bucket="secureinfra-data-123456789012-us-east-1")
    assert versioning["Status"] == "Suspended"
    kms = boto3.client("kms", region_name=REGION)
    assert kms.get_key_rotation_status(KeyId=seeded["key"])["KeyRotationEnabled"] is False
    backups = boto3.client("dynamodb", region_name=REGION).describe_continuous_backups(
        TableName="secureinfra-data"
    )
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "DISABLED"
    group = boto3.client("logs", region_name=REGION).describe_log_groups()["logGroups"][0]
    assert group["retentionInDays"] == 1
    rule = boto3.client("events", region_name=REGION).describe_rule(Name="secureinfra-us-east-1-analytics")
    assert rule["State"] == "DISABLED"
    status = boto3.client("cloudtrail", region_name=REGION).get_trail_status(Name="secureinfra-trail")
    assert status["IsLogging"] is False
    # the list modules' repairs: an invoke permission from another bucket, a tag on a queue
    statement = json.loads(lam.get_policy(FunctionName="secureinfra-us-east-1-processor")["Policy"])[
        "Statement"
    ][0]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == "arn:aws:s3:::somebody-elses-bucket"
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName="secureinfra-us-east-1-processor-dlq")["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"Drift": "yes"}
    iam = boto3.client("iam", region_name=REGION)
    assert iam.get_role(RoleName="secureinfra-fn")["Role"].get("Tags", []) == []  # not a role of ours by name


@mock_aws
def test_role_drift_changes_trust_session_tags_and_attaches_a_policy() -> None:
    iam = boto3.client("iam", region_name=REGION)
    name = "secureinfra-us-east-1-processor"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), MaxSessionDuration=3600)
    clients = dp._clients("", dp.DRIFT_CREDENTIALS)
    assert dp._drift_role(clients, REGION, "secureinfra") == [
        f"role {name}: trust policy, session, tag, managed policy"
    ]
    role = iam.get_role(RoleName=name)["Role"]
    assert role["MaxSessionDuration"] == 7200
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "Drift", "Value": "yes"}]
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["secureinfra-drift"]
    # a second drift finds the policy it made
    assert dp._drift_role(clients, REGION, "secureinfra")
