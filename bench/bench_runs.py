"""Whole-site runs on the emulator: first converge, no-op reruns, check mode; mitogen vs linear.

A measurement, not a test (issue 9, "fast no-op runs"). On a private strict moto server with its
recorder on, from the repository root:

    .venv/bin/python bench/bench_runs.py [--port 4690] [--output bench/RESULTS.md]

1. empties the emulator and converges both regions (mitogen's strategy, as ansible.cfg sets);
2. with each strategy (mitogen_linear, then Ansible's linear): a no-op rerun of one region, of
   both, and check mode of both; each whole ansible-playbook process is timed (wall, and CPU of
   the process tree from wait4);
3. counts the API calls of the runs by kind (recorder), and the 10 slowest tasks of the
   no-op rerun of both regions (ansible.posix.json durations);
4. writes a Markdown report with the machine's details.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from support.recorder import Recorder  # noqa: E402

from scripts import emulator  # noqa: E402

PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
STRATEGIES = ("mitogen_linear", "linear")


@dataclass
class Run:
    name: str
    strategy: str
    wall: float
    cpu: float
    rc: int
    changed: int
    reads: int
    writes: int
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    output: dict[str, Any] = field(default_factory=dict)


def run_site(endpoint: str, name: str, strategy: str, *args: str) -> Run:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_STRATEGY": strategy,
        "ANSIBLE_NOCOLOR": "1",
    }
    recorder = Recorder(endpoint)
    recorder.start()
    start = time.monotonic()
    with (
        open(os.devnull, "w") as devnull,
        subprocess.Popen(
            [PLAYBOOK, "site.yml", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=devnull,
            text=True,
        ) as proc,
    ):
        stdout = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    calls = recorder.stop()
    output = json.loads(stdout[stdout.index("{") :]) if "{" in stdout else {}
    changed = sum(s.get("changed", 0) for s in output.get("stats", {}).values())
    return Run(
        name=name,
        strategy=strategy,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rc=proc.returncode,
        changed=changed,
        reads=sum(c.read_only for c in calls),
        writes=sum(not c.read_only for c in calls),
        calls=collections.Counter(f"{c.service}:{c.operation}" for c in calls),
        output=output,
    )


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

    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu}, {os.cpu_count()} cores;"
        f" load average (1 min) at the end of the runs {os.getloadavg()[0]:.2f}",
        f"- Python {platform.python_version()}, ansible-core {version('ansible-core')}, "
        f"mitogen {version('mitogen')}, moto {version('moto')}",
    ]


def report(runs: list[Run], converge: Run) -> str:
    lines = ["# Whole-site runs on the emulator (bench/bench_runs.py)", "", *machine(), ""]
    lines += [
        "| run | strategy | wall s | CPU s | rc | changed | reads | writes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in [converge, *runs]:
        lines.append(
            f"| {r.name} | {r.strategy} | {r.wall:.1f} | {r.cpu:.1f} | {r.rc} | {r.changed}"
            f" | {r.reads} | {r.writes} |"
        )
    by = {(r.name, r.strategy): r for r in runs}
    lines += ["", "Ratios (linear / mitogen; both regions / one region):", ""]
    for name in ("no-op rerun, both regions", "check mode, both regions"):
        fast, slow = by[(name, "mitogen_linear")], by[(name, "linear")]
        lines.append(f"- {name}: wall {slow.wall / fast.wall:.2f}x, CPU {slow.cpu / fast.cpu:.2f}x")
    for strategy in STRATEGIES:
        both, one = by[("no-op rerun, both regions", strategy)], by[("no-op rerun, us-east-1", strategy)]
        lines.append(f"- {strategy}: both regions take {both.wall / one.wall:.2f}x one region (wall)")
    rerun = by[("no-op rerun, both regions", "mitogen_linear")]
    lines += ["", "API calls of the no-op rerun of both regions, by kind (top 15):", ""]
    lines += [f"- {kind}: {n}" for kind, n in rerun.calls.most_common(15)]
    lines += ["", "The 10 slowest tasks of that rerun (longest host):", ""]
    lines += [f"- {seconds:.1f} s {name}" for seconds, name in slowest_tasks(rerun.output)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=4690)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    started = emulator.start(args.port, record=True, strict=True)
    endpoint = f"http://127.0.0.1:{args.port}"
    try:
        emulator.reset(args.port)
        converge = run_site(endpoint, "first converge, both regions", "mitogen_linear")
        if converge.rc != 0:
            raise SystemExit(f"the first converge failed (rc {converge.rc})")
        runs = []
        for strategy in STRATEGIES:
            runs.append(run_site(endpoint, "no-op rerun, us-east-1", strategy, "--limit", "us-east-1"))
            runs.append(run_site(endpoint, "no-op rerun, both regions", strategy))
            runs.append(run_site(endpoint, "check mode, both regions", strategy, "--check"))
            print(f"bench: {strategy} done", flush=True)
    finally:
        if started:
            emulator.stop(args.port)
    text = report(runs, converge)
    args.output.write_text(text)
    print(text)
    return 0 if all(r.rc == 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
