"""secureinfra.baseline.s3_buckets against in-process moto: a list of buckets in one run.

Creation in order (log bucket first), every setting read back with boto3, a rerun and check
mode without a single write, drift named per bucket and setting, at most one read per setting
and bucket, no ACL call, and bad input refused before any call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.module_utils import s3_settings as s3s
from ansible_collections.secureinfra.baseline.plugins.modules import s3_buckets as mod
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto.s3.responses import S3Response

from scripts import moto_extensions

LOGS = "app-logs-123456789012-us-east-1"
DATA = "app-data-123456789012-us-east-1"
READS = ("Get", "Head", "List")


def _policy(bucket: str, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            *(extra or []),
        ],
    }


LOG_DELIVERY = {
    "Sid": "S3ServerAccessLogs",
    "Effect": "Allow",
    "Principal": {"Service": "logging.s3.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": f"arn:aws:s3:::{LOGS}/s3-access/data/*",
}


def _buckets() -> list[dict[str, Any]]:
    return [
        {
            "name": LOGS,
            "policy": _policy(LOGS, [LOG_DELIVERY]),
            "tags": {"Project": "p", "Purpose": "logs"},
            "lifecycle_rules": [
                {"id": "expire-access-logs", "expiration_days": 365, "noncurrent_version_expiration_days": 90}
            ],
        },
        {
            "name": DATA,
            "policy": json.dumps(_policy(DATA)),
            "tags": {"Project": "p", "Purpose": "data"},
            "lifecycle_rules": [
                {
                    "id": "noncurrent",
                    "noncurrent_version_expiration_days": 90,
                    "abort_incomplete_multipart_upload_days": 7,
                }
            ],
            "logging": {"target_bucket": LOGS, "target_prefix": "s3-access/data/"},
            "request_metrics_id": "EntireBucket",
        },
    ]


@pytest.fixture
def s3(aws) -> Iterator[Any]:
    original = S3Response._bucket_response
    with mock.patch.object(S3Response, "_bucket_response", moto_extensions.metrics_handler(original)):
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every S3 operation the module makes, with its bucket; no ACL call ever."""
    made: list[tuple[str, str]] = []
    original = boto3.session.Session.client

    def record(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        made.append((model.name, params.get("Bucket", "")))

    def client(self: Any, *args: Any, **kwargs: Any) -> Any:
        new = original(self, *args, **kwargs)
        new.meta.events.register("provide-client-params.s3.*", record)
        return new

    monkeypatch.setattr(boto3.session.Session, "client", client)
    yield made
    assert not [name for name, _ in made if "Acl" in name], made


def _writes(made: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [call for call in made if not call[0].startswith(READS)]


def _state(s3: Any, bucket: str) -> dict[str, Any]:
    return {
        "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
        "public_access_block": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
        "ownership": s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"],
        "encryption": s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][
            0
        ],
        "policy": json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
        "tags": s3s.tags_from_api(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]),
        "lifecycle": [rule["ID"] for rule in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]],
        "logging": s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled"),
    }


def test_creates_every_bucket_in_order_then_reruns_without_writes(s3, run_module, calls) -> None:
    result = run_module(mod, {"buckets": _buckets()})
    assert result["changed"] is True
    assert [entry["changes"] for entry in result["buckets"]] == [["bucket"], ["bucket"]]
    assert result["msg"] == f"{LOGS}: created; {DATA}: created"
    # the log bucket is finished before the data bucket, which logs to it, is created
    writes = _writes(calls)
    assert writes.index(("CreateBucket", DATA)) > max(i for i, call in enumerate(writes) if call[1] == LOGS)
    # public access blocked before the policy; ownership comes with CreateBucket
    data_ops = [name for name, bucket in writes if bucket == DATA]
    assert data_ops.index("PutPublicAccessBlock") < data_ops.index("PutBucketPolicy")
    assert "PutBucketOwnershipControls" not in data_ops

    logs, data = _state(s3, LOGS), _state(s3, DATA)
    assert logs["versioning"] == data["versioning"] == "Enabled"
    assert all(data["public_access_block"].values()) and len(data["public_access_block"]) == 4
    assert data["ownership"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert data["encryption"]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert data["encryption"].get("BucketKeyEnabled", False) is False
    assert data["policy"]["Statement"][0]["Sid"] == "DenyInsecureTransport"
    assert logs["tags"] == {"Project": "p", "Purpose": "logs"}
    assert logs["lifecycle"] == ["expire-access-logs"] and data["lifecycle"] == ["noncurrent"]
    assert data["logging"] == {"TargetBucket": LOGS, "TargetPrefix": "s3-access/data/"}
    assert logs["logging"] is None
    metrics = s3.get_bucket_metrics_configuration(Bucket=DATA, Id="EntireBucket")["MetricsConfiguration"]
    assert metrics["Id"] == "EntireBucket"
    assert s3.get_bucket_location(Bucket=DATA)["LocationConstraint"] is None  # us-east-1

    calls.clear()
    rerun = run_module(mod, {"buckets": _buckets()}, diff=True)
    assert rerun["changed"] is False, rerun["msg"]
    assert rerun["msg"] == "no change"
    assert _writes(calls) == []
    assert rerun["diff"]["before"] == rerun["diff"]["after"]


def test_no_op_reads_each_setting_once_per_bucket(s3, run_module, calls) -> None:
    run_module(mod, {"buckets": _buckets()})
    calls.clear()
    run_module(mod, {"buckets": _buckets()}, check_mode=True)
    per_bucket = {bucket: [name for name, b in calls if b == bucket] for bucket in (LOGS, DATA)}
    for bucket, names in per_bucket.items():
        assert len(names) == len(set(names)), (bucket, names)  # no setting read twice
        assert len(names) <= 10, (bucket, names)
    # the log bucket manages neither logging nor metrics: neither is read
    assert "GetBucketLogging" not in per_bucket[LOGS]
    assert "GetBucketMetricsConfiguration" not in per_bucket[LOGS]
    assert len(per_bucket[DATA]) == 9
    assert len(calls) == 16


def test_unnamed_settings_are_neither_read_nor_written(s3, run_module, calls) -> None:
    s3.create_bucket(Bucket=DATA)
    s3.put_bucket_tagging(Bucket=DATA, Tagging={"TagSet": [{"Key": "Keep", "Value": "me"}]})
    result = run_module(mod, {"buckets": [{"name": DATA}]})
    assert "tags" not in result["buckets"][0]["changes"]
    read = {name for name, _ in calls if name.startswith(READS)}
    assert read == {
        "GetBucketVersioning",
        "GetPublicAccessBlock",
        "GetBucketOwnershipControls",
        "GetBucketEncryption",
    }
    assert s3.get_bucket_tagging(Bucket=DATA)["TagSet"] == [{"Key": "Keep", "Value": "me"}]


def test_check_mode_on_an_empty_account_writes_nothing(s3, run_module, calls) -> None:
    result = run_module(mod, {"buckets": _buckets()}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["msg"] == f"{LOGS}: would create; {DATA}: would create"
    assert [entry["existed"] for entry in result["buckets"]] == [False, False]
    assert result["diff"]["before"] == {LOGS: {}, DATA: {}}
    assert result["diff"]["after"][DATA]["logging"]["target_bucket"] == LOGS
    assert _writes(calls) == []
    assert s3.list_buckets()["Buckets"] == []
    # one read per bucket finds it missing
    assert [name for name, _ in calls] == ["GetBucketVersioning", "GetBucketVersioning"]


def test_drift_is_named_per_bucket_and_repaired(s3, run_module, calls) -> None:
    run_module(mod, {"buckets": _buckets()})
    s3.put_bucket_versioning(Bucket=LOGS, VersioningConfiguration={"Status": "Suspended"})
    pab = s3.get_public_access_block(Bucket=DATA)["PublicAccessBlockConfiguration"]
    s3.put_public_access_block(
        Bucket=DATA, PublicAccessBlockConfiguration={**pab, "BlockPublicPolicy": False}
    )
    s3.put_bucket_tagging(Bucket=DATA, Tagging={"TagSet": [{"Key": "Project", "Value": "p"}]})
    s3.delete_bucket_lifecycle(Bucket=LOGS)
    calls.clear()

    dry = run_module(mod, {"buckets": _buckets()}, check_mode=True, diff=True)
    assert dry["changed"] is True
    assert dry["msg"] == (
        f"{LOGS}: would update versioning, lifecycle; {DATA}: would update public_access_block, tags"
    )
    assert dry["diff"]["before"][LOGS]["versioning"] == "Suspended"
    assert dry["diff"]["after"][LOGS]["versioning"] == "Enabled"
    assert dry["diff"]["before"][DATA]["tags"] == {"Project": "p"}
    assert _writes(calls) == []

    fixed = run_module(mod, {"buckets": _buckets()})
    assert [entry["changes"] for entry in fixed["buckets"]] == [
        ["versioning", "lifecycle"],
        ["public_access_block", "tags"],
    ]
    assert {name for name, _ in _writes(calls)} == {
        "PutBucketVersioning",
        "PutBucketLifecycleConfiguration",
        "PutPublicAccessBlock",
        "PutBucketTagging",
    }
    assert _state(s3, LOGS)["versioning"] == "Enabled"
    assert _state(s3, DATA)["public_access_block"]["BlockPublicPolicy"] is True
    assert _state(s3, DATA)["tags"] == {"Project": "p", "Purpose": "data"}
    assert run_module(mod, {"buckets": _buckets()})["changed"] is False


def test_policy_ownership_and_purge(s3, run_module) -> None:
    run_module(mod, {"buckets": _buckets()})
    s3.put_bucket_ownership_controls(
        Bucket=DATA, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    )
    s3.put_bucket_tagging(Bucket=DATA, Tagging={"TagSet": [{"Key": "Extra", "Value": "x"}]})
    buckets = _buckets()
    buckets[1]["policy"] = _policy(DATA, [{**LOG_DELIVERY, "Sid": "Another"}])
    buckets[1]["purge_tags"] = False
    result = run_module(mod, {"buckets": buckets})
    assert result["buckets"][1]["changes"] == ["object_ownership", "policy", "tags"]
    assert _state(s3, DATA)["ownership"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert _state(s3, DATA)["tags"] == {"Extra": "x", "Project": "p", "Purpose": "data"}
    assert [s["Sid"] for s in _state(s3, DATA)["policy"]["Statement"]] == ["DenyInsecureTransport", "Another"]


def test_other_region_gets_a_location_constraint(aws, run_module) -> None:
    result = run_module(mod, {"region": "us-west-1", "buckets": [{"name": DATA}]})
    assert result["changed"] is True
    s3 = boto3.client("s3", region_name="us-west-1")
    assert s3.get_bucket_location(Bucket=DATA)["LocationConstraint"] == "us-west-1"
    assert run_module(mod, {"region": "us-west-1", "buckets": [{"name": DATA}]})["changed"] is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: b.reverse(),
            f"bucket {DATA}: logging.target_bucket {LOGS} must come before it in buckets",
        ),
        (lambda b: b.append(dict(b[0])), f"bucket {LOGS}: listed twice"),
        (
            lambda b: b[1].update(logging={"target_bucket": DATA}),
            f"bucket {DATA}: logging.target_bucket is the",
        ),
        (
            lambda b: b[0].update(lifecycle_rules=[{"id": "x"}]),
            f"bucket {LOGS}: lifecycle_rules: Lifecycle rule x sets no action",
        ),
        (
            lambda b: b[0].update(encryption={"algorithm": "AES256", "kms_key_id": "k"}),
            f"bucket {LOGS}: encryption: kms_key_id can only be set with algorithm aws:kms",
        ),
        (lambda b: b[0].update(name="Bad_Name"), "bucket Bad_Name: name must be 3-63"),
        (lambda b: b[0].update(policy="{not json"), f"bucket {LOGS}: policy is not a JSON document"),
    ],
)
def test_bad_input_fails_before_any_call(s3, run_module, calls, change, message) -> None:
    buckets = _buckets()
    change(buckets)
    result = run_module(mod, {"buckets": buckets}, expect_failure=True)
    assert message in result["msg"]
    assert calls == []


def test_read_errors_name_the_bucket_and_setting(s3, run_module) -> None:
    s3.create_bucket(Bucket=DATA)
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetBucketPolicy")
    with mock.patch("botocore.client.BaseClient._make_api_call", autospec=True) as call:
        call.side_effect = lambda self, name, params: _deny_policy(self, name, params, denied)
        result = run_module(mod, {"buckets": [{"name": DATA, "policy": _policy(DATA)}]}, expect_failure=True)
    assert result["msg"].startswith(f"bucket {DATA}: failed to read its policy"), result["msg"]


_REAL_CALL = BaseClient._make_api_call


def _deny_policy(client: Any, name: str, params: dict[str, Any], error: ClientError) -> Any:
    if name == "GetBucketPolicy":
        raise error
    return _REAL_CALL(client, name, params)


def test_views_compare_alike() -> None:
    # a policy returned as text with "*" equals the dict with {"AWS": "*"}
    policy = _policy(DATA)
    text = json.dumps({**policy, "Statement": [{**policy["Statement"][0], "Principal": "*"}]})
    assert not s3s.policy_differs(text, policy)
    assert s3s.policy_differs(None, policy) and not s3s.policy_differs(None, None)
    assert s3s.versioning_wanted(False, "Disabled") == "Disabled"
    assert s3s.versioning_wanted(False, "Enabled") == "Suspended"
    assert s3s.public_access_block_view(None) == dict.fromkeys(s3s.PUBLIC_ACCESS_BLOCK_FIELDS, False)
    assert mod.new_bucket_writes(mod.desired({**_spec_defaults(), "versioning": False}, {})) == [
        "public_access_block",
        "encryption",
    ]


def _spec_defaults() -> dict[str, Any]:
    return {
        "name": DATA,
        "public_access_block": dict.fromkeys(s3s.PUBLIC_ACCESS_BLOCK_FIELDS, True),
        "object_ownership": "BucketOwnerEnforced",
        "versioning": True,
        "encryption": {"algorithm": "AES256", "kms_key_id": None, "bucket_key_enabled": False},
        "policy": None,
        "tags": None,
        "purge_tags": True,
        "lifecycle_rules": None,
        "logging": None,
        "request_metrics_id": None,
    }
