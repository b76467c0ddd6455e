"""playbooks/verify.yml on the session's converged emulator (both regions): every control passes.

Read-only (the recorder proves it), so it shares that emulator with the other tests. The
breakages are in test_verify_breakages.py (their own emulator).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import Emulator, PlaybookRun

ACCOUNT = "123456789012"
HOME = "us-east-1"
PREFIX = "secureinfra"

# Evaluated in the home region only (account-wide), not_applicable in the others.
ACCOUNT_WIDE = {
    "S3.1",
    "IAM.7",
    "IAM.3",
    "CloudTrail.1",
    "CloudTrail.2",
    "CloudTrail.3",
    "CloudTrail.4",
    "CloudTrail.5",
    "S3.22",
    "S3.23",
    "BASELINE.CloudTrail.1",
    *(f"CIS 4.{n}" for n in range(1, 16)),
}


def verify(emulator: Emulator, report_dir: Path, **kwargs: Any) -> tuple[PlaybookRun, dict[str, Any]]:
    extra_vars = {"verify_report_dir": str(report_dir), **kwargs.pop("extra_vars", {})}
    run = emulator.run_playbook(playbook="playbooks/verify.yml", extra_vars=extra_vars, **kwargs)
    report = json.loads((report_dir / "verify.json").read_text())
    return run, report


def task_messages(run: PlaybookRun, name: str) -> list[str]:
    """The msg of every result of the tasks called `name`."""
    return [
        str(result.get("msg", ""))
        for play in run.output.get("plays", [])
        for task in play.get("tasks", [])
        if task["task"]["name"].split(" : ")[-1] == name  # "<role> : <name>"
        for result in task.get("hosts", {}).values()
    ]


def by_status(report: dict[str, Any], status: str) -> set[tuple[str, str]]:
    return {(r["control_id"], r["region"]) for r in report["records"] if r["status"] == status}


def test_converged_baseline_passes_every_control(
    converged: PlaybookRun, main_emulator: Emulator, tmp_path: Path
):
    run, report = verify(main_emulator, tmp_path)
    assert run.rc == 0, run.stderr
    records = report["records"]
    regions = {r["region"] for r in records}
    assert regions == {"us-east-1", "us-west-1"}
    assert {r["account"] for r in records} == {ACCOUNT}
    per_region = {region: [r["control_id"] for r in records if r["region"] == region] for region in regions}
    # The same controls, once each, in every region (a rectangular matrix).
    assert per_region["us-east-1"] == per_region["us-west-1"]
    assert len(set(per_region["us-east-1"])) == len(per_region["us-east-1"]) >= 50
    assert not by_status(report, "fail")
    # not_applicable: the account-wide controls outside the home region, and the subscriber control
    # (the converged baseline has no monitoring_subscriptions) -- nothing else.
    assert by_status(report, "not_applicable") == {(c, "us-west-1") for c in ACCOUNT_WIDE} | {
        ("BASELINE.SNS.2", "us-east-1"),
        ("BASELINE.SNS.2", "us-west-1"),
    }
    # The one-line summary is printed, once.
    assert [m.split(" (reports:")[0] for m in task_messages(run, "Summary")] == [report["summary"]["line"]]
    assert report["summary"]["line"].startswith("verify: 2 account/regions, ")
    html = (tmp_path / "verify.html").read_text()
    assert "<script" in html and "http://" not in html and "https://" not in html
    # Reads only.
    writes = [str(call) for call in run.calls if not call.read_only]
    assert not writes, writes
    # Evidence is what was read: the data bucket's logging target, the trail's data-event buckets.
    evidence = {(r["control_id"], r["region"]): r["evidence"] for r in records}
    data_bucket = f"{PREFIX}-data-{ACCOUNT}-us-west-1"
    assert (
        evidence[("S3.9", "us-west-1")][data_bucket]["target_bucket"] == f"{PREFIX}-logs-{ACCOUNT}-us-west-1"
    )
    trail = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{PREFIX}-trail"
    assert f"arn:aws:s3:::{data_bucket}" in evidence[("S3.22", HOME)][trail]["buckets"]
