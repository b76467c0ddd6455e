"""Run the drift playbook (playbooks/drift.yml) against an emulator, as `make drift` does.

The run uses Ansible's text output (the report is printed after the play recap) and writes
drift.json and drift.xml into its own directory; the emulator's recorder lists every request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.recorder import Call, Recorder

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
BANNER = "DRIFT REPORT"


@dataclass
class DriftRun:
    rc: int
    out: str
    err: str
    data: dict[str, Any] | None
    xml: ET.Element | None
    calls: list[Call] = field(default_factory=list)

    @property
    def status(self) -> str | None:
        return self.data["status"] if self.data else None

    @property
    def report(self) -> list[str]:
        """The report's lines as printed after the play recap (without its banner and last line)."""
        lines = self.out.splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith(BANNER)), None)
        if start is None:
            return []
        report = []
        for line in lines[start + 1 :]:
            if line.startswith("drift: "):
                break
            report.append(line)
        return report

    def drift_lines(self) -> list[str]:
        """The findings, one per line: `- <task> [item] (resources): message`."""
        return [line.strip() for line in self.report if line.strip().startswith("- ")]

    def __str__(self) -> str:
        return f"rc {self.rc}\n{self.err[-3000:]}\n{self.out[-6000:]}"


def run_drift(endpoint: str, report_dir: Path, *args: str, record: bool = True) -> DriftRun:
    """`ansible-playbook playbooks/drift.yml [args]` from the checkout, its reports in report_dir."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "ANSIBLE_STDOUT_CALLBACK"},
        "AWS_ENDPOINT_URL": endpoint,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DRIFT_REPORT_DIR": str(report_dir),
    }
    recorder = Recorder(endpoint) if record else None
    if recorder:
        recorder.start()
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "playbooks/drift.yml", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    calls = recorder.stop() if recorder else []
    return read_reports(proc.returncode, proc.stdout, proc.stderr, report_dir, calls)


def read_reports(rc: int, out: str, err: str, report_dir: Path, calls: list[Call] | None = None) -> DriftRun:
    json_path, xml_path = report_dir / "drift.json", report_dir / "drift.xml"
    data = json.loads(json_path.read_text()) if json_path.exists() else None
    xml = ET.parse(xml_path).getroot() if xml_path.exists() else None
    return DriftRun(rc, out, err, data, xml, calls or [])
