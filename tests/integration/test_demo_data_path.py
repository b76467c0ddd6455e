"""The demo's data path: the deployed functions' code and configuration, against the emulator."""

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
    result = demo_data_path.run_region(region, "secureinfra", ACCOUNT)

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
