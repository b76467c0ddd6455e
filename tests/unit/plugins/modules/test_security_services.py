"""secureinfra.baseline.security_services against in-process moto with the emulator's additions
(scripts/moto_security_services.py: Access Analyzer, Security Hub standards, ...) and, where a test
says so, strict rules 21-25."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import security_services as mod
from support.security_moto import security_services_moto

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "acme-config-123456789012-us-east-1"
FSBP = "aws-foundational-security-best-practices/v/1.0.0"
CIS3 = "cis-aws-foundations-benchmark/v/3.0.0"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:acme-alarms"
READS = ("Get", "List", "Describe")
TAGS = {"Project": "landing-zone", "Owner": "platform"}


def writes(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.startswith(READS)]


def config_bucket_policy(bucket: str = BUCKET) -> dict[str, Any]:
    condition = {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Acl",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": condition,
            },
            {
                "Sid": "Put",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/Config/*",
                "Condition": {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "AWS:SourceAccount": ACCOUNT,
                    }
                },
            },
        ],
    }


@pytest.fixture
def extended(aws: None) -> Iterator[None]:
    with security_services_moto():
        yield


@pytest.fixture
def strict(aws: None) -> Iterator[None]:
    with security_services_moto(strict=True, iam_propagation_seconds=0, iam_propagation_refusals=0):
        yield


@pytest.fixture
def bucket(aws: None) -> str:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(config_bucket_policy()))
    return BUCKET


@pytest.fixture
def key(aws: None) -> str:
    return boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]


def everything(key: str) -> dict[str, Any]:
    return {
        "ebs_encryption": {"enabled": True, "kms_key_id": key},
        "config": {"include_global_resource_types": True, "s3_bucket_name": BUCKET, "propagation_timeout": 0},
        "security_hub": {"standards": [FSBP, CIS3], "tags": TAGS, "wait_timeout": 0},
        "guardduty": {
            "tags": TAGS,
            "features": {"S3_DATA_EVENTS": False, "LAMBDA_NETWORK_LOGS": True},
            "findings_rule": {"name": "acme-guardduty-findings", "topic_arn": TOPIC, "tags": TAGS},
        },
        "access_analyzer": {"name": "acme-account", "tags": TAGS},
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"ebs_encryption": {"kms_key_id": "alias/acme"}}, "ebs_encryption.kms_key_id must be a KMS key ARN"),
        ({"config": {"s3_bucket_name": "Bad_Bucket"}}, "config.s3_bucket_name must name an S3 bucket"),
        ({"config": {"s3_bucket_name": BUCKET, "s3_key_prefix": "x/AWSLogs"}}, "must be 1-1024 characters"),
        (
            {"security_hub": {"standards": ["arn:aws:securityhub:::ruleset/x"]}},
            "must be the part of a standard's ARN",
        ),
        ({"guardduty": {"features": {"s3 data": True}}}, "guardduty.features: 's3 data'"),
        (
            {"guardduty": {"findings_rule": {"name": "r", "topic_arn": "arn:aws:sqs:x"}}},
            "topic_arn must be an SNS topic ARN",
        ),
        (
            {"guardduty": {"findings_rule": {"name": "r", "topic_arn": TOPIC, "min_severity": 9}}},
            "min_severity must be 1.0-8.9",
        ),
        ({"access_analyzer": {"name": "9lives"}}, "access_analyzer.name must start with a letter"),
        ({"access_analyzer": {"name": "a", "tags": {"aws:x": "y"}}}, "access_analyzer.tags"),
    ],
)
def test_bad_input_is_refused_before_any_call(extended, run_module, calls, args, message):
    result = run_module(mod, args, expect_failure=True)
    assert message in result["msg"]
    assert calls == []


def test_converges_every_service_then_reruns_with_reads_only(extended, bucket, key, run_module, calls):
    result = run_module(mod, everything(key))
    assert result["changed"]
    assert result["config"]["service_linked_role_created"]
    assert result["security_hub"]["standards_status"] == {
        f"arn:aws:securityhub:{REGION}::standards/{FSBP}": "READY",
        f"arn:aws:securityhub:{REGION}::standards/{CIS3}": "READY",
    }
    ec2 = boto3.client("ec2", region_name=REGION)
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == key
    config = boto3.client("config", region_name=REGION)
    [recorder] = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert recorder["roleARN"].endswith("/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig")
    assert (
        recorder["recordingGroup"]["allSupported"]
        and recorder["recordingGroup"]["includeGlobalResourceTypes"]
    )
    assert config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"]
    assert config.describe_delivery_channels()["DeliveryChannels"][0]["s3BucketName"] == BUCKET
    gd = boto3.client("guardduty", region_name=REGION)
    [detector_id] = gd.list_detectors()["DetectorIds"]
    detector = gd.get_detector(DetectorId=detector_id)
    assert detector["Status"] == "ENABLED" and detector["Tags"] == TAGS
    assert {f["Name"]: f["Status"] for f in detector["Features"]} == {
        "S3_DATA_EVENTS": "DISABLED",
        "LAMBDA_NETWORK_LOGS": "ENABLED",
    }
    events = boto3.client("events", region_name=REGION)
    rule = events.describe_rule(Name="acme-guardduty-findings")
    assert json.loads(rule["EventPattern"])["source"] == ["aws.guardduty"]
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule="acme-guardduty-findings")["Targets"]] == [
        TOPIC
    ]
    [analyzer] = boto3.client("accessanalyzer", region_name=REGION).list_analyzers()["analyzers"]
    assert (analyzer["name"], analyzer["type"], analyzer["tags"]) == ("acme-account", "ACCOUNT", TAGS)
    hub = boto3.client("securityhub", region_name=REGION)
    assert hub.list_tags_for_resource(ResourceArn=hub.describe_hub()["HubArn"])["Tags"] == TAGS

    calls.clear()
    again = run_module(mod, everything(key))
    assert not again["changed"]
    assert writes(calls) == []


def test_check_mode_on_a_new_account_predicts_and_writes_nothing(extended, bucket, key, run_module, calls):
    result = run_module(mod, everything(key), check_mode=True, diff=True)
    assert result["changed"]
    assert set(result["diff"]["after"]) == {
        "ebs_encryption",
        "config",
        "security_hub",
        "guardduty",
        "access_analyzer",
    }
    assert result["diff"]["before"]["security_hub"] == {"enabled": False, "standards": [], "tags": {}}
    assert writes(calls) == []
    assert boto3.client("guardduty", region_name=REGION).list_detectors()["DetectorIds"] == []


def test_a_service_left_out_is_not_read(extended, run_module, calls):
    result = run_module(mod, {"access_analyzer": {"name": "acme-account"}})
    assert result["changed"] and set(result) >= {"access_analyzer"} and "guardduty" not in result
    assert {c for c in calls} <= {"ListAnalyzers", "CreateAnalyzer", "GetCallerIdentity"}


def test_tags_converge_and_purge(extended, run_module):
    run_module(
        mod,
        {
            "guardduty": {"tags": {"A": "1", "B": "2"}},
            "access_analyzer": {"name": "acme", "tags": {"A": "1"}},
        },
    )
    result = run_module(
        mod,
        {"guardduty": {"tags": {"A": "9"}}, "access_analyzer": {"name": "acme", "tags": {"C": "3"}}},
        diff=True,
    )
    assert result["changed"]
    gd = boto3.client("guardduty", region_name=REGION)
    assert gd.get_detector(DetectorId=gd.list_detectors()["DetectorIds"][0])["Tags"] == {"A": "9"}
    assert boto3.client("accessanalyzer", region_name=REGION).list_analyzers()["analyzers"][0]["tags"] == {
        "C": "3"
    }
    assert result["diff"]["before"]["guardduty"]["tags"] == {"A": "1", "B": "2"}


def test_an_existing_account_analyzer_of_another_name_is_adopted(extended, run_module, calls):
    aa = boto3.client("accessanalyzer", region_name=REGION)
    aa.create_analyzer(analyzerName="ConsoleAnalyzer-1", type="ACCOUNT")
    calls.clear()
    result = run_module(mod, {"access_analyzer": {"name": "acme-account", "tags": TAGS}})
    assert not result["changed"]
    assert result["access_analyzer"]["adopted"] and result["access_analyzer"]["name"] == "ConsoleAnalyzer-1"
    assert writes(calls) == []


def test_an_existing_detector_is_updated_not_duplicated(strict, run_module):
    gd = boto3.client("guardduty", region_name=REGION)
    detector_id = gd.create_detector(Enable=False, FindingPublishingFrequency="ONE_HOUR")["DetectorId"]
    result = run_module(mod, {"guardduty": {"finding_publishing_frequency": "FIFTEEN_MINUTES"}})
    assert result["changed"] and result["guardduty"]["detector_id"] == detector_id
    assert gd.list_detectors()["DetectorIds"] == [detector_id]
    detector = gd.get_detector(DetectorId=detector_id)
    assert (detector["Status"], detector["FindingPublishingFrequency"]) == ("ENABLED", "FIFTEEN_MINUTES")


def test_guardduty_suspended_keeps_the_detector_absent_deletes_it(extended, run_module):
    run_module(mod, {"guardduty": {"findings_rule": {"name": "r", "topic_arn": TOPIC}}})
    gd = boto3.client("guardduty", region_name=REGION)
    [detector_id] = gd.list_detectors()["DetectorIds"]
    suspended = run_module(
        mod, {"guardduty": {"state": "suspended", "findings_rule": {"name": "r", "state": "absent"}}}
    )
    assert suspended["changed"]
    assert gd.get_detector(DetectorId=detector_id)["Status"] == "DISABLED"
    assert boto3.client("events", region_name=REGION).list_rules()["Rules"] == []
    assert run_module(mod, {"guardduty": {"state": "absent"}})["changed"]
    assert gd.list_detectors()["DetectorIds"] == []
    assert not run_module(mod, {"guardduty": {"state": "absent"}})["changed"]


def test_config_absent_stops_and_deletes_recorder_and_channel_keeps_bucket_and_role(
    extended, bucket, run_module
):
    run_module(mod, {"config": {"s3_bucket_name": BUCKET, "propagation_timeout": 0}})
    result = run_module(mod, {"config": {"state": "absent"}})
    assert result["changed"]
    config = boto3.client("config", region_name=REGION)
    assert config.describe_configuration_recorders()["ConfigurationRecorders"] == []
    assert config.describe_delivery_channels()["DeliveryChannels"] == []
    boto3.client("s3", region_name=REGION).head_bucket(Bucket=BUCKET)
    boto3.client("iam", region_name=REGION).get_role(RoleName="AWSServiceRoleForConfig")
    assert not run_module(mod, {"config": {"state": "absent"}})["changed"]


def test_config_existing_recorder_is_adopted_under_its_name(extended, bucket, run_module):
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="old-config", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    config = boto3.client("config", region_name=REGION)
    config.put_configuration_recorder(ConfigurationRecorder={"name": "legacy", "roleARN": role})
    run_module(mod, {"config": {"s3_bucket_name": BUCKET, "propagation_timeout": 0}})
    [recorder] = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert recorder["name"] == "legacy" and recorder["roleARN"].endswith("/AWSServiceRoleForConfig")


def test_strict_21_bucket_policy_without_config_is_refused_with_a_message(strict, run_module):
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    result = run_module(
        mod, {"config": {"s3_bucket_name": BUCKET, "propagation_timeout": 0}}, expect_failure=True
    )
    assert "InsufficientDeliveryPolicyException" in json.dumps(result)
    assert "the bucket policy must let config.amazonaws.com" in result["msg"]


def test_strict_22_a_new_service_linked_role_is_waited_for(aws, bucket, run_module, calls, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda _s: None)
    with security_services_moto(strict=True, iam_propagation_seconds=0, iam_propagation_refusals=2):
        result = run_module(mod, {"config": {"s3_bucket_name": BUCKET, "propagation_timeout": 60}})
    assert result["changed"]
    assert calls.count("PutDeliveryChannel") == 3  # refused twice (the role is new), then accepted


def test_strict_22_without_retries_the_new_role_fails(aws, bucket, run_module):
    with security_services_moto(strict=True, iam_propagation_seconds=0, iam_propagation_refusals=1):
        result = run_module(
            mod, {"config": {"s3_bucket_name": BUCKET, "propagation_timeout": 0}}, expect_failure=True
        )
    assert "unable to assume role" in json.dumps(result)


def test_strict_23_security_hub_standards_without_config_are_incomplete_and_warned(strict, run_module):
    result = run_module(mod, {"security_hub": {"standards": [CIS3], "wait_timeout": 0}})
    assert set(result["security_hub"]["standards_status"].values()) == {"INCOMPLETE"}
    assert any("INCOMPLETE (NO_AVAILABLE_CONFIGURATION_RECORDER)" in w for w in result["warnings"])


def test_strict_23_config_first_then_security_hub_is_ready(strict, bucket, run_module):
    result = run_module(
        mod,
        {
            "config": {"s3_bucket_name": BUCKET, "propagation_timeout": 0},
            "security_hub": {"standards": [CIS3], "wait_timeout": 0},
        },
    )
    assert set(result["security_hub"]["standards_status"].values()) == {"READY"}
    assert not result.get("warnings")


def test_security_hub_purge_and_absent(extended, run_module):
    hub = boto3.client("securityhub", region_name=REGION)
    hub.enable_security_hub()  # with the default standards (FSBP, CIS v1.2.0)
    kept = run_module(mod, {"security_hub": {"standards": [CIS3], "wait_timeout": 0}})
    assert len(kept["security_hub"]["standards"]) == 3
    purged = run_module(
        mod, {"security_hub": {"standards": [CIS3], "purge_standards": True, "wait_timeout": 0}}
    )
    assert [s["StandardsArn"] for s in hub.get_enabled_standards()["StandardsSubscriptions"]] == [
        f"arn:aws:securityhub:{REGION}::standards/{CIS3}"
    ]
    assert purged["changed"]
    assert run_module(mod, {"security_hub": {"state": "absent"}})["changed"]
    with pytest.raises(hub.exceptions.InvalidAccessException):
        hub.describe_hub()


def test_ebs_reset_puts_the_aws_managed_key_back(extended, key, run_module):
    run_module(mod, {"ebs_encryption": {"enabled": True, "kms_key_id": key}})
    result = run_module(mod, {"ebs_encryption": {"reset_kms_key": True}})
    assert result["changed"]
    ec2 = boto3.client("ec2", region_name=REGION)
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"].endswith("alias/aws/ebs")
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]  # left on
    assert not run_module(mod, {"ebs_encryption": {"reset_kms_key": True}})["changed"]


def test_guardduty_suspended_creates_no_detector_and_leaves_settings(extended, run_module, calls):
    assert not run_module(mod, {"guardduty": {"state": "suspended"}})["changed"]
    assert "CreateDetector" not in calls
    gd = boto3.client("guardduty", region_name=REGION)
    detector_id = gd.create_detector(Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES")["DetectorId"]
    assert run_module(mod, {"guardduty": {"state": "suspended"}})["changed"]
    assert not run_module(mod, {"guardduty": {"state": "suspended"}})["changed"]
    detector = gd.get_detector(DetectorId=detector_id)
    assert (detector["Status"], detector["FindingPublishingFrequency"]) == ("DISABLED", "FIFTEEN_MINUTES")
