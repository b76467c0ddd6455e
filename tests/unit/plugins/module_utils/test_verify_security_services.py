"""plugins/module_utils/verify_security_services.py: the security services' and the hardened network's
controls on snapshots (pure functions). Their reads, through baseline_controls on moto:
tests/unit/plugins/modules/test_baseline_controls_security_services.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible_collections.secureinfra.baseline.plugins.module_utils import verify_controls
from ansible_collections.secureinfra.baseline.plugins.module_utils import verify_security_services as vss

REGION = "us-east-1"
ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1111"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:acme-alarms"
TAGS = {"Project": "acme"}
FSBP = "aws-foundational-security-best-practices/v/1.0.0"
CIS3 = "cis-aws-foundations-benchmark/v/3.0.0"
IDS = {
    "EC2.6", "BASELINE.VPC.3", "EC2.2", "EC2.21", "BASELINE.VPC.4", "EC2.7", "Config.1",
    "BASELINE.SecurityHub.1", "GuardDuty.1", "BASELINE.GuardDuty.1", "IAM.28", "BASELINE.Tags.2",
}  # fmt: skip


def spec(**changes: Any) -> dict[str, Any]:
    wanted = {
        "flow_logs": True,
        "flow_log_group": "/acme/vpc-flow-logs/acme",
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
        **changes,
    }
    return {
        "security_services": wanted,
        "vpc_name": "acme",
        "key_alias": "acme-baseline",
        "required_tags": TAGS,
        "partition": "aws",
        "region": REGION,
    }


def snapshot() -> dict[str, Any]:
    """A converged region, as read_security_services reads it."""
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
                "Action": "sns:Publish",
                "Resource": TOPIC,
            }
        ]
    }
    key_policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["events.amazonaws.com"]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            }
        ]
    }
    return {
        "key": {"exists": True, "arn": KEY},
        "security_services": {
            "vpc": {
                "exists": True,
                "vpc_id": "vpc-1",
                "flow_logs": [
                    {
                        "id": "fl-1",
                        "status": "ACTIVE",
                        "delivery": "SUCCESS",
                        "error": None,
                        "traffic_type": "ALL",
                        "destination_type": "cloud-watch-logs",
                        "log_group": "/acme/vpc-flow-logs/acme",
                        "role": "r",
                        "tags": TAGS,
                    }
                ],
                "default_group": {"GroupId": "sg-1", "IpPermissions": [], "IpPermissionsEgress": []},
                "acls": [
                    {
                        "id": "acl-1",
                        "ingress": [
                            {
                                "RuleNumber": 100,
                                "Protocol": "-1",
                                "RuleAction": "allow",
                                "CidrBlock": "10.0.0.0/16",
                            },
                            {
                                "RuleNumber": 110,
                                "Protocol": "6",
                                "RuleAction": "allow",
                                "CidrBlock": "52.216.0.0/15",
                                "PortRange": {"From": 1024, "To": 65535},
                            },
                            {
                                "RuleNumber": 32767,
                                "Protocol": "-1",
                                "RuleAction": "deny",
                                "CidrBlock": "0.0.0.0/0",
                            },
                        ],
                    }
                ],
            },
            "flow_log_group": {"exists": True, "kms": KEY, "retention": 365, "tags": TAGS},
            "flow_log_role": {"exists": True, "tags": TAGS},
            "ebs": {"enabled": True, "kms_key_id": KEY},
            "config": {
                "recorder": {
                    "name": "acme",
                    "roleARN": f"arn:aws:iam::{ACCOUNT}:role/{vss.CONFIG_ROLE}",
                    "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
                },
                "status": {"name": "acme", "recording": True, "lastStatus": "SUCCESS"},
                "channel": {"name": "default", "s3BucketName": "acme-config"},
            },
            "security_hub": {
                "enabled": True,
                "arn": "hub",
                "standards": {
                    f"arn:aws:securityhub:{REGION}::standards/{FSBP}": {"status": "READY", "reason": None},
                    f"arn:aws:securityhub:{REGION}::standards/{CIS3}": {"status": "READY", "reason": None},
                },
                "tags": TAGS,
            },
            "guardduty": {"exists": True, "id": "d1", "status": "ENABLED", "tags": TAGS},
            "findings_rule": {
                "exists": True,
                "state": "ENABLED",
                "targets": [TOPIC],
                "tags": TAGS,
                "pattern": {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]},
            },
            "topic_policy": policy,
            "key_policy": key_policy,
            "analyzers": [{"name": "acme-account", "type": "ACCOUNT", "status": "ACTIVE", "tags": TAGS}],
        },
    }


def evaluate(snap: dict[str, Any], wanted: dict[str, Any]) -> dict[str, str]:
    return {
        cid: check(snap, wanted)[0]
        for cid, _t, _s, check, _scope, _rel in vss.security_services_controls(wanted)
    }


def test_a_converged_region_passes_every_control():
    assert evaluate(snapshot(), spec()) == dict.fromkeys(IDS, "pass")


def breaks(path: list[Any], value: Any) -> dict[str, Any]:
    snap = snapshot()
    target = snap
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return snap


SS = "security_services"
OPEN_22 = {"RuleNumber": 90, "Protocol": "6", "RuleAction": "allow", "CidrBlock": "0.0.0.0/0",
           "PortRange": {"From": 20, "To": 25}}  # fmt: skip
OPEN_ALL_V6 = {"RuleNumber": 101, "Protocol": "-1", "RuleAction": "allow", "Ipv6CidrBlock": "::/0"}
OPEN_443 = {"RuleNumber": 95, "Protocol": "6", "RuleAction": "allow", "CidrBlock": "0.0.0.0/0",
            "PortRange": {"From": 443, "To": 443}}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "failed"),
    [
        ([SS, "vpc", "flow_logs"], [], {"EC2.6", "BASELINE.Tags.2"}),
        ([SS, "vpc", "flow_logs", 0, "delivery"], "FAILED", {"EC2.6"}),
        ([SS, "flow_log_group", "kms"], "", {"BASELINE.VPC.3"}),
        ([SS, "flow_log_group", "retention"], 7, {"BASELINE.VPC.3"}),
        (
            [SS, "vpc", "default_group", "IpPermissionsEgress"],
            [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            {"EC2.2"},
        ),
        ([SS, "vpc", "acls", 0, "ingress", 0], OPEN_22, {"EC2.21", "BASELINE.VPC.4"}),
        ([SS, "vpc", "acls", 0, "ingress", 0], OPEN_ALL_V6, {"EC2.21", "BASELINE.VPC.4"}),
        ([SS, "vpc", "acls", 0, "ingress", 0], OPEN_443, {"BASELINE.VPC.4"}),
        ([SS, "ebs", "enabled"], False, {"EC2.7"}),
        ([SS, "config", "status", "recording"], False, {"Config.1"}),
        ([SS, "config", "recorder", "roleARN"], f"arn:aws:iam::{ACCOUNT}:role/my-config", {"Config.1"}),
        ([SS, "config", "recorder", "recordingGroup", "allSupported"], False, {"Config.1"}),
        ([SS, "config", "channel"], None, {"Config.1"}),
        ([SS, "security_hub", "enabled"], False, {"BASELINE.SecurityHub.1", "BASELINE.Tags.2"}),
        (
            [SS, "security_hub", "standards", f"arn:aws:securityhub:{REGION}::standards/{CIS3}", "status"],
            "INCOMPLETE",
            {"BASELINE.SecurityHub.1"},
        ),
        ([SS, "guardduty", "status"], "DISABLED", {"GuardDuty.1"}),
        ([SS, "findings_rule", "targets"], [], {"BASELINE.GuardDuty.1"}),
        ([SS, "topic_policy"], {"Statement": []}, {"BASELINE.GuardDuty.1"}),
        ([SS, "key_policy"], {"Statement": []}, {"BASELINE.GuardDuty.1"}),
        ([SS, "analyzers"], [], {"IAM.28", "BASELINE.Tags.2"}),
        ([SS, "analyzers", 0, "status"], "DISABLED", {"IAM.28"}),
        ([SS, "guardduty", "tags"], {}, {"BASELINE.Tags.2"}),
    ],
)
def test_each_change_fails_exactly_its_controls(path, value, failed):
    statuses = evaluate(breaks(path, value), spec())
    assert {cid for cid, status in statuses.items() if status == "fail"} == failed


def test_a_service_left_alone_is_not_applicable():
    wanted = spec(
        ebs_encryption=False, config=False, security_hub=False, guardduty=False, access_analyzer=False
    )
    statuses = evaluate(snapshot(), wanted)
    off = {"EC2.7", "Config.1", "BASELINE.SecurityHub.1", "GuardDuty.1", "BASELINE.GuardDuty.1", "IAM.28"}
    assert {cid for cid, status in statuses.items() if status == "not_applicable"} == off


def test_an_adopted_analyzer_passes_and_is_not_ours_to_tag():
    snap = breaks(
        [SS, "analyzers"], [{"name": "ConsoleAnalyzer", "type": "ACCOUNT", "status": "ACTIVE", "tags": {}}]
    )
    assert evaluate(snap, spec())["IAM.28"] == "pass"
    assert evaluate(snap, spec())["BASELINE.Tags.2"] == "pass"


def test_the_catalog_adds_them_before_the_tags_control():
    wanted = {**spec(), "cis_catalog": []}
    ids = [c.control_id for c in verify_controls.catalog(wanted)]
    assert set(ids) >= IDS and ids[-1] == "BASELINE.Tags.1"
    assert not IDS & {c.control_id for c in verify_controls.catalog({"cis_catalog": []})}


def test_standards_arns_per_region_and_the_global_ruleset():
    wanted = spec(standards=[CIS3, "cis-aws-foundations-benchmark/v/1.2.0"])
    assert vss.standards_arns(copy.deepcopy(wanted)) == [
        f"arn:aws:securityhub:{REGION}::standards/{CIS3}",
        "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
    ]
