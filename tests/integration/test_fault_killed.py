"""Issue 10, 2a: ten first converges killed with SIGKILL at seeded random points, each rerun.

One private strict emulator (TEST_EMULATOR_PORT + 8) and eleven fresh accounts in it: moto keeps
accounts apart by the credentials AssumeRole returns, so each host of a generated inventory
(baseline_account_role_arn, home region us-east-1, the only region) is a true first converge
without a restart of the emulator.
- The reference account converges once, unkilled: its requests (seen by a loopback forwarder) give
  the kill points, and its resources the counts a clean converge makes (expected counts: nothing is
  hard-coded).
- Ten accounts each get a first converge through their own forwarder (+ 9 .. + 18), killed at a
  seeded point (random.Random(SEED)):
  - five at a request number drawn uniformly in each fifth of the converge (up to its last write):
    the forwarder holds that request, which never reaches the emulator;
  - five in flight on a create call that AWS answers with a new id (CreateKey, CreateVpc,
    CreateSubnet, CreateRouteTable, CreateVpcEndpoint: a rerun that does not find what it made
    makes it again), a seeded occurrence of each: the emulator executes the call, and the answer
    never reaches the run.
  While the forwarder holds, ansible-playbook is killed: it runs in a session of its own, and
  SIGKILL goes at once to its process group (ansible-playbook and mitogen's interpreters) and to
  the group of each forked worker (Ansible detaches its workers with setsid), as a cgroup kill does
  when a CI job is cancelled or the OOM killer takes the container. A SIGKILL to the parent alone
  would leave the worker to finish the task in flight: not a kill. The test checks that no process
  of the run is left.
- Each killed converge is followed by a full rerun of its host (straight to the emulator): exit 0,
  no failed task. A run killed after it took its state lock leaves the lock (docs/locking.md): the
  first rerun then stops at it, naming the killed run, with no other failure; a rerun once the
  lock is older than baseline_lock_stale_seconds (60) breaks it and converges.
- Then one playbooks/verify.yml run over the ten hosts passes every control (but CIS 4.x: no alarm
  subscriber is configured, and CIS asks for one), and boto3, in each
  account, finds exactly the reference's count of VPCs, subnets, route tables, security groups,
  endpoints, keys, aliases, alarms, trails, queues, topics and functions: no duplicate.
The iterations run CONCURRENCY at a time (each is mostly waiting: the strict emulator's IAM and
PITR delays, waiters). The summary line (printed, and in tests/output/fault-killed.txt) gives the
figures of the closing note: runs killed, kill points, reruns converged, duplicates per kind.
Long (eleven converges, ten reruns): `make test-long` (`make fault-killed` alone).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import ANSIBLE_PLAYBOOK, PORT, REPO_ROOT, PlaybookRun, failed_results
from support.recorder import Call, classify
from support.throttle_proxy import ThrottleProxy

from scripts import emulator

KILLED_PORT = PORT + 8
FORWARDER_PORT = PORT + 9  # the reference's; iteration n (1-10) on + 9 + n
SEED = 10
KILLS = 10
CONCURRENCY = int(os.environ.get("FAULT_KILLED_CONCURRENCY", "3"))
REGION = "us-east-1"
ROLE = "baseline-deployer"
REFERENCE = "310000000000"
ACCOUNTS = tuple(f"3100000000{n:02d}" for n in range(1, KILLS + 1))
# Creates AWS answers with a new id: a rerun that cannot find what a killed run made makes another.
ID_CREATES = (
    "kms:CreateKey",
    "ec2:CreateVpc",
    "ec2:CreateSubnet",
    "ec2:CreateRouteTable",
    "ec2:CreateVpcEndpoint",
)
KINDS = (
    "VPCs",
    "subnets",
    "route tables",
    "security groups",
    "endpoints",
    "keys",
    "aliases",
    "alarms",
    "trails",
    "queues",
    "topics",
    "functions",
)
RUN_TIMEOUT = 900
STALE = 60  # the shortest baseline_lock_stale_seconds accepted
HELD = "is held by run"
OUTPUT = REPO_ROOT / "tests" / "output" / "fault-killed.txt"


def host_of(account: str) -> str:
    return f"killed-{account}"


def call_name(call: Call) -> str:
    return f"{call.service}:{call.operation}"


@dataclass(frozen=True)
class KillPoint:
    """Hold request number `request`, or the answer to the `occurrence`-th `operation` call."""

    request: int = 0
    operation: str = ""
    occurrence: int = 0

    def __str__(self) -> str:
        if self.operation:
            return f"in flight on {self.operation} #{self.occurrence}"
        return f"before request {self.request}"


class KillSwitch(ThrottleProxy):
    """A loopback forwarder (no throttling) that names each request and holds one at the kill point.

    When the point is reached it stops answering (`down`), sets `tripped` and holds the handler
    until `release` is set, then drops the connection: the run never gets an answer.
    """

    def __init__(self, upstream: str, port: int, point: KillPoint | None) -> None:
        super().__init__(upstream, port, rate=0)
        self.server.handle_error = lambda request, address: None  # the dropped connection
        self.point = point
        self.calls: list[Call] = []
        self.seen: Counter[str] = Counter()
        self.tripped = threading.Event()
        self.release = threading.Event()
        self.tripped_at = 0

    def _trip(self, number: int) -> None:
        self.tripped_at = number
        self.down = True
        self.tripped.set()
        self.release.wait(timeout=RUN_TIMEOUT)
        raise ConnectionAbortedError(f"killed at request {number}")

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[Any], bytes]:
        if path.startswith("/moto-api/"):
            return super()._forward(method, path, headers, body)
        entry = {"url": path, "method": method, "headers": headers, "body": body.decode("utf-8", "replace")}
        call = classify(entry)
        with self.lock:
            self.calls.append(call)
            number = len(self.calls)
            self.seen[call_name(call)] += 1
            occurrence = self.seen[call_name(call)]
        point = self.point
        if point and not point.operation and number == point.request:
            self._trip(number)
        answer = super()._forward(method, path, headers, body)
        if point and point.operation == call_name(call) and occurrence == point.occurrence:
            self._trip(number)
        return answer


@dataclass
class Iteration:
    account: str
    point: KillPoint
    killed_at: int = 0
    killed_call: str = ""
    killed_rc: int | None = None
    family: int = 0
    survivors: list[int] = field(default_factory=list)
    rerun: PlaybookRun | None = None
    # The first rerun's failures other than the killed run's held lock (none expected), if it met it.
    held: list[str] | None = None
    seconds: float = 0.0

    @property
    def rerun_converged(self) -> bool:
        run = self.rerun
        return (
            bool(run)
            and run.rc == 0
            and not failed_results(run.output)
            and not any(
                stats.get("failures", 0) or stats.get("unreachable", 0) for stats in run.stats.values()
            )
        )


def write_inventory(path: Path, accounts: tuple[str, ...]) -> Path:
    """One host per account, in us-east-1 (its home region), with the account's role to assume."""
    hosts = {
        host_of(account): {"baseline_account_role_arn": f"arn:aws:iam::{account}:role/{ROLE}"}
        for account in accounts
    }
    inventory = {
        "regions": {
            "hosts": hosts,
            "vars": {
                "baseline_region": REGION,
                "baseline_home_region": REGION,
                "baseline_aws_endpoint_url": "{{ lookup('ansible.builtin.env', 'AWS_ENDPOINT_URL') }}",
                "baseline_aws_access_key": "testing",
                "baseline_aws_secret_key": "testing",
            },
        }
    }
    path.mkdir(parents=True, exist_ok=True)
    (path / "hosts.yml").write_text(json.dumps(inventory, indent=2))  # JSON is YAML
    return path


def _env(endpoint: str, callback: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": callback,
        "ANSIBLE_NOCOLOR": "1",
    }


def run_json(endpoint: str, *args: str, playbook: str = "site.yml") -> PlaybookRun:
    """ansible-playbook with the JSON callback (no recorder: the iterations run side by side)."""
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, playbook, *args],
        cwd=REPO_ROOT,
        env=_env(endpoint, "ansible.posix.json"),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    try:
        output = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        output = {}
    return PlaybookRun(proc.returncode, output.get("stats", {}), output, proc.stderr + proc.stdout[-4000:])


def descendants(root: int) -> dict[int, int]:
    """{pid: process group} of every live descendant of `root`, from /proc."""
    parents: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        parents[int(entry.name)] = (int(fields[1]), int(fields[2]))  # ppid, pgrp
    found: dict[int, int] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, pgrp) in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = pgrp
                frontier.append(pid)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie is dead, waiting for its parent


def kill_family(proc: subprocess.Popen[bytes]) -> tuple[int, list[int]]:
    """SIGKILL, at once, to every process group of the run; (processes, pids alive 10 s later).

    ansible-playbook runs in a session of its own; its mitogen interpreters stay in its group, but
    Ansible detaches each forked worker with setsid (WorkerProcess._detach): the worker's group is
    killed too, as a cgroup kill (CI cancellation, OOM killer) takes every process of the run.
    """
    family = descendants(proc.pid)
    for group in sorted({proc.pid, *family.values()}):
        with contextlib.suppress(ProcessLookupError):  # a worker that had just exited
            os.killpg(group, signal.SIGKILL)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in family):
        time.sleep(0.1)
    survivors = [pid for pid in family if alive(pid)]
    for pid in survivors:  # ours: do not leave them running
        os.kill(pid, signal.SIGKILL)
    return len(family) + 1, survivors


def converge_killed(inventory: Path, iteration: Iteration, switch: KillSwitch, log: Path) -> None:
    """A first converge of the iteration's host through `switch`, killed when the switch trips."""
    cmd = [ANSIBLE_PLAYBOOK, "site.yml", "-i", str(inventory), "--limit", host_of(iteration.account)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=_env(switch.url, "ansible.builtin.default"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, for killpg
        )
        deadline = time.monotonic() + RUN_TIMEOUT
        while not switch.tripped.wait(0.05) and proc.poll() is None and time.monotonic() < deadline:
            pass
        if not switch.tripped.is_set():
            if proc.poll() is None:
                kill_family(proc)
            raise AssertionError(
                f"{iteration.account}: the converge ended (rc {proc.returncode}) before its kill point "
                f"({iteration.point}): {log.read_text()[-2000:]}"
            )
        iteration.family, iteration.survivors = kill_family(proc)
        switch.release.set()
    iteration.killed_rc = proc.returncode
    iteration.killed_at = switch.tripped_at
    iteration.killed_call = str(switch.calls[switch.tripped_at - 1])


def run_iteration(inventory: Path, iteration: Iteration, upstream: str, port: int, logs: Path) -> Iteration:
    started = time.monotonic()
    with KillSwitch(upstream, port, iteration.point) as switch:
        converge_killed(inventory, iteration, switch, logs / f"killed-{iteration.account}.log")
    limit = ("-i", str(inventory), "--limit", host_of(iteration.account))
    rerun = run_json(upstream, *limit)
    if rerun.rc != 0 and any(HELD in message for message in rerun.failed_messages()):
        # Killed after it took the state lock of its account x region (docs/locking.md): the next
        # run stops at the lock, naming the killed run, before any change (only that: every failed
        # message is the lock's); once the lock is older than baseline_lock_stale_seconds, a run
        # breaks it with a warning and converges.
        iteration.held = [message for message in rerun.failed_messages() if HELD not in message]
        time.sleep(STALE + 1)
        rerun = run_json(upstream, *limit, "-e", f"baseline_lock_stale_seconds={STALE}")
    iteration.rerun = rerun
    iteration.seconds = time.monotonic() - started
    print(
        f"{iteration.account}: {iteration.point}: killed at request {iteration.killed_at} "
        f"({iteration.killed_call}), {iteration.family} processes; rerun rc {iteration.rerun.rc}, "
        f"changed {iteration.rerun.changed(host_of(iteration.account))}; {iteration.seconds:.0f} s",
        flush=True,
    )
    return iteration


def draw_points(calls: list[Call], rng: random.Random) -> list[KillPoint]:
    """Five requests, one per fifth of the converge up to its last write; five in-flight creates."""
    last_write = max(number for number, call in enumerate(calls, 1) if not call.read_only)
    fifths = [(1 + k * last_write // 5, (k + 1) * last_write // 5) for k in range(5)]
    uniform = [KillPoint(request=rng.randint(low, high)) for low, high in fifths]
    made = Counter(call_name(call) for call in calls)
    missing = [operation for operation in ID_CREATES if not made[operation]]
    assert not missing, f"the reference converge made no {missing}"
    creates = [
        KillPoint(operation=operation, occurrence=rng.randint(1, made[operation])) for operation in ID_CREATES
    ]
    return [point for pair in zip(creates, uniform, strict=True) for point in pair]


def account_client(endpoint: str) -> Callable[[str, str], Any]:
    """client(account, service): boto3 with the credentials of the account's role, as the site has."""
    sts = boto3.client(
        "sts",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def _client(account: str, service: str) -> Any:
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="fault-killed-reader"
        )["Credentials"]
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    return _client


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


def _network_counts(ec2: Any) -> dict[str, int]:
    vpcs = [vpc["VpcId"] for vpc in _pages(ec2, "describe_vpcs", "Vpcs") if not vpc.get("IsDefault")]
    in_ours = [{"Name": "vpc-id", "Values": vpcs or ["vpc-none"]}]
    endpoints = [
        e for e in _pages(ec2, "describe_vpc_endpoints", "VpcEndpoints") if e["State"].lower() != "deleted"
    ]
    return {
        "VPCs": len(vpcs),
        "subnets": len(_pages(ec2, "describe_subnets", "Subnets", Filters=in_ours)),
        "route tables": len(_pages(ec2, "describe_route_tables", "RouteTables", Filters=in_ours)),
        "security groups": len(_pages(ec2, "describe_security_groups", "SecurityGroups", Filters=in_ours)),
        "endpoints": len(endpoints),
    }


def _key_counts(kms: Any) -> dict[str, int]:
    """Customer-managed keys not pending deletion (tagged or not: an untagged orphan is one too)."""
    keys = [kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"] for key in _pages(kms, "list_keys", "Keys")]
    live = [k for k in keys if k["KeyManager"] == "CUSTOMER" and k["KeyState"] not in ("PendingDeletion",)]
    aliases = [
        a for a in _pages(kms, "list_aliases", "Aliases") if not a["AliasName"].startswith("alias/aws/")
    ]
    return {"keys": len(live), "aliases": len(aliases)}


def resource_counts(client: Callable[[str, str], Any], account: str) -> dict[str, int]:
    """What the account holds in the region, per kind."""
    cloudwatch = client(account, "cloudwatch")
    alarms = _pages(cloudwatch, "describe_alarms", "MetricAlarms") + _pages(
        cloudwatch, "describe_alarms", "CompositeAlarms"
    )
    trails = client(account, "cloudtrail").describe_trails(includeShadowTrails=False)["trailList"]
    counts = {
        **_network_counts(client(account, "ec2")),
        **_key_counts(client(account, "kms")),
        "alarms": len(alarms),
        "trails": len(trails),
        "queues": len(client(account, "sqs").list_queues().get("QueueUrls", [])),
        "topics": len(_pages(client(account, "sns"), "list_topics", "Topics")),
        "functions": len(_pages(client(account, "lambda"), "list_functions", "Functions")),
    }
    return {kind: counts[kind] for kind in KINDS}


@pytest.fixture(scope="module")
def killed_emulator() -> Iterator[str]:
    """A private strict emulator without moto's recorder (the forwarders see every request)."""
    started = emulator.start(KILLED_PORT, strict=True)
    emulator.reset(KILLED_PORT)
    try:
        yield f"http://127.0.0.1:{KILLED_PORT}"
    finally:
        if started:
            emulator.stop(KILLED_PORT)


def summary_line(iterations: list[Iteration], duplicates: dict[str, int], seconds: float) -> str:
    points = ", ".join(
        f"{it.killed_at} ({it.killed_call.split(' ')[0]}{', in flight' if it.point.operation else ''})"
        for it in iterations
    )
    converged = sum(it.rerun_converged for it in iterations)
    locked = sum(it.held is not None for it in iterations)
    per_kind = ", ".join(f"{kind} {duplicates[kind]}" for kind in KINDS)
    return (
        f"fault-killed: {len(iterations)} first converges killed "
        f"(SIGKILL to every process group of the run) at requests [{points}]; "
        f"{converged}/{len(iterations)} reruns converged ({locked} first stopped at the killed run's "
        f"state lock, then broke it once stale); "
        f"duplicates found: {sum(duplicates.values())} ({per_kind}); {seconds:.0f} s"
    )


def test_killed_first_converges_rerun_to_a_verified_baseline_without_duplicates(
    killed_emulator: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    inventory = write_inventory(tmp_path / "inventory", (REFERENCE, *ACCOUNTS))

    # The reference: an unkilled first converge, its requests and what it makes.
    with KillSwitch(killed_emulator, FORWARDER_PORT, None) as switch:
        reference = run_json(switch.url, "-i", str(inventory), "--limit", host_of(REFERENCE))
        reference_calls = list(switch.calls)
    assert reference.rc == 0, (failed_results(reference.output), reference.stderr)
    client = account_client(killed_emulator)
    expected = resource_counts(client, REFERENCE)
    assert all(expected.values()), f"the reference converge made none of some kind: {expected}"
    print(
        f"reference: {len(reference_calls)} requests, {time.monotonic() - started:.0f} s; expected {expected}"
    )

    points = draw_points(reference_calls, random.Random(SEED))
    iterations = [Iteration(account, point) for account, point in zip(ACCOUNTS, points, strict=True)]
    logs = tmp_path / "logs"
    logs.mkdir()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        futures = [
            pool.submit(run_iteration, inventory, it, killed_emulator, FORWARDER_PORT + n, logs)
            for n, it in enumerate(iterations, 1)
        ]
        done = [future.result() for future in futures]
    # One verify run over the ten hosts.
    report_dir = tmp_path / "verify"
    ten = ",".join(host_of(account) for account in ACCOUNTS)
    extra = json.dumps({"verify_report_dir": str(report_dir)})
    verified = run_json(
        killed_emulator,
        "-i",
        str(inventory),
        "--limit",
        ten,
        "--extra-vars",
        extra,
        playbook="playbooks/verify.yml",
    )
    report_file = report_dir / "verify.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {"records": []}

    counts = {account: resource_counts(client, account) for account in ACCOUNTS}
    duplicates = {
        kind: sum(max(0, counts[account][kind] - expected[kind]) for account in ACCOUNTS) for kind in KINDS
    }
    line = summary_line(done, duplicates, time.monotonic() - started)
    print(line)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(line + "\n")

    for it in done:
        assert it.killed_rc == -signal.SIGKILL, (it.account, it.killed_rc)
        assert it.survivors == [], f"{it.account}: processes outlived the kill: {it.survivors}"
        assert it.rerun_converged, (it.account, it.point, failed_results(it.rerun.output if it.rerun else {}))
        assert not it.held, (it.account, it.point, it.held)
    assert {it.killed_at for it in done if not it.point.operation} == {
        p.request for p in points if not p.operation
    }
    assert all(it.killed_call.startswith(it.point.operation) for it in done if it.point.operation)
    assert report_file.exists(), verified.stderr[-3000:]
    assert {record["account"] for record in report["records"]} == set(ACCOUNTS)
    # Every control holds but CIS 4.x, which fails only for want of an alarm subscriber (none is
    # configured here; CIS's audit asks for a confirmed one).
    failing = sorted(
        {(r["account"], r["control_id"]) for r in report["records"] if r["status"] == "fail"}
        - {(account, f"CIS 4.{n}") for account in ACCOUNTS for n in range(1, 16)}
    )
    assert not failing, failing
    assert all(
        next(iter(r["evidence"].values()))["topic_confirmed_subscriptions"] == 0
        for r in report["records"]
        if r["status"] == "fail"
    )
    wrong = {
        account: {kind: (n, expected[kind]) for kind, n in kinds.items() if n != expected[kind]}
        for account, kinds in counts.items()
        if kinds != expected
    }
    assert not wrong, f"(found, expected) per account and kind: {wrong}"
