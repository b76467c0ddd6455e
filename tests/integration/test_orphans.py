"""Orphans on a converged account (the orphans role, its drift lines, the teardown's option), on a
private strict emulator (TEST_EMULATOR_PORT + 6), in order:

converge both regions; then, by hand, what an earlier release, a renamed setting or a crashed run
leaves with the baseline's tags (ManagedBy=ansible, Project=secure-infrastructure): 0.1.0's
key_rotation function in us-west-1 with its role, queue, log group and schedule, an alarm and a
topic of another prefix, a CIS filter the definition no longer has, a second VPC (another CIDR)
with a subnet and route table, a bucket holding an object, and a key without alias; and what is not
the baseline's (another Project). Then:
- a converge reports exactly those (region by region), warns, changes nothing, writes nothing;
- the drift playbook exits 2 and lists each of them;
- a dry run with removal on predicts the removal, writes nothing;
- the teardown with teardown_orphans=true in check mode writes nothing and predicts it too;
- a converge with baseline_remove_orphans=true removes all but the data stores; a rerun changes
  nothing and writes nothing; the drift playbook then lists the data stores only;
- the teardown with teardown_orphans=true and teardown_destroy_data=true removes the data stores
  left and everything the definition made; what is not the baseline's stays.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import PORT, REGIONS, Emulator, PlaybookRun
from support.recorder import mutating

ORPHANS_PORT = PORT + 6
ACCOUNT = "123456789012"
HOME, OTHER = "us-east-1", "us-west-1"
TAGS = {
    "Environment": "dev",
    "Owner": "platform-team",
    "Project": "secure-infrastructure",
    "ManagedBy": "ansible",
}
ORPHANS_TASK = "Resources tagged as the baseline's that the definition no longer manages"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _tag_list(tags: dict[str, str] = TAGS) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(ORPHANS_PORT, strict=True) as emulator:
        run = emulator.run_playbook()
        assert run.rc == 0, run.failed_messages() or run.stderr
        yield emulator


def client(server: Emulator, service: str, region: str = HOME) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def planted(server: Emulator) -> dict[str, Any]:
    """The orphans, made by hand as earlier releases and crashed runs left them; their expected lines."""
    west = {service: client(server, service, OTHER) for service in ("lambda", "sqs", "logs", "events", "ec2")}
    iam = client(server, "iam")
    role = iam.create_role(
        RoleName="secureinfra-us-west-1-key_rotation",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Tags=_tag_list(),
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="secureinfra-us-west-1-key_rotation",
        PolicyName="secureinfra-us-west-1-key_rotation",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}],
            }
        ),
    )
    # IAM propagation (strict rule 3): retried until Lambda accepts the new role.
    for _ in range(60):
        try:
            west["lambda"].create_function(
                FunctionName="secureinfra-us-west-1-key_rotation",
                Runtime="python3.12",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": _zip()},
                Tags=TAGS,
            )
            break
        except west["lambda"].exceptions.InvalidParameterValueException:
            time.sleep(1)
    assert west["lambda"].get_function(FunctionName="secureinfra-us-west-1-key_rotation")
    west["sqs"].create_queue(QueueName="secureinfra-us-west-1-key_rotation-dlq", tags=TAGS)
    west["logs"].create_log_group(logGroupName="/aws/lambda/secureinfra-us-west-1-key_rotation", tags=TAGS)
    west["events"].put_rule(
        Name="secureinfra-us-west-1-key_rotation", ScheduleExpression="rate(1 day)", Tags=_tag_list()
    )
    old_vpc = west["ec2"].create_vpc(
        CidrBlock="10.9.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": _tag_list({**TAGS, "Name": "old"})}],
    )["Vpc"]["VpcId"]
    old_subnet = west["ec2"].create_subnet(
        VpcId=old_vpc,
        CidrBlock="10.9.1.0/24",
        TagSpecifications=[{"ResourceType": "subnet", "Tags": _tag_list({**TAGS, "Name": "old-0"})}],
    )["Subnet"]["SubnetId"]
    old_table = west["ec2"].create_route_table(
        VpcId=old_vpc,
        TagSpecifications=[{"ResourceType": "route-table", "Tags": _tag_list({**TAGS, "Name": "old-0"})}],
    )["RouteTable"]["RouteTableId"]
    west["ec2"].associate_route_table(RouteTableId=old_table, SubnetId=old_subnet)
    cloudwatch = client(server, "cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="oldprefix-lambda-errors",
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Tags=_tag_list(),
    )
    client(server, "sns").create_topic(Name="oldprefix-alarms", Tags=_tag_list())
    client(server, "logs").put_metric_filter(
        logGroupName="/secureinfra/cloudtrail",
        filterName="secureinfra-cis-retired-control",
        filterPattern='{ $.eventName = "Retired" }',
        metricTransformations=[
            {"metricName": "retired", "metricNamespace": "CISBenchmark", "metricValue": "1"}
        ],
    )
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="oldprefix-data-123456789012-us-east-1")
    s3.put_bucket_tagging(Bucket="oldprefix-data-123456789012-us-east-1", Tagging={"TagSet": _tag_list()})
    s3.put_object(Bucket="oldprefix-data-123456789012-us-east-1", Key="incoming/kept.json", Body=b"{}")
    kms = client(server, "kms")
    lost = kms.create_key(Description="lost", Tags=[{"TagKey": k, "TagValue": v} for k, v in TAGS.items()])
    not_ours = client(server, "sqs").create_queue(
        QueueName="another-project-dlq", tags={**TAGS, "Project": "another-project"}
    )["QueueUrl"]
    removed = [
        f"{OTHER}: EventBridge rule secureinfra-us-west-1-key_rotation",
        f"{OTHER}: lambda function secureinfra-us-west-1-key_rotation",
        f"{OTHER}: SQS queue secureinfra-us-west-1-key_rotation-dlq",
        f"{OTHER}: log group /aws/lambda/secureinfra-us-west-1-key_rotation",
        f"{OTHER}: subnet {old_subnet}",
        f"{OTHER}: route table {old_table}",
        f"{OTHER}: VPC {old_vpc}",
        f"{OTHER}: IAM role secureinfra-us-west-1-key_rotation",
        f"{HOME}: CloudWatch alarm oldprefix-lambda-errors",
        f"{HOME}: metric filter /secureinfra/cloudtrail:secureinfra-cis-retired-control",
        f"{HOME}: SNS topic oldprefix-alarms",
    ]
    kept = [
        f"{HOME}: S3 bucket oldprefix-data-123456789012-us-east-1",
        f"{HOME}: KMS key {lost['KeyMetadata']['KeyId']}",
    ]
    return {"removed": sorted(removed), "kept": sorted(kept), "not_ours": not_ours}


def found(run: PlaybookRun, action: str | None = None) -> list[str]:
    return sorted(
        f"{host}: {o['kind']} {o['name']}"
        for play in run.output.get("plays", [])
        for task in play.get("tasks", [])
        if task["task"]["name"].endswith(ORPHANS_TASK)
        for host, result in task.get("hosts", {}).items()
        for o in result.get("orphans", [])
        if action is None or o["action"] == action
    )


def drift(server: Emulator, reports: Path) -> tuple[PlaybookRun, dict[str, Any]]:
    run = server.run_playbook(playbook="playbooks/drift.yml", extra_vars={"drift_report_dir": str(reports)})
    return run, json.loads((reports / "drift.json").read_text())


def drift_orphans(report: dict[str, Any]) -> list[str]:
    return sorted(
        d["host"] + ": " + d["drift"].split(": orphan ", 1)[1].split(" (", 1)[0]
        for region in report["account_regions"]
        for d in region["drifts"]
        if ": orphan " in d["drift"]
    )


def test_a_converge_reports_the_orphans_and_writes_nothing(server: Emulator, planted: dict[str, Any]) -> None:
    run = server.run_playbook()
    assert run.rc == 0, run.failed_messages() or run.stderr
    assert found(run, "reported") == sorted(planted["removed"] + planted["kept"])
    assert {host: run.changed(host) for host in REGIONS} == dict.fromkeys(REGIONS, 0), run.changed_tasks()
    assert mutating(run.calls) == []
    assert "carry the baseline's tags" in run.stderr + json.dumps(run.output)


def test_the_drift_report_lists_each_orphan_and_fails(
    server: Emulator, planted: dict[str, Any], tmp_path: Path
) -> None:
    run, report = drift(server, tmp_path)
    assert run.rc == 2 and report["status"] == "drift"
    assert drift_orphans(report) == sorted(planted["removed"] + planted["kept"])
    assert mutating(run.calls) == []


def test_dry_runs_of_the_removal_predict_it_and_write_nothing(
    server: Emulator, planted: dict[str, Any]
) -> None:
    converge = server.run_playbook("-e", "baseline_remove_orphans=true", check=True)
    assert converge.rc == 0, converge.failed_messages() or converge.stderr
    assert found(converge, "would remove") == planted["removed"]
    assert found(converge, "kept, a data store") == planted["kept"]
    assert mutating(converge.calls) == []
    teardown = server.run_playbook(
        check=True,
        playbook="playbooks/teardown.yml",
        extra_vars={"teardown_confirm": ACCOUNT, "teardown_orphans": True, "teardown_destroy_data": True},
    )
    assert teardown.rc == 0, teardown.failed_messages() or teardown.stderr
    assert found(teardown, "would remove") == sorted(planted["removed"] + planted["kept"])
    assert mutating(teardown.calls) == []


def test_removal_keeps_the_data_stores_and_a_rerun_changes_nothing(
    server: Emulator, planted: dict[str, Any], tmp_path: Path
) -> None:
    run = server.run_playbook("-e", "baseline_remove_orphans=true")
    assert run.rc == 0, run.failed_messages() or run.stderr
    assert found(run, "removed") == planted["removed"]
    assert found(run, "kept, a data store") == planted["kept"]
    assert client(server, "lambda", OTHER).list_functions()["Functions"] != []  # the definition's stay
    names = [f["FunctionName"] for f in client(server, "lambda", OTHER).list_functions()["Functions"]]
    assert "secureinfra-us-west-1-key_rotation" not in names
    assert (
        client(server, "s3").list_objects_v2(Bucket="oldprefix-data-123456789012-us-east-1")["KeyCount"] == 1
    )
    again = server.run_playbook("-e", "baseline_remove_orphans=true")
    assert {host: again.changed(host) for host in REGIONS} == dict.fromkeys(REGIONS, 0), again.changed_tasks()
    assert mutating(again.calls) == []
    _, report = drift(server, tmp_path)
    assert drift_orphans(report) == planted["kept"]


def test_the_teardown_removes_the_orphans_and_leaves_what_is_not_the_baselines(
    server: Emulator, planted: dict[str, Any]
) -> None:
    run = server.run_playbook(
        playbook="playbooks/teardown.yml",
        extra_vars={"teardown_confirm": ACCOUNT, "teardown_orphans": True, "teardown_destroy_data": True},
    )
    assert run.rc == 0, run.failed_messages() or run.stderr
    assert found(run, "removed") == planted["kept"]
    buckets = [b["Name"] for b in client(server, "s3").list_buckets()["Buckets"]]
    assert "oldprefix-data-123456789012-us-east-1" not in buckets
    queues = client(server, "sqs").list_queues().get("QueueUrls", [])
    assert queues == [planted["not_ours"]]
    filters = [
        {"Key": "ManagedBy", "Values": ["ansible"]},
        {"Key": "Project", "Values": ["secure-infrastructure"]},
    ]
    live = [
        item["ResourceARN"]
        for region in REGIONS
        for page in client(server, "resourcegroupstaggingapi", region)
        .get_paginator("get_resources")
        .paginate(TagFilters=filters)
        for item in page["ResourceTagMappingList"]
        if ":kms:" not in item["ResourceARN"]  # keys: pending deletion for 30 days
    ]
    assert live == []
