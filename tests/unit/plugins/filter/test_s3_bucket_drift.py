"""The check-mode prediction for amazon.aws.s3_bucket."""

from __future__ import annotations

import json

from ansible_collections.secureinfra.baseline.plugins.filter.s3_bucket_drift import s3_bucket_drift

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "A",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::b/*",
        }
    ],
}
DESIRED = {
    "versioning": "Enabled",
    "public_access_block": True,
    "policy": POLICY,
    "tags": {"Owner": "me"},
    "object_ownership": "BucketOwnerEnforced",
}


def _bucket(**overrides):
    bucket = {
        "name": "b",
        "bucket_versioning": {"Status": "Enabled"},
        "public_access_block": {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            }
        },
        "bucket_policy": {"Policy": json.dumps(POLICY)},
        "bucket_tagging": {"Owner": "me"},
        "bucket_ownership_controls": {
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        },
    }
    bucket.update(overrides)
    return bucket


def test_missing_bucket():
    assert s3_bucket_drift({}, DESIRED) == ["bucket"]
    assert s3_bucket_drift(None, DESIRED) == ["bucket"]


def test_in_sync():
    assert s3_bucket_drift(_bucket(), DESIRED) == []


def test_principal_star_equals_aws_star():
    other = json.loads(json.dumps(POLICY))
    other["Statement"][0]["Principal"] = "*"
    assert s3_bucket_drift(_bucket(bucket_policy={"Policy": json.dumps(other)}), DESIRED) == []


def test_each_drift_is_reported():
    bucket = _bucket(
        bucket_versioning={},
        public_access_block={"PublicAccessBlockConfiguration": {"BlockPublicAcls": False}},
        bucket_policy={},
        bucket_tagging={"Owner": "someone-else"},
        bucket_ownership_controls={},
    )
    assert s3_bucket_drift(bucket, DESIRED) == [
        "versioning",
        "public_access_block",
        "policy",
        "tags",
        "object_ownership",
    ]


def test_only_desired_keys_compared():
    assert s3_bucket_drift(_bucket(bucket_tagging={"x": "y"}), {"versioning": "Enabled"}) == []


def test_a_changed_policy_is_drift():
    """An existing policy that differs from the wanted one is drift, not only a missing one."""
    extra = {
        "Sid": "B",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/x",
    }
    wanted = {**POLICY, "Statement": [*POLICY["Statement"], extra]}
    assert s3_bucket_drift(_bucket(), {**DESIRED, "policy": wanted}) == ["policy"]
    assert s3_bucket_drift(_bucket(), {**DESIRED, "policy": json.dumps(wanted)}) == ["policy"]


def test_an_unwanted_policy_is_drift():
    assert s3_bucket_drift(_bucket(), {**DESIRED, "policy": None}) == ["policy"]
    assert s3_bucket_drift(_bucket(bucket_policy={}), {**DESIRED, "policy": None}) == []
