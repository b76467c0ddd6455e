"""Integration fixtures: a private moto server with its recorder, and playbook runs.

The server runs on its own port (default 4610, override with TEST_EMULATOR_PORT), with
the same moto additions as `make emulator`, and is reset between test modules.
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
from support.recorder import Call, Recorder

from scripts import emulator

REPO_ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("TEST_EMULATOR_PORT", "4610"))
ENDPOINT = f"http://127.0.0.1:{PORT}"
REGIONS = ("us-east-1", "us-west-1")
ANSIBLE_PLAYBOOK = str(Path(os.sys.executable).parent / "ansible-playbook")


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
        """The msg of every failed task result, in order."""
        messages = []
        for play in self.output.get("plays", []):
            for task in play.get("tasks", []):
                for result in task.get("hosts", {}).values():
                    if result.get("failed"):
                        messages.append(
                            str(result.get("msg", "")) + " " + json.dumps(result.get("argument_errors", ""))
                        )
        return messages

    def changed_tasks(self) -> list[str]:
        names = []
        for play in self.output.get("plays", []):
            for task in play.get("tasks", []):
                for host, result in task.get("hosts", {}).items():
                    if result.get("changed"):
                        names.append(f"{host}: {task['task']['name']}")
        return names


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    started = emulator.start(
        PORT, record=True, recording_path=REPO_ROOT / ".emulator" / f"recording-{PORT}.jsonl"
    )
    try:
        yield ENDPOINT
    finally:
        if started:
            emulator.stop(PORT)


@pytest.fixture(scope="module")
def fresh(endpoint: str) -> str:
    """A wiped emulator for this test module."""
    emulator.reset(PORT)
    return endpoint


@pytest.fixture(scope="session")
def run_playbook(endpoint: str) -> Callable[..., PlaybookRun]:
    recorder = Recorder(endpoint)

    def _run(
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
            "AWS_ENDPOINT_URL": endpoint,
            "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_NOCOLOR": "1",
        }
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

    return _run


@pytest.fixture(scope="session")
def aws(endpoint: str) -> Callable[..., Any]:
    """boto3 clients against the test emulator: aws('s3', 'us-west-1')."""

    def _client(service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return _client
