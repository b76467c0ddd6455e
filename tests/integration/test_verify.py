"""playbooks/verify.yml on the session's converged emulator (both regions): every control passes
(the checkout's inventory has the confirmed alarm subscriber CIS 4.x's audit asks for); the
exemptions are reported with their reasons.

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
    "BASELINE.CloudTrail.2",
    "BASELINE.CloudTrail.3",
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


CIS = {f"CIS 4.{n}" for n in range(1, 16)}


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
    assert by_status(report, "fail") == set()
    evidence = {(r["control_id"], r["region"]): r["evidence"] for r in records}
    for control_id in CIS:
        (cis,) = evidence[(control_id, HOME)].values()
        # The inventory's subscriber (inventories/local/group_vars/all.yml), confirmed by the emulator.
        assert cis["topic_confirmed_subscriptions"] == 1, cis
        # Everything else CIS's audit asks for holds: the pattern has CIS v3.0.0's terms, the alarm.
        assert cis["pattern_as_cis"] and cis["pattern_missing_terms"] == [], cis
        assert cis["alarm_on_metric"] and cis["alarm_actions_enabled"], cis
    # not_applicable: the account-wide controls outside the home region -- nothing else.
    assert by_status(report, "not_applicable") == {(c, "us-west-1") for c in ACCOUNT_WIDE}
    # The one-line summary is printed, once.
    assert [m.split(" (reports:")[0] for m in task_messages(run, "Summary")] == [report["summary"]["line"]]
    assert report["summary"]["line"].startswith("verify: 2 account/regions, ")
    html = (tmp_path / "verify.html").read_text()
    assert "<script" in html and "http://" not in html and "https://" not in html
    # Reads only.
    writes = [str(call) for call in run.calls if not call.read_only]
    assert not writes, writes
    # Evidence is what was read. S3.9 on every bucket: the data bucket and (home region) the trail
    # bucket log to the region's log bucket, which is exempt (it would log its own deliveries).
    exempted = {(r["control_id"], r["region"]): r["exempted"] for r in records if r["exempted"]}
    for region in ("us-east-1", "us-west-1"):
        s3_9 = evidence[("S3.9", region)]
        logs, data = (f"{PREFIX}-{kind}-{ACCOUNT}-{region}" for kind in ("logs", "data"))
        assert s3_9[data]["ok"] and s3_9[data]["target_bucket"] == logs and s3_9[data]["as_defined"]
        assert s3_9[logs]["ok"] is False and s3_9[logs]["exempt"]
        assert set(exempted[("S3.9", region)]) == {logs}
    trail_bucket = f"{PREFIX}-trail-{ACCOUNT}-{HOME}"
    assert evidence[("S3.9", HOME)][trail_bucket] == {
        "ok": True,
        "target_bucket": f"{PREFIX}-logs-{ACCOUNT}-{HOME}",
        "target_prefix": "s3-access/trail/",
        "expected": f"{PREFIX}-logs-{ACCOUNT}-{HOME}/s3-access/trail/",
        "as_defined": True,
    }
    assert trail_bucket not in evidence[("S3.9", "us-west-1")]
    # Lambda.3: key_rotation runs outside the VPC by design: exempt, and reported so.
    rotation = f"{PREFIX}-{HOME}-key_rotation"
    assert evidence[("Lambda.3", HOME)][rotation]["ok"] is False
    assert set(exempted[("Lambda.3", HOME)]) == {rotation}
    assert ("Lambda.3", "us-west-1") not in exempted
    data_bucket = f"{PREFIX}-data-{ACCOUNT}-us-west-1"
    trail = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{PREFIX}-trail"
    assert f"arn:aws:s3:::{data_bucket}" in evidence[("BASELINE.CloudTrail.2", HOME)][trail]["buckets"]
