# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Filter `seconds_left`: the seconds from now until a time STS answered (a session's Expiration).

The preflight role keeps the Expiration of the assumed role's session (STS AssumeRole) and
re-assumes the role before a role of the collection starts when fewer than
`baseline_account_session_refresh_margin` seconds are left (docs/multi-account.md). The time is
compared with the control node's clock, in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: seconds_left
short_description: Seconds from now until a date and time (an STS session's Expiration)
version_added: 0.3.0
author:
  - Secureinfra Platform Team (@secureinfra)
description:
  - The number of seconds from now (the control node's clock) until the given time, negative once
    it has passed.
  - The time is an ISO 8601 date and time with its UTC offset, as M(secureinfra.baseline.assume_role)
    returns C(sts_creds.expiration) (C(2026-11-11T11:11:11+00:00), fractions of a second and C(Z)
    accepted), or a datetime. A time without offset is taken as UTC.
options:
  _input:
    description: The time.
    type: raw
    required: true
"""

EXAMPLES = r"""
seconds_left_in_session: "{{ preflight_assumed_expiration | secureinfra.baseline.seconds_left }}"
"""

RETURN = r"""
_value:
  description: Seconds from now until the time (negative when it has passed).
  type: float
"""


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise AnsibleFilterError(
                f"seconds_left: {value!r} is not an ISO 8601 date and time "
                "(as STS answers an Expiration: 2026-11-11T11:11:11+00:00)"
            ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def seconds_left(value: Any, now: datetime | None = None) -> float:
    """Seconds from `now` (default: the current time) until `value`."""
    current = now or datetime.now(UTC)
    return (_as_datetime(value) - current).total_seconds()


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"seconds_left": seconds_left}
