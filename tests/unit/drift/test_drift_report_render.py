"""The drift report groups its findings per account, then per region, from ansible.posix.json output."""

from __future__ import annotations

from typing import Any

import pytest

from scripts import drift_report


def _result(**kw: Any) -> dict[str, Any]:
    return {"changed": False, **kw}


def _facts(account: str, region: str) -> dict[str, Any]:
    return _result(ansible_facts={"preflight_account_id": account, "preflight_region": region})


OUTPUT = {
    "stats": {h: {"ok": 3} for h in ("dev-us-east-1", "dev-us-west-1", "prod-us-east-1", "us-west-1")},
    "plays": [
        {
            "tasks": [
                {
                    "task": {"name": "Record the account and partition"},
                    "hosts": {
                        "dev-us-east-1": _facts("111111111111", "us-east-1"),
                        "dev-us-west-1": _facts("111111111111", "us-west-1"),
                        "prod-us-east-1": _facts("222222222222", "us-east-1"),
                    },
                },
                {
                    "task": {"name": "Bucket settings"},
                    "hosts": {
                        "dev-us-west-1": _result(changed=True, msg="would update versioning"),
                        "prod-us-east-1": _result(
                            results=[_result(item={"name": "b1"}), _result(changed=True, item={"name": "b2"})]
                        ),
                        "dev-us-east-1": _result(),
                    },
                },
            ]
        }
    ],
}


def test_findings_are_grouped_per_account_then_region() -> None:
    lines = drift_report.render(drift_report.drift(OUTPUT), drift_report.places(OUTPUT))
    assert lines == [
        "account 111111111111: 1 of 2 region(s) drift",
        "  dev-us-east-1 (us-east-1): in line with the definition",
        "  dev-us-west-1 (us-west-1): 1 drift(s)",
        "    - Bucket settings: would update versioning",
        "account 222222222222: 1 of 1 region(s) drift",
        "  prod-us-east-1 (us-east-1): 1 drift(s)",
        "    - Bucket settings [b2]",
        "account unknown (no STS answer): 0 of 1 region(s) drift",
        "  us-west-1: in line with the definition",
    ]


def test_exit_status_two_on_drift_one_on_failure_zero_when_in_line(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(drift_report, "run_check", lambda args: OUTPUT)
    assert drift_report.main([]) == 2
    in_line = {
        "stats": {"us-east-1": {"ok": 1}},
        "plays": [
            {"tasks": [{"task": {"name": "x"}, "hosts": {"us-east-1": _facts("123456789012", "us-east-1")}}]}
        ],
    }
    monkeypatch.setattr(drift_report, "run_check", lambda args: in_line)
    assert drift_report.main([]) == 0
    assert "  us-east-1: in line with the definition" in capsys.readouterr().out
    failed = {**in_line, "stats": {"us-east-1": {"ok": 1, "failures": 1}}}
    monkeypatch.setattr(drift_report, "run_check", lambda args: failed)
    assert drift_report.main([]) == 1


def test_list_modules_name_the_resources_that_drift() -> None:
    queues = _result(
        changed=True,
        queues=[
            {"name": "p-dlq", "changed": False},
            {"name": "a-dlq", "changed": True, "queue_url": "https://sqs/a-dlq"},
        ],
    )
    alarms = _result(changed=True, created=["cis-4.1"], updated=["s3-4xx"], tagged=["s3-4xx"], deleted=[])
    concurrency = _result(changed=True, functions=[{"function_name": "fn-processor", "changed": True}])
    output = {
        "stats": {"h": {"ok": 3}},
        "plays": [
            {
                "tasks": [
                    {"task": {"name": "Queues"}, "hosts": {"h": queues}},
                    {"task": {"name": "Alarms"}, "hosts": {"h": alarms}},
                    {"task": {"name": "Concurrency"}, "hosts": {"h": concurrency}},
                    {
                        "task": {"name": "Warnings only"},
                        "hosts": {"h": _result(changed=True, warnings=["x"])},
                    },
                ]
            }
        ],
    }
    assert drift_report.drift(output) == {
        "h": ["Queues (a-dlq)", "Alarms (cis-4.1, s3-4xx)", "Concurrency (fn-processor)", "Warnings only"]
    }


def test_zipped_loop_items_and_long_messages() -> None:
    zipped = _result(
        results=[_result(changed=True, item=[{"name": "processor", "vpc": True}, {"dest": "/tmp/p.zip"}])]
    )
    labelled = _result(results=[_result(changed=True, item={"x": 1}, _ansible_item_label="analytics")])
    long = _result(changed=True, msg="would update " + "x" * 700)
    output = {
        "stats": {"h": {"ok": 3}},
        "plays": [
            {
                "tasks": [
                    {"task": {"name": "Function"}, "hosts": {"h": zipped}},
                    {"task": {"name": "Schedule"}, "hosts": {"h": labelled}},
                    {"task": {"name": "Network"}, "hosts": {"h": long}},
                ]
            }
        ],
    }
    lines = drift_report.drift(output)["h"]
    assert lines[:2] == ["Function [processor]", "Schedule [analytics]"]
    assert lines[2].startswith("Network: would update xxx") and lines[2].endswith("...")
    assert len(lines[2]) == len("Network: ") + drift_report.MAX_MESSAGE + 3
