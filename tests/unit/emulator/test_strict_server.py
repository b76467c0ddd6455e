"""Strict mode through the server: the /secureinfra/strict endpoint, a moto reset, the wire
format over HTTP, and the plumbing of scripts/emulator.py (start --strict, `strict --set`).

The server is moto's own ThreadedMotoServer, in this process, on a free local port, with the
strict patches applied (the `strict_patches` fixture); nothing here reads AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from scripts import emulator, strict_aws

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(strict_patches: None) -> Iterator[int]:
    strict_aws.CONFIG.update(
        {
            "enabled": False,
            "iam_propagation_seconds": 30,
            "pitr_unavailable_seconds": 30,
            "account_concurrency_limit": 1000,
        }
    )
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    try:
        emulator.reset(port)  # the backends are this process's: start from an empty account
        yield port
    finally:
        emulator.reset(port)
        moto.stop()


@pytest.fixture
def client(server: int) -> Callable[..., Any]:
    def make(service: str) -> Any:
        return boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{server}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


def http(port: int, path: str, body: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method="POST" if body else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def raw_error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response


def create_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName="data",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def enable_pitr(dynamodb: Any) -> Any:
    return dynamodb.update_continuous_backups(
        TableName="data", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def test_control_endpoint_shows_and_changes_the_settings(server):
    assert http(server, "/secureinfra/strict") == (200, strict_aws.CONFIG.as_dict())
    status, body = http(server, "/secureinfra/strict", b'{"enabled": true, "account_concurrency_limit": 10}')
    assert status == 200
    assert (body["enabled"], body["account_concurrency_limit"], body["iam_propagation_seconds"]) == (
        True,
        10,
        30,
    )
    status, body = http(server, "/secureinfra/strict", b'{"account_concurrency_limit": "ten"}')
    assert status == 400
    assert "account_concurrency_limit" in body["error"]
    assert strict_aws.CONFIG.account_concurrency_limit == 10


def test_wire_format_over_http(server, client):
    emulator.strict_settings(server, {"enabled": True})
    iam, awslambda, s3 = client("iam"), client("lambda"), client("s3")
    role = iam.create_role(RoleName="young", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("h.py", "def handler(e, c):\n    return e\n")
    error = raw_error(
        awslambda.create_function,
        FunctionName="fn",
        Runtime="python3.12",
        Role=role,
        Handler="h.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "InvalidParameterValueException"

    s3.create_bucket(Bucket="logs")
    error = raw_error(s3.put_bucket_acl, Bucket="logs", ACL="log-delivery-write")
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessControlListNotSupported",
        400,
    )

    dynamodb = client("dynamodb")
    create_table(dynamodb)
    assert (
        raw_error(enable_pitr, dynamodb=dynamodb)["Error"]["Code"] == "ContinuousBackupsUnavailableException"
    )


def test_notification_destination_checked_with_the_emulators_lambda_backend(server, client):
    """The emulator runs Lambda without Docker (moto's simple backend): the rules must read that one."""
    emulator.strict_settings(server, {"enabled": True, "iam_propagation_seconds": 0})
    role = client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("h.py", "def handler(e, c):\n    return e\n")
    awslambda, s3 = client("lambda"), client("s3")
    arn = awslambda.create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role,
        Handler="h.handler",
        Code={"ZipFile": archive.getvalue()},
    )["FunctionArn"]
    s3.create_bucket(Bucket="uploads")
    configuration = {
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]
    }
    error = raw_error(
        s3.put_bucket_notification_configuration, Bucket="uploads", NotificationConfiguration=configuration
    )
    assert error["Error"]["Code"] == "InvalidArgument"
    awslambda.add_permission(
        FunctionName="fn",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::uploads",
        SourceAccount="123456789012",
    )
    s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration=configuration)


def test_get_account_settings_answered_by_the_server_with_strict_off(server, client):
    assert strict_aws.CONFIG.enabled is False
    assert client("lambda").get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 1000


def test_reset_clears_the_clocks_and_keeps_the_settings(server, client):
    emulator.strict_settings(server, {"enabled": True, "pitr_unavailable_seconds": 0})
    dynamodb = client("dynamodb")
    create_table(dynamodb)
    enable_pitr(dynamodb)  # a zero-second window: accepted
    emulator.strict_settings(server, {"pitr_unavailable_seconds": 30})
    emulator.reset(server)
    assert emulator.strict_settings(server)["enabled"] is True
    assert dynamodb.list_tables()["TableNames"] == []
    create_table(dynamodb)  # a new table: its window starts again
    assert (
        raw_error(enable_pitr, dynamodb=dynamodb)["Error"]["Code"] == "ContinuousBackupsUnavailableException"
    )


def test_start_strict_enables_strict_mode_on_a_server_that_already_answers(server):
    assert emulator.start(server, strict=True) is None
    assert strict_aws.CONFIG.enabled is True


def test_strict_command_sets_values(server, capsys):
    assert emulator.main(["strict", "--port", str(server), "--set", "account_concurrency_limit=10"]) == 0
    assert json.loads(capsys.readouterr().out)["account_concurrency_limit"] == 10
    with pytest.raises(SystemExit):
        emulator.main(["strict", "--port", str(server), "--set", "enabled=perhaps"])
    assert strict_aws.CONFIG.enabled is False


class FakeProcess:
    pid = 4242
    envs: list[dict[str, str]] = []

    def __init__(self, cmd: list[str], env: dict[str, str], **_: Any) -> None:
        self.envs.append(env)


@pytest.mark.parametrize(
    ("strict", "inherited", "expected"), [(True, None, "1"), (False, None, None), (False, "1", "1")]
)
def test_start_passes_strict_mode_to_the_server_it_starts(
    monkeypatch, tmp_path: Path, strict, inherited, expected
):
    FakeProcess.envs = []
    if inherited is None:
        monkeypatch.delenv("SECUREINFRA_STRICT", raising=False)
    else:
        monkeypatch.setenv("SECUREINFRA_STRICT", inherited)
    monkeypatch.setattr(emulator, "STATE_DIR", tmp_path)
    monkeypatch.setattr(emulator, "answers", lambda port, timeout=1.0: False)
    monkeypatch.setattr(emulator, "wait_ready", lambda port, timeout=30.0, proc=None: None)
    monkeypatch.setattr(emulator, "configure", lambda port: None)
    monkeypatch.setattr(emulator.subprocess, "Popen", FakeProcess)
    assert emulator.start(4629, strict=strict) == FakeProcess.pid
    assert FakeProcess.envs[0].get("SECUREINFRA_STRICT") == expected


def test_serve_imports_work_when_run_as_a_script(tmp_path: Path):
    """`emulator.py serve` runs from scripts/ without the package: its imports must resolve there."""
    scripts_dir = Path(emulator.__file__).resolve().parent
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import moto_extensions, strict_aws; "
        "moto_extensions.install(); "
        "config = strict_aws.CONFIG; "
        "trust = sys.argv[2]; "
        "decision = strict_aws._decision(trust, 'sts:AssumeRole', '*', 'lambda.amazonaws.com', {}); "
        "print(decision, config.enabled, config.account_concurrency_limit)"
    )
    env = {**os.environ, "SECUREINFRA_STRICT": "1", "SECUREINFRA_ACCOUNT_CONCURRENCY": "10"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, "-c", code, str(scripts_dir), TRUST],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Allow", "True", "10"]
