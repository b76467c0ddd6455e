"""Rule 13 of scripts/strict_aws.py: the network interfaces Lambda keeps for VPC functions.

A VPC function holds one interface per subnet (shared by the functions of the same subnet and
security groups). Some seconds after the last function using it is deleted, Lambda deletes it
with the execution role of the function that created it; when that role is gone (or may no longer
ec2:DeleteNetworkInterface) the interface is only detached, stays `available`, and its subnet
and security group cannot be deleted until someone deletes it. That is why the teardown deletes
the roles after the network, and deletes the interfaces Lambda left.

In-process moto with the strict patches (tests/unit/emulator/conftest.py); a simulated clock
moves past the release delay instead of waiting.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from support.strict_clock import LAMBDA_TRUST, advance

from scripts import strict_aws

REGION = "us-east-1"
RELEASE = 30.0  # seconds after DeleteFunction; tests move the clock past it (`wait_out`)
TRUST = LAMBDA_TRUST
VPC_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
            ],
            "Resource": "*",
        }
    ],
}


def wait_out() -> None:
    advance(RELEASE + 1)


pytestmark = pytest.mark.usefixtures("strict_clock")


@pytest.fixture
def aws(strict_patches: None) -> Iterator[Callable[[str], Any]]:
    strict_aws.CONFIG.update(
        {
            "enabled": True,
            "iam_propagation_seconds": RELEASE,
            "iam_propagation_refusals": 0,
            "lambda_eni_release_seconds": RELEASE,
        }
    )
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


@pytest.fixture
def network(aws: Callable[[str], Any]) -> dict[str, Any]:
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in (("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b"))
    ]
    group = ec2.create_security_group(GroupName="functions", Description="functions", VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnets": subnets, "group": group}


def role(aws: Callable[[str], Any], name: str) -> str:
    iam = aws("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="vpc", PolicyDocument=json.dumps(VPC_ACCESS))
    wait_out()  # past IAM propagation (rules 3 and 14)
    return arn


def delete_role(aws: Callable[[str], Any], name: str) -> None:
    iam = aws("iam")
    iam.delete_role_policy(RoleName=name, PolicyName="vpc")
    iam.delete_role(RoleName=name)


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def function(aws: Callable[[str], Any], name: str, role_arn: str, network: dict[str, Any]) -> str:
    return aws("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": zipped()},
        VpcConfig={"SubnetIds": network["subnets"], "SecurityGroupIds": [network["group"]]},
    )["FunctionArn"]


def lambda_enis(aws: Callable[[str], Any], vpc: str) -> list[dict[str, Any]]:
    pages = (
        aws("ec2")
        .get_paginator("describe_network_interfaces")
        .paginate(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc]},
                {"Name": "description", "Values": ["AWS Lambda VPC ENI*"]},
            ]
        )
    )
    return [eni for page in pages for eni in page["NetworkInterfaces"]]


def error_code(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_a_vpc_function_holds_one_interface_per_subnet_shared_by_its_neighbours(aws, network):
    arn = role(aws, "processor")
    function(aws, "processor", arn, network)
    function(aws, "analytics", arn, network)
    enis = lambda_enis(aws, network["vpc"])
    assert sorted(e["SubnetId"] for e in enis) == sorted(network["subnets"])
    for eni in enis:
        assert eni["Status"] == "in-use"
        assert eni["RequesterManaged"] is True
        assert eni["InterfaceType"] == "lambda"
        assert eni["Description"].startswith("AWS Lambda VPC ENI-processor-")
        assert [g["GroupId"] for g in eni["Groups"]] == [network["group"]]


def test_deleted_function_releases_its_interfaces_with_its_role(aws, network):
    arn = role(aws, "processor")
    function(aws, "processor", arn, network)
    aws("lambda").delete_function(FunctionName="processor")
    ec2 = aws("ec2")
    # not yet released: the subnet and the group still have a dependent interface
    (eni, _other) = lambda_enis(aws, network["vpc"])
    assert eni["Status"] == "in-use"
    assert error_code(ec2.delete_security_group, GroupId=network["group"]) == (
        "DependencyViolation",
        f"resource {network['group']} has a dependent object",
    )
    subnet = network["subnets"][0]
    assert error_code(ec2.delete_subnet, SubnetId=subnet) == (
        "DependencyViolation",
        f"The subnet '{subnet}' has dependencies and cannot be deleted.",
    )
    assert error_code(ec2.delete_network_interface, NetworkInterfaceId=eni["NetworkInterfaceId"]) == (
        "InvalidNetworkInterface.InUse",
        f"Interface: [{eni['NetworkInterfaceId']}] in use.",
    )
    wait_out()
    assert lambda_enis(aws, network["vpc"]) == []
    ec2.delete_security_group(GroupId=network["group"])
    for subnet in network["subnets"]:
        ec2.delete_subnet(SubnetId=subnet)


def test_role_deleted_first_leaves_the_interfaces_for_good(aws, network):
    """The old teardown order (roles, then network): Lambda cannot delete the interfaces."""
    arn = role(aws, "processor")
    function(aws, "processor", arn, network)
    aws("lambda").delete_function(FunctionName="processor")
    delete_role(aws, "processor")
    ec2 = aws("ec2")
    for _ in range(3):  # however long one waits
        wait_out()
        enis = lambda_enis(aws, network["vpc"])
        assert [e["Status"] for e in enis] == ["available", "available"]
        assert error_code(ec2.delete_security_group, GroupId=network["group"])[0] == "DependencyViolation"
    # "You can manually perform the deletion": then the network can go
    for eni in enis:
        ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    ec2.delete_security_group(GroupId=network["group"])
    for subnet in network["subnets"]:
        ec2.delete_subnet(SubnetId=subnet)


def test_role_without_delete_permission_leaves_them_too(aws, network):
    """amazon.aws.iam_role deletes the inline policies first: a role left without them cannot delete."""
    arn = role(aws, "processor")
    function(aws, "processor", arn, network)
    aws("lambda").delete_function(FunctionName="processor")
    aws("iam").delete_role_policy(RoleName="processor", PolicyName="vpc")
    wait_out()
    assert {e["Status"] for e in lambda_enis(aws, network["vpc"])} == {"available"}


def test_released_with_the_role_of_the_function_that_created_it(aws, network):
    creator, other = role(aws, "creator"), role(aws, "other")
    function(aws, "creator", creator, network)
    function(aws, "other", other, network)  # shares the creator's interfaces
    assert len(lambda_enis(aws, network["vpc"])) == 2
    aws("lambda").delete_function(FunctionName="creator")
    wait_out()
    assert {e["Status"] for e in lambda_enis(aws, network["vpc"])} == {"in-use"}  # still used
    aws("lambda").delete_function(FunctionName="other")
    delete_role(aws, "other")  # not the creator's: no effect on the release
    wait_out()
    assert lambda_enis(aws, network["vpc"]) == []


def test_removing_the_vpc_config_releases_them(aws, network):
    arn = role(aws, "processor")
    function(aws, "processor", arn, network)
    aws("lambda").update_function_configuration(
        FunctionName="processor", VpcConfig={"SubnetIds": [], "SecurityGroupIds": []}
    )
    wait_out()
    assert lambda_enis(aws, network["vpc"]) == []


def test_moving_to_one_subnet_releases_the_other(aws, network):
    arn = role(aws, "processor")
    function(aws, "processor", arn, network)
    aws("lambda").update_function_configuration(
        FunctionName="processor",
        VpcConfig={"SubnetIds": network["subnets"][:1], "SecurityGroupIds": [network["group"]]},
    )
    wait_out()
    assert [e["SubnetId"] for e in lambda_enis(aws, network["vpc"])] == network["subnets"][:1]


def test_release_is_due_after_the_setting(aws, network):
    strict_aws.CONFIG.update({"lambda_eni_release_seconds": 0})
    arn = role(aws, "processor")
    function(aws, "processor", arn, network)
    aws("lambda").delete_function(FunctionName="processor")
    aws("ec2").delete_security_group(GroupId=network["group"])  # released when it is looked at


def test_no_interfaces_when_strict_is_off(aws, network):
    arn = role(aws, "processor")
    strict_aws.CONFIG.update({"enabled": False})
    function(aws, "processor", arn, network)
    assert lambda_enis(aws, network["vpc"]) == []
    aws("ec2").delete_security_group(GroupId=network["group"])  # moto's own answer


def test_release_setting_from_the_environment():
    config = strict_aws.StrictConfig.from_env({"SECUREINFRA_STRICT_LAMBDA_ENI_RELEASE_SECONDS": "2.5"})
    assert config.lambda_eni_release_seconds == 2.5
    assert strict_aws.StrictConfig().lambda_eni_release_seconds == 5.0
