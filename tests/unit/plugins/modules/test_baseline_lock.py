"""secureinfra.baseline.baseline_lock against in-process moto.

The module's clock (Clock.now / Clock.sleep) is simulated: a sleep advances it and runs the
`on_sleep` callbacks (another run acting meanwhile). A lock's age is AWS's LastModifiedDate
against the module's utc_now, which the tests move forward to make a lock stale.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.secureinfra.baseline.plugins.modules import baseline_lock as mod
from botocore.exceptions import ClientError

NAME = "/secureinfra/baseline/lock"
MARKER = NAME + "-break"
OTHER = {
    "lock": mod.KIND,
    "run_id": "0ther0ther0ther0ther0ther0ther00",
    "host": "us-east-1",
    "user": "alice",
    "pid": 4242,
    "controller": "laptop-7",
    "started": "2026-12-07T09:00:00Z",
}
HOLDER = {"user": "ci", "pid": 777, "controller": "runner-3"}


@pytest.fixture
def ssm(aws: None) -> Any:
    return boto3.client("ssm", region_name="us-east-1")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Simulated monotonic time; `on_sleep` callbacks run at each sleep."""
    state: dict[str, Any] = {"now": 0.0, "slept": [], "on_sleep": []}

    def sleep(_self: Any, seconds: float) -> None:
        state["slept"].append(seconds)
        state["now"] += seconds
        for action in state["on_sleep"]:
            action()

    monkeypatch.setattr(mod.Clock, "sleep", sleep)
    monkeypatch.setattr(mod.Clock, "now", lambda _self: state["now"])
    return state


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch):
    """later(seconds): the module's UTC clock that far ahead of AWS's (a lock written that long ago)."""
    real = mod.utc_now

    def _later(seconds: float) -> None:
        monkeypatch.setattr(mod, "utc_now", lambda: real() + timedelta(seconds=seconds))

    return _later


def hold(ssm: Any, value: dict[str, Any] | str = OTHER, name: str = NAME) -> None:
    raw = value if isinstance(value, str) else json.dumps(value)
    ssm.put_parameter(Name=name, Value=raw, Type="String", Overwrite=False)


def current(ssm: Any, name: str = NAME) -> dict[str, Any] | None:
    try:
        return json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ParameterNotFound"
        return None


def args(**extra: Any) -> dict[str, Any]:
    return {"name": NAME, "host": "us-east-1", "holder": HOLDER, **extra}


def test_takes_a_free_lock_recording_its_holder_then_keeps_it(ssm, run_module, calls, clock):
    result = run_module(mod, args(), diff=True)
    assert calls == ["PutParameter"]
    assert result["changed"] is True and result["acquired"] is True
    lock = current(ssm)
    assert lock is not None
    assert {k: lock[k] for k in ("lock", "host", "user", "pid", "controller")} == {
        "lock": mod.KIND,
        "host": "us-east-1",
        **HOLDER,
    }
    assert len(lock["run_id"]) == 32 and lock["started"].endswith("Z")
    assert result["lock"] == {k: v for k, v in lock.items() if k != "lock"}
    assert result["diff"] == {"before": {"holder": None}, "after": {"holder": lock}}
    parameter = ssm.get_parameter(Name=NAME)["Parameter"]
    assert parameter["Type"] == "String"
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=NAME)["TagList"] == []
    # The same run again: it holds the lock already, nothing changes.
    calls.clear()
    again = run_module(mod, args(run_id=lock["run_id"]))
    assert calls == ["PutParameter", "GetParameter"]
    assert again["changed"] is False and again["acquired"] is True
    assert current(ssm) == lock
    assert clock["slept"] == []


def test_held_by_another_run_stops_at_once_naming_the_holder(ssm, run_module, calls, clock):
    hold(ssm)
    calls.clear()
    result = run_module(mod, args(), expect_failure=True)
    named = ("host us-east-1", "user alice", "pid 4242", "controller laptop-7", OTHER["started"])
    for part in (OTHER["run_id"], *named):
        assert part in result["msg"], part
    assert "stops at once" in result["msg"] and "before any change" in result["msg"]
    assert result["held_by"]["run_id"] == OTHER["run_id"]
    assert calls == ["PutParameter", "GetParameter"]
    assert current(ssm) == OTHER
    assert clock["slept"] == []


def test_waits_for_the_holder_to_release_then_takes_it(ssm, run_module, clock):
    hold(ssm)
    clock["on_sleep"].append(lambda: ssm.delete_parameter(Name=NAME) if clock["now"] >= 20 else None)
    result = run_module(mod, args(wait_seconds=300))
    assert result["changed"] is True and result["acquired"] is True
    assert result["held_by"]["run_id"] == OTHER["run_id"]
    assert result["waited_seconds"] == pytest.approx(20)
    assert set(clock["slept"]) == {5}
    assert current(ssm)["user"] == "ci"


def test_only_a_run_that_started_later_waits(ssm, run_module, clock):
    """Two runs started together may each hold a lock the other wants: the earlier one does not wait."""
    hold(ssm, {**OTHER, "run_started": 1000.0})
    earlier = run_module(mod, args(wait_seconds=600, run_started=999.0), expect_failure=True)
    assert "that run started after this one" in earlier["msg"] and OTHER["run_id"] in earlier["msg"]
    assert clock["slept"] == []
    clock["on_sleep"].append(lambda: ssm.delete_parameter(Name=NAME) if clock["now"] >= 10 else None)
    later = run_module(mod, args(wait_seconds=600, run_started=1001.0))
    assert later["acquired"] is True and later["waited_seconds"] == pytest.approx(10)
    assert current(ssm)["run_started"] == 1001.0


def test_stops_when_the_wait_is_over(ssm, run_module, clock):
    hold(ssm)
    result = run_module(mod, args(wait_seconds=12), expect_failure=True)
    assert "after waiting 12 s" in result["msg"]
    assert sum(clock["slept"]) == pytest.approx(12)
    assert current(ssm) == OTHER


def test_a_stale_lock_is_broken_with_a_warning_naming_its_holder(ssm, run_module, calls, clock, later):
    hold(ssm)
    later(3600)
    calls.clear()
    result = run_module(mod, args(stale_seconds=3599))
    made = list(calls)
    assert result["changed"] is True and result["acquired"] is True
    assert result["broken"]["run_id"] == OTHER["run_id"] and result["broken"]["age_seconds"] >= 3599
    [warning] = result["warnings"]
    assert "Broke the stale state lock" in warning and "user alice" in warning and OTHER["run_id"] in warning
    assert current(ssm)["user"] == "ci"
    assert current(ssm, MARKER) is None
    assert made == [
        "PutParameter",  # the lock: exists
        "GetParameter",  # stale
        "PutParameter",  # the -break marker: ours
        "GetParameter",  # still the stale run's
        "DeleteParameter",  # the lock
        "DeleteParameter",  # the marker
        "PutParameter",  # the lock: ours
    ]


def test_a_lock_younger_than_stale_seconds_is_not_broken(ssm, run_module, later, clock):
    hold(ssm)
    later(3000)
    result = run_module(mod, args(stale_seconds=3600), expect_failure=True)
    assert OTHER["run_id"] in result["msg"]
    assert current(ssm) == OTHER


def test_two_breakers_one_winner(ssm, later, clock):
    """The second breaker finds the marker (first still at it) or a lock that is not the stale one."""
    hold(ssm)
    later(7200)
    module = FakeModule()
    store = mod.LockStore(module, RetryingBotoClientWrapper(ssm, AWSRetry.jittered_backoff()))
    stale = store.read(NAME)
    assert stale is not None and stale.run_id == OTHER["run_id"]
    later(0)  # the breakers' markers are fresh
    first = {**OTHER, "run_id": "first", "user": "bob"}
    second = {**OTHER, "run_id": "second", "user": "carol"}
    # The second arrives while the first holds the marker: no break.
    hold(ssm, {**first, "breaking": OTHER["run_id"]}, MARKER)
    assert mod.break_stale(module, store, NAME, stale, second) is False
    assert current(ssm) == OTHER
    ssm.delete_parameter(Name=MARKER)
    # The first breaks it and takes the lock.
    assert mod.break_stale(module, store, NAME, stale, first) is True
    assert store.create(NAME, first) is True
    # The second, late, with what it read before: the lock is the first's now, left alone.
    assert mod.break_stale(module, store, NAME, stale, second) is False
    assert current(ssm)["run_id"] == "first"
    assert current(ssm, MARKER) is None


def test_a_breaker_killed_midway_is_not_guessed_at(ssm, run_module, later, clock):
    hold(ssm)
    hold(ssm, {**OTHER, "run_id": "killed-breaker", "breaking": OTHER["run_id"]}, MARKER)
    later(7200)
    result = run_module(mod, args(stale_seconds=3600), expect_failure=True)
    assert "without finishing" in result["msg"]
    assert f"--names {NAME} {MARKER}" in result["msg"]
    assert current(ssm) == OTHER and current(ssm, MARKER)["run_id"] == "killed-breaker"


def test_another_tools_parameter_is_never_touched(ssm, run_module, later, clock):
    hold(ssm, "some-other-value")
    later(10**6)
    result = run_module(mod, args(), expect_failure=True)
    assert "not a lock of secureinfra.baseline" in result["msg"]
    assert "baseline_lock_parameter" in result["msg"]
    assert ssm.get_parameter(Name=NAME)["Parameter"]["Value"] == "some-other-value"


def test_release_deletes_only_its_own_lock(ssm, run_module, calls):
    hold(ssm)
    calls.clear()
    theirs = run_module(mod, args(state="absent", run_id="mine"))
    assert theirs["changed"] is False and theirs["released"] is False
    assert "not this run's" in theirs["warnings"][0] and "user alice" in theirs["warnings"][0]
    assert calls == ["GetParameter"]
    assert current(ssm) == OTHER
    ours = run_module(mod, args(state="absent", run_id=OTHER["run_id"]), diff=True)
    assert ours["changed"] is True and ours["released"] is True
    assert ours["diff"] == {"before": {"holder": OTHER}, "after": {"holder": None}}
    assert current(ssm) is None
    gone = run_module(mod, args(state="absent", run_id=OTHER["run_id"]))
    assert gone["changed"] is False and gone["released"] is False


def test_check_mode_reads_and_never_writes(ssm, run_module, calls, later):
    free = run_module(mod, args(), check_mode=True)
    assert free["changed"] is True and free["acquired"] is False and "warnings" not in free
    assert current(ssm) is None
    hold(ssm)
    calls.clear()
    held = run_module(mod, args(), check_mode=True)
    assert held["changed"] is False and held["held_by"]["run_id"] == OTHER["run_id"]
    assert "a real run would wait or stop" in held["warnings"][0]
    later(10**6)
    stale = run_module(mod, args(), check_mode=True)
    assert "stale, a real run would break it" in stale["warnings"][0]
    release = run_module(mod, args(state="absent", run_id=OTHER["run_id"]), check_mode=True)
    assert release["changed"] is True and release["released"] is True
    assert set(calls) == {"GetParameter"}
    assert current(ssm) == OTHER


def test_too_many_updates_after_a_deletion_is_retried(ssm, run_module, clock, monkeypatch):
    """AWS asks 30 s between a deletion and a new creation of a name; TooManyUpdates is retried."""
    refusals = {"left": 3}
    original = mod.LockStore.create

    def create(self: Any, name: str, value: dict[str, Any]) -> bool:
        if refusals["left"]:
            refusals["left"] -= 1
            raise mod.Recreating(name)
        return original(self, name, value)

    monkeypatch.setattr(mod.LockStore, "create", create)
    result = run_module(mod, args())
    assert result["acquired"] is True and clock["slept"] == [2.0, 2.0, 2.0]


def test_too_many_updates_gives_up_after_the_grace(ssm, run_module, clock, monkeypatch):
    def create(self: Any, name: str, value: dict[str, Any]) -> bool:
        raise mod.Recreating(name)

    monkeypatch.setattr(mod.LockStore, "create", create)
    result = run_module(mod, args(), expect_failure=True)
    assert "TooManyUpdates" in result["msg"]
    assert sum(clock["slept"]) == pytest.approx(mod.RECREATE_GRACE_SECONDS)


def test_access_denied_names_the_permissions_and_the_way_out(ssm, run_module, monkeypatch):
    def denied(self: Any, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutParameter")

    import botocore.client

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", lambda self, op, params: denied(self))
    result = run_module(mod, args(), expect_failure=True)
    assert "ssm:PutParameter, ssm:GetParameter and ssm:DeleteParameter" in result["msg"]
    assert "baseline_lock_enabled=false" in result["msg"]


def test_check_mode_without_get_parameter_warns_and_goes_on(ssm, run_module, monkeypatch):
    import botocore.client

    def denied(self: Any, operation: str, params: dict[str, Any]) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, operation)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", denied)
    result = run_module(mod, args(), check_mode=True)
    assert result["acquired"] is False and "ssm:GetParameter denied" in result["warnings"][0]
    # A real run stops instead.
    failed = run_module(mod, args(state="absent", run_id="x"), expect_failure=True)
    assert "ssm:PutParameter, ssm:GetParameter and ssm:DeleteParameter" in failed["msg"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"name": "/aws-team/baseline/lock"}, "may not begin with aws or ssm"),
        ({"name": "/SSM/lock"}, "may not begin with aws or ssm"),
        ({"name": "/team/base line/lock"}, "letters, digits and _.- only"),
        ({"name": "team/lock"}, "a hierarchy begins with /"),
        ({"name": "/" + "/".join(["l"] * 16)}, "at most 15 levels"),
        ({"name": "/" + "x" * 1000}, "characters"),
        ({"stale_seconds": 0}, "stale_seconds=0: from 1 to 604800"),
        ({"wait_seconds": -1}, "wait_seconds=-1: from 0 to 43200"),
        ({"poll_interval": 0}, "poll_interval=0: from 1 to 300"),
        ({"state": "absent"}, "state=absent needs run_id"),
    ],
)
def test_bad_arguments_are_refused_before_any_call(ssm, run_module, calls, extra, expected):
    result = run_module(mod, args(**extra), expect_failure=True)
    assert expected in result["msg"]
    assert calls == []


def test_a_plain_name_and_a_deep_hierarchy_are_accepted() -> None:
    assert mod.name_errors("baseline-lock") == []
    assert mod.name_errors("/" + "/".join(["level"] * 15)) == []
    assert mod.name_errors("/secureinfra/baseline/lock") == []


class FakeModule:
    """What break_stale needs of a module: region, fail_json (raises)."""

    region = "us-east-1"

    def fail_json(self, **kwargs: Any) -> None:
        raise AssertionError(kwargs["msg"])

    def fail_json_aws(self, error: Exception, msg: str) -> None:
        raise AssertionError(f"{msg}: {error}")
