"""secureinfra.baseline.baseline_controls against in-process moto: what it reads, what it reports."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import baseline_controls as mod

ACCOUNT = "123456789012"
BUCKET = "p-logs-123456789012-us-east-1"
TAGS = {"Environment": "dev", "Owner": "team", "Project": "x"}


@pytest.fixture
def baseline(aws) -> dict[str, Any]:
    """A key with rotation, one bucket as the storage role makes it, the alarm topic."""
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key(Tags=[{"TagKey": k, "TagValue": v} for k, v in TAGS.items()])["KeyMetadata"]
    kms.create_alias(AliasName="alias/p-baseline", TargetKeyId=key["KeyId"])
    kms.enable_key_rotation(KeyId=key["KeyId"])
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    arn = f"arn:aws:s3:::{BUCKET}"
    deny = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={
            "Rules": [{"ID": "expire-logs", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 365}}]
        },
    )
    s3.put_bucket_tagging(
        Bucket=BUCKET, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in TAGS.items()]}
    )
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(
        Name="p-alarms",
        Attributes={"KmsMasterKeyId": key["Arn"]},
        Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
    )["TopicArn"]
    return {"topic": topic, "key": key["Arn"]}


def args(topic: str, **extra: Any) -> dict[str, Any]:
    return {
        "account_id": ACCOUNT,
        "home_region": "us-east-1",
        "required_tags": TAGS,
        "buckets": [{"name": BUCKET, "lifecycle_rule_ids": ["expire-logs"]}],
        "supported_runtimes": ["python3.12"],
        "key_alias": "p-baseline",
        "vpc_name": "p-us-east-1",
        "topic_arn": topic,
        **extra,
    }


def by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["control_id"]: r for r in result["records"]}


def test_reads_and_evaluates(baseline, run_module):
    result = run_module(mod, args(baseline["topic"]))
    assert result["changed"] is False
    records = by_id(result)
    for control_id in (
        "BASELINE.S3.1",
        "S3.8",
        "S3.5",
        "S3.14",
        "S3.13",
        "KMS.4",
        "BASELINE.SNS.1",
        "BASELINE.Tags.1",
    ):
        assert records[control_id]["status"] == "pass", records[control_id]
    assert records["KMS.4"]["evidence"]["alias/p-baseline"]["key"] == baseline["key"]
    # No VPC: both endpoint controls fail and say so; no account-level block yet.
    assert records["BASELINE.VPC.1"]["status"] == "fail"
    assert records["BASELINE.VPC.1"]["evidence"] == {"com.amazonaws.us-east-1.s3": {"ok": False, "vpc": None}}
    assert records["S3.1"]["status"] == "fail"
    assert records["S3.1"]["evidence"]["account"]["configured"] is False
    # Nothing in the definition: not applicable.
    assert records["DynamoDB.2"]["status"] == records["Lambda.3"]["status"] == "not_applicable"
    assert result["counts"] == {
        status: sum(r["status"] == status for r in result["records"])
        for status in ("pass", "fail", "not_applicable")
    }


def test_account_level_block_and_changes_are_read(baseline, run_module):
    s3control = boto3.client("s3control", region_name="us-east-1")
    s3control.put_public_access_block(
        AccountId=ACCOUNT,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        ),
    )
    boto3.client("s3", region_name="us-east-1").put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"}
    )
    records = by_id(run_module(mod, args(baseline["topic"])))
    assert records["S3.1"]["status"] == "pass"
    assert records["S3.14"]["status"] == "fail"
    assert records["S3.14"]["evidence"][BUCKET] == {"ok": False, "status": "Suspended"}


def test_check_mode_reports_the_same(baseline, run_module):
    normal = run_module(mod, args(baseline["topic"]))
    checked = run_module(mod, args(baseline["topic"]), check_mode=True)
    assert checked["records"] == normal["records"] and checked["changed"] is False


def test_other_regions_leave_account_wide_controls_out(baseline, run_module):
    records = by_id(run_module(mod, args(baseline["topic"], home_region="us-west-2")))
    assert records["S3.1"]["status"] == records["IAM.7"]["status"] == "not_applicable"
    assert "home region us-west-2" in records["IAM.3"]["evidence"]["reason"]


def test_old_access_keys_fail(baseline, run_module, monkeypatch):
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="ci")
    iam.create_access_key(UserName="ci")
    # The module's clock, 91 days on: the key is older than the 90-day maximum.
    real = mod.read_snapshot

    def later(clients, spec, now=None):
        from datetime import UTC, datetime, timedelta

        return real(clients, spec, now=datetime.now(UTC) + timedelta(days=91))

    monkeypatch.setattr(mod, "read_snapshot", later)
    record = by_id(run_module(mod, args(baseline["topic"])))["IAM.3"]
    assert record["status"] == "fail"
    assert [k["user"] for k in record["evidence"]["account"]["too_old"]] == ["ci"]


def test_strip_account_host():
    handler = mod.strip_account_host(ACCOUNT)
    request = SimpleNamespace(
        url=f"http://{ACCOUNT}.127.0.0.1:4566/v20180820/configuration/publicAccessBlock"
    )
    handler(request)
    assert request.url == "http://127.0.0.1:4566/v20180820/configuration/publicAccessBlock"
    other = SimpleNamespace(url="https://s3-control.us-east-1.amazonaws.com/x")
    handler(other)
    assert other.url == "https://s3-control.us-east-1.amazonaws.com/x"
