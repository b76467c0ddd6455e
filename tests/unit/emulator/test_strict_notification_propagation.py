"""Rule 15 of scripts/strict_aws.py: S3 does not see a function's permission added seconds ago.

PutBucketNotificationConfiguration naming a Lambda function is judged on the function's resource
policy without the statements for s3.amazonaws.com added less than iam_propagation_seconds ago (or
on their first iam_propagation_refusals uses): InvalidArgument "Unable to validate the following
destination configurations", as right after AddPermission on AWS. In-process moto with the strict
patches; a simulated clock moves past the delay instead of waiting.
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
NOT_VALIDATED = ("InvalidArgument", "Unable to validate the following destination configurations")
TRUST = LAMBDA_TRUST


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
def function_arn(aws: Callable[[str], Any]) -> str:
    aws("s3").create_bucket(Bucket="uploads")
    role = aws("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    wait_out()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return aws("lambda").create_function(
        FunctionName="processor",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": buffer.getvalue()},
    )["FunctionArn"]


def allow(
    aws: Callable[[str], Any], sid: str, principal: str = "s3.amazonaws.com", bucket: str = "uploads"
) -> None:
    aws("lambda").add_permission(
        FunctionName="processor",
        StatementId=sid,
        Action="lambda:InvokeFunction",
        Principal=principal,
        SourceArn=f"arn:aws:s3:::{bucket}"
        if principal == "s3.amazonaws.com"
        else f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r",
        SourceAccount=ACCOUNT,
    )


def notify(aws: Callable[[str], Any], arn: str) -> Any:
    return aws("s3").put_bucket_notification_configuration(
        Bucket="uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )


def refusal(aws: Callable[[str], Any], arn: str) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        notify(aws, arn)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_refused_right_after_add_permission_then_accepted(aws, function_arn):
    allow(aws, "s3-uploads")
    assert refusal(aws, function_arn) == NOT_VALIDATED
    wait_out()
    notify(aws, function_arn)
    config = aws("s3").get_bucket_notification_configuration(Bucket="uploads")
    assert config["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"] == function_arn


def test_an_older_permission_is_seen_whatever_is_added_since(aws, function_arn):
    allow(aws, "s3-uploads")
    wait_out()
    allow(aws, "eventbridge", principal="events.amazonaws.com")  # young, but not S3's
    allow(aws, "s3-other", bucket="other")  # young, and not for this bucket anyway
    notify(aws, function_arn)


def test_permission_removed_and_added_again_is_new_again(aws, function_arn):
    allow(aws, "s3-uploads")
    wait_out()
    aws("lambda").remove_permission(FunctionName="processor", StatementId="s3-uploads")
    allow(aws, "s3-uploads")
    assert refusal(aws, function_arn) == NOT_VALIDATED


def test_first_uses_refused_whatever_the_age(aws, function_arn):
    strict_aws.CONFIG.update({"iam_propagation_seconds": 0, "iam_propagation_refusals": 2})
    allow(aws, "s3-uploads")
    for _ in range(2):
        assert refusal(aws, function_arn) == NOT_VALIDATED
    notify(aws, function_arn)
    notify(aws, function_arn)  # counted once per statement: it stays seen


def test_not_checked_when_strict_is_off(aws, function_arn):
    allow(aws, "s3-uploads")
    strict_aws.CONFIG.update({"enabled": False})
    notify(aws, function_arn)
