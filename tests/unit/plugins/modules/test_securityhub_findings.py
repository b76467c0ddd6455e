"""secureinfra.baseline.securityhub_findings against in-process moto (BatchImportFindings, GetFindings)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import securityhub_findings as mod
from support.security_moto import security_services_moto

REGION = "us-east-1"
ACCOUNT = "123456789012"


def record(control_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "control_id": control_id,
        "title": f"title of {control_id}",
        "service": "EC2",
        "related": ["CIS 3.7"],
        "account": ACCOUNT,
        "region": REGION,
        "status": status,
        "evidence": {"vpc": {"ok": status == "pass"}},
        **extra,
    }


@pytest.fixture
def hub(aws: None) -> Iterator[Any]:
    with security_services_moto():
        client = boto3.client("securityhub", region_name=REGION)
        client.enable_security_hub(EnableDefaultStandards=False)
        yield client


def findings(client: Any) -> dict[str, dict[str, Any]]:
    return {f["Id"]: f for f in client.get_findings()["Findings"]}


def test_imports_one_finding_per_control_then_nothing_on_a_rerun(hub, run_module, calls):
    records = [
        record("EC2.6", "pass"),
        record("EC2.2", "fail"),
        record("BASELINE.GuardDuty.1", "not_applicable"),
    ]
    result = run_module(mod, {"records": records})
    assert (result["changed"], result["imported"], result["unchanged"]) == (True, 3, 0)
    found = findings(hub)
    failed = found[f"secureinfra.baseline/{ACCOUNT}/{REGION}/EC2.2"]
    assert failed["Compliance"] == {"Status": "FAILED", "RelatedRequirements": ["EC2.2", "CIS 3.7"]}
    assert failed["Severity"] == {"Label": "MEDIUM"}
    assert failed["ProductArn"] == f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    assert failed["Resources"][0]["Id"] == f"AWS::::Account:{ACCOUNT}"
    assert (
        found[f"secureinfra.baseline/{ACCOUNT}/{REGION}/BASELINE.GuardDuty.1"]["Compliance"]["Status"]
        == "NOT_AVAILABLE"
    )

    calls.clear()
    again = run_module(mod, {"records": records})
    assert (again["changed"], again["imported"], again["unchanged"]) == (False, 0, 3)
    assert "BatchImportFindings" not in calls


def test_a_changed_status_is_imported_again_keeping_created_at(hub, run_module):
    run_module(mod, {"records": [record("EC2.6", "fail")]})
    created = findings(hub)[f"secureinfra.baseline/{ACCOUNT}/{REGION}/EC2.6"]["CreatedAt"]
    result = run_module(mod, {"records": [record("EC2.6", "pass")]}, diff=True)
    assert result["imported"] == 1
    assert result["diff"] == {
        "before": {f"secureinfra.baseline/{ACCOUNT}/{REGION}/EC2.6": "FAILED"},
        "after": {f"secureinfra.baseline/{ACCOUNT}/{REGION}/EC2.6": "PASSED"},
    }
    finding = findings(hub)[f"secureinfra.baseline/{ACCOUNT}/{REGION}/EC2.6"]
    assert finding["Compliance"]["Status"] == "PASSED" and finding["CreatedAt"] == created


def test_check_mode_counts_and_imports_nothing(hub, run_module, calls):
    result = run_module(mod, {"records": [record("EC2.6", "pass")]}, check_mode=True)
    assert (result["changed"], result["imported"]) == (True, 1)
    assert "BatchImportFindings" not in calls
    assert findings(hub) == {}


def test_security_hub_disabled_fails_with_what_to_do(aws, run_module):
    with security_services_moto():
        result = run_module(mod, {"records": [record("EC2.6", "pass")]}, expect_failure=True)
    assert "Security Hub is not enabled" in result["msg"]


def test_bad_records_are_refused_before_any_call(aws, run_module, calls):
    result = run_module(mod, {"records": [record("EC2.6", "passed")]}, expect_failure=True)
    assert "must be pass, fail or not_applicable" in result["msg"]
    assert calls == []


def test_records_of_another_region_are_refused(hub, run_module):
    result = run_module(mod, {"records": [record("EC2.6", "pass", region="us-west-1")]}, expect_failure=True)
    assert "of this region" in result["msg"]
