#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: baseline_lock
short_description: Take or release the state lock of an account x region (an SSM parameter)
version_added: 0.3.0
description:
  - A lock per account x region, as Terraform's state lock or CloudFormation's refusal of a second
    update of a stack in progress; two runs of the baseline on one account x region cannot both
    make its resources (a second key, a subnet CIDR conflict).
  - The lock is one SSM Parameter Store parameter, O(name), in the region of the connection
    (standard tier, type C(String), no tags). It needs nothing the baseline makes. C(state=present)
    creates it with C(PutParameter) and C(Overwrite=false), which fails with C(ParameterAlreadyExists)
    when it exists, so of two runs exactly one gets it. Its value (JSON) names the holder, inventory
    host, user, pid of ansible-playbook, controller host name, start time (UTC) and a run id.
  - When another run holds it, the module polls every O(poll_interval) seconds for up to
    O(wait_seconds) (0, the default, does not wait), then fails with a message naming the holder,
    before any change.
  - Only a run that started after the holder waits (O(run_started), one value for every host of a
    run); one that started before it stops at once. The hosts of a run take their locks in the same
    task, so two runs started together can each get some hosts' locks; were both to wait for the
    other's, each would wait O(wait_seconds) in vain. With the rule, the later run waits for the
    earlier one and the earlier one leaves the host to the later one.
  - A lock whose parameter was last written more than O(stale_seconds) ago (its C(LastModifiedDate),
    AWS's clock) is broken, with a warning naming the old holder, and taken. Breaking is race-safe,
    two breakers make one winner. The breaker first creates the parameter O(name) + C(-break) with
    C(Overwrite=false), reads the lock again, deletes it only when it still holds the stale run id,
    then deletes that marker. A marker older than 300 seconds (a breaker killed in those few calls)
    is not broken, the module fails saying which two parameters to delete by hand.
  - A parameter O(name) that is not such a lock (another tool's) is never changed; the module fails.
  - C(state=absent) deletes the lock only when it still holds O(run_id) (its own); a lock of another
    run (this one's was broken as stale) is left alone, with a warning.
  - AWS asks to wait at least 30 seconds before creating a parameter again after deleting it; an
    early C(PutParameter) can answer C(TooManyUpdates). Such an answer is retried with backoff for
    up to 60 seconds (or O(wait_seconds), the longer).
  - In check mode the lock is read (C(GetParameter)) and never written - not taken, not broken, not
    released; a lock held by another run is reported in a warning. A denied C(GetParameter) is a warning
    there, not a failure.
  - The action plugin of the same name fills O(holder) (user, pid of ansible-playbook, controller)
    on the controller.
options:
  name:
    description:
      - The lock parameter's name, for example C(/secureinfra/baseline/lock).
      - Letters, digits and C(_.-), with C(/) between the levels of a hierarchy (a leading C(/)), at
        most 15 levels; its first level may not begin with C(aws) or C(ssm) (any case).
    type: str
    required: true
  state:
    description: C(present) takes the lock, C(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  run_started:
    description:
      - When the run started (seconds since the epoch), the same value for every host of the run (of a
        batch); recorded in the lock. Of two runs, only the one that started later waits for the other's
        lock. Default, the time the module runs.
    type: float
  run_id:
    description:
      - Identifies the run holding the lock. C(state=present) with another run's id waits or fails,
        with its own id it keeps the lock. Default, a new random id (returned in RV(lock.run_id)).
      - Required with C(state=absent).
    type: str
  host:
    description: The inventory host taking the lock, recorded in it.
    type: str
    default: ""
  holder:
    description:
      - Who takes the lock, recorded in it. The action plugin fills it on the controller.
    type: dict
    default: {}
    suboptions:
      user:
        description: The user running ansible-playbook.
        type: str
      pid:
        description: The pid of ansible-playbook.
        type: int
      controller:
        description: The host name of the controller.
        type: str
  stale_seconds:
    description:
      - Age (seconds since the lock was written) after which a lock is taken for abandoned and broken.
        Keep it longer than the longest run; 1 to 604800.
    type: int
    default: 21600
  wait_seconds:
    description: How long to wait for a lock held by another run, 0 to 43200; 0 fails at once.
    type: int
    default: 0
  poll_interval:
    description: Seconds between two reads of a held lock while waiting, 1 to 300.
    type: int
    default: 5
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Take the lock of this account x region, waiting up to ten minutes for another run
  secureinfra.baseline.baseline_lock:
    name: /secureinfra/baseline/lock
    host: "{{ inventory_hostname }}"
    wait_seconds: 600
  register: lock

- name: Release it, when it is still ours
  secureinfra.baseline.baseline_lock:
    name: /secureinfra/baseline/lock
    state: absent
    run_id: "{{ lock.lock.run_id }}"
"""

RETURN = r"""
acquired:
  description: Whether this run holds the lock after the module (false in check mode, and after a release).
  returned: always
  type: bool
released:
  description: Whether the lock was deleted (C(state=absent); in check mode, would be).
  returned: always
  type: bool
lock:
  description: This run's lock record, as written (C(state=present)), or the run id released.
  returned: always
  type: dict
  contains:
    run_id:
      description: The run's id (O(run_id), or the one generated).
      type: str
      sample: 9f1c2e7a4b5d4c3e8a7f6b5c4d3e2f1a
    host:
      description: The inventory host (O(host)).
      type: str
      sample: us-east-1
    user:
      description: The user running ansible-playbook.
      type: str
      sample: deployer
    pid:
      description: The pid of ansible-playbook.
      type: int
      sample: 41234
    controller:
      description: The controller's host name.
      type: str
      sample: ci-runner-7
    started:
      description: When the lock was taken (UTC, the controller's clock).
      type: str
      sample: "2026-12-07T10:00:00Z"
held_by:
  description: The other run's lock record (with C(age_seconds)) when another run held the lock, else null.
  returned: always
  type: dict
broken:
  description: The stale lock record this run broke, else null.
  returned: always
  type: dict
waited_seconds:
  description: Seconds spent waiting for the lock.
  returned: always
  type: float
diff:
  description: The lock's holder before and after, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
"""

import contextlib
import getpass
import json
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

KIND = "secureinfra.baseline/lock"
BREAK_SUFFIX = "-break"
DESCRIPTION = "secureinfra.baseline state lock of this account x region; deleted when the run ends"
RECREATE_GRACE_SECONDS = 60.0
MARKER_STALE_SECONDS = 300.0
NAME_LEVEL = re.compile(r"^[A-Za-z0-9_.-]+$")
MAX_LEVELS = 15
MAX_NAME = 1011 - len("arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/") - len(BREAK_SUFFIX)

ARGUMENT_SPEC: dict[str, Any] = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "run_id": {"type": "str"},
    "run_started": {"type": "float"},
    "host": {"type": "str", "default": ""},
    "holder": {
        "type": "dict",
        "default": {},
        "options": {
            "user": {"type": "str"},
            "pid": {"type": "int"},
            "controller": {"type": "str"},
        },
    },
    "stale_seconds": {"type": "int", "default": 21600},
    "wait_seconds": {"type": "int", "default": 0},
    "poll_interval": {"type": "int", "default": 5},
}


class Recreating(Exception):
    """PutParameter answered TooManyUpdates: the name was deleted moments ago."""


@dataclass(frozen=True)
class Record:
    """A lock parameter as read: its value (parsed) and its age by AWS's LastModifiedDate."""

    value: dict[str, Any]
    age_seconds: float
    raw: str

    @property
    def is_lock(self) -> bool:
        return self.value.get("lock") == KIND

    @property
    def run_id(self) -> str:
        return str(self.value.get("run_id", ""))

    def started_after(self, me: dict[str, Any]) -> bool:
        """Whether this holder's run started after `me`'s (ties broken by run id): then `me` does not wait."""
        theirs = self.value.get("run_started")
        if not isinstance(theirs, (int, float)):
            return False  # a holder that does not say: wait for it
        return (theirs, self.run_id) > (me["run_started"], me["run_id"])

    def describe(self) -> str:
        if not self.is_lock:
            return f"a parameter that is not a lock of secureinfra.baseline (value {self.raw[:200]!r})"
        v = self.value
        return (
            f"run {v.get('run_id')} (host {v.get('host') or '?'}, user {v.get('user') or '?'}, "
            f"pid {v.get('pid') or '?'} on controller {v.get('controller') or '?'}, "
            f"since {v.get('started') or '?'}, {self.age_seconds:.0f} s ago)"
        )

    def report(self) -> dict[str, Any]:
        return {**self.value, "age_seconds": round(self.age_seconds, 1)}


def name_errors(name: str) -> list[str]:
    """Why SSM refuses `name` as a parameter name (PutParameter Name's naming constraints)."""
    levels = name[1:].split("/") if name.startswith("/") else name.split("/")
    errors = []
    if not all(NAME_LEVEL.match(level) for level in levels):
        errors.append("letters, digits and _.- only, with / between the levels of a hierarchy")
    if len(levels) > MAX_LEVELS:
        errors.append(f"at most {MAX_LEVELS} levels")
    if "/" in name and not name.startswith("/"):
        errors.append("a hierarchy begins with /")
    if levels[0].lower().startswith(("aws", "ssm")):
        errors.append("its first level may not begin with aws or ssm (any case)")
    if len(name) > MAX_NAME:
        errors.append(f"at most {MAX_NAME} characters")
    return errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    errors = [f"name={params['name']!r}: {e}" for e in name_errors(params["name"])]
    ranges = {"stale_seconds": (1, 604800), "wait_seconds": (0, 43200), "poll_interval": (1, 300)}
    for option, (low, high) in ranges.items():
        if not low <= params[option] <= high:
            errors.append(f"{option}={params[option]}: from {low} to {high}")
    if params["state"] == "absent" and not params["run_id"]:
        errors.append("state=absent needs run_id (the lock is released only by the run holding it)")
    return errors


def utc_now() -> datetime:
    return datetime.now(UTC)


def own_record(params: dict[str, Any], run_id: str) -> dict[str, Any]:
    """This run's lock value; what the action plugin did not fill is taken from this process."""
    holder = params["holder"] or {}
    return {
        "lock": KIND,
        "run_id": run_id,
        "host": params["host"],
        "user": holder.get("user") or _user(),
        "pid": holder.get("pid") or os.getpid(),
        "controller": holder.get("controller") or socket.gethostname(),
        "started": utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run_started": params["run_started"] if params["run_started"] is not None else utc_now().timestamp(),
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return str(os.getuid())


def parse_value(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class LockStore:
    """The SSM calls of the lock; any error but the expected ones fails the module."""

    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        self.module = module
        self.client = client

    def _fail(self, error: Exception, action: str, name: str) -> None:
        self.module.fail_json_aws(
            error,
            msg=(
                f"Failed to {action} the lock parameter {name} in {self.module.region}: the caller needs "
                "ssm:PutParameter, ssm:GetParameter and ssm:DeleteParameter on it and on its -break marker "
                "(the site playbook: baseline_lock_enabled=false runs without the lock)"
            ),
        )

    def read(self, name: str, tolerate_denied: bool = False) -> Record | None:
        """The lock, or None when there is none (or, tolerate_denied, when it may not be read)."""
        try:
            parameter = self.client.get_parameter(aws_retry=True, Name=name)["Parameter"]
        except is_boto3_error_code("ParameterNotFound"):
            return None
        except is_boto3_error_code("AccessDeniedException") as e:  # pylint: disable=duplicate-except
            if not tolerate_denied:
                self._fail(e, "read", name)
            self.module.warn(
                f"The state lock {name} in {self.module.region} may not be read (ssm:GetParameter denied): "
                "check mode goes on without knowing whether another run holds it"
            )
            return None
        except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
            self._fail(e, "read", name)
        modified = parameter.get("LastModifiedDate") or utc_now()
        age = (utc_now() - modified).total_seconds()
        raw = parameter.get("Value", "")
        return Record(parse_value(raw), max(age, 0.0), raw)

    def create(self, name: str, value: dict[str, Any]) -> bool:
        """PutParameter without Overwrite: True when made, False when the name exists."""
        try:
            self.client.put_parameter(
                aws_retry=True,
                Name=name,
                Value=json.dumps(value, sort_keys=True),
                Type="String",
                Tier="Standard",
                Description=DESCRIPTION,
                Overwrite=False,
            )
        except is_boto3_error_code("ParameterAlreadyExists"):
            return False
        except is_boto3_error_code("TooManyUpdates"):  # pylint: disable=duplicate-except
            raise Recreating(name) from None
        except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
            self._fail(e, "create", name)
        return True

    def delete(self, name: str) -> bool:
        """DeleteParameter: True when deleted, False when it was gone already."""
        try:
            self.client.delete_parameter(aws_retry=True, Name=name)
        except is_boto3_error_code("ParameterNotFound"):
            return False
        except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
            self._fail(e, "delete", name)
        return True


class Clock:
    """Monotonic time and sleep, one place for the unit tests to speed up."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0))


def break_stale(
    module: AnsibleAWSModule, store: LockStore, name: str, stale: Record, me: dict[str, Any]
) -> bool:
    """Delete the lock `stale` holds, unless another breaker or its holder was first. True when deleted."""
    marker = name + BREAK_SUFFIX
    try:
        mine = store.create(marker, {**me, "breaking": stale.run_id})
    except Recreating:
        return False
    if not mine:
        other = store.read(marker)
        if other is not None and other.age_seconds > MARKER_STALE_SECONDS:
            module.fail_json(
                msg=(
                    f"The state lock {name} in {module.region} is stale ({stale.describe()}) and a run "
                    f"started breaking it {other.age_seconds:.0f} s ago without finishing "
                    f"({other.describe()}). When no run of the baseline is running on this account x region, "
                    f"delete both parameters: aws ssm delete-parameters --region {module.region} "
                    f"--names {name} {marker}"
                ),
                held_by=stale.report(),
            )
        return False
    try:
        current = store.read(name)
        return current is not None and current.run_id == stale.run_id and store.delete(name)
    finally:
        store.delete(marker)


def held_message(module: AnsibleAWSModule, name: str, holder: Record, stops: str) -> str:
    return (
        f"The state lock {name} in {module.region} is held by {holder.describe()}: another run of the "
        f"baseline is changing this account x region. This run stops {stops}, before any change. Let that "
        f"run finish, or wait for it (baseline_lock_wait_seconds); a lock older than stale_seconds "
        f"({module.params['stale_seconds']} s) is broken by the next run, and one whose run is gone can be "
        f"deleted by hand: aws ssm delete-parameter --region {module.region} --name {name}"
    )


@dataclass
class Attempt:
    """The state of one acquisition: deadlines, what was seen, what was broken."""

    deadline: float
    started: float
    recreate_until: float | None = None
    broken: Record | None = None
    held_by: Record | None = None


def _pause(
    module: AnsibleAWSModule, clock: Clock, attempt: Attempt, holder: Record | None, me: dict[str, Any]
) -> None:
    """Sleep before the next attempt, or fail when the wait is over (or not to be had)."""
    now = clock.now()
    if holder is not None and holder.started_after(me) and now < attempt.deadline:
        module.fail_json(
            msg=held_message(
                module,
                module.params["name"],
                holder,
                "at once (that run started after this one, and only a later run waits for an earlier "
                "one: two runs started together may each hold some of the other's hosts, and would wait "
                "for each other in vain)",
            ),
            held_by=holder.report(),
            acquired=False,
            released=False,
            waited_seconds=round(now - attempt.started, 1),
        )
    if holder is not None:
        if now >= attempt.deadline:
            waited = now - attempt.started
            module.fail_json(
                msg=held_message(
                    module,
                    module.params["name"],
                    holder,
                    f"after waiting {waited:.0f} s" if waited >= 1 else "at once (wait_seconds 0)",
                ),
                held_by=holder.report(),
                acquired=False,
                released=False,
                waited_seconds=round(now - attempt.started, 1),
            )
        clock.sleep(min(module.params["poll_interval"], attempt.deadline - now))
        return
    # Not held, yet not free: the name was deleted moments ago (TooManyUpdates), or a release is
    # in flight (exists, then gone). AWS asks for 30 s between a deletion and a new creation.
    attempt.recreate_until = attempt.recreate_until or now + RECREATE_GRACE_SECONDS
    if now >= max(attempt.deadline, attempt.recreate_until):
        module.fail_json(
            msg=(
                f"The state lock {module.params['name']} in {module.region} could not be created for "
                f"{now - attempt.started:.0f} s: SSM answered TooManyUpdates (the parameter was deleted "
                "moments ago) or it kept appearing and disappearing; run again"
            ),
            acquired=False,
            released=False,
        )
    clock.sleep(min(2.0, max(attempt.deadline, attempt.recreate_until) - now))


def acquire(module: AnsibleAWSModule, store: LockStore, clock: Clock) -> dict[str, Any]:
    params = module.params
    name = params["name"]
    me = own_record(params, params["run_id"] or uuid.uuid4().hex)
    attempt = Attempt(deadline=clock.now() + params["wait_seconds"], started=clock.now())
    while True:
        try:
            if store.create(name, me):
                return lock_result(me, attempt, clock, changed=True, before=None)
            holder = store.read(name)
        except Recreating:
            holder = None
        if holder is not None and holder.run_id == me["run_id"]:
            return lock_result(holder.value, attempt, clock, changed=False, before=holder.value)
        if holder is not None and not holder.is_lock:
            module.fail_json(
                msg=(
                    f"The parameter {name} in {module.region} exists and is {holder.describe()}: it is left "
                    "alone; name the lock another parameter (baseline_lock_parameter)"
                )
            )
        # A stale lock that another run is breaking (or its holder just released) counts as held.
        if (
            holder is not None
            and holder.age_seconds >= params["stale_seconds"]
            and break_stale(module, store, name, holder, me)
        ):
            attempt.broken = holder
            module.warn(
                f"Broke the stale state lock {name} in {module.region}, older than stale_seconds "
                f"({params['stale_seconds']} s): it was held by {holder.describe()}"
            )
            continue
        if holder is not None:
            attempt.held_by = holder
        _pause(module, clock, attempt, holder, me)


def lock_result(
    value: dict[str, Any], attempt: Attempt, clock: Clock, changed: bool, before: dict[str, Any] | None
) -> dict[str, Any]:
    lock = {k: v for k, v in value.items() if k != "lock"}
    return {
        "changed": changed,
        "acquired": True,
        "released": False,
        "lock": lock,
        "held_by": attempt.held_by.report() if attempt.held_by else None,
        "broken": attempt.broken.report() if attempt.broken else None,
        "waited_seconds": round(clock.now() - attempt.started, 1),
        "diff": {"before": {"holder": before}, "after": {"holder": value}},
    }


def check_acquire(module: AnsibleAWSModule, store: LockStore) -> dict[str, Any]:
    """Check mode: read the lock, write nothing; say when another run holds it."""
    name = module.params["name"]
    holder = store.read(name, tolerate_denied=True)
    result: dict[str, Any] = {
        "changed": holder is None,
        "acquired": False,
        "released": False,
        "lock": {},
        "held_by": holder.report() if holder else None,
        "broken": None,
        "waited_seconds": 0.0,
        "diff": {"before": {"holder": holder.value if holder else None}, "after": {"holder": None}},
    }
    if holder is not None:
        stale = holder.is_lock and holder.age_seconds >= module.params["stale_seconds"]
        module.warn(
            f"The state lock {name} in {module.region} is held by {holder.describe()}"
            + (
                ": stale, a real run would break it."
                if stale
                else ": another run may be changing this account x region while this check mode reads it; a "
                "real run would wait or stop."
            )
        )
    return result


def release(module: AnsibleAWSModule, store: LockStore) -> dict[str, Any]:
    name, run_id = module.params["name"], module.params["run_id"]
    holder = store.read(name)
    result: dict[str, Any] = {
        "changed": False,
        "acquired": False,
        "released": False,
        "lock": {"run_id": run_id},
        "held_by": None,
        "broken": None,
        "waited_seconds": 0.0,
        "diff": {"before": {"holder": holder.value if holder else None}, "after": {"holder": None}},
    }
    if holder is None:
        return result
    if holder.run_id != run_id:
        module.warn(
            f"The state lock {name} in {module.region} is not this run's ({run_id}) any more: it is held by "
            f"{holder.describe()}; left alone (this run's lock was broken as stale)"
        )
        result["held_by"] = holder.report()
        result["diff"]["after"] = result["diff"]["before"]
        return result
    if not module.check_mode:
        store.delete(name)
    result.update(changed=True, released=True)
    return result


def run(module: AnsibleAWSModule, store: LockStore, clock: Clock) -> dict[str, Any]:
    if module.params["state"] == "absent":
        result = release(module, store)
    elif module.check_mode:
        result = check_acquire(module, store)
    else:
        result = acquire(module, store, clock)
    if not module._diff:
        result.pop("diff", None)
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("ssm", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**run(module, LockStore(module, client), Clock()))


if __name__ == "__main__":
    main()
