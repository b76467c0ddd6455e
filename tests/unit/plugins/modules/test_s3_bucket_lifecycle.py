"""secureinfra.baseline.s3_bucket_lifecycle against in-process moto."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import s3_bucket_lifecycle as mod
from botocore.exceptions import ClientError

BUCKET = "lc-bucket"
RULES = [
    {
        "id": "noncurrent",
        "noncurrent_version_expiration_days": 90,
        "abort_incomplete_multipart_upload_days": 7,
    },
    {"id": "logs", "prefix": "logs/", "expiration_days": 365},
]


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def _rules(s3) -> dict:
    try:
        return {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    except ClientError:
        return {}


def test_create_then_idempotent(s3, run_module):
    assert run_module(mod, {"bucket_name": BUCKET, "rules": RULES})["changed"] is True
    rules = _rules(s3)
    assert rules["noncurrent"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert rules["noncurrent"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    assert rules["logs"]["Expiration"]["Days"] == 365
    assert rules["logs"]["Filter"]["Prefix"] == "logs/"
    # same rules in another order: no change
    assert run_module(mod, {"bucket_name": BUCKET, "rules": list(reversed(RULES))})["changed"] is False


def test_update_and_remove_rule(s3, run_module):
    run_module(mod, {"bucket_name": BUCKET, "rules": RULES})
    changed = [dict(RULES[0], noncurrent_version_expiration_days=30)]
    result = run_module(mod, {"bucket_name": BUCKET, "rules": changed}, diff=True)
    assert result["changed"] is True
    assert set(_rules(s3)) == {"noncurrent"}
    assert _rules(s3)["noncurrent"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert len(result["diff"]["before"]["rules"]) == 2


def test_check_mode_on_absent_and_present(s3, run_module):
    assert run_module(mod, {"bucket_name": BUCKET, "rules": RULES}, check_mode=True)["changed"] is True
    assert _rules(s3) == {}
    run_module(mod, {"bucket_name": BUCKET, "rules": RULES})
    assert run_module(mod, {"bucket_name": BUCKET, "state": "absent"}, check_mode=True)["changed"] is True
    assert set(_rules(s3)) == {"noncurrent", "logs"}


def test_absent_deletes_configuration(s3, run_module):
    run_module(mod, {"bucket_name": BUCKET, "rules": RULES})
    assert run_module(mod, {"bucket_name": BUCKET, "state": "absent"})["changed"] is True
    assert _rules(s3) == {}
    assert run_module(mod, {"bucket_name": BUCKET, "state": "absent"})["changed"] is False


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"id": "a", "expiration_days": 1}, {"id": "a", "expiration_days": 2}], "unique"),
        ([{"id": "a"}], "sets no action"),
        ([{"id": "a", "expiration_days": 0}], "at least 1"),
    ],
)
def test_bad_rules(s3, run_module, rules, message):
    result = run_module(mod, {"bucket_name": BUCKET, "rules": rules}, expect_failure=True)
    assert message in result["msg"]
    assert _rules(s3) == {}
