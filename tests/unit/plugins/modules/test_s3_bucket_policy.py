"""secureinfra.baseline.s3_bucket_policy against in-process moto."""

from __future__ import annotations

import json

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import s3_bucket_policy as mod

BUCKET = "baseline-data-123456789012-us-east-1"


def policy(sid: str = "DenyInsecureTransport") -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def current(s3):
    try:
        return json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    except s3.exceptions.ClientError:
        return None


def test_put_then_idempotent(s3, run_module, calls):
    result = run_module(mod, {"bucket_name": BUCKET, "policy": policy()}, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {"before": {}, "after": policy()}
    assert current(s3)["Statement"][0]["Sid"] == "DenyInsecureTransport"
    calls.clear()
    # the same document as a JSON string, keys in another order: no change
    text = json.dumps({"Statement": policy()["Statement"], "Version": "2012-10-17"})
    assert run_module(mod, {"bucket_name": BUCKET, "policy": text})["changed"] is False
    assert calls == ["GetBucketPolicy"]


def test_update_a_differing_policy(s3, run_module):
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy("Old")))
    result = run_module(mod, {"bucket_name": BUCKET, "policy": policy("New")})
    assert result["changed"] is True
    assert current(s3)["Statement"][0]["Sid"] == "New"


def test_delete_then_idempotent(s3, run_module, calls):
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy()))
    result = run_module(mod, {"bucket_name": BUCKET, "state": "absent"}, diff=True)
    assert result["changed"] is True and result["policy"] is None
    assert result["diff"]["after"] == {} and result["diff"]["before"]["Statement"]
    assert current(s3) is None
    calls.clear()
    assert run_module(mod, {"bucket_name": BUCKET, "state": "absent"})["changed"] is False
    assert calls == ["GetBucketPolicy"]


def test_check_mode_reads_only(s3, run_module, calls):
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy()))
    calls.clear()
    assert run_module(mod, {"bucket_name": BUCKET, "state": "absent"}, check_mode=True)["changed"] is True
    assert run_module(mod, {"bucket_name": BUCKET, "policy": policy("X")}, check_mode=True)["changed"] is True
    assert set(calls) == {"GetBucketPolicy"}
    assert current(s3)["Statement"][0]["Sid"] == "DenyInsecureTransport"


def test_missing_bucket(aws, run_module):
    assert run_module(mod, {"bucket_name": "no-such-bucket-here", "state": "absent"})["changed"] is False
    result = run_module(mod, {"bucket_name": "no-such-bucket-here", "policy": policy()}, expect_failure=True)
    assert "does not exist" in result["msg"]


def test_present_needs_a_policy(aws, run_module, calls):
    result = run_module(mod, {"bucket_name": BUCKET}, expect_failure=True)
    assert "policy" in result["msg"]
    assert calls == []
