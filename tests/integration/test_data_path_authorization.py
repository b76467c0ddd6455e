"""The demo's data path under enforced authorization, on the converged emulator.

Every call a handler makes runs under its deployed role and is authorized by
scripts/authorizer.py (identity, resource, VPC endpoint and KMS key policies; S3 object calls
by moto's own IAM enforcement too). The positive test proves that every request the handlers
sent to the emulator was authorized (the emulator's recorder is compared with the authorizer's
count). Each mutation test removes one permission from the deployed state with boto3, runs the
handler that needs it, checks that the run fails naming the permission, and restores the state.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from conftest import REGIONS

from scripts import authorizer, demo_data_path
from scripts.demo_data_path import DataPathDenied, Runner

ACCOUNT = "123456789012"
PREFIX = "secureinfra"
REGION = REGIONS[0]


@pytest.fixture
def runner(converged, endpoint, monkeypatch) -> Runner:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return Runner(endpoint)


def _recorder(endpoint: str, action: str, method: str = "POST") -> str:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/recorder/{action}", method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def _role_requests(endpoint: str) -> list[dict[str, Any]]:
    """Requests recorded since the recorder started that were signed with a role session."""
    _recorder(endpoint, "stop-recording")
    entries = [
        json.loads(line) for line in _recorder(endpoint, "download-recording", "GET").splitlines() if line
    ]
    return [e for e in entries if any(k.lower() == "x-amz-security-token" for k in (e.get("headers") or {}))]


def test_full_data_path_authorizes_every_call(runner: Runner, endpoint: str) -> None:
    _recorder(endpoint, "reset-recording")
    _recorder(endpoint, "start-recording")
    results = {region: demo_data_path.run_region(region, PREFIX, ACCOUNT, runner) for region in REGIONS}
    sent = _role_requests(endpoint)

    auth = runner.authorizer
    assert auth.denied == []
    for region in REGIONS:
        assert "processor" in results[region]["functions"]
        assert results[region]["counts"] == {"objects": 1, "records": 14, "written": 12, "rejected": 2}
        assert auth.calls[region] > 0
    # Every request a handler sent (signed with a role session) was authorized first, and no
    # authorized call went missing.
    assert len(sent) == sum(auth.calls.values())
    checked = {(o.function.rsplit("-", 1)[-1], o.check.action) for o in auth.authorized}
    assert {
        ("processor", "s3:GetObject"),
        ("processor", "dynamodb:BatchWriteItem"),
        ("processor", "kms:Decrypt"),  # DynamoDB decrypts the table key with the role's permissions
        ("processor", "s3:PutObject"),
        ("analytics", "dynamodb:Scan"),
        ("analytics", "kms:Decrypt"),
        ("analytics", "s3:PutObject"),
    } <= checked
    table_kms = [
        o for o in auth.authorized if o.check.action == "kms:Decrypt" and "dynamodb" in (o.check.via or "")
    ]
    assert all(dict(o.check.context)["kms:ViaService"].startswith("dynamodb.") for o in table_kms)
    vpc_calls = [o for o in auth.authorized if o.check.service in ("s3", "dynamodb")]
    assert vpc_calls and all("VPC endpoint policy of vpce-" in o.verdict.reason for o in vpc_calls)
    if any("key_rotation" in r["functions"] for r in results.values()):
        assert ("key_rotation", "sns:Publish") in checked
        assert ("key_rotation", "kms:GenerateDataKey") in checked  # the topic is encrypted
    assert sum(auth.moto_checked.values()) > 0
    report = auth.report(REGIONS)
    assert report[0].startswith(f"{REGIONS[0]}: {auth.calls[REGIONS[0]]} calls authorized")


# --- mutations -------------------------------------------------------------------------------


@contextmanager
def inline_statement_removed(aws: Any, role: str, sid: str) -> Iterator[None]:
    iam = aws("iam")
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    original = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    mutated = {**original, "Statement": [s for s in original["Statement"] if s.get("Sid") != sid]}
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(mutated))
    try:
        yield
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(original))


def _run_processor(runner: Runner, region: str = REGION) -> None:
    bucket = f"{PREFIX}-data-{ACCOUNT}-{region}"
    key = "incoming/mutation-sample.jsonl"
    runner.client("s3", region).put_object(Bucket=bucket, Key=key, Body=demo_data_path.sample_object(region))
    lam = runner.client("lambda", region)
    event = demo_data_path.s3_event(bucket, key, region)
    runner.invoke(lam, f"{PREFIX}-{region}-processor", region, "processor", event)


def _key_arn(aws: Any, region: str) -> str:
    return aws("kms", region).describe_key(KeyId="alias/secureinfra-baseline")["KeyMetadata"]["Arn"]


def test_without_the_table_kms_grant_the_processor_is_denied(runner: Runner, aws: Any) -> None:
    role = f"{PREFIX}-{REGION}-processor"
    with (
        inline_statement_removed(aws, role, "UseBaselineKeyThroughDynamoDB"),
        pytest.raises(DataPathDenied) as denied,
    ):
        _run_processor(runner)
    message = str(denied.value)
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PREFIX}-data"
    assert (
        f"kms:GenerateDataKey on {_key_arn(aws, REGION)} (made by dynamodb:BatchWriteItem on {table})"
        in message
    )
    assert "delegates to IAM, and no statement of the identity policies" in message
    assert f"role {role}" in message


def test_without_the_quarantine_grant_the_processor_is_denied(runner: Runner, aws: Any) -> None:
    role = f"{PREFIX}-{REGION}-processor"
    with (
        inline_statement_removed(aws, role, "WriteQuarantinedRecords"),
        pytest.raises(DataPathDenied) as denied,
    ):
        _run_processor(runner)
    bucket = f"{PREFIX}-data-{ACCOUNT}-{REGION}"
    message = str(denied.value)
    assert f"s3:PutObject on arn:aws:s3:::{bucket}/quarantine/mutation-sample.jsonl.rejected.jsonl" in message
    assert "no statement of the identity policies" in message
    assert f"nor of the bucket policy of {bucket} allows it" in message


def _key_rotation_region(runner: Runner) -> str:
    for region in REGIONS:
        if "key_rotation" in demo_data_path.deployed_functions(
            runner.client("lambda", region), PREFIX, region
        ):
            return region
    pytest.fail("key_rotation is deployed in no region")


def _run_key_rotation(runner: Runner, region: str) -> None:
    lam = runner.client("lambda", region)
    runner.invoke(lam, f"{PREFIX}-{region}-key_rotation", region, "key_rotation", {})


def test_without_the_publish_grant_key_rotation_is_denied(runner: Runner, aws: Any) -> None:
    region = _key_rotation_region(runner)
    role = f"{PREFIX}-{region}-key_rotation"
    with inline_statement_removed(aws, role, "PublishSummary"), pytest.raises(DataPathDenied) as denied:
        _run_key_rotation(runner, region)
    topic = f"arn:aws:sns:{region}:{ACCOUNT}:{PREFIX}-alarms"
    message = str(denied.value)
    assert f"sns:Publish on {topic}" in message
    assert f"nor of the topic policy of {topic} allows it" in message


def test_a_topic_policy_deny_stops_key_rotation(runner: Runner, aws: Any) -> None:
    region = _key_rotation_region(runner)
    sns = aws("sns", region)
    topic = f"arn:aws:sns:{region}:{ACCOUNT}:{PREFIX}-alarms"
    original = sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    mutated = json.loads(original)
    mutated["Statement"].append(
        {
            "Sid": "NoPublishFromLambdaRoles",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sns:Publish",
            "Resource": topic,
            "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-*"}},
        }
    )
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(mutated))
    try:
        with pytest.raises(DataPathDenied) as denied:
            _run_key_rotation(runner, region)
    finally:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=original)
    assert f"sns:Publish on {topic}: explicitly denied by statement NoPublishFromLambdaRoles" in str(
        denied.value
    )


def test_without_the_table_in_the_endpoint_policy_the_processor_is_denied(runner: Runner, aws: Any) -> None:
    ec2 = aws("ec2", REGION)
    (endpoint,) = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "service-name", "Values": [f"com.amazonaws.{REGION}.dynamodb"]}]
    )["VpcEndpoints"]
    original = endpoint["PolicyDocument"]
    mutated = json.loads(original)
    for statement in mutated["Statement"]:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        statement["Resource"] = [r for r in resources if ":table/" not in r or "/index/" in r]
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"], PolicyDocument=json.dumps(mutated))
    try:
        with pytest.raises(DataPathDenied) as denied:
            _run_processor(runner)
    finally:
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"], PolicyDocument=original)
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PREFIX}-data"
    assert (
        f"dynamodb:BatchWriteItem on {table}: no statement of the VPC endpoint policy of "
        f"{endpoint['VpcEndpointId']} (dynamodb) allows it"
    ) in str(denied.value)


def test_moto_enforces_s3_object_calls_itself(runner: Runner, endpoint: str) -> None:
    """The S3 object calls are also refused by moto's own IAM check (no authorizer hook here)."""
    lam = runner.client("lambda", REGION)
    config = lam.get_function_configuration(FunctionName=f"{PREFIX}-{REGION}-analytics")
    credentials = runner.client("sts", REGION).assume_role(
        RoleArn=config["Role"], RoleSessionName="moto-check"
    )["Credentials"]
    s3 = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    bucket = f"{PREFIX}-data-{ACCOUNT}-{REGION}"
    previous = authorizer._reset_auth(endpoint, "0")
    try:
        s3.put_object(Bucket=bucket, Key="reports/moto-check.json", Body=b"{}")  # WriteReports allows it
        with pytest.raises(ClientError) as denied:
            s3.put_object(Bucket=bucket, Key="incoming/moto-check.jsonl", Body=b"{}")
    finally:
        authorizer._reset_auth(endpoint, previous)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
