"""scripts/moto_security_services.py: what moto 5.2.5 lacks for the account's security services, and
strict rules 21-25. Each strict rule fires in strict mode and not with strict mode off.

In-process moto (the additions applied for one test by support.security_moto, then removed), and
once through moto's own server, so that Access Analyzer's requests, which moto does not route,
reach their backend over HTTP with a moto reset between.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer
from support.security_moto import security_services_moto

from scripts import emulator

REGION = "us-east-1"
ACCOUNT = "123456789012"
CIS3 = f"arn:aws:securityhub:{REGION}::standards/cis-aws-foundations-benchmark/v/3.0.0"
FSBP = f"arn:aws:securityhub:{REGION}::standards/aws-foundational-security-best-practices/v/1.0.0"
CIS12 = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
CONFIG_ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield


@pytest.fixture
def extended(aws: None) -> Iterator[None]:
    with security_services_moto():
        yield


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


# --- Access Analyzer ----------------------------------------------------------------------------------------


def test_access_analyzer_lifecycle(extended):
    aa = client("accessanalyzer")
    arn = aa.create_analyzer(analyzerName="acme", type="ACCOUNT", tags={"A": "1"})["arn"]
    assert arn == f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/acme"
    analyzer = aa.get_analyzer(analyzerName="acme")["analyzer"]
    assert (analyzer["status"], analyzer["type"], analyzer["tags"]) == ("ACTIVE", "ACCOUNT", {"A": "1"})
    aa.tag_resource(resourceArn=arn, tags={"B": "2"})
    aa.untag_resource(resourceArn=arn, tagKeys=["A"])
    assert aa.list_tags_for_resource(resourceArn=arn)["tags"] == {"B": "2"}
    assert [a["name"] for a in aa.list_analyzers(type="ACCOUNT")["analyzers"]] == ["acme"]
    assert aa.list_analyzers(type="ORGANIZATION")["analyzers"] == []
    assert aa.list_findings(analyzerArn=arn)["findings"] == []
    aa.delete_analyzer(analyzerName="acme")
    with pytest.raises(ClientError) as error:
        aa.get_analyzer(analyzerName="acme")
    assert code(error) == "ResourceNotFoundException"
    assert boto3.client("accessanalyzer", region_name="us-west-1").list_analyzers()["analyzers"] == []


def test_access_analyzer_names_and_the_one_account_analyzer_per_region(extended):
    aa = client("accessanalyzer")
    aa.create_analyzer(analyzerName="acme", type="ACCOUNT")
    with pytest.raises(ClientError) as error:
        aa.create_analyzer(analyzerName="acme", type="ACCOUNT")
    assert code(error) == "ConflictException"
    with pytest.raises(ClientError) as error:
        aa.create_analyzer(analyzerName="second", type="ACCOUNT")
    assert code(error) == "ServiceQuotaExceededException"
    aa.create_analyzer(analyzerName="unused", type="ACCOUNT_UNUSED_ACCESS")  # another type: allowed
    with pytest.raises(ClientError) as error:
        aa.create_analyzer(analyzerName="x", type="PUBLIC")
    assert code(error) == "ValidationException"


# --- Security Hub -------------------------------------------------------------------------------------------


def test_security_hub_standards_and_tags(extended):
    hub = client("securityhub")
    with pytest.raises(ClientError) as error:
        hub.get_enabled_standards()
    assert code(error) == "InvalidAccessException"
    hub.enable_security_hub(EnableDefaultStandards=False, Tags={"A": "1"})
    assert hub.get_enabled_standards()["StandardsSubscriptions"] == []
    answer = hub.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": CIS3}])
    assert answer["StandardsSubscriptions"][0]["StandardsStatus"] == "PENDING"
    [subscription] = hub.get_enabled_standards()["StandardsSubscriptions"]
    assert subscription["StandardsStatus"] == "READY"
    assert subscription["StandardsSubscriptionArn"] == (
        f"arn:aws:securityhub:{REGION}:{ACCOUNT}:subscription/cis-aws-foundations-benchmark/v/3.0.0"
    )
    with pytest.raises(ClientError) as error:
        hub.batch_enable_standards(
            StandardsSubscriptionRequests=[{"StandardsArn": "arn:aws:securityhub:::nope"}]
        )
    assert code(error) == "InvalidInputException"
    hub.batch_disable_standards(StandardsSubscriptionArns=[subscription["StandardsSubscriptionArn"]])
    assert hub.get_enabled_standards()["StandardsSubscriptions"] == []
    arn = hub.describe_hub()["HubArn"]
    hub.tag_resource(ResourceArn=arn, Tags={"B": "2"})
    hub.untag_resource(ResourceArn=arn, TagKeys=["A"])
    assert hub.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"B": "2"}
    assert {s["StandardsArn"] for s in hub.describe_standards()["Standards"]} >= {CIS3, FSBP, CIS12}
    products = hub.list_enabled_products_for_import()["ProductSubscriptions"]
    assert f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product-subscription/aws/guardduty" in products


def test_security_hub_default_standards_and_disable(extended):
    hub = client("securityhub")
    hub.enable_security_hub()
    assert {s["StandardsArn"] for s in hub.get_enabled_standards()["StandardsSubscriptions"]} == {FSBP, CIS12}
    hub.disable_security_hub()
    hub.enable_security_hub(EnableDefaultStandards=False)
    assert hub.get_enabled_standards()["StandardsSubscriptions"] == []


def test_findings_need_security_hub(extended):
    hub = client("securityhub")
    with pytest.raises(ClientError) as error:
        hub.get_findings()
    assert code(error) == "InvalidAccessException"


# --- GuardDuty, EC2, IAM ------------------------------------------------------------------------------------


def test_guardduty_detector_tags_and_findings(extended):
    gd = client("guardduty")
    detector_id = gd.create_detector(Enable=True, Tags={"A": "1"})["DetectorId"]
    arn = f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{detector_id}"
    gd.tag_resource(ResourceArn=arn, Tags={"B": "2"})
    gd.untag_resource(ResourceArn=arn, TagKeys=["A"])
    assert gd.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"B": "2"}
    assert gd.get_detector(DetectorId=detector_id)["Tags"] == {"B": "2"}
    assert gd.list_findings(DetectorId=detector_id)["FindingIds"] == []


def test_ebs_default_key(extended):
    ec2 = client("ec2")
    managed = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/ebs"
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == managed
    key = client("kms").create_key()["KeyMetadata"]["Arn"]
    ec2.modify_ebs_default_kms_key_id(KmsKeyId=key)
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == key
    assert ec2.reset_ebs_default_kms_key_id()["KmsKeyId"] == managed
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == managed


def test_default_security_group_admits_itself_as_aws_makes_it(extended):
    ec2 = client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    [group] = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    [rule] = group["IpPermissions"]
    assert rule["IpProtocol"] == "-1" and [p["GroupId"] for p in rule["UserIdGroupPairs"]] == [
        group["GroupId"]
    ]
    assert group["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]


def test_config_service_linked_role_has_aws_name(extended):
    role = client("iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")["Role"]
    assert role["Arn"] == CONFIG_ROLE


# --- strict rules -------------------------------------------------------------------------------------------


def config_recorder(role_arn: str = CONFIG_ROLE) -> None:
    client("config").put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": role_arn,
            "recordingGroup": {"allSupported": True},
        }
    )


def bucket(policy: dict[str, Any] | None) -> str:
    s3 = client("s3")
    s3.create_bucket(Bucket="cfg")
    if policy:
        s3.put_bucket_policy(Bucket="cfg", Policy=json.dumps(policy))
    return "cfg"


CONFIG_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": "arn:aws:s3:::cfg",
            "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}},
        },
        {
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::cfg/AWSLogs/{ACCOUNT}/Config/*",
            "Condition": {
                "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "AWS:SourceAccount": ACCOUNT}
            },
        },
    ],
}


@pytest.mark.parametrize(
    ("policy", "refused"),
    [
        (None, True),
        ({**CONFIG_POLICY, "Statement": CONFIG_POLICY["Statement"][:1]}, True),  # no PutObject
        ({**CONFIG_POLICY, "Statement": CONFIG_POLICY["Statement"][1:]}, True),  # no GetBucketAcl
        (CONFIG_POLICY, False),
    ],
)
def test_strict_21_the_bucket_policy_must_let_config_write(aws, policy, refused):
    with security_services_moto(strict=True, iam_propagation_seconds=0):
        client("iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")
        config_recorder()
        name = bucket(policy)
        channel = {"name": "default", "s3BucketName": name}
        if refused:
            with pytest.raises(ClientError) as error:
                client("config").put_delivery_channel(DeliveryChannel=channel)
            assert code(error) == "InsufficientDeliveryPolicyException"
            assert "unable to write to bucket" in str(error.value)
        else:
            client("config").put_delivery_channel(DeliveryChannel=channel)


def test_strict_21_a_missing_bucket_and_strict_off(aws):
    with security_services_moto(strict=True, iam_propagation_seconds=0):
        client("iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")
        config_recorder()
        with pytest.raises(ClientError) as error:
            client("config").put_delivery_channel(
                DeliveryChannel={"name": "default", "s3BucketName": "nobucket"}
            )
        assert code(error) == "NoSuchBucketException"
    with security_services_moto(strict=False):
        client("config").put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "nobucket"})


def test_strict_22_a_young_or_missing_recorder_role(aws):
    with security_services_moto(strict=True, iam_propagation_seconds=3600):
        client("iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")
        config_recorder()
        name = bucket(CONFIG_POLICY)
        with pytest.raises(ClientError) as error:
            client("config").put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": name})
        assert code(error) == "InsufficientDeliveryPolicyException" and "unable to assume role" in str(
            error.value
        )
    with security_services_moto(strict=True, iam_propagation_seconds=0):
        config_recorder(f"arn:aws:iam::{ACCOUNT}:role/missing")
        with pytest.raises(ClientError) as error:
            client("config").put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": name})
        assert "unable to assume role" in str(error.value)
        config_recorder()
        client("config").put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": name})


def test_strict_23_standards_incomplete_until_config_records(aws):
    with security_services_moto(strict=True, iam_propagation_seconds=0):
        hub = client("securityhub")
        hub.enable_security_hub(EnableDefaultStandards=False)
        hub.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": CIS3}])
        [subscription] = hub.get_enabled_standards()["StandardsSubscriptions"]
        assert subscription["StandardsStatus"] == "INCOMPLETE"
        assert subscription["StandardsStatusReason"] == {
            "StatusReasonCode": "NO_AVAILABLE_CONFIGURATION_RECORDER"
        }
        client("iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")
        config_recorder()
        client("config").put_delivery_channel(
            DeliveryChannel={"name": "default", "s3BucketName": bucket(CONFIG_POLICY)}
        )
        assert (
            hub.get_enabled_standards()["StandardsSubscriptions"][0]["StandardsStatus"] == "INCOMPLETE"
        )  # not recording yet
        client("config").start_configuration_recorder(ConfigurationRecorderName="default")
        assert hub.get_enabled_standards()["StandardsSubscriptions"][0]["StandardsStatus"] == "READY"
    with security_services_moto(strict=False):
        client("config").stop_configuration_recorder(ConfigurationRecorderName="default")
        assert hub.get_enabled_standards()["StandardsSubscriptions"][0]["StandardsStatus"] == "READY"


def flow_log(role_arn: str) -> tuple[Any, str]:
    ec2 = client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    client("logs").create_log_group(logGroupName="/flow")
    [flow_log_id] = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="/flow",
        DeliverLogsPermissionArn=role_arn,
    )["FlowLogIds"]
    return ec2, flow_log_id


def flow_role(service: str, actions: list[str]) -> str:
    iam = client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    arn = iam.create_role(RoleName="flow", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.put_role_policy(RoleName="flow", PolicyName="flow", PolicyDocument=json.dumps(policy))
    return arn


@pytest.mark.parametrize(
    ("service", "actions", "status"),
    [
        ("vpc-flow-logs.amazonaws.com", ["logs:CreateLogStream", "logs:PutLogEvents"], "SUCCESS"),
        ("lambda.amazonaws.com", ["logs:CreateLogStream", "logs:PutLogEvents"], "FAILED"),
        ("vpc-flow-logs.amazonaws.com", ["logs:CreateLogStream"], "FAILED"),
    ],
)
def test_strict_24_flow_log_delivery_follows_the_role(aws, service, actions, status):
    with security_services_moto(strict=True):
        ec2, flow_log_id = flow_log(flow_role(service, actions))
        [found] = ec2.describe_flow_logs(FlowLogIds=[flow_log_id])["FlowLogs"]
        assert found["DeliverLogsStatus"] == status
        if status == "FAILED":
            assert found["DeliverLogsErrorMessage"] == "Access error"
    with security_services_moto(strict=False):
        assert (
            ec2.describe_flow_logs(FlowLogIds=[flow_log_id])["FlowLogs"][0]["DeliverLogsStatus"] == "SUCCESS"
        )


def test_strict_25_one_detector_per_region(aws):
    with security_services_moto(strict=True):
        gd = client("guardduty")
        gd.create_detector(Enable=True)
        with pytest.raises(ClientError) as error:
            gd.create_detector(Enable=True)
        assert code(error) == "BadRequestException"
        boto3.client("guardduty", region_name="us-west-1").create_detector(Enable=True)  # another region
    with security_services_moto(strict=False):
        gd.create_detector(Enable=True)  # moto's own answer
        assert len(gd.list_detectors()["DetectorIds"]) == 2


# --- through the server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_through_the_server_and_a_reset(monkeypatch: pytest.MonkeyPatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with security_services_moto():
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            endpoint = f"http://127.0.0.1:{port}"
            aa = boto3.client("accessanalyzer", region_name=REGION, endpoint_url=endpoint)
            hub = boto3.client("securityhub", region_name=REGION, endpoint_url=endpoint)
            aa.create_analyzer(analyzerName="acme", type="ACCOUNT", tags={"A": "1"})
            hub.enable_security_hub(EnableDefaultStandards=False)
            hub.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": CIS3}])
            assert [a["name"] for a in aa.list_analyzers()["analyzers"]] == ["acme"]
            assert len(hub.get_enabled_standards()["StandardsSubscriptions"]) == 1
            emulator.reset(port)
            assert aa.list_analyzers()["analyzers"] == []
            with pytest.raises(ClientError):
                hub.describe_hub()
        finally:
            server.stop()
