"""Assumed-role sessions that end during a run (docs/multi-account.md, "Sessions that end").

On the second private emulator (TEST_EMULATOR_PORT + 1, reset per run), strict rule 17 ends every
session STS AssumeRole issues after SESSION seconds (the strict setting session_seconds, restored
afterwards), as AWS ends a chained session after an hour. A rollout of two accounts x two regions
(inventories/organization), one host per batch, lasts several such sessions:

- with the refresh (the default), the account's role is assumed again at the start of a role of
  the collection when fewer than MARGIN seconds of its session are left: the run converges, and no
  call is signed with an expired session (the emulator logs every one it refuses);
- with baseline_account_session_refresh=false, the batches that start after the session's end
  meet ExpiredToken, half the rollout done, as a real run does after an hour.

Then the role-chaining limit (rule 18): the caller is itself a role session, so STS refuses a
DurationSeconds above 3600; the preflight role refuses it before any AWS call unless
baseline_account_role_chaining=false, and then names the setting when STS refuses it.
Long (two converges one host at a time): `make test-long`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import first_failures_offline

from scripts import emulator

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(os.sys.executable).parent / "ansible-playbook")
INVENTORY = ("-i", "inventories/organization")
HOSTS = ("dev-us-east-1", "dev-us-west-1", "prod-us-east-1", "prod-us-west-1")
SESSION = 60  # seconds a session lasts on the emulator here
MARGIN = 45  # longer than any role of the collection takes on the emulator (at most ~10 s)
ROLLOUT = {"baseline_rollout_max_concurrent": 1, "baseline_account_session_refresh_margin": MARGIN}
EXPIRED = "expired session"
CHECK_TASK = "Check the assumed role's session settings"


@pytest.fixture
def short_sessions(fresh_emulator) -> Iterator[Any]:
    emulator.reset(fresh_emulator.port)
    emulator.strict_settings(fresh_emulator.port, {"session_seconds": SESSION})
    try:
        yield fresh_emulator
    finally:
        emulator.strict_settings(fresh_emulator.port, {"session_seconds": 0})


def _log(port: int) -> Path:
    return REPO_ROOT / ".emulator" / f"moto-{port}.log"


def _refusals_during(server: Any, run: Any) -> tuple[Any, list[str]]:
    """Run `run()`; the emulator's refusals of expired sessions logged meanwhile."""
    log = _log(server.port)
    offset = log.stat().st_size if log.exists() else 0
    result = run()
    with log.open(errors="replace") as handle:
        handle.seek(offset)
        return result, [line for line in handle if EXPIRED in line]


def test_a_rollout_longer_than_a_session_converges_with_the_role_assumed_again(short_sessions) -> None:
    started = time.monotonic()
    run, refused = _refusals_during(
        short_sessions, lambda: short_sessions.run_playbook(*INVENTORY, extra_vars=ROLLOUT)
    )
    elapsed = time.monotonic() - started
    assert run.rc == 0, run.failed_messages() or run.stderr
    assert all(run.changed(host) > 0 for host in HOSTS), run.stats
    # One host per batch: four batches, and the run outlasted several sessions.
    assert elapsed > 2 * SESSION, elapsed
    assert refused == [], refused[:3]
    assumed = [call for call in run.calls if str(call).startswith("sts:AssumeRole")]
    # Once per host in the validation play, then again whenever a role started with less than
    # MARGIN seconds left: at least once more per batch that started a session later.
    assert len(assumed) >= len(HOSTS) + 3, len(assumed)


def test_without_the_refresh_the_later_batches_meet_expired_token(short_sessions) -> None:
    settings = {**ROLLOUT, "baseline_account_session_refresh": False}
    run, refused = _refusals_during(
        short_sessions, lambda: short_sessions.run_playbook(*INVENTORY, extra_vars=settings)
    )
    assert run.rc != 0
    messages = " ".join(run.failed_messages())
    assert "ExpiredToken" in messages, messages
    assert refused, "the emulator refused no expired session"
    assumed = [call for call in run.calls if str(call).startswith("sts:AssumeRole")]
    assert len(assumed) == len(HOSTS)  # once per host, at the start: never again


# --- role chaining: DurationSeconds above one hour ------------------------------------------------

# host => (its settings, the task that refuses them first, what the refusal says)
BAD = {
    "chained-two-hours": (
        {"baseline_account_session_duration": 7200},
        CHECK_TASK,
        "baseline_account_session_duration=7200: STS accepts at most 3600 seconds for a role assumed by role "
        "chaining",
    ),
    "margin-too-long": (
        {"baseline_account_session_refresh_margin": 50000},
        CHECK_TASK,
        "baseline_account_session_refresh_margin=50000: a whole number of seconds from 0 to 43200",
    ),
    # Not even a number: the role's argument spec (an int) refuses it first, naming it.
    "margin-not-a-number": (
        {"baseline_account_session_refresh_margin": "soon"},
        "Validating arguments against arg spec 'main'",
        "argument 'baseline_account_session_refresh_margin' is of type str",
    ),
}


def test_session_settings_aws_would_refuse_are_named_before_any_aws_call(tmp_path: Path) -> None:
    """No emulator: the endpoint is a port where nothing listens, so any AWS call would fail with
    a connection error, not with the messages asserted here."""
    hosts = {
        name: {
            "baseline_region": "us-east-1",
            "baseline_account_role_arn": f"arn:aws:iam::{index + 111111111111}:role/baseline-deployer",
            **settings,
        }
        for index, (name, (settings, _, _)) in enumerate(BAD.items())
    }
    # The caller's long-term keys (baseline_account_role_chaining=false): two hours pass this check.
    hosts["long-term-keys"] = {
        "baseline_region": "us-east-1",
        "baseline_account_role_arn": "arn:aws:iam::999999999999:role/baseline-deployer",
        "baseline_account_session_duration": 7200,
        "baseline_account_role_chaining": False,
    }
    first_failure = first_failures_offline(hosts, tmp_path)
    for host, (_, task, expected) in BAD.items():
        assert task in first_failure[host], first_failure[host]
        assert expected in first_failure[host], first_failure[host]
    assert CHECK_TASK not in first_failure.get("long-term-keys", ""), first_failure.get("long-term-keys")


def _caller_session(endpoint: str) -> dict[str, str]:
    """The caller as a CI pipeline is: itself an assumed role (of the caller's account)."""
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    credentials = sts.assume_role(
        RoleArn="arn:aws:iam::123456789012:role/ci-pipeline", RoleSessionName="ci", DurationSeconds=3600
    )["Credentials"]
    return {
        "region": "{{ baseline_region }}",
        "endpoint_url": endpoint,
        "access_key": credentials["AccessKeyId"],
        "secret_key": credentials["SecretAccessKey"],
        "session_token": credentials["SessionToken"],
    }


def test_a_chained_caller_gets_an_hour_and_sts_refuses_more(fresh_emulator) -> None:
    emulator.reset(fresh_emulator.port)
    caller = _caller_session(fresh_emulator.endpoint)
    # --tags selects no role: the validation play (which assumes the role) and the preflight tasks.
    one_hour = fresh_emulator.run_playbook(
        *INVENTORY, "--tags", "session-only", extra_vars={"baseline_aws_caller_connection": caller}
    )
    assert one_hour.rc == 0, one_hour.failed_messages() or one_hour.stderr
    assert len([c for c in one_hour.calls if str(c).startswith("sts:AssumeRole")]) == len(HOSTS)

    # The user's word that the caller is no role session is wrong here: STS refuses (rule 18), and
    # the message names the settings to change.
    two_hours = fresh_emulator.run_playbook(
        *INVENTORY,
        "--tags",
        "session-only",
        extra_vars={
            "baseline_aws_caller_connection": caller,
            "baseline_account_role_chaining": False,
            "baseline_account_session_duration": 7200,
        },
    )
    assert two_hours.rc != 0
    messages = " ".join(two_hours.failed_messages())
    role = "arn:aws:iam::111111111111:role/baseline-deployer"
    assert f"Cannot assume baseline_account_role_arn={role}" in messages, messages
    assert "baseline_account_role_chaining" in messages, messages
    assert "exceeds the 1 hour session limit for roles assumed by role chaining" in messages, messages
