"""scripts/moto_extensions.py: CloudWatch Logs Associate/DisassociateKmsKey (missing in moto 5.2.5),
and PutParameter made atomic (moto checks the name, then appends, with no lock between the two)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.logs.responses import LogsResponse
from moto.ssm import models as ssm_models
from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends

from scripts import moto_extensions

REGION = "us-east-1"
GROUP = "/secureinfra/app"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield


@pytest.fixture
def logs(aws: None) -> Any:
    client = boto3.client("logs", region_name=REGION)
    client.create_log_group(logGroupName=GROUP)
    return client


@pytest.fixture
def key(aws: None) -> str:
    return boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]


@pytest.fixture
def extended() -> Iterator[None]:
    with (
        mock.patch.object(LogsResponse, "associate_kms_key", moto_extensions.associate_kms_key, create=True),
        mock.patch.object(
            LogsResponse, "disassociate_kms_key", moto_extensions.disassociate_kms_key, create=True
        ),
    ):
        yield


def key_of(logs: Any) -> str | None:
    [group] = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]
    return group.get("kmsKeyId")


def error_code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as error:
        call(**kwargs)
    return error.value.response["Error"]["Code"]


def test_plain_moto_lacks_associate_kms_key(logs: Any, key: str) -> None:
    assert not hasattr(LogsResponse, "associate_kms_key")
    with pytest.raises((NotImplementedError, ClientError)):
        logs.associate_kms_key(logGroupName=GROUP, kmsKeyId=key)


def test_the_key_is_kept_on_the_group_and_removed(logs: Any, key: str, extended: None) -> None:
    assert key_of(logs) is None
    logs.associate_kms_key(logGroupName=GROUP, kmsKeyId=key)
    assert key_of(logs) == key
    other = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    logs.associate_kms_key(logGroupName=GROUP, kmsKeyId=other)  # replaces the association
    assert key_of(logs) == other
    logs.disassociate_kms_key(logGroupName=GROUP)
    assert key_of(logs) is None


def test_errors_as_aws_documents_them(logs: Any, key: str, extended: None) -> None:
    kms = boto3.client("kms", region_name=REGION)
    assert (
        error_code(logs.associate_kms_key, logGroupName="/missing", kmsKeyId=key)
        == "ResourceNotFoundException"
    )
    assert error_code(logs.disassociate_kms_key, logGroupName="/missing") == "ResourceNotFoundException"
    missing_key = key.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    assert error_code(logs.associate_kms_key, logGroupName=GROUP, kmsKeyId=missing_key) == (
        "InvalidParameterException"
    )
    kms.disable_key(KeyId=key.rsplit("/", 1)[1])
    assert error_code(logs.associate_kms_key, logGroupName=GROUP, kmsKeyId=key) == "InvalidParameterException"
    assert error_code(logs.disassociate_kms_key) == "InvalidParameterException"
    both = {"logGroupName": GROUP, "resourceIdentifier": "arn:aws:logs:us-east-1:123456789012:query-result:*"}
    assert error_code(logs.disassociate_kms_key, **both) == "InvalidParameterException"
    assert key_of(logs) is None


def test_the_extension_is_installed_only_where_moto_lacks_it() -> None:
    with (
        mock.patch.object(moto_extensions, "_PATCHES", []),
        mock.patch.object(moto_extensions.strict_aws, "install_additions"),
        mock.patch.object(LogsResponse, "associate_kms_key", "moto's own", create=True),
        mock.patch.object(LogsResponse, "disassociate_kms_key", "moto's own", create=True),
    ):
        moto_extensions.install()
        assert LogsResponse.associate_kms_key == "moto's own"


def _race(put: Any) -> list[str]:
    """Two PutParameter creations of one name at once, moto slowed between its check and its append."""
    backend = ssm_backends[DEFAULT_ACCOUNT_ID][REGION]
    start = threading.Barrier(2)
    outcomes: list[str] = []
    real_utcnow = ssm_models.utcnow

    def slow_utcnow() -> Any:
        time.sleep(0.2)  # after moto's "is the name free" check, before its append
        return real_utcnow()

    def create(run: str) -> None:
        start.wait()
        try:
            put(
                backend,
                "/secureinfra/baseline/lock",
                None,
                run,
                "String",
                None,
                None,
                False,
                [],
                "text",
                None,
                None,
            )
            outcomes.append("created")
        except ssm_models.ParameterAlreadyExists:
            outcomes.append("exists")

    with mock.patch.object(ssm_models, "utcnow", slow_utcnow):
        threads = [threading.Thread(target=create, args=(run,)) for run in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return sorted(outcomes)


def test_plain_moto_lets_two_concurrent_creations_succeed(aws: None) -> None:
    assert _race(SimpleSystemManagerBackend.put_parameter) == ["created", "created"]


def test_the_extension_creates_a_name_once(aws: None) -> None:
    put = moto_extensions._put_parameter(SimpleSystemManagerBackend.put_parameter)
    assert _race(put) == ["created", "exists"]


def _overlaps(record: Any, wait: float) -> int:
    """Two threads record; how many times one entered while the other was inside (each waits up
    to `wait` seconds inside for the other, as a line's two buffered writes leave room for it)."""
    inside = {"now": 0, "overlaps": 0}
    guard = threading.Lock()
    both = threading.Event()

    def slow_original(_self: Any, *_args: Any, **_kwargs: Any) -> None:
        with guard:
            inside["overlaps"] += inside["now"]
            inside["now"] += 1
            if inside["now"] == 2:
                both.set()
        both.wait(wait)
        with guard:
            inside["now"] -= 1

    patched = record(slow_original) if record else slow_original
    threads = [threading.Thread(target=patched, args=(None, "request")) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return inside["overlaps"]


def test_plain_recording_lets_two_requests_write_at_once() -> None:
    assert _overlaps(None, wait=10) == 1


def test_the_extension_records_one_request_at_a_time() -> None:
    assert _overlaps(moto_extensions._record_request, wait=0.3) == 0
