"""Retry logic of plugins/module_utils/backoff.py, with an injected clock, sleep and random."""

from __future__ import annotations

import pytest
from ansible_collections.secureinfra.baseline.plugins.module_utils import backoff
from botocore.exceptions import ClientError

LAMBDA = backoff.RetryPolicy(
    error_codes=("InvalidParameterValueException",),
    message_pattern="cannot be assumed by Lambda",
    timeout=60,
    initial_delay=2,
    max_delay=16,
)
ROLE_NOT_READY = (
    "InvalidParameterValueException",
    "The role defined for the function cannot be assumed by Lambda.",
)


class FakeTime:
    """A clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _outcomes(*errors):
    """A call returning the given errors in turn (None: success), and a counter."""
    queue = list(errors)
    calls = []

    def call():
        calls.append(1)
        return queue.pop(0)

    return call, calls


def _classify(outcome):
    return outcome


def test_schedule_doubles_up_to_the_cap_without_jitter():
    policy = backoff.RetryPolicy(("X",), timeout=1000, initial_delay=2, max_delay=16, jitter=False)
    assert [backoff.next_delay(policy, n, 0) for n in range(6)] == [2, 4, 8, 16, 16, 16]


def test_full_jitter_stays_under_the_ceiling_and_above_a_tenth():
    policy = backoff.RetryPolicy(("X",), timeout=1000, initial_delay=2, max_delay=16)
    assert backoff.next_delay(policy, 3, 0, rand=lambda: 0.5) == 8  # half of the ceiling min(16, 2 * 2**3)
    assert backoff.next_delay(policy, 3, 0, rand=lambda: 0.0) == pytest.approx(1.6)
    assert backoff.next_delay(policy, 10, 0, rand=lambda: 0.999) < 16


def test_last_wait_is_cut_to_the_budget_and_nothing_after_it():
    policy = backoff.RetryPolicy(("X",), timeout=10, initial_delay=8, max_delay=8, jitter=False)
    assert backoff.next_delay(policy, 0, 7) == 3
    assert backoff.next_delay(policy, 0, 10) is None


def test_retries_the_documented_error_until_success():
    fake = FakeTime()
    call, calls = _outcomes(ROLE_NOT_READY, ROLE_NOT_READY, ROLE_NOT_READY, None)
    outcome, log = backoff.run_with_backoff(
        call, _classify, LAMBDA, sleep=fake.sleep, clock=fake.clock, rand=lambda: 1.0
    )
    assert outcome is None
    assert len(calls) == 4
    assert log.attempts == 4
    assert fake.sleeps == [2, 4, 8]
    assert log.waited == 14
    assert [entry["code"] for entry in log.retried] == ["InvalidParameterValueException"] * 3


def test_gives_up_when_the_budget_is_spent():
    fake = FakeTime()
    call, calls = _outcomes(*[ROLE_NOT_READY] * 50)
    outcome, log = backoff.run_with_backoff(
        call, _classify, LAMBDA, sleep=fake.sleep, clock=fake.clock, rand=lambda: 1.0
    )
    assert outcome == ROLE_NOT_READY
    assert sum(fake.sleeps) == 60  # exactly the budget: 2+4+8+16+16+14
    assert fake.sleeps == [2, 4, 8, 16, 16, 14]
    assert len(calls) == 7 == log.attempts


@pytest.mark.parametrize(
    "error",
    [
        ("InvalidParameterValueException", "Unsupported runtime python2.7"),  # same code, other message
        ("AccessDeniedException", "not authorized to perform iam:PassRole"),
        ("ResourceConflictException", "The operation cannot be performed at this time."),
        ("ThrottlingException", "Rate exceeded"),
        (None, "botocore could not connect"),
    ],
)
def test_any_other_error_fails_at_once(error):
    fake = FakeTime()
    call, calls = _outcomes(error, None)
    outcome, log = backoff.run_with_backoff(call, _classify, LAMBDA, sleep=fake.sleep, clock=fake.clock)
    assert outcome == error
    assert len(calls) == 1
    assert fake.sleeps == []
    assert log.retried == []


def test_zero_timeout_means_no_retry():
    fake = FakeTime()
    policy = backoff.RetryPolicy(("X",), timeout=0)
    call, calls = _outcomes(("X", "m"), None)
    outcome, _ = backoff.run_with_backoff(call, _classify, policy, sleep=fake.sleep, clock=fake.clock)
    assert outcome == ("X", "m")
    assert len(calls) == 1


def test_without_pattern_any_message_of_the_code_matches():
    policy = backoff.RetryPolicy(("ContinuousBackupsUnavailableException",))
    assert policy.matches("ContinuousBackupsUnavailableException", "Backups are being enabled")
    assert policy.matches("ContinuousBackupsUnavailableException", None)
    assert not policy.matches("TableNotFoundException", "Backups are being enabled")


# The messages of CreateFunction's checks that the Terraform AWS provider retries (retryFunctionOp).
LAMBDA_CHECKS = backoff.RetryPolicy(
    ("InvalidParameterValueException",),
    message_patterns=(
        "cannot be assumed by Lambda",
        "The provided execution role does not have permissions",
        "throttled by EC2",
    ),
)


@pytest.mark.parametrize(
    "message",
    [
        "The role defined for the function cannot be assumed by Lambda.",
        "The provided execution role does not have permissions to call CreateNetworkInterface on EC2",
        "The provided execution role does not have permissions to call SendMessage on SQS",
        "The provided execution role does not have permissions to call PutTraceSegments on XRAY",
        "Lambda was throttled by EC2 during Lambda function initialization",
    ],
)
def test_any_of_several_patterns_matches(message):
    assert LAMBDA_CHECKS.matches("InvalidParameterValueException", message)


def test_several_patterns_still_need_one_to_match_and_the_code():
    assert not LAMBDA_CHECKS.matches("InvalidParameterValueException", "Value python2 at 'runtime' failed")
    assert not LAMBDA_CHECKS.matches("InvalidParameterValueException", None)
    assert not LAMBDA_CHECKS.matches("ResourceConflictException", "throttled by EC2")


def test_pattern_and_patterns_add_up():
    policy = backoff.RetryPolicy(("X",), message_pattern="^one", message_patterns=("two$",))
    assert policy.patterns() == ("two$", "^one")
    assert policy.matches("X", "one thing") and policy.matches("X", "thing two")
    assert not policy.matches("X", "three")


def _client_error(code: str, message: str = "m") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "UpdateContinuousBackups")


def test_call_with_backoff_raises_the_last_error_and_retries_only_named_codes():
    fake = FakeTime()
    policy = backoff.RetryPolicy(
        ("ContinuousBackupsUnavailableException",), timeout=5, initial_delay=1, max_delay=4
    )
    attempts = []

    def always_unavailable():
        attempts.append(1)
        raise _client_error("ContinuousBackupsUnavailableException", "Backups are being enabled")

    with pytest.raises(ClientError) as exc:
        backoff.call_with_backoff(
            always_unavailable, policy, (ClientError,), sleep=fake.sleep, clock=fake.clock, rand=lambda: 1.0
        )
    assert exc.value.response["Error"]["Code"] == "ContinuousBackupsUnavailableException"
    assert fake.sleeps == [1, 2, 2]
    assert len(attempts) == 4

    fake = FakeTime()

    def denied():
        raise _client_error("AccessDeniedException")

    with pytest.raises(ClientError):
        backoff.call_with_backoff(denied, policy, (ClientError,), sleep=fake.sleep, clock=fake.clock)
    assert fake.sleeps == []


def test_call_with_backoff_returns_the_value_and_log():
    fake = FakeTime()
    policy = backoff.RetryPolicy(("ContinuousBackupsUnavailableException",), timeout=30, initial_delay=1)
    answers = [_client_error("ContinuousBackupsUnavailableException"), {"ok": True}]

    def flaky():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    value, log = backoff.call_with_backoff(flaky, policy, (ClientError,), sleep=fake.sleep, clock=fake.clock)
    assert value == {"ok": True}
    assert log.attempts == 2
    assert len(fake.sleeps) == 1
