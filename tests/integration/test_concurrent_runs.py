"""The state lock of an account x region (docs/locking.md): concurrent runs on one account.

One private strict emulator (TEST_EMULATOR_PORT + 10) and fresh accounts in it (moto keeps accounts
apart by the credentials AssumeRole returns): a generated inventory has two hosts per account,
us-east-1 (its home region) and us-west-1, each with the account's role to assume.
- The reference account converges once, alone: its resources per region are the counts a clean
  converge makes (nothing is hard-coded).
- Two first converges of both regions of a fresh account start at the same moment (two
  ansible-playbook processes, each through its own loopback forwarder, which records every request
  with the host that made it: each host's calls are signed with the keys its AssumeRole returned).
  For each host exactly one run takes the lock; the other stops at the lock task, naming the holder
  (its run id and pid), having made no write in that host's account x region. Then the account holds
  exactly the reference's count of every kind, per region, and a rerun is changed=0 with no write
  but the lock's own calls. A no-op rerun with the lock off gives the lock's cost (calls, seconds).
- The same race with baseline_lock_wait_seconds: the run that waits finds, after the other's
  release, nothing to do (changed=0, no write).
- A first converge killed with SIGKILL (every process group of the run, as test_fault_killed.py
  does) leaves its lock: a run before baseline_lock_stale_seconds stops naming the killed run; one
  after breaks it, with a warning naming the killed run's pid, and converges.
- Check mode, the drift report and verify take no lock (no lock call but reads; verify none);
  check mode next to another run's lock warns naming it.
- Bad lock settings are refused before any AWS call, each message naming the variable, the value
  and what is accepted.
Long (five converges, reruns, dry runs): `make integration-slow`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import ANSIBLE_PLAYBOOK, PORT, REPO_ROOT, PlaybookRun, failed_results
from support.recorder import Call, classify, lock_calls, mutating
from support.throttle_proxy import ThrottleProxy
from test_fault_killed import _key_counts, _network_counts, _pages, kill_family

from scripts import emulator

LOCK_PORT = PORT + 10
FORWARDERS = (PORT + 11, PORT + 12)
REGIONS = ("us-east-1", "us-west-1")
HOME = REGIONS[0]
ROLE = "baseline-deployer"
REFERENCE, RACE, WAITED, KILLED, DRY = (f"4100000000{n:02d}" for n in range(5))
LOCK = "/secureinfra/baseline/lock"
TAKE = "Take the state lock of this account x region"
RELEASE = "Release the state lock of this account x region"
KINDS = (
    "VPCs",
    "subnets",
    "route tables",
    "security groups",
    "endpoints",
    "keys",
    "aliases",
    "trails",
    "tables",
    "functions",
    "topics",
    "queues",
    "log groups",
    "alarms",
)
RUN_TIMEOUT = 1500
OUTPUT = REPO_ROOT / "tests" / "output" / "concurrent-runs.txt"
_KEY = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/")
_ACCESS_KEY = re.compile(r"<AccessKeyId>([^<]+)</AccessKeyId>")


def host_of(account: str, region: str) -> str:
    return f"lock-{account}-{region}"


def hosts_of(account: str) -> str:
    return ",".join(host_of(account, region) for region in REGIONS)


class Recording(ThrottleProxy):
    """A loopback forwarder (no throttling) that records each request with the host that sent it.

    A host's calls are signed with the keys its AssumeRole returned: the forwarder reads them from
    the answer (the request's signing region is the host's region) and files every later call
    signed with them under that region. Calls signed with the caller's keys are filed as "caller".
    """

    def __init__(self, upstream: str, port: int) -> None:
        super().__init__(upstream, port, rate=0)
        self.calls: list[tuple[str, Call]] = []
        self.keys: dict[str, str] = {}
        self.writes = threading.Event()

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[Any], bytes]:
        answer = super()._forward(method, path, headers, body)
        if path.startswith("/moto-api/"):
            return answer
        entry = {"url": path, "method": method, "headers": headers, "body": body.decode("utf-8", "replace")}
        call = classify(entry)
        key, region = _signer(headers)
        with self.lock:
            if call.service == "sts" and call.operation == "AssumeRole":
                found = _ACCESS_KEY.search(answer[2].decode("utf-8", "replace"))
                if found:
                    self.keys[found.group(1)] = region
            self.calls.append((self.keys.get(key, "caller"), call))
            if not call.read_only and not call.is_lock and call.operation != "AssumeRole":
                self.writes.set()
        return answer

    def of(self, region: str) -> list[Call]:
        with self.lock:
            return [call for where, call in self.calls if where == region]


def _signer(headers: dict[str, str]) -> tuple[str, str]:
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    found = _KEY.search(authorization)
    return (found.group(1), found.group(2)) if found else ("", "")


def writes(calls: list[Call]) -> list[str]:
    """A host's writes: every mutating call but the lock's and STS AssumeRole (a read of sorts)."""
    return [call for call in mutating(calls) if not call.startswith("sts:AssumeRole")]


def write_inventory(path: Path) -> Path:
    hosts = {
        host_of(account, region): {
            "baseline_region": region,
            "baseline_account_role_arn": f"arn:aws:iam::{account}:role/{ROLE}",
        }
        for account in (REFERENCE, RACE, WAITED, KILLED, DRY)
        for region in REGIONS
    }
    inventory = {
        "regions": {
            "hosts": hosts,
            "vars": {
                "baseline_home_region": HOME,
                "baseline_aws_endpoint_url": "{{ lookup('ansible.builtin.env', 'AWS_ENDPOINT_URL') }}",
                "baseline_aws_access_key": "testing",
                "baseline_aws_secret_key": "testing",
            },
        }
    }
    path.mkdir(parents=True, exist_ok=True)
    (path / "hosts.yml").write_text(json.dumps(inventory, indent=2))  # JSON is YAML
    return path


def _env(endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
    }


@dataclass
class Started:
    """An ansible-playbook run in the background, its output in a file."""

    proc: subprocess.Popen[bytes]
    out: Path
    started: float = field(default_factory=time.monotonic)

    def finish(self) -> PlaybookRun:
        """Wait for it; its JSON output (the first document of stdout: the drift report follows it)."""
        self.proc.wait(timeout=RUN_TIMEOUT)
        text = self.out.read_text()
        try:
            output, _ = json.JSONDecoder().raw_decode(text[text.index("{") :])
        except ValueError:
            output = {}
        errors = self.out.with_suffix(".err").read_text()
        return PlaybookRun(
            self.proc.returncode, output.get("stats", {}), output, errors[-2000:] + text[-3000:]
        )


def start(endpoint: str, out: Path, *args: str, playbook: str = "site.yml") -> Started:
    with out.open("w") as stream, out.with_suffix(".err").open("w") as errors:
        proc = subprocess.Popen(
            [ANSIBLE_PLAYBOOK, playbook, *args],
            cwd=REPO_ROOT,
            env=_env(endpoint),
            stdout=stream,
            stderr=errors,
            start_new_session=True,  # its own process group, for killpg
        )
    return Started(proc, out)


def run(endpoint: str, out: Path, *args: str, playbook: str = "site.yml") -> tuple[PlaybookRun, float]:
    started = start(endpoint, out, *args, playbook=playbook)
    result = started.finish()
    return result, time.monotonic() - started.started


def task_results(run: PlaybookRun, name: str) -> dict[str, dict[str, Any]]:
    """host => result of the (last) task whose name ends with `name`."""
    found: dict[str, dict[str, Any]] = {}
    for play in run.output.get("plays", []):
        for task in play.get("tasks", []):
            if task["task"]["name"].endswith(name):
                found.update(task["hosts"])
    return found


def task_seconds(run: PlaybookRun, *names: str) -> float:
    """Wall seconds of the tasks whose names end with one of `names` (the JSON callback's durations)."""
    total = 0.0
    for play in run.output.get("plays", []):
        for task in play.get("tasks", []):
            if task["task"]["name"].endswith(names):
                duration = task["task"].get("duration") or {}
                total += _seconds(duration.get("end")) - _seconds(duration.get("start"))
    return total


def _seconds(stamp: str | None) -> float:
    """The JSON callback's time stamps (UTC, ISO 8601 with a Z) as seconds."""
    return datetime.fromisoformat(stamp.rstrip("Z")).timestamp() if stamp else 0.0


def warnings_of(run: PlaybookRun) -> list[str]:
    return [
        warning
        for play in run.output.get("plays", [])
        for task in play.get("tasks", [])
        for result in task["hosts"].values()
        for warning in result.get("warnings") or []
    ]


def failed_hosts(run: PlaybookRun) -> dict[str, list[str]]:
    """host => the messages of its failed tasks."""
    found: dict[str, list[str]] = {}
    for play in run.output.get("plays", []):
        for task in play.get("tasks", []):
            for host, result in task["hosts"].items():
                if result.get("failed"):
                    found.setdefault(host, []).append(f"{task['task']['name']}: {result.get('msg', '')}")
    return found


# --- what an account holds ----------------------------------------------------------------------


def account_clients(endpoint: str) -> Callable[[str, str, str], Any]:
    """client(account, service, region): boto3 with the account's role, as the site has it."""
    sts = boto3.client(
        "sts",
        region_name=HOME,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def _client(account: str, service: str, region: str) -> Any:
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="lock-test")[
            "Credentials"
        ]
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    return _client


def resource_counts(client: Callable[[str, str, str], Any], account: str, region: str) -> dict[str, int]:
    """What the account holds in the region, per kind."""

    def c(service: str) -> Any:
        return client(account, service, region)

    cloudwatch = c("cloudwatch")
    counts = {
        **_network_counts(c("ec2")),
        **_key_counts(c("kms")),
        "trails": len(c("cloudtrail").describe_trails(includeShadowTrails=False)["trailList"]),
        "tables": len(_pages(c("dynamodb"), "list_tables", "TableNames")),
        "functions": len(_pages(c("lambda"), "list_functions", "Functions")),
        "topics": len(_pages(c("sns"), "list_topics", "Topics")),
        "queues": len(c("sqs").list_queues().get("QueueUrls", [])),
        "log groups": len(_pages(c("logs"), "describe_log_groups", "logGroups")),
        "alarms": len(_pages(cloudwatch, "describe_alarms", "MetricAlarms"))
        + len(_pages(cloudwatch, "describe_alarms", "CompositeAlarms")),
    }
    return {kind: counts[kind] for kind in KINDS}


def lock_value(client: Callable[[str, str, str], Any], account: str, region: str, name: str = LOCK) -> Any:
    """The lock's record and its LastModifiedDate, or None when there is no lock."""
    ssm = client(account, "ssm", region)
    try:
        parameter = ssm.get_parameter(Name=name)["Parameter"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return {**json.loads(parameter["Value"]), "LastModifiedDate": parameter["LastModifiedDate"]}


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lock_emulator() -> Iterator[str]:
    """A private strict emulator (the forwarders record every request)."""
    started = emulator.start(LOCK_PORT, strict=True)
    emulator.reset(LOCK_PORT)
    try:
        yield f"http://127.0.0.1:{LOCK_PORT}"
    finally:
        if started:
            emulator.stop(LOCK_PORT)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("concurrent")
    write_inventory(path / "inventory")
    return path


@pytest.fixture(scope="module")
def clients(lock_emulator: str) -> Callable[[str, str, str], Any]:
    return account_clients(lock_emulator)


@pytest.fixture(scope="module")
def reference(lock_emulator: str, workdir: Path, clients: Any) -> dict[str, dict[str, int]]:
    """The counts per region of a first converge run alone."""
    converged, _ = run(
        lock_emulator, workdir / "reference.json", *inventory(workdir), "--limit", hosts_of(REFERENCE)
    )
    assert converged.rc == 0, (failed_results(converged.output), converged.stderr)
    counts = {region: resource_counts(clients, REFERENCE, region) for region in REGIONS}
    assert all(counts[HOME].values()), counts
    return counts


def inventory(workdir: Path) -> tuple[str, str]:
    return ("-i", str(workdir / "inventory"))


# --- the race -------------------------------------------------------------------------------------


@dataclass
class Race:
    runs: dict[str, PlaybookRun]
    forwarders: dict[str, Recording]
    pids: dict[str, int]
    winners: dict[str, str]  # region => run name


def race(endpoint: str, workdir: Path, account: str, label: str, *extra: str, delay: float = 0) -> Race:
    """Two first converges of the account's two hosts, the second started `delay` s after the first."""
    names = ("first", "second")
    with Recording(endpoint, FORWARDERS[0]) as one, Recording(endpoint, FORWARDERS[1]) as two:
        forwarders = dict(zip(names, (one, two), strict=True))
        args = (*inventory(workdir), "--limit", hosts_of(account), *extra)
        started = {}
        for name, forwarder in forwarders.items():
            started[name] = start(forwarder.url, workdir / f"{label}-{name}.json", *args)
            time.sleep(delay)
        runs = {name: s.finish() for name, s in started.items()}
    winners = {}  # the run that took each host's lock first (without waiting for the other)
    for region in REGIONS:
        host = host_of(account, region)
        took = [
            name
            for name in names
            if task_results(runs[name], TAKE).get(host, {}).get("acquired")
            and not task_results(runs[name], TAKE)[host].get("held_by")
        ]
        assert len(took) == 1, (region, {n: task_results(runs[n], TAKE).get(host) for n in names})
        winners[region] = took[0]
    return Race(runs, forwarders, {name: s.proc.pid for name, s in started.items()}, winners)


def test_two_first_converges_started_together_leave_one_converged_account(
    lock_emulator: str, workdir: Path, clients: Any, reference: dict[str, dict[str, int]]
) -> None:
    raced = race(lock_emulator, workdir, RACE, "race")
    lines = []
    for region in REGIONS:
        host = host_of(RACE, region)
        winner = raced.winners[region]
        loser = next(name for name in raced.runs if name != winner)
        held = task_results(raced.runs[winner], TAKE)[host]["lock"]
        stopped = task_results(raced.runs[loser], TAKE)[host]
        # The run that lost the host stopped at the lock, naming the holder, before any write there.
        assert stopped.get("failed") and not stopped.get("acquired"), stopped
        for part in (held["run_id"], f"pid {raced.pids[winner]}", f"host {host}", "before any change"):
            assert part in stopped["msg"], (part, stopped["msg"])
        assert writes(raced.forwarders[loser].of(region)) == [], region
        assert [m for m in failed_hosts(raced.runs[loser]).get(host, []) if TAKE not in m] == []
        # The run that took it converged the host.
        assert host not in failed_hosts(raced.runs[winner]), failed_hosts(raced.runs[winner])
        assert writes(raced.forwarders[winner].of(region)), region
        assert raced.runs[winner].changed(host) > 0
        lines.append(f"{region}: the {winner} run took the lock and converged, the {loser} stopped naming it")

    found = {region: resource_counts(clients, RACE, region) for region in REGIONS}
    assert found == reference, {"found": found, "reference": reference}
    assert all(lock_value(clients, RACE, region) is None for region in REGIONS), "a lock left behind"

    # A rerun: changed=0, no write but the lock's own calls (three per host).
    with Recording(lock_emulator, FORWARDERS[0]) as recording:
        rerun, locked_seconds = run(
            recording.url, workdir / "rerun.json", *inventory(workdir), "--limit", hosts_of(RACE)
        )
    assert rerun.rc == 0, failed_results(rerun.output)
    assert all(rerun.changed(host_of(RACE, region)) == 0 for region in REGIONS), rerun.changed_tasks()
    all_calls = [call for _, call in recording.calls]
    assert writes(all_calls) == []
    assert sorted(lock_calls(all_calls)) == sorted(
        [f"ssm:PutParameter {LOCK}", f"ssm:GetParameter {LOCK}", f"ssm:DeleteParameter {LOCK}"] * 2
    )

    # The same no-op rerun without the lock: the lock's cost per run.
    with Recording(lock_emulator, FORWARDERS[1]) as unlocked_recording:
        unlocked, unlocked_seconds = run(
            unlocked_recording.url,
            workdir / "rerun-unlocked.json",
            *inventory(workdir),
            "--limit",
            hosts_of(RACE),
            "-e",
            "baseline_lock_enabled=false",
        )
    assert unlocked.rc == 0, failed_results(unlocked.output)
    unlocked_calls = [call for _, call in unlocked_recording.calls]
    assert lock_calls(unlocked_calls) == [] and writes(unlocked_calls) == []
    assert len(all_calls) - len(unlocked_calls) == 6
    lock_task_seconds = task_seconds(
        rerun, TAKE, RELEASE, "The run's start, one value for every host of the batch"
    )
    lines.append(
        f"counts per region (both runs' account = reference): {found[HOME]} / {found[REGIONS[1]]}; "
        f"rerun changed=0, writes 0, lock calls {len(lock_calls(all_calls))}"
    )
    lines.append(
        f"cost of the lock, no-op rerun of both regions: {len(all_calls)} calls with it, "
        f"{len(unlocked_calls)} without (+{len(all_calls) - len(unlocked_calls)}); lock tasks "
        f"{lock_task_seconds:.1f} s of wall time; whole run {locked_seconds:.0f} s with, "
        f"{unlocked_seconds:.0f} s without"
    )
    report("\n".join(lines))


def test_a_run_that_waits_finds_nothing_to_do(
    lock_emulator: str, workdir: Path, clients: Any, reference: dict[str, dict[str, int]]
) -> None:
    """A second run started while the first is under way, with a wait: it waits for each host's lock,
    then finds nothing to do."""
    raced = race(lock_emulator, workdir, WAITED, "waited", "-e", "baseline_lock_wait_seconds=1800", delay=10)
    first, second = raced.runs["first"], raced.runs["second"]
    assert first.rc == 0 and second.rc == 0, (failed_hosts(first), failed_hosts(second))
    lines = []
    for region in REGIONS:
        host = host_of(WAITED, region)
        assert raced.winners[region] == "first", raced.winners
        taken = task_results(second, TAKE)[host]
        assert taken["held_by"]["run_id"] == task_results(first, TAKE)[host]["lock"]["run_id"]
        assert taken["waited_seconds"] > 0
        assert second.changed(host) == 0, second.changed_tasks()
        assert writes(raced.forwarders["second"].of(region)) == []
        assert first.changed(host) > 0
        lines.append(
            f"waited {region}: the second run waited {taken['waited_seconds']:.0f} s, then changed nothing"
        )
    assert {region: resource_counts(clients, WAITED, region) for region in REGIONS} == reference
    report("\n".join(lines))


# --- a killed run's lock ------------------------------------------------------------------------


def test_a_killed_runs_lock_is_broken_once_stale(lock_emulator: str, workdir: Path, clients: Any) -> None:
    host = host_of(KILLED, HOME)
    with Recording(lock_emulator, FORWARDERS[0]) as recording:
        killed = start(recording.url, workdir / "killed.json", *inventory(workdir), "--limit", host)
        assert recording.writes.wait(timeout=RUN_TIMEOUT), "the converge made no write"
        time.sleep(2)  # a few more requests in flight
        family, survivors = kill_family(killed.proc)
    assert killed.proc.returncode == -signal.SIGKILL and survivors == [], (killed.proc.returncode, survivors)
    left = lock_value(clients, KILLED, HOME)
    assert left is not None and left["pid"] == killed.proc.pid and left["host"] == host, left
    stale = 60

    limit = (*inventory(workdir), "--limit", host, "-e", f"baseline_lock_stale_seconds={stale}")

    # Younger than baseline_lock_stale_seconds: the next run stops, naming the killed run (unless
    # this machine is so slow that the lock was stale by the time the run reached it).
    early, _ = run(lock_emulator, workdir / "early.json", *limit)
    early_take = task_results(early, TAKE)[host]
    if early_take.get("failed"):
        assert left["run_id"] in early_take["msg"] and f"pid {killed.proc.pid}" in early_take["msg"]
        assert lock_value(clients, KILLED, HOME)["run_id"] == left["run_id"]
        # Once stale: broken with a warning naming the killed run, and the run converges.
        time.sleep(max(0.0, stale + 2 - (time.time() - left["LastModifiedDate"].timestamp())))
        after, _ = run(lock_emulator, workdir / "after.json", *limit)
    else:
        after = early
    assert after.rc == 0, failed_results(after.output)
    broke = [w for w in warnings_of(after) if "Broke the stale state lock" in w]
    assert broke and left["run_id"] in broke[0] and f"pid {killed.proc.pid}" in broke[0], warnings_of(after)
    assert task_results(after, TAKE)[host]["broken"]["run_id"] == left["run_id"]
    assert lock_value(clients, KILLED, HOME) is None
    assert lock_value(clients, KILLED, HOME, LOCK + "-break") is None
    report(
        f"killed: SIGKILL to {family} processes after its first writes; "
        f"{'a run before the stale age stopped naming it; ' if early_take.get('failed') else ''}"
        f"after {stale} s the lock was broken with the warning and the run converged "
        f"(changed {after.changed(host)})"
    )


# --- dry runs, verify -------------------------------------------------------------------------------


def test_check_mode_drift_and_verify_take_no_lock(lock_emulator: str, workdir: Path, clients: Any) -> None:
    hosts = host_of(DRY, HOME)
    converged, _ = run(lock_emulator, workdir / "dry-converge.json", *inventory(workdir), "--limit", hosts)
    assert converged.rc == 0, failed_results(converged.output)
    # Another run's lock on the home region: check mode reads it and warns, and leaves it.
    other = {
        "lock": "secureinfra.baseline/lock",
        "run_id": "f" * 32,
        "host": "elsewhere",
        "user": "someone",
        "pid": 1,
        "controller": "another-box",
        "started": "2026-12-07T00:00:00Z",
    }
    ssm = clients(DRY, "ssm", HOME)
    ssm.put_parameter(Name=LOCK, Value=json.dumps(other), Type="String")
    seen = {}
    try:
        for label, args, playbook in (
            ("check", ("--check", "--diff"), "site.yml"),
            (
                "drift",
                ("-e", json.dumps({"drift_report_dir": str(workdir / "drift")})),
                "playbooks/drift.yml",
            ),
            (
                "verify",
                ("-e", json.dumps({"verify_report_dir": str(workdir / "verify")})),
                "playbooks/verify.yml",
            ),
        ):
            with Recording(lock_emulator, FORWARDERS[0]) as recording:
                dry, _ = run(
                    recording.url,
                    workdir / f"{label}.json",
                    *inventory(workdir),
                    "--limit",
                    hosts,
                    *args,
                    playbook=playbook,
                )
            calls = [call for _, call in recording.calls]
            seen[label] = (dry.rc, lock_calls(calls), writes(calls))
            assert writes(calls) == [], (label, writes(calls))
            assert all(c.startswith("ssm:GetParameter ") for c in lock_calls(calls)), (
                label,
                lock_calls(calls),
            )
            if label == "verify":
                # Verify ran (its report is there) and touched no lock; its verdict on the controls (0,
                # or 2 when one fails: here one region of the account only) is not this test's subject.
                assert lock_calls(calls) == [] and dry.rc in (0, 2), (label, dry.rc, dry.stderr)
                assert (workdir / "verify" / "verify.json").is_file()
            else:
                assert lock_calls(calls) == [f"ssm:GetParameter {LOCK}"], (label, lock_calls(calls))
                assert any("held by run " + "f" * 32 in w for w in warnings_of(dry)), (
                    label,
                    warnings_of(dry),
                )
        assert seen["check"][0] == 0 and seen["drift"][0] == 0, seen
        assert json.loads(ssm.get_parameter(Name=LOCK)["Parameter"]["Value"]) == other
    finally:
        ssm.delete_parameter(Name=LOCK)
    report(f"dry runs: {', '.join(f'{k} rc {v[0]}, lock calls {v[1]}' for k, v in seen.items())}")


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            {
                "baseline_lock_parameter": "/aws-team/baseline/lock",
                "baseline_lock_wait_seconds": 5000,
                "baseline_lock_stale_seconds": 10,
            },
            (
                'baseline_lock_parameter="/aws-team/baseline/lock": SSM reserves names whose first level '
                "begins with aws or ssm",
                "baseline_lock_wait_seconds=5000: a whole number of seconds from 0 to 3600",
                "baseline_lock_stale_seconds=10: a whole number of seconds from 60 to 604800",
            ),
        ),
        (
            {"baseline_lock_parameter": "/team/base line/lock"},
            ('baseline_lock_parameter="/team/base line/lock": an SSM parameter name',),
        ),
        # Types, by the preflight role's argument spec.
        ({"baseline_lock_wait_seconds": "soon"}, ("baseline_lock_wait_seconds", "soon", "int")),
        ({"baseline_lock_enabled": "maybe"}, ("baseline_lock_enabled", "maybe", "bool")),
    ],
)
def test_bad_lock_settings_are_refused_before_any_aws_call(
    lock_emulator: str, workdir: Path, bad: dict[str, Any], expected: tuple[str, ...]
) -> None:
    with Recording(lock_emulator, FORWARDERS[0]) as recording:
        refused, _ = run(
            recording.url,
            workdir / "bad.json",
            *inventory(workdir),
            "--limit",
            hosts_of(DRY),
            "-e",
            json.dumps(bad),
        )
    assert refused.rc != 0
    assert recording.calls == [], [str(c) for _, c in recording.calls]
    messages = " ".join(refused.failed_messages())
    for part in expected:
        assert part in messages, (part, messages)


def report(text: str) -> None:
    print(text, flush=True)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with OUTPUT.open("a") as out:
        out.write(text + "\n")
