"""Strict rules 17 and 18 through the server: STS sessions end, and role chaining caps them.

Rule 17: a call signed with the key of an AssumeRole session past its Expiration answers each
protocol's expired-credentials error (session_seconds shortens the sessions, and the Expiration
AssumeRole answers says so). Rule 18: AssumeRole signed by an assumed-role session (role
chaining) with DurationSeconds above 3600 answers ValidationError. moto's ThreadedMotoServer runs
in this process with the strict patches (the `strict_patches` fixture).
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core.utils import utcnow
from moto.server import ThreadedMotoServer

from scripts import emulator, strict_aws

ROLE = "arn:aws:iam::111111111111:role/baseline-deployer"
CHAINED = "arn:aws:iam::222222222222:role/baseline-deployer"
LIFETIME = 5.0
CHAINING_MESSAGE = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def endpoint(strict_patches: None) -> Iterator[str]:
    strict_aws.CONFIG.update({"enabled": True, "session_seconds": LIFETIME})
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        emulator.reset(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        emulator.reset(port)
        server.stop()


def _keys(credentials: dict[str, Any]) -> dict[str, str]:
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


@pytest.fixture
def client(endpoint: str) -> Callable[..., Any]:
    """client(service, keys=None): the caller's long-term keys ("testing", the account root) by default."""

    def make(service: str, keys: dict[str, str] | None = None) -> Any:
        keys = keys or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint, **keys)

    return make


def _assume(sts: Any, role: str = ROLE, **params: Any) -> dict[str, Any]:
    return sts.assume_role(RoleArn=role, RoleSessionName="test", **params)["Credentials"]


def _error(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


# Each protocol the baseline's modules use: (service, a read, the code and status AWS answers).
CALLS: list[tuple[str, Callable[[Any], Any], str, int]] = [
    ("sts", lambda c: c.get_caller_identity(), "ExpiredToken", 403),
    ("iam", lambda c: c.list_roles(), "ExpiredToken", 403),
    ("sns", lambda c: c.list_topics(), "ExpiredToken", 403),
    ("s3", lambda c: c.list_buckets(), "ExpiredToken", 400),
    ("dynamodb", lambda c: c.list_tables(), "ExpiredTokenException", 400),
    ("kms", lambda c: c.list_keys(), "ExpiredTokenException", 400),
    ("logs", lambda c: c.describe_log_groups(), "ExpiredTokenException", 400),
    ("cloudwatch", lambda c: c.describe_alarms(), "ExpiredTokenException", 400),
    ("lambda", lambda c: c.list_functions(), "ExpiredTokenException", 403),
    ("ec2", lambda c: c.describe_vpcs(), "RequestExpired", 400),
]


def test_a_session_answers_until_its_expiration_then_every_protocol_refuses_it(client) -> None:
    strict_aws.CONFIG.update({"session_seconds": 0})  # 900 s: time to call every service
    credentials = _assume(client("sts"), DurationSeconds=900)
    clients = {service: client(service, _keys(credentials)) for service, *_ in CALLS}
    for service, call, _code, _status in CALLS:
        call(clients[service])  # fresh: answered
    # Its Expiration passes (moto keeps the session in the role's account).
    strict_aws.session_of(credentials["AccessKeyId"]).expiration = utcnow() - timedelta(seconds=1)
    for service, call, code, status in CALLS:
        got = _error(lambda call=call, service=service: call(clients[service]))
        assert got[:2] == (code, status), (service, got)
        assert "expired" in got[2].lower(), (service, got)
    # A new session of the same role is fresh again; the caller's own keys never expire.
    renewed = client("sts", _keys(_assume(client("sts"))))
    assert renewed.get_caller_identity()["Account"] == "111111111111"
    assert client("s3").list_buckets()["Buckets"] == []


def test_session_seconds_ends_a_session_and_its_expiration_says_so(client) -> None:
    issued = datetime.now(UTC)
    credentials = _assume(client("sts"), DurationSeconds=900)
    # The Expiration AssumeRole answers is the session's real end: session_seconds, not 900 s.
    assert abs((credentials["Expiration"] - issued).total_seconds() - LIFETIME) < 1.5
    sts = client("sts", _keys(credentials))
    time.sleep(LIFETIME + 0.5)
    assert _error(sts.get_caller_identity)[:2] == ("ExpiredToken", 403)


def test_a_presigned_url_of_an_expired_session_is_refused(client) -> None:
    credentials = _assume(client("sts"))
    s3 = client("s3", _keys(credentials))
    s3.create_bucket(Bucket="presigned")
    url = s3.generate_presigned_url("list_objects_v2", Params={"Bucket": "presigned"})
    time.sleep(LIFETIME + 0.5)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, timeout=10)
    assert info.value.code == 400
    assert b"<Code>ExpiredToken</Code>" in info.value.read()


def test_without_session_seconds_a_session_lasts_its_duration(client) -> None:
    strict_aws.CONFIG.update({"session_seconds": 0})
    issued = datetime.now(UTC)
    credentials = _assume(client("sts"), DurationSeconds=900)
    assert abs((credentials["Expiration"] - issued).total_seconds() - 900) < 5
    time.sleep(LIFETIME + 0.5)
    assert client("sts", _keys(credentials)).get_caller_identity()["Account"] == "111111111111"


def test_strict_mode_off_leaves_expired_sessions_to_moto(client) -> None:
    credentials = _assume(client("sts"))
    time.sleep(LIFETIME + 0.5)
    strict_aws.CONFIG.update({"enabled": False})
    assert client("sts", _keys(credentials)).get_caller_identity()["Account"] == "111111111111"


def test_role_chaining_refuses_a_duration_above_one_hour(client) -> None:
    strict_aws.CONFIG.update({"session_seconds": 0})
    chained = client("sts", _keys(_assume(client("sts"))))
    code, status, message = _error(lambda: _assume(chained, CHAINED, DurationSeconds=3601))
    assert (code, status, message) == ("ValidationError", 400, CHAINING_MESSAGE)
    # One hour is what a chained session may have.
    assert _assume(chained, CHAINED, DurationSeconds=3600)["AccessKeyId"]
    # The caller's long-term keys are no role session: up to the role's maximum (moto: 12 h).
    assert _assume(client("sts"), CHAINED, DurationSeconds=43200)["AccessKeyId"]


def test_role_chaining_is_moto_s_when_strict_mode_is_off(client) -> None:
    strict_aws.CONFIG.update({"enabled": False, "session_seconds": 0})
    chained = client("sts", _keys(_assume(client("sts"))))
    assert _assume(chained, CHAINED, DurationSeconds=7200)["AccessKeyId"]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {
                "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 "
                "Credential=ASIAEXAMPLE/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=x"
            },
            ("ASIAEXAMPLE", "sts"),
        ),
        (
            {
                "QUERY_STRING": "X-Amz-Credential=ASIAKEY%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
                "&X-Amz-Expires=3600"
            },
            ("ASIAKEY", "s3"),
        ),
        ({"PATH_INFO": "/moto-api/reset"}, None),
    ],
)
def test_request_key_reads_the_sigv4_credential(environ: dict[str, str], expected: Any) -> None:
    assert strict_aws.request_key(environ) == expected


def test_session_seconds_is_a_strict_setting_from_the_environment() -> None:
    config = strict_aws.StrictConfig.from_env({"SECUREINFRA_STRICT_SESSION_SECONDS": "30"})
    assert config.session_seconds == 30.0
    with pytest.raises(ValueError, match="session_seconds"):
        config.update({"session_seconds": -1})
