"""The drift playbook (playbooks/drift.yml, secureinfra.baseline.drift) names the region, and the
setting, that no longer match the definition: in its printed report, drift.json and the JUnit
drift.xml. It runs in check mode by itself (no --check): reads only, the recorder proves it."""

from __future__ import annotations

from pathlib import Path

from support.drift import run_drift
from support.recorder import mutating

ACCOUNT = "123456789012"
TAGS = ("--tags", "encryption,network_endpoints,storage")
BUCKET = f"secureinfra-data-{ACCOUNT}-us-west-1"


def test_drift_in_one_region_is_reported_for_that_region_only(
    fresh_run_playbook, fresh_aws, fresh_emulator, tmp_path: Path
) -> None:
    run = fresh_run_playbook(*TAGS)
    assert run.rc == 0, run.stderr
    in_line = run_drift(fresh_emulator.endpoint, tmp_path / "in-line", *TAGS)
    assert in_line.rc == 0, in_line
    assert in_line.status == "in_line", in_line
    assert in_line.report == [
        f"account {ACCOUNT}: 0 of 2 region(s) drift",
        "  us-east-1: in line with the definition",
        "  us-west-1: in line with the definition",
    ]
    assert mutating(in_line.calls) == []

    fresh_aws("s3", "us-west-1").put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"}
    )
    drifted = run_drift(fresh_emulator.endpoint, tmp_path / "drifted", *TAGS)
    # Ansible's "a task failed": the last play fails, naming the account x region that drifts.
    assert drifted.rc == 2, drifted
    assert f"1 account x region(s) drift: us-west-1 in account {ACCOUNT}" in drifted.out, drifted
    assert mutating(drifted.calls) == [], "the dry run wrote"
    # The run was in check mode with diffs, without --check or --diff on the command line.
    assert "-        versioning: Suspended" in drifted.out and "+        versioning: Enabled" in drifted.out

    report = drifted.report
    assert report[:3] == [
        f"account {ACCOUNT}: 1 of 2 region(s) drift",
        "  us-east-1: in line with the definition",
        "  us-west-1: 1 drift(s)",
    ]
    assert len(drifted.drift_lines()) == 1
    assert f"{BUCKET}: would update versioning" in drifted.drift_lines()[0]
    assert "storage : Buckets, log bucket first" in drifted.drift_lines()[0]
    assert "the dry run failed" not in drifted.out + drifted.err

    data = drifted.data
    assert data is not None and data["status"] == "drift"
    assert data["summary"] == {"account_regions": 2, "in_line": 1, "drift": 1, "failed": 0, "drifts": 1}
    places = {(e["account"], e["region"]): e for e in data["account_regions"]}
    assert places[(ACCOUNT, "us-east-1")]["status"] == "in_line"
    west = places[(ACCOUNT, "us-west-1")]
    assert west["status"] == "drift" and west["hosts"] == ["us-west-1"]
    assert [d["host"] for d in west["drifts"]] == ["us-west-1"]
    assert f"{BUCKET}: would update versioning" in west["drifts"][0]["drift"]

    xml = drifted.xml
    assert xml is not None and xml.tag == "testsuites"
    assert (xml.get("tests"), xml.get("failures"), xml.get("errors")) == ("2", "1", "0")
    (suite,) = xml.findall("testsuite")
    assert suite.get("name") == f"account {ACCOUNT}"
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert sorted(cases) == ["us-east-1", "us-west-1"]
    assert cases["us-east-1"].find("failure") is None
    failure = cases["us-west-1"].find("failure")
    assert failure is not None and failure.get("message") == "1 drift(s)"
    assert f"{BUCKET}: would update versioning" in (failure.text or "")
