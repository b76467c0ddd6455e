"""Rule 14 of scripts/strict_aws.py: CreateFunction / UpdateFunctionConfiguration check what the
execution role may do for the function's settings (VPC, dead-letter queue, Active tracing).

A role whose policies lack a permission is refused for good; one whose inline policy was put
seconds ago (or on its first uses, iam_propagation_refusals) is refused as AWS does while the
policy propagates, with the message the playbooks retry. In-process moto with the strict patches;
a simulated clock moves past the propagation delay instead of waiting.
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
ACCOUNT = "123456789012"
DELAY = 30.0
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:fn-dlq"
TRUST = LAMBDA_TRUST
VPC_ACTIONS = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces"]
TRACE_ACTIONS = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
LACKS = "The provided execution role does not have permissions to call {} on {}"


def wait_out() -> None:
    advance(DELAY + 1)


pytestmark = pytest.mark.usefixtures("strict_clock")


@pytest.fixture
def aws(strict_patches: None) -> Iterator[Callable[[str], Any]]:
    strict_aws.CONFIG.update(
        {"enabled": True, "iam_propagation_seconds": DELAY, "iam_propagation_refusals": 0}
    )
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


@pytest.fixture
def vpc_config(aws: Callable[[str], Any]) -> dict[str, Any]:
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="functions", Description="functions", VpcId=vpc)["GroupId"]
    return {"SubnetIds": [subnet], "SecurityGroupIds": [group]}


def statement(actions: list[str], resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def make_role(aws: Callable[[str], Any], *statements: dict[str, Any], name: str = "fn") -> str:
    iam = aws("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    wait_out()  # the role itself has propagated (rule 3)
    if statements:
        put_policy(aws, name, *statements)
    return arn


def put_policy(aws: Callable[[str], Any], name: str, *statements: dict[str, Any]) -> None:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    aws("iam").put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document))


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def create(aws: Callable[[str], Any], role_arn: str, **settings: Any) -> dict[str, Any]:
    return aws("lambda").create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": zipped()},
        **settings,
    )


def refusal(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_vpc_function_refused_while_the_inline_policy_propagates(aws, vpc_config):
    arn = make_role(aws, statement(VPC_ACTIONS))
    assert refusal(create, aws, arn, VpcConfig=vpc_config) == (
        "InvalidParameterValueException",
        LACKS.format("CreateNetworkInterface", "EC2"),
    )
    wait_out()
    assert create(aws, arn, VpcConfig=vpc_config)["FunctionName"] == "fn"


def test_each_setting_names_its_permission(aws, vpc_config):
    cases = [
        ({"DeadLetterConfig": {"TargetArn": QUEUE}}, LACKS.format("SendMessage", "SQS")),
        ({"TracingConfig": {"Mode": "Active"}}, LACKS.format("PutTraceSegments", "XRAY")),
        ({"VpcConfig": vpc_config}, LACKS.format("CreateNetworkInterface", "EC2")),
    ]
    arn = make_role(aws)
    for settings, message in cases:
        assert refusal(create, aws, arn, **settings) == ("InvalidParameterValueException", message)


def test_a_role_that_really_lacks_a_permission_is_refused_for_good(aws, vpc_config):
    # ec2:DeleteNetworkInterface missing; no X-Ray for Active tracing
    arn = make_role(aws, statement(VPC_ACTIONS[:1] + VPC_ACTIONS[2:]), statement(["sqs:SendMessage"], QUEUE))
    for _ in range(2):
        wait_out()
        assert refusal(create, aws, arn, VpcConfig=vpc_config)[1] == LACKS.format(
            "DeleteNetworkInterface", "EC2"
        )
        message = refusal(
            create, aws, arn, DeadLetterConfig={"TargetArn": QUEUE}, TracingConfig={"Mode": "Active"}
        )[1]
        assert message == LACKS.format("PutTraceSegments", "XRAY")
    # scoped to other subnets: CreateNetworkInterface is checked on the function's subnet too
    put_policy(
        aws,
        "fn",
        statement(VPC_ACTIONS[1:]),
        statement(
            ["ec2:CreateNetworkInterface"],
            ["arn:aws:ec2:*:*:network-interface/*", "arn:aws:ec2:*:*:security-group/*"],
        ),
    )
    wait_out()
    assert refusal(create, aws, arn, VpcConfig=vpc_config)[1] == LACKS.format("CreateNetworkInterface", "EC2")


def test_a_function_needing_nothing_is_not_checked(aws):
    arn = make_role(aws, statement(["s3:GetObject"]))  # just put: but no setting needs a permission
    assert create(aws, arn)["FunctionName"] == "fn"


def test_first_uses_refused_apart_from_the_role_check(aws):
    strict_aws.CONFIG.update({"iam_propagation_seconds": 0, "iam_propagation_refusals": 1})
    arn = make_role(aws, statement(TRACE_ACTIONS))
    tracing = {"TracingConfig": {"Mode": "Active"}}
    assert refusal(create, aws, arn, **tracing)[1] == strict_aws.ROLE_CANNOT_BE_ASSUMED  # rule 3 first
    assert refusal(create, aws, arn, **tracing)[1] == LACKS.format("PutTraceSegments", "XRAY")
    assert create(aws, arn, **tracing)["TracingConfig"] == {"Mode": "Active"}


def test_update_checked_with_the_settings_it_leaves(aws):
    arn = make_role(aws, statement(TRACE_ACTIONS))
    wait_out()
    lam = aws("lambda")
    create(aws, arn, TracingConfig={"Mode": "Active"})
    lam.update_function_configuration(FunctionName="fn", Timeout=30)  # sets nothing checked
    assert refusal(
        lam.update_function_configuration, FunctionName="fn", DeadLetterConfig={"TargetArn": QUEUE}
    )[1] == LACKS.format("SendMessage", "SQS")
    # a new role is checked against the function's current settings (Active tracing)
    bare = make_role(aws, name="bare")
    assert refusal(lam.update_function_configuration, FunctionName="fn", Role=bare)[1] == LACKS.format(
        "PutTraceSegments", "XRAY"
    )


def test_not_checked_when_strict_is_off(aws, vpc_config):
    strict_aws.CONFIG.update({"enabled": False})
    arn = make_role(aws)
    assert create(aws, arn, VpcConfig=vpc_config, TracingConfig={"Mode": "Active"})["FunctionName"] == "fn"
