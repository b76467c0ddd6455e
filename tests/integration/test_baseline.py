"""Converge both regions on a fresh emulator, then read every property back with boto3.

Also: a second run changes nothing and makes no mutating call; a dry run on the
converged state changes nothing and makes no mutating call.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import REGIONS, PlaybookRun
from support.recorder import mutating

ACCOUNT = "123456789012"
REQUIRED_TAGS = {
    "Environment": "dev",
    "Owner": "platform-team",
    "Project": "secure-infrastructure",
    "ManagedBy": "ansible",
}


def _tags(tag_list: list[dict[str, str]] | None) -> dict[str, str]:
    return {t.get("Key", t.get("TagKey")): t.get("Value", t.get("TagValue")) for t in tag_list or []}


def _has_required_tags(tags: dict[str, str]) -> bool:
    return all(tags.get(k) == v for k, v in REQUIRED_TAGS.items())


def test_converge_changes_both_regions(converged: PlaybookRun) -> None:
    writes = mutating(converged.calls)
    assert any(w.startswith("kms:CreateKey") for w in writes)  # the recorder classifies writes
    for region in REGIONS:
        assert converged.changed(region) > 0
        assert converged.stats[region]["failures"] == 0


# --- encryption ---------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_kms_key(converged, aws, region: str) -> None:
    kms = aws("kms", region)
    alias = next(a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/secureinfra-baseline")
    key_id = alias["TargetKeyId"]
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyManager"] == "CUSTOMER" and meta["KeyState"] == "Enabled"
    assert region in meta["Arn"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    assert _has_required_tags(_tags(kms.list_resource_tags(KeyId=key_id)["Tags"]))
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    logs = by_sid["CloudWatchLogsEncryptsProjectLogGroups"]
    assert logs["Principal"]["Service"] == f"logs.{region}.amazonaws.com"
    assert all(
        f":logs:{region}:{ACCOUNT}:" in arn
        for arn in logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    )
    sns = by_sid["AlarmAndEventPublishersUseEncryptedTopic"]
    assert sns["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    if region == "us-east-1":  # home region: the trail's key
        trail = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/secureinfra-trail"
        assert by_sid["CloudTrailEncryptsLogs"]["Condition"]["StringEquals"]["aws:SourceArn"] == trail
        assert by_sid["CloudTrailDescribesKey"]["Action"] == "kms:DescribeKey"
    else:
        assert "CloudTrailEncryptsLogs" not in by_sid


# --- network_endpoints ----------------------------------------------------------------------


def _vpc(ec2) -> dict[str, Any]:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Project", "Values": ["secure-infrastructure"]}])["Vpcs"]
    assert len(vpcs) == 1, "exactly one project VPC per region"
    return vpcs[0]


@pytest.mark.parametrize("region", REGIONS)
def test_network(converged, aws, region: str) -> None:
    ec2 = aws("ec2", region)
    vpc = _vpc(ec2)
    assert vpc["CidrBlock"] == "10.0.0.0/16" and _has_required_tags(_tags(vpc["Tags"]))
    vpc_filter = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    subnets = ec2.describe_subnets(Filters=vpc_filter)["Subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == ["10.0.1.0/24", "10.0.2.0/24"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    assert all(not s["MapPublicIpOnLaunch"] and _has_required_tags(_tags(s["Tags"])) for s in subnets)
    tables = [
        t
        for t in ec2.describe_route_tables(Filters=vpc_filter)["RouteTables"]
        if not any(a.get("Main") for a in t.get("Associations", []))
    ]
    assert len(tables) == 2
    assert {a["SubnetId"] for t in tables for a in t["Associations"]} == {s["SubnetId"] for s in subnets}
    assert all(_has_required_tags(_tags(t["Tags"])) for t in tables)
    # no NAT, no internet gateway, no default route
    assert ec2.describe_nat_gateways(Filters=vpc_filter)["NatGateways"] == []
    assert (
        ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])[
            "InternetGateways"
        ]
        == []
    )
    for table in tables:
        assert not [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]

    endpoints = ec2.describe_vpc_endpoints(Filters=vpc_filter)["VpcEndpoints"]
    by_service = {e["ServiceName"].rsplit(".", 1)[-1]: e for e in endpoints}
    assert set(by_service) == {"s3", "dynamodb"} and len(endpoints) == 2
    for service, endpoint in by_service.items():
        assert endpoint["VpcEndpointType"] == "Gateway"
        assert sorted(endpoint["RouteTableIds"]) == sorted(t["RouteTableId"] for t in tables)
        assert _has_required_tags(_tags(endpoint["Tags"]))
        statement = json.loads(endpoint["PolicyDocument"])["Statement"][0]
        resources = statement["Resource"]
        if service == "s3":
            assert resources == ["arn:aws:s3:::secureinfra-*", "arn:aws:s3:::secureinfra-*/*"]
        else:
            assert resources[0] == f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/secureinfra-*"
        assert "*" not in statement["Action"]
        assert statement["Condition"]["StringEquals"]["aws:PrincipalAccount"] == ACCOUNT

    groups = ec2.describe_security_groups(
        Filters=[*vpc_filter, {"Name": "group-name", "Values": [f"secureinfra-{region}-functions"]}]
    )["SecurityGroups"]
    assert len(groups) == 1
    assert groups[0]["IpPermissions"] == []
    assert [
        (p["IpProtocol"], p.get("FromPort"), p.get("ToPort")) for p in groups[0]["IpPermissionsEgress"]
    ] == [("tcp", 443, 443)]
    assert _has_required_tags(_tags(groups[0]["Tags"]))


# --- storage --------------------------------------------------------------------------------


def _buckets(region: str) -> tuple[str, str]:
    return f"secureinfra-data-{ACCOUNT}-{region}", f"secureinfra-logs-{ACCOUNT}-{region}"


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("purpose", ["data", "logs"])
def test_bucket_baseline(converged, aws, region: str, purpose: str) -> None:
    s3 = aws("s3", region)
    name = _buckets(region)[0 if purpose == "data" else 1]
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == (
        None if region == "us-east-1" else region
    )
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert not rule.get("BucketKeyEnabled")  # a Bucket Key only affects SSE-KMS (real-aws.md #10)
    pab = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert pab == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    assert (
        s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
        == "BucketOwnerEnforced"
    )
    tags = _tags(s3.get_bucket_tagging(Bucket=name)["TagSet"])
    assert _has_required_tags(tags) and tags["Purpose"] == purpose
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]}
    (lifecycle,) = rules.values()
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert lifecycle["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    tls = next(s for s in policy["Statement"] if s["Sid"] == "DenyInsecureTransport")
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(tls["Resource"]) == sorted([f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"])


@pytest.mark.parametrize("region", REGIONS)
def test_data_bucket_access_and_logs(converged, aws, region: str) -> None:
    s3 = aws("s3", region)
    data, logs = _buckets(region)
    policy = json.loads(s3.get_bucket_policy(Bucket=data)["Policy"])
    deny = next(s for s in policy["Statement"] if s["Sid"] == "DenyObjectAccessToAllButListedPrincipals")
    assert deny["Effect"] == "Deny" and deny["Resource"] == f"arn:aws:s3:::{data}/*"
    assert deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [
        f"arn:aws:iam::{ACCOUNT}:role/secureinfra-{region}-processor",
        f"arn:aws:iam::{ACCOUNT}:role/secureinfra-{region}-analytics",
    ]
    logging = s3.get_bucket_logging(Bucket=data)["LoggingEnabled"]
    assert logging == {"TargetBucket": logs, "TargetPrefix": "s3-access/data/"}
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=logs)
    log_rules = s3.get_bucket_lifecycle_configuration(Bucket=logs)["Rules"]
    assert log_rules[0]["Expiration"]["Days"] == 365
    log_policy = json.loads(s3.get_bucket_policy(Bucket=logs)["Policy"])
    delivery = next(s for s in log_policy["Statement"] if s["Sid"] == "S3ServerAccessLogsFromDataBucket")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:s3:::{data}"
    metrics = s3.get_bucket_metrics_configuration(Bucket=data, Id="EntireBucket")["MetricsConfiguration"]
    assert metrics["Id"] == "EntireBucket" and "Filter" not in metrics


# --- idempotence and dry runs ---------------------------------------------------------------


def test_second_run_changes_nothing(converged, run_playbook) -> None:
    run = run_playbook()
    assert run.rc == 0, run.stderr
    assert run.changed_tasks() == []
    assert all(run.changed(r) == 0 for r in REGIONS)
    assert run.calls, "the recorder saw no request at all"
    assert mutating(run.calls) == []


def test_check_mode_on_converged_changes_nothing(converged, run_playbook) -> None:
    run = run_playbook(check=True)
    assert run.rc == 0, run.stderr
    assert run.changed_tasks() == []
    assert mutating(run.calls) == []


def test_single_region_limit(converged, run_playbook) -> None:
    run = run_playbook(limit="us-west-1", check=True)
    assert run.rc == 0, run.stderr
    assert set(run.stats) == {"us-west-1"}
