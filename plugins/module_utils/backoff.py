# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Bounded retries with capped exponential backoff and full jitter, on named errors only.

AWS's eventual consistency (a role just created, point-in-time recovery just after
CreateTable) shows as a few documented error codes that go away by themselves; every other
error must fail at once. The sleep, the clock and the random source are injected so that the
schedule can be tested without waiting.

Full jitter: "sleep = random_between(0, min(cap, base * 2 ** attempt))"
(https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Which failures are retried, and for how long."""

    error_codes: tuple[str, ...]
    message_pattern: str | None = None
    timeout: float = 180.0  # seconds: the budget for waiting, across all attempts
    initial_delay: float = 2.0
    max_delay: float = 30.0
    jitter: bool = True
    message_patterns: tuple[str, ...] = ()  # the message must match one of these (or message_pattern)

    def patterns(self) -> tuple[str, ...]:
        """Every message pattern (empty: any message of a listed code is retried)."""
        return self.message_patterns + ((self.message_pattern,) if self.message_pattern is not None else ())

    def matches(self, code: str | None, message: str | None) -> bool:
        """True when an error with this code (and message) is one to retry."""
        if not code or code not in self.error_codes:
            return False
        patterns = self.patterns()
        if not patterns:
            return True
        return any(re.search(pattern, message or "", re.IGNORECASE) is not None for pattern in patterns)

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failed attempt number `attempt` (0-based)."""
        return min(self.max_delay, self.initial_delay * (2**attempt))


@dataclass
class RetryLog:
    """What happened: one entry per retried failure."""

    attempts: int = 0
    waited: float = 0.0
    retried: list[dict[str, Any]] = field(default_factory=list)


def next_delay(
    policy: RetryPolicy, attempt: int, elapsed: float, rand: Callable[[], float] = random.random
) -> float | None:
    """Seconds to wait after failed attempt `attempt`, or None when the budget is spent."""
    remaining = policy.timeout - elapsed
    if remaining <= 0:
        return None
    ceiling = policy.ceiling(attempt)
    delay = ceiling * rand() if policy.jitter else ceiling
    # never less than a tenth of the ceiling (full jitter can draw 0), never past the budget
    delay = max(delay, ceiling / 10)
    return min(delay, remaining)


def run_with_backoff(
    call: Callable[[], T],
    classify: Callable[[T], tuple[str | None, str | None] | None],
    policy: RetryPolicy,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    rand: Callable[[], float] = random.random,
) -> tuple[T, RetryLog]:
    """Call `call()` until it succeeds, fails with an error the policy does not retry, or the
    time budget is spent; return the last outcome and the log.

    `classify(outcome)` returns None for a success, or (error code, message) for a failure.
    """
    sleep = sleep or time.sleep  # looked up at call time, so tests can patch time.sleep
    clock = clock or time.monotonic
    log = RetryLog()
    start = clock()
    while True:
        outcome = call()
        log.attempts += 1
        error = classify(outcome)
        if error is None or not policy.matches(*error):
            return outcome, log
        delay = next_delay(policy, log.attempts - 1, clock() - start, rand)
        if delay is None:
            return outcome, log
        log.retried.append({"code": error[0], "message": error[1], "delay": round(delay, 3)})
        sleep(delay)
        log.waited += delay


def client_error_details(error: BaseException) -> tuple[str | None, str | None]:
    """(code, message) of a botocore ClientError, (None, str) for anything else."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        details = response.get("Error") or {}
        return details.get("Code"), details.get("Message")
    return None, str(error)


def call_with_backoff(
    call: Callable[[], T],
    policy: RetryPolicy,
    retry_on: Iterable[type[BaseException]],
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    rand: Callable[[], float] = random.random,
) -> tuple[T, RetryLog]:
    """Like run_with_backoff, for a call that raises (e.g. a boto3 client call): exceptions of
    `retry_on` types whose code the policy names are retried; the last one is re-raised."""
    catch = tuple(retry_on)

    def attempt() -> tuple[bool, Any]:
        try:
            return True, call()
        # classified below: re-raised unless the policy retries it (pylint cannot see that `catch`
        # holds exception classes only: it is built from retry_on)
        except catch as error:  # pylint: disable=catching-non-exception
            return False, error

    def classify(outcome: tuple[bool, Any]) -> tuple[str | None, str | None] | None:
        ok, value = outcome
        return None if ok else client_error_details(value)

    (ok, value), log = run_with_backoff(attempt, classify, policy, sleep, clock, rand)
    if not ok:
        raise value
    return value, log
