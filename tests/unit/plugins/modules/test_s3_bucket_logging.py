"""secureinfra.baseline.s3_bucket_logging against in-process moto: logging without any ACL call."""

from __future__ import annotations

import json

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import s3_bucket_logging as mod

SOURCE = "data-bucket"
TARGET = "log-bucket"


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=SOURCE)
    client.create_bucket(Bucket=TARGET, ObjectOwnership="BucketOwnerEnforced")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S3ServerAccessLogsPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{TARGET}/*",
            }
        ],
    }
    client.put_bucket_policy(Bucket=TARGET, Policy=json.dumps(policy))
    return client


@pytest.fixture
def no_acl_calls(monkeypatch):
    """Fail the test if any S3 ACL call is made (AccessControlListNotSupported on real AWS)."""
    calls: list[str] = []

    def record(params, model, **kwargs):  # botocore before-call hook
        calls.append(model.name)

    original = boto3.session.Session.client

    def client(self, *args, **kwargs):
        made = original(self, *args, **kwargs)
        made.meta.events.register("before-call.s3.*", record)
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    yield calls
    assert not [name for name in calls if "Acl" in name], calls


def _enabled(s3):
    return s3.get_bucket_logging(Bucket=SOURCE).get("LoggingEnabled")


def test_enable_then_idempotent_without_acl(s3, run_module, no_acl_calls):
    args = {"bucket_name": SOURCE, "target_bucket": TARGET, "target_prefix": "access/"}
    result = run_module(mod, args)
    assert result["changed"] is True
    assert _enabled(s3) == {"TargetBucket": TARGET, "TargetPrefix": "access/"}
    assert run_module(mod, args)["changed"] is False
    assert "PutBucketLogging" in no_acl_calls
    assert not [name for name in no_acl_calls if "Acl" in name]
    # the target bucket keeps ACLs disabled and no grant was added
    assert s3.get_bucket_ownership_controls(Bucket=TARGET)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]


def test_check_mode_predicts_without_writing(s3, run_module, no_acl_calls):
    args = {"bucket_name": SOURCE, "target_bucket": TARGET, "target_prefix": "access/"}
    result = run_module(mod, args, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["target_bucket"] == TARGET
    assert _enabled(s3) is None
    assert "PutBucketLogging" not in no_acl_calls


def test_prefix_change_with_diff(s3, run_module):
    run_module(mod, {"bucket_name": SOURCE, "target_bucket": TARGET, "target_prefix": "a/"})
    result = run_module(
        mod, {"bucket_name": SOURCE, "target_bucket": TARGET, "target_prefix": "b/"}, diff=True
    )
    assert result["changed"] is True
    assert result["diff"]["before"]["target_prefix"] == "a/"
    assert result["diff"]["after"]["target_prefix"] == "b/"
    assert _enabled(s3)["TargetPrefix"] == "b/"


def test_partitioned_key_format_request_and_read_back():
    # moto 5.2 does not keep TargetObjectKeyFormat, so the mapping is checked on the wire format
    # AWS documents (PutBucketLogging / GetBucketLogging, LoggingEnabled.TargetObjectKeyFormat).
    params = {
        "state": "present",
        "target_bucket": TARGET,
        "target_prefix": "p/",
        "target_object_key_format": "partitioned",
        "partition_date_source": "DeliveryTime",
    }
    view = mod.desired_view(params)
    status = mod.status_for_aws(view)
    assert status["LoggingEnabled"]["TargetObjectKeyFormat"] == {
        "PartitionedPrefix": {"PartitionDateSource": "DeliveryTime"}
    }
    assert "TargetGrants" not in status["LoggingEnabled"]
    assert mod.view_from_aws(status) == view
    simple = mod.view_from_aws({"LoggingEnabled": {"TargetBucket": TARGET, "TargetPrefix": "p/"}})
    assert simple != view


def test_absent_disables_and_is_idempotent(s3, run_module):
    run_module(mod, {"bucket_name": SOURCE, "target_bucket": TARGET})
    assert run_module(mod, {"bucket_name": SOURCE, "state": "absent"}, check_mode=True)["changed"] is True
    assert _enabled(s3) is not None
    assert run_module(mod, {"bucket_name": SOURCE, "state": "absent"})["changed"] is True
    assert _enabled(s3) is None
    assert run_module(mod, {"bucket_name": SOURCE, "state": "absent"})["changed"] is False


def test_bad_input_fails_before_any_call(s3, run_module, no_acl_calls):
    result = run_module(mod, {"bucket_name": SOURCE}, expect_failure=True)
    assert "target_bucket is required" in result["msg"]
    result = run_module(mod, {"bucket_name": SOURCE, "target_bucket": SOURCE}, expect_failure=True)
    assert "source bucket itself" in result["msg"]
    assert no_acl_calls == []


def test_missing_bucket(s3, run_module):
    result = run_module(mod, {"bucket_name": "nope-bucket", "target_bucket": TARGET}, expect_failure=True)
    assert "does not exist" in result["msg"]


def test_view_round_trip():
    view = {"target_bucket": "t", "target_prefix": "x/", "target_object_key_format": "simple"}
    assert mod.view_from_aws(mod.status_for_aws(view)) == view
    assert mod.status_for_aws({}) == {}
    assert mod.view_from_aws({}) == {}
