"""Unit tests for secureinfra.baseline.assume_role against in-process moto.

moto 5.2.5 answers AssumeRole for any role ARN, with an Expiration DurationSeconds ahead.
"""

from __future__ import annotations

import datetime

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import assume_role as mod

ROLE = "arn:aws:iam::111122223333:role/baseline-deploy"


def test_returns_the_session_credentials_and_its_end(run_module, aws) -> None:
    before = datetime.datetime.now(datetime.UTC)
    result = run_module(mod, {"role_arn": ROLE, "role_session_name": "ansible", "duration_seconds": 900})
    assert result["changed"] is False
    creds = result["sts_creds"]
    assert set(creds) == {"access_key", "secret_key", "session_token", "expiration"}
    left = datetime.datetime.fromisoformat(creds["expiration"]) - before
    assert 890 <= left.total_seconds() <= 910
    assert result["sts_user"]["arn"] == "arn:aws:sts::111122223333:assumed-role/baseline-deploy/ansible"
    # The credentials are the role's: STS names its session as the caller.
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        aws_access_key_id=creds["access_key"],
        aws_secret_access_key=creds["secret_key"],
        aws_session_token=creds["session_token"],
    )
    assert sts.get_caller_identity()["Account"] == "111122223333"


def test_check_mode_assumes_the_role_too(run_module, aws) -> None:
    result = run_module(mod, {"role_arn": ROLE, "role_session_name": "ansible"}, check_mode=True)
    assert result["changed"] is False
    assert result["sts_creds"]["session_token"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"role_arn": "baseline-deploy"}, "role_arn must be an IAM role ARN"),
        ({"role_session_name": "a"}, "role_session_name must be 2 to 64 characters"),
        ({"role_session_name": "has space"}, "got 'has space'"),
        ({"duration_seconds": 60}, "duration_seconds must be 900 to 43200, got 60"),
    ],
)
def test_input_aws_refuses_fails_before_the_call(run_module, aws, args, message) -> None:
    full = {"role_arn": ROLE, "role_session_name": "ansible", "endpoint_url": "http://127.0.0.1:9", **args}
    result = run_module(mod, full, expect_failure=True)
    assert message in result["msg"]
    assert "AssumeRole" not in result["msg"]
