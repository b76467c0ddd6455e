"""secureinfra.baseline.vpc_hardening against in-process moto with the emulator's additions (the default
security group's inbound rule, as AWS makes it) and, where a test says so, strict rule 24."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import vpc_hardening as mod
from support.security_moto import security_services_moto

REGION = "us-east-1"
ACCOUNT = "123456789012"
GROUP = "/acme/vpc-flow-logs/acme-us-east-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/*"},
            },
        }
    ],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*",
        }
    ],
}
READS = ("Describe", "Get")


def writes(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.startswith(READS)]


@pytest.fixture
def extended(aws: None) -> Iterator[None]:
    with security_services_moto():
        yield


@pytest.fixture
def vpc(extended: None) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=GROUP)
    return vpc_id


def role(trust: dict[str, Any] = TRUST, policy: dict[str, Any] | None = POLICY, name: str = "flow") -> str:
    iam = boto3.client("iam", region_name=REGION)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    return arn


def hardened(vpc_id: str, role_arn: str, **flow: Any) -> dict[str, Any]:
    return {
        "vpcs": [
            {
                "vpc_id": vpc_id,
                "network_acl": {
                    "ingress_cidrs": ["10.0.0.0/16"],
                    "return_traffic_prefix_lists": [
                        f"com.amazonaws.{REGION}.s3",
                        f"com.amazonaws.{REGION}.dynamodb",
                    ],
                },
                "flow_log": {
                    "log_group_name": GROUP,
                    "role_arn": role_arn,
                    "tags": {"Project": "acme"},
                    **flow,
                },
            }
        ]
    }


def ingress(vpc_id: str) -> list[tuple[Any, ...]]:
    ec2 = boto3.client("ec2", region_name=REGION)
    [acl] = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NetworkAcls"]
    return sorted(
        (e["RuleNumber"], e["Protocol"], e.get("CidrBlock"), (e.get("PortRange") or {}).get("From"))
        for e in acl["Entries"]
        if not e["Egress"]
    )


def prefix_list_cidrs() -> list[str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    cidrs = set()
    for service in ("s3", "dynamodb"):
        [pl] = ec2.describe_managed_prefix_lists(
            Filters=[{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{REGION}.{service}"]}]
        )["PrefixLists"]
        cidrs |= {
            e["Cidr"] for e in ec2.get_managed_prefix_list_entries(PrefixListId=pl["PrefixListId"])["Entries"]
        }
    return sorted(cidrs)


def test_hardens_the_vpc_then_reruns_with_reads_only(vpc, run_module, calls):
    arn = role()
    ec2 = boto3.client("ec2", region_name=REGION)
    [group] = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    assert group["IpPermissions"] and group["IpPermissionsEgress"]  # as AWS makes it
    result = run_module(mod, hardened(vpc, arn), diff=True)
    assert result["changed"]
    [entry] = result["vpcs"]
    assert entry["flow_log_id"].startswith("fl-") and entry["deliver_logs_status"] == "SUCCESS"
    [flow] = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc]}])["FlowLogs"]
    assert (flow["TrafficType"], flow["LogGroupName"], flow["DeliverLogsPermissionArn"]) == (
        "ALL",
        GROUP,
        arn,
    )
    assert flow["Tags"] == [{"Key": "Project", "Value": "acme"}]
    [group] = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"]
    assert group["IpPermissions"] == [] and group["IpPermissionsEgress"] == []
    cidrs = prefix_list_cidrs()
    expected = [(100, "-1", "10.0.0.0/16", None)]
    expected += [(110 + 10 * i, "6", cidr, 1024) for i, cidr in enumerate(cidrs)]
    expected += [(32767, "-1", "0.0.0.0/0", None)]
    assert ingress(vpc) == sorted(expected)
    assert "100 allow all from 0.0.0.0/0" in json.dumps(result["diff"]["before"])

    calls.clear()
    again = run_module(mod, hardened(vpc, arn))
    assert not again["changed"]
    assert writes(calls) == []


def test_check_mode_writes_nothing(vpc, run_module, calls):
    arn = role()
    calls.clear()
    result = run_module(mod, hardened(vpc, arn), check_mode=True, diff=True)
    assert result["changed"] and result["vpcs"][0]["flow_log_id"] is None
    assert writes(calls) == []
    assert (100, "-1", "0.0.0.0/0", None) in ingress(vpc)


def test_a_flow_log_that_differs_is_deleted_then_created_again(vpc, run_module, calls_with_params):
    arn = role()
    first = run_module(mod, hardened(vpc, arn))["vpcs"][0]["flow_log_id"]
    calls_with_params.clear()
    second = run_module(mod, hardened(vpc, arn, traffic_type="REJECT"))["vpcs"][0]["flow_log_id"]
    assert second != first
    names = [c[0] for c in calls_with_params]
    assert names.index("DeleteFlowLogs") < names.index("CreateFlowLogs")  # EC2 refuses two to one group
    ec2 = boto3.client("ec2", region_name=REGION)
    [flow] = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc]}])["FlowLogs"]
    assert (flow["FlowLogId"], flow["TrafficType"]) == (second, "REJECT")


def test_flow_log_absent_deletes_only_the_one_to_that_group(vpc, run_module):
    arn = role()
    run_module(mod, hardened(vpc, arn))
    result = run_module(
        mod,
        {
            "vpcs": [
                {
                    "vpc_id": vpc,
                    "restrict_default_security_group": False,
                    "flow_log": {"state": "absent", "log_group_name": GROUP},
                }
            ]
        },
    )
    assert result["changed"]
    assert boto3.client("ec2", region_name=REGION).describe_flow_logs()["FlowLogs"] == []


def test_too_many_prefix_list_ranges_fail_before_any_write(vpc, run_module, calls):
    arn = role()
    args = hardened(vpc, arn)
    args["vpcs"][0]["network_acl"]["max_entries"] = 2
    args["vpcs"][0]["flow_log"] = None
    args["vpcs"][0]["restrict_default_security_group"] = False
    calls.clear()
    result = run_module(mod, args, expect_failure=True)
    assert "more than max_entries 2" in result["msg"]
    assert writes(calls) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vpc_id": "vpc-xyz"}, "must be a VPC id"),
        ({"network_acl": {"ingress_cidrs": ["0.0.0.0/0"]}}, "admits the whole internet"),
        ({"network_acl": {"ingress_cidrs": ["10.0.0.1/16"]}}, "is not an IPv4 CIDR block"),
        (
            {"network_acl": {"ingress_cidrs": ["10.0.0.0/16"], "return_traffic_prefix_lists": ["s3"]}},
            "AWS prefix list name",
        ),
        (
            {"network_acl": {"ingress_cidrs": ["10.0.0.0/16"], "return_traffic_ports": [70000, 1]}},
            "return_traffic_ports",
        ),
        ({"flow_log": {"log_group_name": GROUP, "role_arn": "flow"}}, "must be an IAM role ARN"),
    ],
)
def test_bad_input_is_refused_before_any_call(extended, run_module, calls, change, message):
    result = run_module(mod, {"vpcs": [{"vpc_id": "vpc-0123456789abcdef0", **change}]}, expect_failure=True)
    assert message in result["msg"]
    assert calls == []


def test_strict_24_a_role_flow_logs_may_not_assume_fails_delivery_and_warns(aws, run_module):
    with security_services_moto(strict=True):
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName=GROUP)
        lambda_trust = {
            **TRUST,
            "Statement": [{**TRUST["Statement"][0], "Principal": {"Service": "lambda.amazonaws.com"}}],
        }
        result = run_module(mod, hardened(vpc_id, role(trust=lambda_trust)))
        assert result["vpcs"][0]["deliver_logs_status"] == "FAILED"
        assert any("cannot deliver" in w for w in result["warnings"])
        [flow] = ec2.describe_flow_logs()["FlowLogs"]
        assert (flow["DeliverLogsStatus"], flow["DeliverLogsErrorMessage"]) == ("FAILED", "Access error")


def test_strict_24_a_role_without_log_permissions_fails_delivery(aws, run_module):
    with security_services_moto(strict=True):
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName=GROUP)
        other = {
            **POLICY,
            "Statement": [{**POLICY["Statement"][0], "Resource": "arn:aws:logs:*:*:log-group:/other:*"}],
        }
        result = run_module(mod, hardened(vpc_id, role(policy=other)))
        assert result["vpcs"][0]["deliver_logs_status"] == "FAILED"


def test_strict_24_the_baseline_role_delivers(aws, run_module):
    with security_services_moto(strict=True):
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName=GROUP)
        result = run_module(mod, hardened(vpc_id, role()))
        assert result["vpcs"][0]["deliver_logs_status"] == "SUCCESS"
