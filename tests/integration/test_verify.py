"""playbooks/verify.yml against the emulator: every control passes on a converged baseline, and
each deliberate breakage (boto3, out of band) flips exactly its control and nothing else.

- test_converged_baseline_passes_every_control: the session's converged emulator (both regions),
  read-only (the recorder proves it), so it can share that emulator with the other tests.
- test_breakages_flip_exactly_their_controls: the second emulator (port + 1), converged in the
  home region with an alarm subscriber, then broken in many independent ways at once with boto3;
  one verify run must fail exactly the controls broken, each naming the broken resource.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import Emulator, PlaybookRun

ACCOUNT = "123456789012"
HOME = "us-east-1"
PREFIX = "secureinfra"
SUBSCRIBER = {"protocol": "email", "endpoint": "ops@example.com"}

# Evaluated in the home region only (account-wide), not_applicable in the others.
ACCOUNT_WIDE = {
    "S3.1",
    "IAM.7",
    "IAM.3",
    "CloudTrail.1",
    "CloudTrail.2",
    "CloudTrail.3",
    "CloudTrail.4",
    "CloudTrail.5",
    "S3.22",
    "S3.23",
    "BASELINE.CloudTrail.1",
    *(f"CIS 4.{n}" for n in range(1, 16)),
}


def verify(emulator: Emulator, report_dir: Path, **kwargs: Any) -> tuple[PlaybookRun, dict[str, Any]]:
    extra_vars = {"verify_report_dir": str(report_dir), **kwargs.pop("extra_vars", {})}
    run = emulator.run_playbook(playbook="playbooks/verify.yml", extra_vars=extra_vars, **kwargs)
    report = json.loads((report_dir / "verify.json").read_text())
    return run, report


def task_messages(run: PlaybookRun, name: str) -> list[str]:
    """The msg of every result of the tasks called `name`."""
    return [
        str(result.get("msg", ""))
        for play in run.output.get("plays", [])
        for task in play.get("tasks", [])
        if task["task"]["name"] == name
        for result in task.get("hosts", {}).values()
    ]


def by_status(report: dict[str, Any], status: str) -> set[tuple[str, str]]:
    return {(r["control_id"], r["region"]) for r in report["records"] if r["status"] == status}


def test_converged_baseline_passes_every_control(
    converged: PlaybookRun, main_emulator: Emulator, tmp_path: Path
):
    run, report = verify(main_emulator, tmp_path)
    assert run.rc == 0, run.stderr
    records = report["records"]
    regions = {r["region"] for r in records}
    assert regions == {"us-east-1", "us-west-1"}
    assert {r["account"] for r in records} == {ACCOUNT}
    per_region = {region: [r["control_id"] for r in records if r["region"] == region] for region in regions}
    # The same controls, once each, in every region (a rectangular matrix).
    assert per_region["us-east-1"] == per_region["us-west-1"]
    assert len(set(per_region["us-east-1"])) == len(per_region["us-east-1"]) >= 50
    assert not by_status(report, "fail")
    # not_applicable: the account-wide controls outside the home region, and the subscriber control
    # (the converged baseline has no monitoring_subscriptions) -- nothing else.
    assert by_status(report, "not_applicable") == {(c, "us-west-1") for c in ACCOUNT_WIDE} | {
        ("BASELINE.SNS.2", "us-east-1"),
        ("BASELINE.SNS.2", "us-west-1"),
    }
    # The one-line summary is printed, once.
    assert [m.split(" (reports:")[0] for m in task_messages(run, "Summary")] == [report["summary"]["line"]]
    assert report["summary"]["line"].startswith("verify: 2 account/regions, ")
    html = (tmp_path / "verify.html").read_text()
    assert "<script" in html and "http://" not in html and "https://" not in html
    # Reads only.
    writes = [str(call) for call in run.calls if not call.read_only]
    assert not writes, writes
    # Evidence is what was read: the data bucket's logging target, the trail's data-event buckets.
    evidence = {(r["control_id"], r["region"]): r["evidence"] for r in records}
    data_bucket = f"{PREFIX}-data-{ACCOUNT}-us-west-1"
    assert (
        evidence[("S3.9", "us-west-1")][data_bucket]["target_bucket"] == f"{PREFIX}-logs-{ACCOUNT}-us-west-1"
    )
    trail = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{PREFIX}-trail"
    assert f"arn:aws:s3:::{data_bucket}" in evidence[("S3.22", HOME)][trail]["buckets"]


# --- breakages ----------------------------------------------------------------------------------


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
    aws("s3control").delete_public_access_block(AccountId=ACCOUNT)

    dynamodb = aws("dynamodb")
    dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
    dynamodb.untag_resource(ResourceArn=table_arn, TagKeys=["Owner"])

    awslambda = aws("lambda")
    awslambda.update_function_configuration(FunctionName=_function("processor"), MemorySize=256)
    awslambda.update_function_configuration(
        FunctionName=_function("analytics"), TracingConfig={"Mode": "PassThrough"}
    )

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
        "Lambda.7": _function("analytics"),
        "BASELINE.IAM.2": _function("processor"),
        "BASELINE.IAM.1": _function("analytics"),
        "IAM.7": "account",
        "KMS.4": f"alias/{PREFIX}-baseline",
        "CloudTrail.3": trail,
        "CloudTrail.4": trail,
        "CloudWatch.15": f"{PREFIX}-lambda-errors-{_function('processor')}",
        "CIS 4.3": f"{PREFIX}-cis-root-account-usage",
        "BASELINE.VPC.2": f"com.amazonaws.{HOME}.dynamodb",
        "BASELINE.SNS.2": topic,
    }


def failing_resources(evidence: dict[str, Any]) -> set[str]:
    """The resources a failing record names as not ok."""
    names = {name for name, item in evidence.items() if isinstance(item, dict) and item.get("ok") is False}
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
