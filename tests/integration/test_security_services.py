"""The security services and the hardened network, read back after the site's converge of both regions.

On the main emulator (the session's `converged` fixture, strict: Config's delivery bucket policy and
the new service-linked role, Security Hub's standards INCOMPLETE without Config, flow-log delivery
by its role, one GuardDuty detector per region, rules 21-25): every region has its flow log,
closed default security group and network ACLs, EBS encryption by default with its baseline key,
a recorder (global types in the home region only) delivering to its region's Config bucket, Security
Hub with both standards READY, an enabled detector whose findings reach the alarm topic, and an
account analyzer. On the second emulator: a converge with services turned off leaves them alone,
and the teardown keeps each service's data unless teardown_destroy_data.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import REGIONS, PlaybookRun
from support.recorder import mutating

ACCOUNT = "123456789012"
HOME = "us-east-1"
PREFIX = "secureinfra"
CONFIG_ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
STANDARDS = (
    "aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark/v/3.0.0",
)
REQUIRED_TAGS = {"Environment": "dev", "Owner": "platform-team", "Project": "secure-infrastructure"}


def vpc_of(aws: Any, region: str) -> dict[str, Any]:
    [vpc] = aws("ec2", region).describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": [f"{PREFIX}-{region}"]}]
    )["Vpcs"]
    return vpc


def key_arn(aws: Any, region: str) -> str:
    return aws("kms", region).describe_key(KeyId=f"alias/{PREFIX}-baseline")["KeyMetadata"]["Arn"]


def tagged(tags: dict[str, str]) -> bool:
    return all(tags.get(k) == v for k, v in REQUIRED_TAGS.items())


@pytest.mark.parametrize("region", REGIONS)
def test_flow_log_to_an_encrypted_group_through_its_role(
    converged: PlaybookRun, aws: Any, region: str
) -> None:
    ec2, logs, iam = aws("ec2", region), aws("logs", region), aws("iam", region)
    vpc_id = vpc_of(aws, region)["VpcId"]
    [flow] = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    group = f"/{PREFIX}/vpc-flow-logs/{PREFIX}-{region}"
    role = f"{PREFIX}-{region}-vpc-flow-logs"
    assert (flow["LogGroupName"], flow["TrafficType"], flow["DeliverLogsStatus"]) == (group, "ALL", "SUCCESS")
    assert flow["DeliverLogsPermissionArn"] == f"arn:aws:iam::{ACCOUNT}:role/{role}"
    assert tagged({t["Key"]: t["Value"] for t in flow["Tags"]})
    [found] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert (found["kmsKeyId"], found["retentionInDays"]) == (key_arn(aws, region), 365)
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    [statement] = (json.loads(trust) if isinstance(trust, str) else trust)["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert statement["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:ec2:{region}:{ACCOUNT}:vpc-flow-log/*"
    }
    policy = iam.get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"]
    actions = {
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
        "logs:DescribeLogGroups",
    }


@pytest.mark.parametrize("region", REGIONS)
def test_default_group_closed_and_acls_private(converged: PlaybookRun, aws: Any, region: str) -> None:
    ec2 = aws("ec2", region)
    vpc = vpc_of(aws, region)
    in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    [group] = ec2.describe_security_groups(Filters=[*in_vpc, {"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"
    ]
    assert group["IpPermissions"] == [] and group["IpPermissionsEgress"] == []
    for acl in ec2.describe_network_acls(Filters=in_vpc)["NetworkAcls"]:
        entries = [e for e in acl["Entries"] if not e["Egress"] and e["RuleNumber"] < 32767]
        ingress = sorted(entries, key=lambda e: e["RuleNumber"])
        assert ingress[0]["CidrBlock"] == vpc["CidrBlock"] and ingress[0]["Protocol"] == "-1"
        assert all(
            e["Protocol"] == "6" and e["PortRange"] == {"From": 1024, "To": 65535} for e in ingress[1:]
        )
        assert not [
            e for e in ingress if e.get("CidrBlock") == "0.0.0.0/0" or e.get("Ipv6CidrBlock") == "::/0"
        ]


@pytest.mark.parametrize("region", REGIONS)
def test_ebs_encryption_by_default_with_the_baseline_key(
    converged: PlaybookRun, aws: Any, region: str
) -> None:
    ec2 = aws("ec2", region)
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == key_arn(aws, region)


@pytest.mark.parametrize("region", REGIONS)
def test_config_records_everything_to_its_region_bucket(
    converged: PlaybookRun, aws: Any, region: str
) -> None:
    config, s3 = aws("config", region), aws("s3", region)
    [recorder] = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert recorder["name"] == f"{PREFIX}-{region}" and recorder["roleARN"] == CONFIG_ROLE
    assert recorder["recordingGroup"]["allSupported"] is True
    assert recorder["recordingGroup"]["includeGlobalResourceTypes"] is (region == HOME)
    [status] = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status["recording"] is True
    bucket = f"{PREFIX}-config-{ACCOUNT}-{region}"
    [channel] = config.describe_delivery_channels()["DeliveryChannels"]
    assert channel["s3BucketName"] == bucket
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {
        "DenyInsecureTransport",
        "AWSConfigBucketPermissionsCheck",
        "AWSConfigBucketExistenceCheck",
        "AWSConfigBucketDelivery",
    }
    logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert logging == {
        "TargetBucket": f"{PREFIX}-logs-{ACCOUNT}-{region}",
        "TargetPrefix": "s3-access/config/",
    }
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_one_config_service_linked_role(converged: PlaybookRun, aws: Any) -> None:
    roles = aws("iam").list_roles(PathPrefix="/aws-service-role/config.amazonaws.com/")["Roles"]
    assert [r["Arn"] for r in roles] == [CONFIG_ROLE]


@pytest.mark.parametrize("region", REGIONS)
def test_security_hub_standards_ready(converged: PlaybookRun, aws: Any, region: str) -> None:
    hub = aws("securityhub", region)
    arn = hub.describe_hub()["HubArn"]
    assert tagged(hub.list_tags_for_resource(ResourceArn=arn)["Tags"])
    standards = {
        s["StandardsArn"]: s["StandardsStatus"] for s in hub.get_enabled_standards()["StandardsSubscriptions"]
    }
    assert standards == {f"arn:aws:securityhub:{region}::standards/{path}": "READY" for path in STANDARDS}


@pytest.mark.parametrize("region", REGIONS)
def test_guardduty_detector_and_findings_to_the_alarm_topic(
    converged: PlaybookRun, aws: Any, region: str
) -> None:
    gd, events = aws("guardduty", region), aws("events", region)
    [detector_id] = gd.list_detectors()["DetectorIds"]
    detector = gd.get_detector(DetectorId=detector_id)
    assert detector["Status"] == "ENABLED" and detector["FindingPublishingFrequency"] == "FIFTEEN_MINUTES"
    assert {f["Name"]: f["Status"] for f in detector["Features"]} == {
        "S3_DATA_EVENTS": "ENABLED",
        "LAMBDA_NETWORK_LOGS": "ENABLED",
        "EKS_AUDIT_LOGS": "DISABLED",
        "EBS_MALWARE_PROTECTION": "DISABLED",
        "RDS_LOGIN_EVENTS": "DISABLED",
    }
    assert tagged(detector["Tags"])
    rule = events.describe_rule(Name=f"{PREFIX}-guardduty-findings")
    pattern = json.loads(rule["EventPattern"])
    assert pattern["source"] == ["aws.guardduty"] and pattern["detail"] == {
        "severity": [{"numeric": [">=", 4.0]}]
    }
    topic = f"arn:aws:sns:{region}:{ACCOUNT}:{PREFIX}-alarms"
    assert [
        t["Arn"] for t in events.list_targets_by_rule(Rule=f"{PREFIX}-guardduty-findings")["Targets"]
    ] == [topic]


@pytest.mark.parametrize("region", REGIONS)
def test_access_analyzer(converged: PlaybookRun, aws: Any, region: str) -> None:
    [analyzer] = aws("accessanalyzer", region).list_analyzers()["analyzers"]
    assert (analyzer["name"], analyzer["type"], analyzer["status"]) == (
        f"{PREFIX}-account",
        "ACCOUNT",
        "ACTIVE",
    )
    assert tagged(analyzer["tags"])


# --- toggles and teardown, on the second emulator -----------------------------------------------------------

TAGS = "encryption,storage,security_services"
OFF = {"security_services_guardduty": False, "security_services_security_hub": False}
CONFIRM = {"teardown_confirm": ACCOUNT}


def test_services_turned_off_are_left_alone_and_teardown_keeps_data(
    fresh_run_playbook: Any, fresh_aws: Any
) -> None:
    run = fresh_run_playbook("--tags", TAGS, limit=HOME, extra_vars=OFF)
    assert run.rc == 0, run.stderr
    assert fresh_aws("guardduty", HOME).list_detectors()["DetectorIds"] == []
    with pytest.raises(fresh_aws("securityhub", HOME).exceptions.InvalidAccessException):
        fresh_aws("securityhub", HOME).describe_hub()
    assert fresh_aws("config", HOME).describe_configuration_recorders()["ConfigurationRecorders"]
    assert not [c for c in mutating(run.calls) if c.startswith(("guardduty:", "securityhub:"))]
    again = fresh_run_playbook("--tags", TAGS, limit=HOME, extra_vars=OFF)
    assert again.rc == 0 and again.changed(HOME) == 0, again.changed_tasks()

    # Not destroying: Config stops, the analyzer, the bucket and EBS encryption stay.
    kept = fresh_run_playbook(playbook="playbooks/teardown.yml", limit=HOME, extra_vars=CONFIRM)
    assert kept.rc == 0, kept.stderr
    config, s3 = fresh_aws("config", HOME), fresh_aws("s3", HOME)
    assert config.describe_configuration_recorders()["ConfigurationRecorders"] == []
    assert config.describe_delivery_channels()["DeliveryChannels"] == []
    s3.head_bucket(Bucket=f"{PREFIX}-config-{ACCOUNT}-{HOME}")
    assert fresh_aws("accessanalyzer", HOME).list_analyzers()["analyzers"]
    ec2 = fresh_aws("ec2", HOME)
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    assert not ec2.get_ebs_default_kms_key_id()["KmsKeyId"].endswith("alias/aws/ebs")

    # Destroying: the analyzer and the bucket go, the default key returns to AWS's.
    destroyed = fresh_run_playbook(
        playbook="playbooks/teardown.yml", limit=HOME, extra_vars={**CONFIRM, "teardown_destroy_data": True}
    )
    assert destroyed.rc == 0, destroyed.stderr
    assert fresh_aws("accessanalyzer", HOME).list_analyzers()["analyzers"] == []
    assert f"{PREFIX}-config-{ACCOUNT}-{HOME}" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"].endswith("alias/aws/ebs")
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    roles = fresh_aws("iam").list_roles(PathPrefix="/aws-service-role/config.amazonaws.com/")["Roles"]
    assert len(roles) == 1  # AWS's, kept
