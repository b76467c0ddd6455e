"""Integration fixtures: private moto servers with their recorders, and playbook runs.

Both run in strict mode (scripts/strict_aws.py, its default delays of a few seconds): what a
real account refuses fails the converge here too.
- `converged`: one server (port 4610, or TEST_EMULATOR_PORT) reset once, then converged with
  site.yml for the whole session; tests read its state and must not change it.
- `fresh_run_playbook`: a second server (that port + 1), reset before each use, for runs that
  need an empty account (a dry run on a new account, say).
Both have the same moto additions as `make emulator`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from support.recorder import Call, Recorder

from scripts import emulator

REPO_ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("TEST_EMULATOR_PORT", "4610"))
ENDPOINT = f"http://127.0.0.1:{PORT}"
REGIONS = ("us-east-1", "us-west-1")
ANSIBLE_PLAYBOOK = str(Path(os.sys.executable).parent / "ansible-playbook")


def failed_results(output: dict[str, Any]) -> list[dict[str, Any]]:
    """Every failed task result (and failed loop item) of a run's JSON output, in order."""
    return [
        item
        for play in output.get("plays", [])
        for task in play.get("tasks", [])
        for result in task.get("hosts", {}).values()
        for item in [result, *result.get("results", [])]
        if item.get("failed")
    ]


def first_failures_offline(hosts: dict[str, dict[str, Any]], tmp_path: Path) -> dict[str, str]:
    """Run the site on an inventory of `hosts` with no emulator (the endpoint is a port where nothing
    listens, so any AWS call fails with a connection error); the run must fail. Returns each failed
    host's first failure, "<task>: <msg>"."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"regions": {"hosts": hosts}}))
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
    }
    credentials = ["-e", "baseline_aws_access_key=testing", "-e", "baseline_aws_secret_key=testing"]
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "site.yml", "-i", str(inventory), *credentials],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode != 0
    output = json.loads(proc.stdout[proc.stdout.index("{") :])
    first: dict[str, str] = {}
    for play in output["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed"):
                    first.setdefault(host, f"{task['task']['name']}: {result.get('msg', '')}")
    return first


@dataclass
class PlaybookRun:
    rc: int
    stats: dict[str, dict[str, int]]
    output: dict[str, Any]
    stderr: str
    calls: list[Call] = field(default_factory=list)

    def changed(self, host: str) -> int:
        return self.stats.get(host, {}).get("changed", 0)

    def failed_messages(self) -> list[str]:
        """The msg of every failed task result (and failed loop item), in order."""
        return [
            f"{item.get('msg', '')} {json.dumps(item.get('argument_errors', ''))}"
            for item in failed_results(self.output)
        ]

    def changed_tasks(self) -> list[str]:
        names = []
        for play in self.output.get("plays", []):
            for task in play.get("tasks", []):
                for host, result in task.get("hosts", {}).items():
                    if result.get("changed"):
                        names.append(f"{host}: {task['task']['name']}")
        return names


class Emulator:
    def __init__(self, port: int, strict: bool = False) -> None:
        self.port = port
        self.strict = strict
        self.endpoint = f"http://127.0.0.1:{port}"
        self.recording = REPO_ROOT / ".emulator" / f"recording-{port}.jsonl"
        self.started: int | None = None

    def __enter__(self) -> Emulator:
        self.started = emulator.start(
            self.port, record=True, recording_path=self.recording, strict=self.strict
        )
        emulator.reset(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            emulator.stop(self.port)

    def run_playbook(
        self,
        *args: str,
        check: bool = False,
        limit: str | None = None,
        extra_vars: dict[str, Any] | None = None,
        playbook: str = "site.yml",
    ) -> PlaybookRun:
        cmd = [ANSIBLE_PLAYBOOK, playbook, *args]
        if check:
            cmd += ["--check", "--diff"]
        if limit:
            cmd += ["--limit", limit]
        if extra_vars:
            cmd += ["--extra-vars", json.dumps(extra_vars)]
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": self.endpoint,
            "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_NOCOLOR": "1",
        }
        recorder = Recorder(self.endpoint)
        recorder.start()
        proc = subprocess.run(
            cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1200, check=False
        )
        calls = recorder.stop()
        try:
            output = json.loads(proc.stdout[proc.stdout.index("{") :])
        except ValueError:
            output = {}
        return PlaybookRun(
            proc.returncode, output.get("stats", {}), output, proc.stderr + proc.stdout[-4000:], calls
        )


@pytest.fixture(scope="session")
def main_emulator() -> Iterator[Emulator]:
    with Emulator(PORT, strict=True) as server:
        yield server


@pytest.fixture(scope="session")
def endpoint(main_emulator: Emulator) -> str:
    return main_emulator.endpoint


@pytest.fixture(scope="session")
def run_playbook(main_emulator: Emulator) -> Callable[..., PlaybookRun]:
    return main_emulator.run_playbook


@pytest.fixture(scope="session")
def converged(main_emulator: Emulator) -> PlaybookRun:
    """The baseline converged once, in both regions, on the main emulator."""
    run = main_emulator.run_playbook()
    assert run.rc == 0, run.stderr
    return run


@pytest.fixture(scope="session")
def fresh_emulator() -> Iterator[Emulator]:
    with Emulator(PORT + 1, strict=True) as server:
        yield server


@pytest.fixture
def fresh_run_playbook(fresh_emulator: Emulator) -> Callable[..., PlaybookRun]:
    """Run a playbook against an emptied second emulator."""
    emulator.reset(fresh_emulator.port)
    return fresh_emulator.run_playbook


def _clients(endpoint: str) -> Callable[..., Any]:
    def _client(service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return _client


@pytest.fixture(scope="session")
def aws(endpoint: str) -> Callable[..., Any]:
    """boto3 clients against the main emulator: aws('s3', 'us-west-1')."""
    return _clients(endpoint)


@pytest.fixture(scope="session")
def fresh_aws(fresh_emulator: Emulator) -> Callable[..., Any]:
    """boto3 clients against the second emulator."""
    return _clients(fresh_emulator.endpoint)
