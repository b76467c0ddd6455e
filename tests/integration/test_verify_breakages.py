"""playbooks/verify.yml: deliberate breakages, made out of band with boto3, each flip exactly
their control and nothing else.

The second emulator (port + 1) is converged in the home region with an alarm subscriber (so that
BASELINE.SNS.2 is evaluated), verified (every control passes), then broken in many independent ways
at once; one verify run must fail exactly the controls broken, each naming the broken resource.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ansible_collections.secureinfra.baseline.plugins.modules.baseline_controls import strip_account_host
from conftest import Emulator, PlaybookRun
from test_verify import ACCOUNT, HOME, PREFIX, by_status, verify

SUBSCRIBER = {"protocol": "email", "endpoint": "ops@example.com"}


def _without_statement(s3: Any, bucket: str, sid: str) -> None:
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != sid]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def _function(name: str) -> str:
    return f"{PREFIX}-{HOME}-{name}"


def break_things(aws: Callable[..., Any]) -> dict[str, str]:
    """Independent out-of-band changes; control id -> the resource its evidence must name."""
    s3, logs = aws("s3"), aws("logs")
    data, log, trail_bucket = (f"{PREFIX}-{kind}-{ACCOUNT}-{HOME}" for kind in ("data", "logs", "trail"))
    table = f"{PREFIX}-data"
    table_arn = f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/{table}"
    topic = f"arn:aws:sns:{HOME}:{ACCOUNT}:{PREFIX}-alarms"
    trail = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{PREFIX}-trail"
    key_id = aws("kms").describe_key(KeyId=f"alias/{PREFIX}-baseline")["KeyMetadata"]["KeyId"]

    s3.put_bucket_versioning(Bucket=log, VersioningConfiguration={"Status": "Suspended"})
    s3.put_public_access_block(
        Bucket=data,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_encryption(
        Bucket=trail_bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}}
            ]
        },
    )
    _without_statement(s3, log, "DenyInsecureTransport")
    _without_statement(s3, data, "DenyObjectAccessToAllButListedPrincipals")
    s3.put_bucket_logging(Bucket=data, BucketLoggingStatus={})
    s3.delete_bucket_lifecycle(Bucket=trail_bucket)
    s3control = aws("s3control")
    # S3 Control's host is <account>.<endpoint>: on the emulator, the account goes in the header only.
    s3control.meta.events.register("before-sign.s3-control.*", strip_account_host(ACCOUNT))
    s3control.delete_public_access_block(AccountId=ACCOUNT)

    dynamodb = aws("dynamodb")
    dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
    dynamodb.untag_resource(ResourceArn=table_arn, TagKeys=["Owner"])

    awslambda = aws("lambda")
    awslambda.update_function_configuration(FunctionName=_function("processor"), MemorySize=256)
    # A runtime AWS deprecated (moto's UpdateFunctionConfiguration ignores TracingConfig).
    awslambda.update_function_configuration(FunctionName=_function("analytics"), Runtime="python3.9")

    iam = aws("iam")
    iam.update_role(RoleName=_function("processor"), MaxSessionDuration=7200)
    iam.put_role_policy(
        RoleName=_function("analytics"),
        PolicyName="added-out-of-band",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    iam.update_account_password_policy(
        MinimumPasswordLength=8,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=24,
    )
    aws("kms").disable_key_rotation(KeyId=key_id)

    cloudtrail = aws("cloudtrail")
    cloudtrail.stop_logging(Name=trail)
    cloudtrail.update_trail(Name=trail, EnableLogFileValidation=False)

    aws("cloudwatch").disable_alarm_actions(AlarmNames=[f"{PREFIX}-lambda-errors-{_function('processor')}"])
    logs.delete_metric_filter(
        logGroupName=f"/{PREFIX}/cloudtrail", filterName=f"{PREFIX}-cis-root-account-usage"
    )
    # 0.2.0's route-table pattern: CIS v3.0.0's events, without its $.eventSource = ec2.amazonaws.com.
    routes = ("CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation")
    # (moto's PutMetricFilter adds a second filter of the same name rather than replacing it.)
    logs.delete_metric_filter(
        logGroupName=f"/{PREFIX}/cloudtrail", filterName=f"{PREFIX}-cis-route-table-changes"
    )
    logs.put_metric_filter(
        logGroupName=f"/{PREFIX}/cloudtrail",
        filterName=f"{PREFIX}-cis-route-table-changes",
        filterPattern="{ " + " || ".join(f"($.eventName = {name})" for name in routes) + " }",
        metricTransformations=[
            {"metricName": "RouteTableChanges", "metricNamespace": "CISBenchmark", "metricValue": "1"}
        ],
    )

    ec2 = aws("ec2")
    endpoint = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "service-name", "Values": [f"com.amazonaws.{HOME}.dynamodb"]}]
    )
    ec2.modify_vpc_endpoint(
        VpcEndpointId=endpoint["VpcEndpoints"][0]["VpcEndpointId"],
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    sns = aws("sns")
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    # Someone else is subscribed instead: the configured subscriber is gone (BASELINE.SNS.2), but the
    # topic still has a confirmed subscriber, which is all CIS 4.x asks.
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="someone-else@example.com")

    return {
        "S3.14": log,
        "S3.8": data,
        "BASELINE.S3.1": trail_bucket,
        "S3.5": log,
        "BASELINE.S3.2": data,
        "S3.9": data,
        "S3.13": trail_bucket,
        "S3.1": "account",
        "DynamoDB.2": table,
        "DynamoDB.6": table,
        "BASELINE.Tags.1": f"table {table}",
        "BASELINE.Lambda.1": _function("processor"),
        "Lambda.2": _function("analytics"),
        "BASELINE.IAM.2": _function("processor"),
        "BASELINE.IAM.1": _function("analytics"),
        "IAM.7": "account",
        "KMS.4": f"alias/{PREFIX}-baseline",
        "CloudTrail.3": trail,
        "CloudTrail.4": trail,
        "CloudWatch.15": f"{PREFIX}-lambda-errors-{_function('processor')}",
        "CIS 4.3": f"{PREFIX}-cis-root-account-usage",
        "CIS 4.13": f"{PREFIX}-cis-route-table-changes",
        "BASELINE.VPC.2": f"com.amazonaws.{HOME}.dynamodb",
        "BASELINE.SNS.2": topic,
    }


def failing_resources(evidence: dict[str, Any]) -> set[str]:
    """The resources a failing record names as not ok (an exempt one is reported, not failing)."""
    names = {
        name
        for name, item in evidence.items()
        if isinstance(item, dict) and item.get("ok") is False and "exempt" not in item
    }
    names |= set(evidence.get("failing", {}))  # the tags control
    return names


def test_breakages_flip_exactly_their_controls(
    fresh_emulator: Emulator,
    fresh_run_playbook: Callable[..., PlaybookRun],
    fresh_aws: Callable[..., Any],
    tmp_path: Path,
):
    converge = fresh_run_playbook(limit=HOME, extra_vars={"monitoring_subscriptions": [SUBSCRIBER]})
    assert converge.rc == 0, converge.stderr
    subscribers = {"monitoring_subscriptions": [SUBSCRIBER]}

    run, report = verify(fresh_emulator, tmp_path / "before", limit=HOME, extra_vars=subscribers)
    assert run.rc == 0, run.stderr
    assert not by_status(report, "fail")
    assert ("BASELINE.SNS.2", HOME) in by_status(report, "pass")  # a subscriber: evaluated, and it holds

    broken = break_things(fresh_aws)
    assert len(broken) >= 12

    run, report = verify(fresh_emulator, tmp_path / "after", limit=HOME, extra_vars=subscribers)
    assert run.rc != 0
    failed = {r["control_id"]: r for r in report["records"] if r["status"] == "fail"}
    assert set(failed) == set(broken), {
        "unexpected": sorted(set(failed) - set(broken)),
        "not flipped": sorted(set(broken) - set(failed)),
    }
    for control_id, resource in broken.items():
        assert failing_resources(failed[control_id]["evidence"]) == {resource}, (
            control_id,
            failed[control_id],
        )
    assert report["summary"]["counts"]["fail"] == len(broken)
    assert f"{len(broken)} failed" in report["summary"]["line"]
    assert all(f"{c} ({ACCOUNT}/{HOME})" in report["summary"]["failed"] for c in broken)
    assert any("Failed: " in m and "CloudTrail.3" in m for m in run.failed_messages())
    assert (tmp_path / "after" / "verify.html").is_file()
