"""secureinfra.baseline.baseline_controls with its security_services option, on in-process moto with the
emulator's additions: a region converged by vpc_hardening and security_services passes every
control of plugins/module_utils/verify_security_services.py; out-of-band changes fail exactly theirs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import baseline_controls, vpc_hardening
from ansible_collections.secureinfra.baseline.plugins.modules import security_services as services_module
from support.security_moto import security_services_moto

REGION = "us-east-1"
ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:acme-alarms"
TAGS = {"Project": "acme"}
FSBP = "aws-foundational-security-best-practices/v/1.0.0"
CIS3 = "cis-aws-foundations-benchmark/v/3.0.0"
GROUP = "/acme/vpc-flow-logs/acme"
IDS = {
    "EC2.6", "BASELINE.VPC.3", "EC2.2", "EC2.21", "BASELINE.VPC.4", "EC2.7", "Config.1",
    "BASELINE.SecurityHub.1", "GuardDuty.1", "BASELINE.GuardDuty.1", "IAM.28", "BASELINE.Tags.2",
}  # fmt: skip
SECURITY_SERVICES = {
    "flow_logs": True,
    "flow_log_group": GROUP,
    "flow_log_role": "acme-flow",
    "flow_log_traffic_type": "ALL",
    "flow_log_retention": 365,
    "restrict_network_acls": True,
    "ebs_encryption": True,
    "ebs_baseline_key": True,
    "config": True,
    "config_bucket": "acme-config",
    "include_global_resource_types": True,
    "security_hub": True,
    "standards": [FSBP, CIS3],
    "guardduty": True,
    "findings_rule": "acme-guardduty-findings",
    "findings_topic": TOPIC,
    "access_analyzer": True,
    "analyzer": "acme-account",
}
ARGS = {
    "account_id": ACCOUNT,
    "home_region": REGION,
    "required_tags": TAGS,
    "supported_runtimes": ["python3.12"],
    "key_alias": "acme-baseline",
    "vpc_name": "acme",
    "topic_arn": TOPIC,
    "security_services": SECURITY_SERVICES,
}


def allow(principal: str, actions: list[str]) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": principal}, "Action": actions, "Resource": "*"}
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "*",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [root, statement]})


@pytest.fixture
def region(aws: None, run_module: Any) -> Iterator[None]:
    """A region converged by the two modules, as the roles converge it."""
    with security_services_moto():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": "acme"}])
        kms = boto3.client("kms", region_name=REGION)
        key = kms.create_key(Policy=allow("events.amazonaws.com", ["kms:Decrypt", "kms:GenerateDataKey*"]))[
            "KeyMetadata"
        ]
        kms.create_alias(AliasName="alias/acme-baseline", TargetKeyId=key["KeyId"])
        logs = boto3.client("logs", region_name=REGION)
        logs.create_log_group(logGroupName=GROUP, kmsKeyId=key["Arn"], tags=TAGS)
        logs.put_retention_policy(logGroupName=GROUP, retentionInDays=365)
        trust = allow("vpc-flow-logs.amazonaws.com", ["sts:AssumeRole"]).replace(', "Resource": "*"', "")
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="acme-flow", AssumeRolePolicyDocument=trust, Tags=[{"Key": "Project", "Value": "acme"}]
        )["Role"]["Arn"]
        boto3.client("sns", region_name=REGION).create_topic(
            Name="acme-alarms", Attributes={"Policy": allow("events.amazonaws.com", ["sns:Publish"])}
        )
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="acme-config")
        flow_log = {"log_group_name": GROUP, "role_arn": role, "tags": TAGS}
        run_module(
            vpc_hardening,
            {
                "vpcs": [
                    {
                        "vpc_id": vpc_id,
                        "network_acl": {"ingress_cidrs": ["10.0.0.0/16"]},
                        "flow_log": flow_log,
                    }
                ]
            },
        )
        run_module(
            services_module,
            {
                "ebs_encryption": {"enabled": True, "kms_key_id": key["Arn"]},
                "config": {
                    "s3_bucket_name": "acme-config",
                    "include_global_resource_types": True,
                    "propagation_timeout": 0,
                },
                "security_hub": {"standards": [FSBP, CIS3], "tags": TAGS, "wait_timeout": 0},
                "guardduty": {
                    "tags": TAGS,
                    "findings_rule": {"name": "acme-guardduty-findings", "topic_arn": TOPIC, "tags": TAGS},
                },
                "access_analyzer": {"name": "acme-account", "tags": TAGS},
            },
        )
        yield


def statuses(run_module: Any, **changes: Any) -> dict[str, str]:
    result = run_module(baseline_controls, {**ARGS, **changes})
    return {r["control_id"]: r["status"] for r in result["records"] if r["control_id"] in IDS}


def test_a_converged_region_passes_every_control(region, run_module, calls):
    assert statuses(run_module) == dict.fromkeys(IDS, "pass")
    assert all(c.startswith(("Get", "List", "Describe", "Head")) for c in calls)


def test_out_of_band_changes_fail_exactly_their_controls(region, run_module):
    ec2 = boto3.client("ec2", region_name=REGION)
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["acme"]}])["Vpcs"]
    [acl] = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NetworkAcls"]
    ec2.create_network_acl_entry(
        NetworkAclId=acl["NetworkAclId"], RuleNumber=50, Protocol="6", RuleAction="allow", Egress=False,
        CidrBlock="0.0.0.0/0", PortRange={"From": 3389, "To": 3389},
    )  # fmt: skip
    gd = boto3.client("guardduty", region_name=REGION)
    gd.update_detector(DetectorId=gd.list_detectors()["DetectorIds"][0], Enable=False)
    boto3.client("config", region_name=REGION).stop_configuration_recorder(
        ConfigurationRecorderName="default"
    )
    ec2.disable_ebs_encryption_by_default()
    failed = {cid for cid, status in statuses(run_module).items() if status == "fail"}
    assert failed == {"EC2.21", "BASELINE.VPC.4", "GuardDuty.1", "Config.1", "EC2.7"}


def test_without_the_option_no_security_services_control(region, run_module):
    args = {k: v for k, v in ARGS.items() if k != "security_services"}
    result = run_module(baseline_controls, args)
    assert not IDS & {r["control_id"] for r in result["records"]}
