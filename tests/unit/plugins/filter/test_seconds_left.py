"""The seconds left until an STS session's Expiration, as amazon.aws.sts_assume_role returns it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.secureinfra.baseline.plugins.filter.seconds_left import FilterModule, seconds_left

NOW = datetime(2026, 11, 11, 11, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expiration", "left"),
    [
        ("2026-11-11T12:00:00+00:00", 3600.0),  # amazon.aws: the datetime boto3 parsed, as isoformat()
        ("2026-11-11T11:15:00.250000+00:00", 900.25),
        ("2026-11-11T11:00:30Z", 30.0),  # STS's own wire format
        ("2026-11-11T13:00:00+02:00", 0.0),  # another offset: the same instant
        ("2026-11-11T10:59:00+00:00", -60.0),  # passed: negative
        ("2026-11-11T11:10:00", 600.0),  # no offset: UTC
        (datetime(2026, 11, 11, 11, 1, tzinfo=timezone(timedelta(hours=1))), -3540.0),
    ],
)
def test_seconds_left_until_the_expiration(expiration: object, left: float) -> None:
    assert seconds_left(expiration, now=NOW) == pytest.approx(left)


def test_without_now_it_reads_the_clock() -> None:
    in_a_minute = (datetime.now(UTC) + timedelta(seconds=60)).isoformat()
    assert 55 < seconds_left(in_a_minute) <= 60


@pytest.mark.parametrize("value", ["", "tomorrow", None, "2026-13-01T00:00:00+00:00"])
def test_what_is_not_a_time_is_refused_with_the_value(value: object) -> None:
    with pytest.raises(AnsibleFilterError, match="is not an ISO 8601 date and time"):
        seconds_left(value, now=NOW)


def test_registered_as_seconds_left() -> None:
    assert FilterModule().filters() == {"seconds_left": seconds_left}
