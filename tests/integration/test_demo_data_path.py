"""The demo's data path: the deployed functions' code and configuration, under their roles,
against the emulator; and the demo's command line (exit status, per-region count)."""

from __future__ import annotations

import json

import pytest
from conftest import REGIONS

from scripts import demo_data_path

ACCOUNT = "123456789012"


@pytest.mark.parametrize("region", REGIONS)
def test_sample_object_flows_through_processor_and_analytics(
    converged, aws, endpoint, monkeypatch, region
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    runner = demo_data_path.Runner(endpoint)
    result = demo_data_path.run_region(region, "secureinfra", ACCOUNT, runner)
    assert runner.authorizer.denied == []
    assert runner.authorizer.calls[region] >= 4  # GetObject, BatchWriteItem, PutObject, Scan, ...

    assert result["counts"] == {"objects": 1, "records": 14, "written": 12, "rejected": 2}
    items = aws("dynamodb", region).scan(TableName="secureinfra-data")["Items"]
    assert {i["id"]["S"] for i in items} == {f"{region}-sensor-{n}" for n in range(4)}
    assert len(items) == 12

    s3 = aws("s3", region)
    bucket = f"secureinfra-data-{ACCOUNT}-{region}"
    rejected = s3.get_object(Bucket=bucket, Key="quarantine/demo-sample.jsonl.rejected.jsonl")["Body"].read()
    lines = [json.loads(line) for line in rejected.splitlines()]
    assert [line["line"] for line in lines] == [6, 9]

    report = json.loads(s3.get_object(Bucket=bucket, Key=result["analytics"]["report_key"])["Body"].read())
    assert report["item_count"] == 12
    assert report["value"]["sum"] == 99
    assert result["analytics"]["report_key"].startswith("reports/")


def test_demo_prints_calls_authorized_per_region(converged, endpoint, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert demo_data_path.main([]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    counts = [line for line in lines if " calls authorized " in line]
    assert [line.split(":")[0] for line in counts] == list(REGIONS)
    assert all(int(line.split()[1]) > 0 for line in counts)
