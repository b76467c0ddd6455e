"""Whole-site runs on the emulator, 0.1.0 against now, in one run (issue 9, "fast no-op runs").

A measurement, not a test. From the repository root (`make bench`):

    .venv/bin/python bench/bench_runs.py [--port 4730] [--repeat 3] [--output bench/RESULTS.md]

1. The baseline: release 0.1.0 (BASELINE_COMMIT) is checked out with `git worktree add` into
   bench/.baseline-0.1.0 (git-ignored) and run as 0.1.0 ran: its own ansible.cfg (Ansible's
   linear strategy), inventory and group_vars, against its own emulator (its scripts/emulator.py,
   moto without strict mode, the way its `make emulator` started it) on port+1.
2. Now: this checkout's site with its ansible.cfg (the strategy it sets) against a strict
   emulator (as `make emulator` starts it) on port.
   Installed: the same account, as a user of the installed collection runs it: the tarball built
   from this checkout and installed into bench/.installed/ (git-ignored), an ansible.cfg that
   sets only the collections path (Ansible's default strategy: the collection's playbooks then
   name its own, secureinfra.baseline.mitogen_linear), an inventory of hosts with the checkout's
   group_vars, and a playbook that imports secureinfra.baseline.site.
3. Each side: the first converge of both regions, then --repeat times (interleaved: 0.1.0, now,
   0.1.0, now, ... so that other load on the machine hits both alike) a no-op rerun of one region
   (us-east-1), of both, and check mode of both. Each whole ansible-playbook process is timed:
   wall, and CPU of the process tree (wait4). The report gives medians.
4. Levers (--levers, one run each, after the first round): the no-op rerun of both regions with other
   strategies or settings, to show what each one pays.
5. API calls by kind (moto's recorder) of the no-op rerun of both regions, reads per managed
   resource (bench/managed.py counts the managed resources from each converged emulator), the
   10 slowest tasks, the goals (pass/fail) and the machine's details, into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

import managed  # noqa: E402
from support.recorder import Recorder  # noqa: E402

from scripts import emulator  # noqa: E402

PYTHON = sys.executable
PLAYBOOK = str(Path(PYTHON).parent / "ansible-playbook")
# Release 0.1.0: the last commit with galaxy.yml version 0.1.0 before issue 7's work began
# (changelogs/changelog.yaml, release 0.1.0; `git log -p galaxy.yml`: 86d7fbd set 0.1.0, 58ebbd5
# set 0.2.0; 9657891 of 2026-11-27 is the last commit before the first issue-7 commit, 35c990d).
BASELINE_COMMIT = "9657891"
BASELINE_DIR = REPO / "bench" / ".baseline-0.1.0"
INSTALLED_DIR = REPO / "bench" / ".installed"
GALAXY = str(Path(PYTHON).parent / "ansible-galaxy")
REGIONS = ["us-east-1", "us-west-1"]
# --accounts N: a generated inventory of N accounts x REGIONS (each host assumes its account's role,
# as inventories/organization does; moto keeps each account apart), beside the 2-host runs.
MANY_DIR = REPO / "bench" / "results" / "many-accounts"
MANY = "no-op rerun, {hosts} hosts ({accounts} accounts x 2 regions)"

ONE = "no-op rerun, us-east-1"
BOTH = "no-op rerun, both regions"
CHECK = "check mode, both regions"
# name -> extra ansible-playbook arguments
RUNS = {ONE: ["--limit", "us-east-1"], BOTH: [], CHECK: ["--check"]}
# Levers measured on the no-op rerun of both regions: name -> (environment, ansible-playbook args).
# Each turns one of the kept settings off again (or tries one not kept), to show what it pays.
# The strategy plugin's two CPU levers off: a worker forked per host and task, each template compiled
# at each render, as Ansible runs a play.
# The strategy plugin's and the modules' CPU levers off: a worker forked per task, each render
# compiled, the workers polled, a new boto3 session and client per module (how Ansible runs a play).
ANSIBLES_WAY = {
    "SECUREINFRA_CONTROLLER_TASKS": "fork",
    "SECUREINFRA_TEMPLATE_CACHE": "0",
    "SECUREINFRA_WORKER_WAIT": "poll",
    "SECUREINFRA_SHARED_CLIENTS": "0",
    "SECUREINFRA_GC": "collect",
}
MANY_ANSIBLES_WAY = (
    "; a worker per task, each render compiled, a client per module, the heap not frozen (Ansible's way)"
)

LEVERS: dict[str, tuple[dict[str, str], list[str]]] = {
    "one mitogen interpreter for every host (no per-host Python path)": (
        {},
        ["--extra-vars", json.dumps({"ansible_python_interpreter": "{{ ansible_playbook_python }}"})],
    ),
    "mitogen's CPU pinning kept (SECUREINFRA_MITOGEN_PIN_CPUS=1)": (
        {"SECUREINFRA_MITOGEN_PIN_CPUS": "1"},
        [],
    ),
    "strategy linear (no mitogen)": ({"ANSIBLE_STRATEGY": "linear"}, []),
    "mitogen with 2 connection multiplexers (MITOGEN_CPU_COUNT=2)": ({"MITOGEN_CPU_COUNT": "2"}, []),
    "a worker forked for every task (SECUREINFRA_CONTROLLER_TASKS=fork)": (
        {"SECUREINFRA_CONTROLLER_TASKS": "fork"},
        [],
    ),
    "each template compiled at every render (SECUREINFRA_TEMPLATE_CACHE=0)": (
        {"SECUREINFRA_TEMPLATE_CACHE": "0"},
        [],
    ),
    "the workers polled every 0.1 ms when every fork is busy (SECUREINFRA_WORKER_WAIT=poll)": (
        {"SECUREINFRA_WORKER_WAIT": "poll"},
        [],
    ),
    "a boto3 session and client per module (SECUREINFRA_SHARED_CLIENTS=0)": (
        {"SECUREINFRA_SHARED_CLIENTS": "0"},
        [],
    ),
    "the controller's heap not frozen in it and in the workers (SECUREINFRA_GC=collect)": (
        {"SECUREINFRA_GC": "collect"},
        [],
    ),
    "the connection and the Python path rendered for every task (not once per host as facts)": (
        {},
        [
            "--extra-vars",
            json.dumps({
                "baseline_aws_connection": "{{ lookup('ansible.builtin.vars', 'preflight_connection_"
                "settings') }}",
                "ansible_python_interpreter": "{{ lookup('ansible.builtin.vars', 'preflight_python_settings')"
                " }}",
            }),
        ],
    ),
    "all five off as Ansible runs a play (a worker per task; each render compiled; the workers polled;"
    " a client per module; the heap not frozen)": (
        ANSIBLES_WAY,
        [],
    ),
}


@dataclass
class Run:
    name: str
    side: str
    wall: float
    cpu: float
    rc: int
    changed: int
    reads: int
    writes: int
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    output: dict[str, Any] = field(default_factory=dict)


@dataclass
class Side:
    """One checkout (0.1.0 or now), its emulator and how its site runs."""

    label: str
    root: Path
    port: int
    env: dict[str, str]
    runs: list[Run] = field(default_factory=list)
    resources: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def site(self, name: str, *args: str, env: dict[str, str] | None = None) -> Run:
        run = run_site(self, name, list(args), env or {})
        self.runs.append(run)
        print(
            f"bench: {self.label:5} {name:40} wall {run.wall:6.1f} s  CPU {run.cpu:6.1f} s"
            f"  rc {run.rc}  changed {run.changed}  reads {run.reads}  writes {run.writes}",
            flush=True,
        )
        return run

    def named(self, name: str) -> list[Run]:
        return [r for r in self.runs if r.name == name]

    def median(self, name: str, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.named(name))


def run_site(side: Side, name: str, args: list[str], extra_env: dict[str, str]) -> Run:
    env = {**side.env, **extra_env, "AWS_ENDPOINT_URL": side.endpoint}
    recorder = Recorder(side.endpoint)
    recorder.start()
    start = time.monotonic()
    with (
        open(os.devnull, "w") as devnull,
        subprocess.Popen(
            [PLAYBOOK, "site.yml", *args],
            cwd=side.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=devnull,
            text=True,
            # Its own session, as from a terminal: with the kernel's autogroup scheduling
            # (kernel.sched_autogroup_enabled) CPU is shared between sessions first, and a run
            # inside the bench's session would compete with whatever else runs in it.
            start_new_session=True,
        ) as proc,
    ):
        stdout = proc.stdout.read() if proc.stdout else ""
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    calls = recorder.stop()
    output = json.loads(stdout[stdout.index("{") :]) if "{" in stdout else {}
    changed = sum(s.get("changed", 0) for s in output.get("stats", {}).values())
    return Run(
        name=name,
        side=side.label,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rc=proc.returncode,
        changed=changed,
        reads=sum(c.read_only for c in calls),
        writes=sum(not c.read_only for c in calls),
        calls=collections.Counter(f"{c.service}:{c.operation}" for c in calls),
        output=output,
    )


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_"))}
    return {
        **env,
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
        # Each side's Lambda zips in its own build directory (0.1.0 builds into its checkout).
        "TMPDIR": env.get("TMPDIR", "/tmp"),
    }


def baseline_checkout() -> Path:
    """bench/.baseline-0.1.0: a detached git worktree at BASELINE_COMMIT (made once)."""
    if not (BASELINE_DIR / "site.yml").exists():
        subprocess.run(
            ["git", "worktree", "prune"], cwd=REPO, check=True, stdout=subprocess.DEVNULL
        )
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(BASELINE_DIR), BASELINE_COMMIT],
            cwd=REPO,
            check=True,
        )
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=BASELINE_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not BASELINE_COMMIT.startswith(head[: len(BASELINE_COMMIT)]):
        raise SystemExit(f"{BASELINE_DIR} is at {head}, not {BASELINE_COMMIT}: remove it")
    return BASELINE_DIR


def baseline_emulator(root: Path, action: str, port: int) -> None:
    """0.1.0's own emulator control (moto, its extensions, no strict mode)."""
    subprocess.run(
        [PYTHON, str(root / "scripts" / "emulator.py"), action, "--port", str(port)]
        + (["--record"] if action == "start" else []),
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def installed_collection() -> Path:
    """bench/.installed: the collection as a user installs it, and nothing of this checkout's."""
    collections = INSTALLED_DIR / "collections"
    subprocess.run(["rm", "-rf", str(INSTALLED_DIR)], check=True)
    (INSTALLED_DIR / "build").mkdir(parents=True)
    (INSTALLED_DIR / "ansible.cfg").write_text(f"[defaults]\ncollections_path = {collections}\n")
    (INSTALLED_DIR / "hosts.yml").write_text(
        "regions:\n  hosts:\n" + "".join(f"    {region}:\n" for region in REGIONS)
    )
    # The checkout's settings (inventories/local/group_vars: its SNS subscription, ...): the two
    # sides converge one account, and different settings would change it back and forth each run.
    (INSTALLED_DIR / "group_vars").mkdir()
    for source in (REPO / "inventories" / "local" / "group_vars").glob("*.yml"):
        (INSTALLED_DIR / "group_vars" / source.name).write_text(source.read_text())
    (INSTALLED_DIR / "site.yml").write_text("- ansible.builtin.import_playbook: secureinfra.baseline.site\n")
    env = {**_installed_env(), "ANSIBLE_CONFIG": str(INSTALLED_DIR / "ansible.cfg")}
    build = [GALAXY, "collection", "build", str(REPO), "--output-path", str(INSTALLED_DIR / "build")]
    subprocess.run(build, cwd=INSTALLED_DIR, env=env, check=True, stdout=subprocess.DEVNULL)
    (tarball,) = (INSTALLED_DIR / "build").glob("secureinfra-baseline-*.tar.gz")
    install = [GALAXY, "collection", "install", str(tarball), "-p", str(collections), "--no-deps"]
    subprocess.run(install, cwd=INSTALLED_DIR, env=env, check=True, stdout=subprocess.DEVNULL)
    return INSTALLED_DIR


def _installed_env() -> dict[str, str]:
    return {
        **_base_env(),
        "ANSIBLE_CONFIG": str(INSTALLED_DIR / "ansible.cfg"),
        "ANSIBLE_INVENTORY": str(INSTALLED_DIR / "hosts.yml"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }


def many_accounts_inventory(accounts: int) -> Path:
    """bench/results/many-accounts: `accounts` accounts x REGIONS, inventories/organization's vars."""
    subprocess.run(["rm", "-rf", str(MANY_DIR)], check=True)
    (MANY_DIR / "group_vars").mkdir(parents=True)
    for source in (REPO / "inventories" / "organization" / "group_vars").glob("*.yml"):
        (MANY_DIR / "group_vars" / source.name).write_text(source.read_text())
    hosts = {}
    for number in range(1, accounts + 1):
        account_id = f"3{number:011d}"  # 300000000001, ...
        for region in REGIONS:
            hosts[f"acct{number:02d}-{region}"] = {
                "baseline_region": region,
                "baseline_account_role_arn": f"arn:aws:iam::{account_id}:role/baseline-deployer",
                "baseline_environment": "dev",
            }
    inventory = {
        "regions": {
            "hosts": hosts,
            "vars": {
                "baseline_aws_endpoint_url": "{{ lookup('ansible.builtin.env', 'AWS_ENDPOINT_URL') }}",
                "baseline_aws_access_key": "testing",
                "baseline_aws_secret_key": "testing",
            },
        }
    }
    (MANY_DIR / "hosts.yml").write_text(yaml.safe_dump(inventory, explicit_start=True, sort_keys=False))
    return MANY_DIR


def measure_many(now: Side, installed: Side, accounts: int, repeat: int,
                 checkpoint: Callable[[], None]) -> None:
    """The checkout converges `accounts` x 2 regions; then no-op reruns, checkout and installed."""
    inventory = str(many_accounts_inventory(accounts) / "hosts.yml")
    name = MANY.format(hosts=2 * accounts, accounts=accounts)
    first = now.site(f"first converge, {2 * accounts} hosts", "-i", inventory)
    if first.rc != 0:
        raise SystemExit(f"bench: the first converge of {2 * accounts} hosts failed (rc {first.rc})")
    checkpoint()
    for _attempt in range(repeat):
        for side in (now, installed):
            side.site(name, "-i", inventory)
            checkpoint()
    # The same no-op with the strategy plugin's CPU levers off: what they pay at this scale.
    now.site(name + MANY_ANSIBLES_WAY, "-i", inventory, env=ANSIBLES_WAY)
    checkpoint()


def dump(sides: list[Side], path: Path) -> None:
    """Every run's figures (not the playbook output), to rebuild a report by hand."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(
        {"load": os.getloadavg(), "runs": [
            {k: v for k, v in vars(r).items() if k != "output"} | {"tasks": task_count(r.output)}
            for s in sides for r in s.runs]},
        indent=1, default=str,
    ))


def converge(side: Side) -> None:
    run = side.site("first converge, both regions")
    if run.rc != 0:
        raise SystemExit(f"bench: the first converge of {side.label} failed (rc {run.rc})")
    side.resources = managed.count(side.endpoint, REGIONS)


def measure(sides: list[Side], repeat: int, levers: list[str], checkpoint: Callable[[], None]) -> None:
    """All runs; `checkpoint` (the report so far) after each round and each lever."""
    for side in sides:
        if side.label == "installed":
            # The account `now` converged; its own first run builds the functions' zips (local).
            side.site("warm-up (the install's own Lambda build)")
        else:
            converge(side)
    rounds = iter(range(repeat))
    for _number in rounds:  # the first round, then the levers, then the other rounds
        _round(sides)
        checkpoint()
        break
    now = next(side for side in sides if side.label == "now")
    for lever in levers:
        env, args = LEVERS[lever]
        now.site(f"{BOTH}; lever: {lever}", *args, env=env)
        checkpoint()
    for _number in rounds:
        _round(sides)
        checkpoint()


def _round(sides: list[Side]) -> None:
    for name, args in RUNS.items():
        for side in sides:
            side.site(name, *args)


# --- the report ----------------------------------------------------------------------------


def slowest_tasks(output: dict[str, Any], count: int = 10) -> list[tuple[float, str]]:
    longest: dict[str, float] = {}
    for play in output.get("plays", []):
        for task in play.get("tasks", []):
            duration = task["task"].get("duration", {})
            if not duration.get("start") or not duration.get("end"):
                continue
            seconds = (_time(duration["end"]) - _time(duration["start"])).total_seconds()
            name = task["task"]["name"]
            longest[name] = max(longest.get(name, 0.0), seconds)
    return sorted(((s, n) for n, s in longest.items()), reverse=True)[:count]


def task_count(output: dict[str, Any]) -> int:
    return sum(len(play.get("tasks", [])) for play in output.get("plays", []))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    from importlib.metadata import version

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu}, {os.cpu_count()} cores; load average (1, 5, 15 min) at the end: {load}",
        f"- Python {platform.python_version()}, ansible-core {version('ansible-core')}, "
        f"mitogen {version('mitogen')}, moto {version('moto')}",
    ]


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _goal(name: str, old: float, new: float, value: float, target: str, ok: bool) -> str:
    return _row([name, f"{old:.2f}", f"{new:.2f}", f"{value:.2f}", target, "pass" if ok else "FAIL"])


def goals(base: Side, now: Side) -> list[str]:
    def wall(side: Side, name: str) -> float:
        return side.median(name, "wall")

    base_res, now_res = sum(base.resources.values()), sum(now.resources.values())
    base_reads = base.median(BOTH, "reads") / base_res
    now_reads = now.median(BOTH, "reads") / now_res
    speed_both = wall(base, BOTH) / wall(now, BOTH)
    speed_check = wall(base, CHECK) / wall(now, CHECK)
    ratio_old = wall(base, BOTH) / wall(base, ONE)
    ratio_new = wall(now, BOTH) / wall(now, ONE)
    return [
        _row(["goal", "0.1.0", "now", "measure", "target", "result"]),
        "|---|---|---|---|---|---|",
        _goal(f"{BOTH}, wall s (speed-up 0.1.0 / now)", wall(base, BOTH), wall(now, BOTH),
              speed_both, ">= 4x", speed_both >= 4),
        _goal(f"{CHECK}, wall s (speed-up 0.1.0 / now)", wall(base, CHECK), wall(now, CHECK),
              speed_check, ">= 4x", speed_check >= 4),
        _goal("both regions / one region (wall)", ratio_old, ratio_new, ratio_new, "<= 1.2x",
              ratio_new <= 1.2),
        _row([f"(CPU) {BOTH}, CPU s (0.1.0 / now)", f"{base.median(BOTH, 'cpu'):.2f}",
              f"{now.median(BOTH, 'cpu'):.2f}",
              f"{base.median(BOTH, 'cpu') / now.median(BOTH, 'cpu'):.2f}", "(information)", "-"]),
        _row([f"(CPU) {CHECK}, CPU s (0.1.0 / now)", f"{base.median(CHECK, 'cpu'):.2f}",
              f"{now.median(CHECK, 'cpu'):.2f}",
              f"{base.median(CHECK, 'cpu') / now.median(CHECK, 'cpu'):.2f}", "(information)", "-"]),
        _goal("reads per managed resource (no-op, both regions)", base_reads, now_reads,
              now_reads, "<= 2", now_reads <= 2),
    ]


def issue_goals(now: Side, installed: Side, accounts: int) -> list[str]:
    """Issue 10's goals: the installed collection, many accounts, CPU per account x region."""
    lines = [_row(["goal", "measure", "target", "result"]), "|---|---|---|---|"]
    if installed.named(BOTH) and now.named(BOTH):
        ratio = installed.median(BOTH, "wall") / now.median(BOTH, "wall")
        lines.append(_row([f"installed (Ansible's defaults) / checkout, {BOTH}, wall",
                           f"{installed.median(BOTH, 'wall'):.1f} / {now.median(BOTH, 'wall'):.1f} s"
                           f" = {ratio:.2f}x", "<= 1.5x", "pass" if ratio <= 1.5 else "FAIL"]))
    name = MANY.format(hosts=2 * accounts, accounts=accounts)
    if accounts and now.named(name) and now.named(BOTH):
        many, two = now.median(name, "wall"), now.median(BOTH, "wall")
        lines.append(_row([f"{2 * accounts} hosts / 2 hosts, no-op, wall (checkout)",
                           f"{many:.1f} / {two:.1f} s = {many / two:.2f}x", "<= 5x",
                           "pass" if many / two <= 5 else "FAIL"]))
        lines.append(_row([f"{2 * accounts} hosts no-op, wall (checkout)", f"{many:.1f} s", "<= 150 s",
                           "pass" if many <= 150 else "FAIL"]))
    for side in (now, installed):
        if side.named(BOTH):
            per = side.median(BOTH, "cpu") / len(REGIONS)
            lines.append(_row([f"CPU per account x region, {BOTH} ({side.label})",
                               f"{per:.1f} CPU-s", "<= 4", "pass" if per <= 4 else "FAIL"]))
        if accounts and side.named(name):
            per = side.median(name, "cpu") / (2 * accounts)
            lines.append(_row([f"CPU per account x region, {2 * accounts} hosts no-op ({side.label})",
                               f"{per:.1f} CPU-s", "<= 4", "pass" if per <= 4 else "FAIL"]))
    return lines


def _runs_table(sides: list[Side]) -> list[str]:
    lines = [
        _row(["run", "checkout", "n", "wall s (median)", "CPU s (median)", "rc", "changed",
              "reads", "writes", "tasks"]),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for side in sides:
        names = list(dict.fromkeys(r.name for r in side.runs))
        for name in names:
            runs = side.named(name)
            last = runs[-1]
            walls = ", ".join(f"{r.wall:.1f}" for r in runs)
            lines.append(
                _row([
                    name, side.label, len(runs),
                    f"{side.median(name, 'wall'):.1f}" + (f" ({walls})" if len(runs) > 1 else ""),
                    f"{side.median(name, 'cpu'):.1f}", max(r.rc for r in runs),
                    max(r.changed for r in runs), last.reads, last.writes,
                    task_count(last.output),
                ])
            )
    return lines


def _resources(sides: list[Side]) -> list[str]:
    kinds = sorted(set().union(*(s.resources for s in sides)))
    lines = [_row(["kind", *(s.label for s in sides)]), "|---" * (len(sides) + 1) + "|"]
    lines += [_row([k, *(s.resources.get(k, 0) for s in sides)]) for k in kinds]
    lines.append(_row(["**total**", *(f"**{sum(s.resources.values())}**" for s in sides)]))
    return lines


def three_way_table(base: Side, now: Side, installed: Side, accounts: int) -> list[str]:
    """The issue's table: 0.1.0, the checkout and the installed collection, 2 and 20 hosts."""

    def cell(side: Side, name: str) -> str:
        runs = side.named(name)
        if not runs:
            return "not run"
        count = f" (n={len(runs)})" if len(runs) > 1 else ""
        return f"{side.median(name, 'wall'):.1f} s / {side.median(name, 'cpu'):.1f} CPU-s{count}"

    many = MANY.format(hosts=2 * accounts, accounts=accounts)
    rows = [
        ("no-op, 1 host (us-east-1)", ONE),
        ("no-op, 2 hosts (both regions)", BOTH),
        ("check mode, 2 hosts", CHECK),
    ]
    if accounts:
        rows += [
            (f"no-op, {2 * accounts} hosts ({accounts} accounts x 2 regions)", many),
            (f"no-op, {2 * accounts} hosts, Ansible's way (the five levers off)", many + MANY_ANSIBLES_WAY),
            (f"first converge, {2 * accounts} hosts", f"first converge, {2 * accounts} hosts"),
        ]
    lines = [
        _row(["run", "0.1.0 (linear, its ansible.cfg)", "checkout (its ansible.cfg)", "installed (default)"]),
        "|---|---|---|---|",
    ]
    lines += [_row([label, cell(base, name), cell(now, name), cell(installed, name)]) for label, name in rows]
    return lines


def installed_table(now: Side, installed: Side) -> list[str]:
    """The installed collection (Ansible's default strategy) against this checkout."""
    lines = [
        _row(["run", "checkout wall s", "installed wall s", "installed / checkout (wall)",
              "checkout CPU s", "installed CPU s", "installed / checkout (CPU)"]),
        "|---|---|---|---|---|---|---|",
    ]
    for name in RUNS:
        if not installed.named(name) or not now.named(name):
            continue
        walls = now.median(name, "wall"), installed.median(name, "wall")
        cpus = now.median(name, "cpu"), installed.median(name, "cpu")
        lines.append(_row([name, f"{walls[0]:.1f}", f"{walls[1]:.1f}", f"{walls[1] / walls[0]:.2f}x",
                           f"{cpus[0]:.1f}", f"{cpus[1]:.1f}", f"{cpus[1] / cpus[0]:.2f}x"]))
    return lines


def report(base: Side, now: Side, levers: list[str], installed: Side | None = None, accounts: int = 0) -> str:
    sides = [base, now, *([installed] if installed else [])]
    both_now, both_base = now.named(BOTH)[-1], base.named(BOTH)[-1]
    lines = ["# Whole-site runs on the emulator: 0.1.0 against now (bench/bench_runs.py)", ""]
    lines += [*machine(), ""]
    lines += [
        f"0.1.0 is commit {BASELINE_COMMIT} run from its own worktree with its own ansible.cfg",
        "(linear strategy), inventory and emulator (moto, not strict); now is this checkout with",
        "its ansible.cfg against the strict emulator. Runs interleave (0.1.0, now, ...); medians.",
        "",
        "## Goals: fast no-op runs against 0.1.0",
        "",
        *goals(base, now),
        "",
    ]
    if installed:
        lines += [
            "## Goals: the installed collection, many accounts, CPU",
            "",
            *issue_goals(now, installed, accounts),
            "",
        ]
    if installed:
        lines += [
            "## Installed default vs checkout vs 0.1.0, 2 hosts and 20 hosts",
            "",
            "Wall s / CPU-s of the whole process tree (medians where n > 1).",
            "",
            *three_way_table(base, now, installed, accounts),
            "",
        ]
    if installed and installed.named(BOTH):
        lines += [
            "## The installed collection, as a user runs it (Ansible's default strategy)",
            "",
            "The tarball of this checkout installed into bench/.installed, an ansible.cfg that sets",
            "only the collections path, the checkout's group_vars; the account `now` converged.",
            "",
            *installed_table(now, installed),
            "",
        ]
    lines += [
        "## Runs",
        "",
        *_runs_table(sides),
        "",
    ]
    levers = [lever for lever in levers if now.named(f"{BOTH}; lever: {lever}")]
    if levers:
        lines += ["## Levers (no-op rerun of both regions, one run each, same emulator)", ""]
        ref = now.median(BOTH, "wall"), now.median(BOTH, "cpu")
        lines += [_row(["setting", "wall s", "CPU s", "wall vs default", "CPU vs default"]),
                  "|---|---|---|---|---|",
                  _row(["default (ansible.cfg)", f"{ref[0]:.1f}", f"{ref[1]:.1f}", "1.00x",
                        "1.00x"])]
        for lever in levers:
            run = now.named(f"{BOTH}; lever: {lever}")[-1]
            lines.append(_row([lever, f"{run.wall:.1f}", f"{run.cpu:.1f}",
                               f"{run.wall / ref[0]:.2f}x", f"{run.cpu / ref[1]:.2f}x"]))
        lines.append("")
    lines += ["## Managed resources (bench/managed.py, counted after the first converge)", ""]
    lines += [*_resources([base, now]), ""]
    lines += ["## API calls of the no-op rerun of both regions, by kind (top 20)", ""]
    lines += [_row(["call", "0.1.0", "now"]), "|---|---|---|"]
    kinds = sorted(set(both_now.calls) | set(both_base.calls),
                   key=lambda k: -max(both_now.calls[k], both_base.calls[k]))
    lines += [_row([k, both_base.calls[k], both_now.calls[k]]) for k in kinds[:20]]
    lines += ["", "## The 10 slowest tasks of that rerun, now (longest host)", ""]
    lines += [f"- {s:.1f} s {n}" for s, n in slowest_tasks(both_now.output)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=4730, help="now's emulator; 0.1.0's on +1")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each no-op/check kind")
    parser.add_argument(
        "--levers", default=",".join(LEVERS), help=f"comma-separated, of: {', '.join(LEVERS)}"
    )
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "RESULTS.md")
    parser.add_argument(
        "--accounts", type=int, default=10,
        help="then a no-op of N accounts x 2 regions (generated inventory), checkout and installed; 0: none",
    )
    args = parser.parse_args(argv)
    levers = [lever for lever in args.levers.split(",") if lever]
    unknown = set(levers) - set(LEVERS)
    if unknown:
        parser.error(f"unknown levers: {', '.join(sorted(unknown))}")
    root = baseline_checkout()
    base = Side("0.1.0", root, args.port + 1, {**_base_env(), "ANSIBLE_CONFIG": str(root / "ansible.cfg")})
    now = Side("now", REPO, args.port, {**_base_env(), "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")})
    installed = Side("installed", installed_collection(), args.port, _installed_env())
    cleanups: list[Callable[[], None]] = []
    try:
        baseline_emulator(root, "start", base.port)
        cleanups.append(lambda: baseline_emulator(root, "stop", base.port))
        baseline_emulator(root, "reset", base.port)
        if emulator.start(now.port, record=True, strict=True):
            cleanups.append(lambda: emulator.stop(now.port))
        emulator.reset(now.port)
        measure(
            [base, now, installed],
            args.repeat,
            levers,
            lambda: args.output.write_text(report(base, now, levers, installed, args.accounts)),
        )
        if args.accounts:
            measure_many(
                now, installed, args.accounts, max(1, args.repeat // 2),
                lambda: args.output.write_text(report(base, now, levers, installed, args.accounts)),
            )
    finally:
        for cleanup in reversed(cleanups):
            cleanup()
        stamp = f"{datetime.now(UTC):%Y%m%d-%H%M}"
        dump([base, now, installed], REPO / "bench" / "results" / f"runs-{stamp}.json")
    text = report(base, now, levers, installed, args.accounts)
    args.output.write_text(text)
    print(text)
    return 0 if all(r.rc == 0 for s in (base, now, installed) for r in s.runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
