"""secureinfra.baseline.s3_bucket_encryption against in-process moto."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import s3_bucket_encryption as mod

BUCKET = "enc-bucket"


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    client.delete_bucket_encryption(Bucket=BUCKET)  # moto starts buckets with SSE-S3 like AWS
    return client


def _rule(s3) -> dict:
    return s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]


def test_sets_sse_s3_with_bucket_key_then_idempotent(s3, run_module):
    first = run_module(mod, {"bucket_name": BUCKET})
    assert first["changed"] is True
    rule = _rule(s3)
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert rule["BucketKeyEnabled"] is True
    assert run_module(mod, {"bucket_name": BUCKET})["changed"] is False


def test_check_mode_writes_nothing(s3, run_module):
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    result = run_module(mod, {"bucket_name": BUCKET}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["bucket_key_enabled"] is False
    assert result["diff"]["after"]["bucket_key_enabled"] is True
    assert _rule(s3).get("BucketKeyEnabled", False) is False


def test_kms_key_with_aes256_is_refused(s3, run_module):
    result = run_module(mod, {"bucket_name": BUCKET, "kms_key_id": "alias/x"}, expect_failure=True)
    assert "aws:kms" in result["msg"]


def test_switch_to_kms(s3, run_module):
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    args = {"bucket_name": BUCKET, "algorithm": "aws:kms", "kms_key_id": key}
    assert run_module(mod, args)["changed"] is True
    assert _rule(s3)["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key,
    }
    assert run_module(mod, args)["changed"] is False
