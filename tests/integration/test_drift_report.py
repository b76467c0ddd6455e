"""The drift report names the region, and the setting, that no longer match the definition."""

from __future__ import annotations

from scripts import drift_report

ACCOUNT = "123456789012"
TAGS = ("--tags", "encryption,network_endpoints,storage")


def test_drift_in_one_region_is_reported_for_that_region_only(
    fresh_run_playbook, fresh_aws, fresh_emulator, monkeypatch, capsys
) -> None:
    run = fresh_run_playbook(*TAGS)
    assert run.rc == 0, run.stderr
    monkeypatch.setenv("AWS_ENDPOINT_URL", fresh_emulator.endpoint)
    assert drift_report.main(list(TAGS)) == 0
    assert "us-east-1: in line with the definition" in capsys.readouterr().out

    fresh_aws("s3", "us-west-1").put_bucket_versioning(
        Bucket=f"secureinfra-data-{ACCOUNT}-us-west-1", VersioningConfiguration={"Status": "Suspended"}
    )
    assert drift_report.main(list(TAGS)) == 2
    out = capsys.readouterr().out
    assert "us-east-1: in line with the definition" in out
    assert "us-west-1: 1 drift(s)" in out
    assert f"secureinfra-data-{ACCOUNT}-us-west-1: would update versioning" in out
