"""Each strict rule fires in strict mode, and not with strict mode off (or once its clock ran out).

boto3 parses the bytes the patched moto answers, so a ClientError with AWS's code proves the
wire format of each protocol (S3 REST-XML, Lambda REST-JSON, DynamoDB / CloudTrail JSON 1.1).
The strict patches are applied for one test and removed after it (mock.patch), so the rest of
the unit suite keeps plain moto; the strict settings are restored too.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import moto.dynamodb.models.table
import moto.iam.models
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from scripts import strict_aws

REGION = "us-east-1"
ACCOUNT = "123456789012"
DELAY = 30.0  # seconds; tests move the strict clock past it rather than wait (see `wait_out`)
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ],
}


def settings(**changes: Any) -> None:
    strict_aws.CONFIG.update(changes)


@pytest.fixture
def strict_moto(strict_patches: None) -> Iterator[None]:
    """In-process moto with the strict patches; strict ON with DELAY-second clocks."""
    settings(
        enabled=True,
        iam_propagation_seconds=DELAY,
        pitr_unavailable_seconds=DELAY,
        account_concurrency_limit=1000,
    )
    with mock_aws():
        yield


_CLOCK: dict[str, float] = {"offset": 0.0}


def wait_out() -> None:
    """Let the strict clocks run out: strict_aws's `now` moves DELAY + 1 seconds ahead."""
    _CLOCK["offset"] += DELAY + 1


@pytest.fixture(autouse=True)
def strict_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """One simulated clock for the strict rules and the creation times moto stamps (roles, tables)."""
    real_utcnow = strict_aws.utcnow
    _CLOCK["offset"] = 0.0

    def now() -> datetime:
        return real_utcnow() + timedelta(seconds=_CLOCK["offset"])

    for module in (strict_aws, moto.iam.models, moto.dynamodb.models.table):
        monkeypatch.setattr(module, "utcnow", now)


@pytest.fixture
def client(strict_moto: None) -> Callable[..., Any]:
    def make(service: str, **kwargs: Any) -> Any:
        return boto3.client(service, region_name=REGION, **kwargs)

    return make


def zipped_handler() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def create_role(iam: Any, name: str, trust: dict[str, Any] | None = None) -> str:
    document = json.dumps(trust or LAMBDA_TRUST)
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]["Arn"]


def create_function(awslambda: Any, name: str, role_arn: str) -> dict[str, Any]:
    return awslambda.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": zipped_handler()},
    )


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    error = raised.value.response
    return (
        error["Error"]["Code"],
        error["ResponseMetadata"]["HTTPStatusCode"],
        error["Error"].get("Message", ""),
    )


# --- rules 1 and 2: ACLs on BucketOwnerEnforced buckets ---------------------------------------


class TestAclsOnBucketOwnerEnforced:
    @pytest.fixture
    def s3(self, client):
        s3 = client("s3")
        s3.create_bucket(Bucket="enforced")
        s3.put_bucket_ownership_controls(
            Bucket="enforced", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
        return s3

    def test_put_bucket_acl_refused(self, s3):
        code, status, message = error_of(s3.put_bucket_acl, Bucket="enforced", ACL="log-delivery-write")
        assert (code, status, message) == (
            "AccessControlListNotSupported",
            400,
            "The bucket does not allow ACLs",
        )

    def test_put_bucket_acl_with_grants_refused(self, s3):
        grant = "uri=http://acs.amazonaws.com/groups/s3/LogDelivery"
        assert (
            error_of(s3.put_bucket_acl, Bucket="enforced", GrantWrite=grant)[0]
            == "AccessControlListNotSupported"
        )

    def test_put_bucket_acl_in_the_body_refused_unless_owner_only(self, s3):
        acl = s3.get_bucket_acl(Bucket="enforced")
        owner_only = {
            "Owner": acl["Owner"],
            "Grants": [
                {"Grantee": {"ID": acl["Owner"]["ID"], "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}
            ],
        }
        s3.put_bucket_acl(Bucket="enforced", AccessControlPolicy=owner_only)
        log_delivery = {
            "Grantee": {"URI": "http://acs.amazonaws.com/groups/s3/LogDelivery", "Type": "Group"},
            "Permission": "WRITE",
        }
        wider = {**owner_only, "Grants": [*owner_only["Grants"], log_delivery]}
        assert error_of(s3.put_bucket_acl, Bucket="enforced", AccessControlPolicy=wider)[0] == (
            "AccessControlListNotSupported"
        )

    def test_object_writes_with_acls_refused(self, s3):
        assert error_of(s3.put_object, Bucket="enforced", Key="k", Body=b"x", ACL="public-read")[:2] == (
            "AccessControlListNotSupported",
            400,
        )
        s3.put_object(Bucket="enforced", Key="k", Body=b"x")
        assert error_of(s3.put_object_acl, Bucket="enforced", Key="k", ACL="public-read")[0] == (
            "AccessControlListNotSupported"
        )
        copy = {"Bucket": "enforced", "Key": "k2", "CopySource": {"Bucket": "enforced", "Key": "k"}}
        assert (
            error_of(s3.copy_object, **copy, ACL="authenticated-read")[0] == "AccessControlListNotSupported"
        )
        assert error_of(s3.create_multipart_upload, Bucket="enforced", Key="m", ACL="public-read")[0] == (
            "AccessControlListNotSupported"
        )

    def test_no_acl_or_bucket_owner_full_control_accepted(self, s3):
        s3.put_object(Bucket="enforced", Key="a", Body=b"x")
        s3.put_object(Bucket="enforced", Key="b", Body=b"x", ACL="bucket-owner-full-control")
        s3.copy_object(Bucket="enforced", Key="c", CopySource={"Bucket": "enforced", "Key": "a"})
        assert {o["Key"] for o in s3.list_objects_v2(Bucket="enforced")["Contents"]} == {"a", "b", "c"}

    def test_bucket_without_ownership_controls_is_enforced_by_default(self, s3):
        s3.create_bucket(Bucket="plain")
        assert (
            error_of(s3.put_bucket_acl, Bucket="plain", ACL="public-read")[0]
            == "AccessControlListNotSupported"
        )

    def test_acls_enabled_bucket_accepts_acls(self, s3):
        s3.create_bucket(Bucket="writer", ObjectOwnership="ObjectWriter")
        s3.put_bucket_acl(Bucket="writer", ACL="log-delivery-write")
        s3.put_object(Bucket="writer", Key="k", Body=b"x", ACL="public-read")

    def test_create_bucket_with_acl_refused_unless_acls_enabled(self, s3):
        code, status, _ = error_of(s3.create_bucket, Bucket="acl-at-creation", ACL="public-read")
        assert (code, status) == ("InvalidBucketAclWithObjectOwnership", 400)
        s3.create_bucket(Bucket="acl-at-creation", ACL="public-read", ObjectOwnership="BucketOwnerPreferred")
        s3.create_bucket(Bucket="private-at-creation", ACL="private")

    def test_not_enforced_when_strict_is_off(self, s3):
        settings(enabled=False)
        s3.put_bucket_acl(Bucket="enforced", ACL="log-delivery-write")
        s3.put_object(Bucket="enforced", Key="k", Body=b"x", ACL="public-read")
        s3.create_bucket(Bucket="acl-at-creation", ACL="public-read")


# --- rules 3 and 4: a role Lambda cannot assume (yet) ---------------------------------------------


class TestLambdaRoleNotAssumableYet:
    def test_create_function_refused_while_the_role_is_young(self, client):
        iam, awslambda = client("iam"), client("lambda")
        role = create_role(iam, "young")
        code, status, message = error_of(create_function, awslambda, "fn", role)
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert message == "The role defined for the function cannot be assumed by Lambda."
        wait_out()
        assert create_function(awslambda, "fn", role)["Role"] == role

    def test_update_function_configuration_refused_while_the_new_role_is_young(self, client):
        iam, awslambda = client("iam"), client("lambda")
        first = create_role(iam, "first")
        wait_out()
        create_function(awslambda, "fn", first)
        second = create_role(iam, "second")
        assert error_of(awslambda.update_function_configuration, FunctionName="fn", Role=second)[0] == (
            "InvalidParameterValueException"
        )
        awslambda.update_function_configuration(FunctionName="fn", Timeout=30)  # no role: no check
        wait_out()
        assert awslambda.update_function_configuration(FunctionName="fn", Role=second)["Role"] == second

    def test_role_lambda_may_not_assume_is_refused_for_good(self, client):
        iam, awslambda = client("iam"), client("lambda")
        trust = trust_for("ec2.amazonaws.com")
        role = create_role(iam, "ec2-only", trust)
        wait_out()
        assert error_of(create_function, awslambda, "fn", role)[0] == "InvalidParameterValueException"
        wrong_account = trust_for("lambda.amazonaws.com", account="210987654321")
        other = create_role(iam, "other-account-only", wrong_account)
        wait_out()
        assert error_of(create_function, awslambda, "fn", other)[0] == "InvalidParameterValueException"

    def test_young_role_accepted_when_strict_is_off(self, client):
        settings(enabled=False)
        role = create_role(client("iam"), "young")
        assert create_function(client("lambda"), "fn", role)["Role"] == role

    def test_first_uses_refused_whatever_the_role_age(self, client):
        settings(iam_propagation_seconds=0, iam_propagation_refusals=2)
        iam, awslambda = client("iam"), client("lambda")
        role = create_role(iam, "counted")
        wait_out()
        for _ in range(2):
            assert error_of(create_function, awslambda, "fn", role)[0] == "InvalidParameterValueException"
        assert create_function(awslambda, "fn", role)["Role"] == role
        # counted per role: a second role starts from zero, and the first stays admitted
        other = create_role(iam, "counted-too")
        assert error_of(awslambda.update_function_configuration, FunctionName="fn", Role=other)[0] == (
            "InvalidParameterValueException"
        )
        assert awslambda.update_function_configuration(FunctionName="fn", Role=role)["Role"] == role

    def test_counted_refusals_are_per_service(self, client, trail_bucket_args):
        settings(iam_propagation_seconds=0, iam_propagation_refusals=1)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "cloudtrail.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = create_role(client("iam"), "shared", trust)
        assert error_of(create_function, client("lambda"), "fn", role)[0] == "InvalidParameterValueException"
        create_function(client("lambda"), "fn", role)
        cloudtrail = client("cloudtrail")
        assert error_of(cloudtrail.create_trail, **trail_bucket_args, CloudWatchLogsRoleArn=role)[0] == (
            "InvalidCloudWatchLogsRoleArnException"
        )
        cloudtrail.create_trail(**trail_bucket_args, CloudWatchLogsRoleArn=role)


def trust_for(service: str, account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


# --- rules 5 and 6: CloudTrail's role and bucket ------------------------------------------------------


def trail_bucket_policy(bucket: str) -> str:
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/trail"
    condition = {"StringEquals": {"aws:SourceArn": trail_arn}}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AclCheck",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": f"arn:aws:s3:::{bucket}",
                    "Condition": condition,
                },
                {
                    "Sid": "Write",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/audit/AWSLogs/{ACCOUNT}/*",
                    "Condition": {
                        "StringEquals": {
                            **condition["StringEquals"],
                            "s3:x-amz-acl": "bucket-owner-full-control",
                        }
                    },
                },
            ],
        }
    )


@pytest.fixture
def trail_bucket_args(client) -> dict[str, Any]:
    s3 = client("s3")
    s3.create_bucket(Bucket="trail-bucket")
    s3.put_bucket_policy(Bucket="trail-bucket", Policy=trail_bucket_policy("trail-bucket"))
    client("logs").create_log_group(logGroupName="trail")
    return {
        "Name": "trail",
        "S3BucketName": "trail-bucket",
        "S3KeyPrefix": "audit",
        "CloudWatchLogsLogGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:trail:*",
    }


class TestCloudTrail:
    @pytest.fixture
    def trail_args(self, trail_bucket_args) -> dict[str, Any]:
        return trail_bucket_args

    def test_young_delivery_role_refused_then_accepted(self, client, trail_args):
        trust = trust_for("cloudtrail.amazonaws.com")
        role = create_role(client("iam"), "delivery", trust)
        cloudtrail = client("cloudtrail")
        code, status, message = error_of(cloudtrail.create_trail, **trail_args, CloudWatchLogsRoleArn=role)
        assert (code, status) == ("InvalidCloudWatchLogsRoleArnException", 400)
        assert "Access denied" in message
        cloudtrail.create_trail(**trail_args)  # without the role: nothing to assume
        assert error_of(cloudtrail.update_trail, **trail_args, CloudWatchLogsRoleArn=role)[0] == (
            "InvalidCloudWatchLogsRoleArnException"
        )
        wait_out()
        cloudtrail.update_trail(**trail_args, CloudWatchLogsRoleArn=role)
        assert cloudtrail.get_trail(Name="trail")["Trail"]["CloudWatchLogsRoleArn"] == role

    def test_role_cloudtrail_may_not_assume_refused(self, client, trail_args):
        role = create_role(client("iam"), "lambda-only")
        wait_out()
        assert error_of(client("cloudtrail").create_trail, **trail_args, CloudWatchLogsRoleArn=role)[0] == (
            "InvalidCloudWatchLogsRoleArnException"
        )

    def test_bucket_policy_must_admit_cloudtrail(self, client, trail_args):
        s3, cloudtrail = client("s3"), client("cloudtrail")
        s3.create_bucket(Bucket="no-policy")
        code, status, message = error_of(
            cloudtrail.create_trail, **{**trail_args, "S3BucketName": "no-policy"}
        )
        assert (code, status, message) == (
            "InsufficientS3BucketPolicyException",
            400,
            "Incorrect S3 bucket policy is detected for bucket: no-policy",
        )
        # the policy admits AWSLogs under "audit/" only
        assert error_of(cloudtrail.create_trail, **{**trail_args, "S3KeyPrefix": "elsewhere"})[0] == (
            "InsufficientS3BucketPolicyException"
        )
        cloudtrail.create_trail(**trail_args)

    def test_nothing_checked_when_strict_is_off(self, client, trail_args):
        settings(enabled=False)
        role = create_role(client("iam"), "delivery")
        client("s3").create_bucket(Bucket="no-policy")
        args = {**trail_args, "S3BucketName": "no-policy", "CloudWatchLogsRoleArn": role}
        client("cloudtrail").create_trail(**args)


# --- rule 7: point-in-time recovery right after CreateTable ------------------------------------------


class TestContinuousBackupsAfterCreateTable:
    @pytest.fixture
    def dynamodb(self, client):
        dynamodb = client("dynamodb")
        dynamodb.create_table(
            TableName="data",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return dynamodb

    def enable(self, dynamodb: Any) -> dict[str, Any]:
        return dynamodb.update_continuous_backups(
            TableName="data", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )

    def test_refused_right_after_create_table_then_accepted(self, dynamodb, capsys):
        code, status, message = error_of(self.enable, dynamodb)
        assert (code, status) == ("ContinuousBackupsUnavailableException", 400)
        assert message == "Backups are being enabled for the table: data. Please retry later"
        assert (
            f"strict_aws: refused: 400 ContinuousBackupsUnavailableException: {message}"
            in capsys.readouterr().err
        )
        wait_out()
        status = self.enable(dynamodb)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert status["PointInTimeRecoveryStatus"] == "ENABLED"

    def test_accepted_at_once_when_strict_is_off(self, dynamodb):
        settings(enabled=False)
        self.enable(dynamodb)


# --- rule 8 and GetAccountSettings: the account's concurrency ------------------------------------------


class TestAccountConcurrency:
    @pytest.fixture
    def awslambda(self, client):
        role = create_role(client("iam"), "fn-role")
        wait_out()
        awslambda = client("lambda")
        for name in ("a", "b"):
            create_function(awslambda, name, role)
        return awslambda

    def test_get_account_settings_answered_with_the_reservations(self, awslambda):
        awslambda.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=50)
        settings_ = awslambda.get_account_settings()
        assert settings_["AccountLimit"]["ConcurrentExecutions"] == 1000
        assert settings_["AccountLimit"]["UnreservedConcurrentExecutions"] == 950
        assert settings_["AccountLimit"]["CodeSizeZipped"] == 52_428_800
        assert settings_["AccountUsage"]["FunctionCount"] == 2
        assert settings_["AccountUsage"]["TotalCodeSize"] > 0

    def test_get_account_settings_answered_when_strict_is_off(self, awslambda):
        settings(enabled=False, account_concurrency_limit=10)
        assert awslambda.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 10

    def test_reservation_below_the_minimum_unreserved_refused(self, awslambda):
        awslambda.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=850)
        awslambda.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=899)  # replaces
        code, status, message = error_of(
            awslambda.put_function_concurrency, FunctionName="b", ReservedConcurrentExecutions=2
        )
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert message == (
            "Specified ReservedConcurrentExecutions for function decreases account's "
            "UnreservedConcurrentExecution below its minimum value of [100]."
        )
        awslambda.put_function_concurrency(FunctionName="b", ReservedConcurrentExecutions=1)
        assert awslambda.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100

    def test_small_quota_refuses_every_reservation(self, awslambda):
        settings(account_concurrency_limit=10)
        message = error_of(
            awslambda.put_function_concurrency, FunctionName="a", ReservedConcurrentExecutions=1
        )[2]
        assert message.endswith("below its minimum value of [10].")

    def test_reservation_accepted_when_strict_is_off(self, awslambda):
        settings(enabled=False, account_concurrency_limit=10)
        awslambda.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=5)


# --- rule 10: the trail's KMS key ------------------------------------------------------------------


def key_policy(cloudtrail_statement: bool) -> str:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Account",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if cloudtrail_statement:
        statements.append(
            {
                "Sid": "CloudTrailEncrypts",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
                    },
                    "StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/trail"},
                },
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class TestTrailKey:
    @pytest.fixture
    def trail_args(self, client) -> dict[str, Any]:
        s3 = client("s3")
        s3.create_bucket(Bucket="trail-bucket")
        s3.put_bucket_policy(Bucket="trail-bucket", Policy=trail_bucket_policy("trail-bucket"))
        return {"Name": "trail", "S3BucketName": "trail-bucket", "S3KeyPrefix": "audit"}

    def test_key_policy_must_admit_cloudtrail(self, client, trail_args):
        kms, cloudtrail = client("kms"), client("cloudtrail")
        closed = kms.create_key(Policy=key_policy(False))["KeyMetadata"]["Arn"]
        code, status, message = error_of(cloudtrail.create_trail, **trail_args, KmsKeyId=closed)
        assert (code, status) == ("InsufficientEncryptionPolicyException", 400)
        assert message == f"Insufficient permissions to access S3 bucket trail-bucket or KMS key {closed}."
        open_ = kms.create_key(Policy=key_policy(True))["KeyMetadata"]["Arn"]
        cloudtrail.create_trail(**trail_args, KmsKeyId=open_)
        assert error_of(cloudtrail.update_trail, **trail_args, KmsKeyId=closed)[0] == (
            "InsufficientEncryptionPolicyException"
        )

    def test_not_checked_when_strict_is_off(self, client, trail_args):
        settings(enabled=False)
        closed = client("kms").create_key(Policy=key_policy(False))["KeyMetadata"]["Arn"]
        client("cloudtrail").create_trail(**trail_args, KmsKeyId=closed)


# --- rule 11: event notification destinations --------------------------------------------------------


class TestNotificationDestinations:
    @pytest.fixture
    def function_arn(self, client) -> str:
        s3 = client("s3")
        s3.create_bucket(Bucket="uploads")
        role = create_role(client("iam"), "fn-role")
        wait_out()
        return create_function(client("lambda"), "processor", role)["FunctionArn"]

    def notify(self, client: Any, function_arn: str) -> Any:
        return client("s3").put_bucket_notification_configuration(
            Bucket="uploads",
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )

    def allow_s3(self, client: Any, bucket: str) -> None:
        client("lambda").add_permission(
            FunctionName="processor",
            StatementId=f"s3-{bucket}",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn=f"arn:aws:s3:::{bucket}",
            SourceAccount=ACCOUNT,
        )
        wait_out()  # S3 sees the new permission (rule 15: not for DELAY seconds)

    def test_function_without_permission_for_this_bucket_refused(self, client, function_arn):
        code, status, message = error_of(self.notify, client, function_arn)
        assert (code, status, message) == (
            "InvalidArgument",
            400,
            "Unable to validate the following destination configurations",
        )
        self.allow_s3(client, "another-bucket")
        assert error_of(self.notify, client, function_arn)[0] == "InvalidArgument"
        self.allow_s3(client, "uploads")
        self.notify(client, function_arn)
        config = client("s3").get_bucket_notification_configuration(Bucket="uploads")
        assert config["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"] == function_arn

    def test_topic_with_its_default_policy_refused(self, client):
        client("s3").create_bucket(Bucket="uploads")
        topic = client("sns").create_topic(Name="events")["TopicArn"]
        configuration = {"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]}
        put = client("s3").put_bucket_notification_configuration
        assert (
            error_of(put, Bucket="uploads", NotificationConfiguration=configuration)[0] == "InvalidArgument"
        )

    def test_not_checked_when_strict_is_off(self, client, function_arn):
        settings(enabled=False)
        self.notify(client, function_arn)


# --- rule 9: a missing key without s3:ListBucket -------------------------------------------------------


def identity_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


GET_OBJECTS = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}


class TestMissingKeyWithoutListBucket:
    @pytest.fixture
    def s3(self, client):
        s3 = client("s3")
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="in/present.json", Body=b"{}")
        return s3

    def as_role(self, client: Any, policy: str, attached: bool = False) -> Any:
        iam = client("iam")
        arn = create_role(iam, "reader", trust_for("lambda.amazonaws.com"))
        if attached:
            policy_arn = iam.create_policy(PolicyName="reader", PolicyDocument=policy)["Policy"]["Arn"]
            iam.attach_role_policy(RoleName="reader", PolicyArn=policy_arn)
        else:
            iam.put_role_policy(RoleName="reader", PolicyName="reader", PolicyDocument=policy)
        credentials = client("sts").assume_role(RoleArn=arn, RoleSessionName="reader-session")["Credentials"]
        return client(
            "s3",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    def test_role_without_list_bucket_gets_403(self, client, s3):
        reader = self.as_role(client, identity_policy(GET_OBJECTS))
        code, status, message = error_of(reader.get_object, Bucket="data", Key="in/missing.json")
        assert (code, status, message) == ("AccessDenied", 403, "Access Denied")
        assert error_of(reader.head_object, Bucket="data", Key="in/missing.json")[:2] == ("403", 403)
        assert reader.get_object(Bucket="data", Key="in/present.json")["Body"].read() == b"{}"

    def test_role_with_list_bucket_gets_404(self, client, s3):
        listing = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::data"}
        reader = self.as_role(client, identity_policy(GET_OBJECTS, listing), attached=True)
        assert error_of(reader.get_object, Bucket="data", Key="in/missing.json")[:2] == ("NoSuchKey", 404)
        assert error_of(reader.head_object, Bucket="data", Key="in/missing.json")[:2] == ("404", 404)

    def test_list_bucket_limited_to_a_prefix_covers_keys_under_it(self, client, s3):
        listing = {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::data",
            "Condition": {"StringLike": {"s3:prefix": ["in/*"]}},
        }
        reader = self.as_role(client, identity_policy(GET_OBJECTS, listing))
        assert error_of(reader.get_object, Bucket="data", Key="in/missing.json")[0] == "NoSuchKey"
        assert error_of(reader.get_object, Bucket="data", Key="out/missing.json")[0] == "AccessDenied"

    def test_explicit_deny_of_list_bucket_gets_403(self, client, s3):
        listing = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
        deny = {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::data"}
        reader = self.as_role(client, identity_policy(listing, deny))
        assert error_of(reader.get_object, Bucket="data", Key="in/missing.json")[0] == "AccessDenied"

    def test_account_root_credentials_get_404(self, s3):
        assert error_of(s3.get_object, Bucket="data", Key="in/missing.json")[:2] == ("NoSuchKey", 404)

    def test_404_when_strict_is_off(self, client, s3):
        reader = self.as_role(client, identity_policy(GET_OBJECTS))
        settings(enabled=False)
        assert error_of(reader.get_object, Bucket="data", Key="in/missing.json")[0] == "NoSuchKey"


# --- settings ---------------------------------------------------------------------------------------


class TestSettings:
    def test_from_env(self):
        config = strict_aws.StrictConfig.from_env(
            {
                "SECUREINFRA_STRICT": "1",
                "SECUREINFRA_STRICT_IAM_PROPAGATION_SECONDS": "2.5",
                "SECUREINFRA_STRICT_PITR_SECONDS": "1",
                "SECUREINFRA_STRICT_SESSION_SECONDS": "30",
                "SECUREINFRA_ACCOUNT_CONCURRENCY": "10",
                "SECUREINFRA_STRICT_IAM_PROPAGATION_REFUSALS": "2",
                "SECUREINFRA_STRICT_LAMBDA_ENI_RELEASE_SECONDS": "7",
            }
        )
        assert config.as_dict() == {
            "enabled": True,
            "iam_propagation_seconds": 2.5,
            "iam_propagation_refusals": 2,
            "pitr_unavailable_seconds": 1.0,
            "session_seconds": 30.0,
            "account_concurrency_limit": 10,
            "lambda_eni_release_seconds": 7.0,
        }
        assert strict_aws.StrictConfig.from_env({}).enabled is False

    def test_control_get_and_post(self, strict_moto):
        assert strict_aws.control("GET", b"")[1]["enabled"] is True
        status, body = strict_aws.control("POST", b'{"enabled": false, "account_concurrency_limit": 10}')
        assert status == "200 OK"
        assert (body["enabled"], body["account_concurrency_limit"]) == (False, 10)
        assert strict_aws.CONFIG.account_concurrency_limit == 10

    @pytest.mark.parametrize(
        "body",
        [
            b'{"enabeld": true}',
            b'{"iam_propagation_seconds": "soon"}',
            b'{"account_concurrency_limit": -1}',
            b'{"iam_propagation_refusals": 1.5}',
            b"[1]",
            b"not json",
            b'{"enabled": "maybe"}',
        ],
    )
    def test_control_refuses_bad_settings_and_changes_nothing(self, strict_moto, body):
        before = strict_aws.CONFIG.as_dict()
        status, answer = strict_aws.control("POST", body)
        assert status == "400 Bad Request"
        assert answer["error"]
        assert strict_aws.CONFIG.as_dict() == before
