"""The callback secureinfra.baseline.drift_report: its labels, its grouping per account then region,
drift.json and the JUnit drift.xml (pure functions), and the class fed the events of a run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ansible_collections.secureinfra.baseline.plugins.callback import drift_report as dr

REPO_ROOT = Path(__file__).resolve().parents[3]


def _result(**kw: Any) -> dict[str, Any]:
    return {"changed": False, **kw}


def _facts(account: str, region: str) -> dict[str, Any]:
    return _result(ansible_facts={"preflight_account_id": account, "preflight_region": region})


HOSTS = ("dev-us-east-1", "dev-us-west-1", "prod-us-east-1", "us-west-1")
# Per task, per host, a result as the callback receives it.
RUN = [
    (
        "Record the account and partition",
        {
            "dev-us-east-1": _facts("111111111111", "us-east-1"),
            "dev-us-west-1": _facts("111111111111", "us-west-1"),
            "prod-us-east-1": _facts("222222222222", "us-east-1"),
        },
    ),
    (
        "Bucket settings",
        {
            "dev-us-west-1": _result(changed=True, msg="would update versioning"),
            "prod-us-east-1": _result(
                results=[_result(item={"name": "b1"}), _result(changed=True, item={"name": "b2"})]
            ),
            "dev-us-east-1": _result(),
        },
    ),
]


def collect(
    run: list[tuple[str, dict[str, dict[str, Any]]]], hosts: tuple[str, ...] = HOSTS
) -> tuple[dict[str, list[str]], dict[str, tuple[str, str]]]:
    """What the callback gathers from these results: the drift lines and the places, per host."""
    report: dict[str, list[str]] = {host: [] for host in hosts}
    where: dict[str, tuple[str, str]] = {}
    for task, results in run:
        for host, result in results.items():
            found = dr.place(result, host)
            if found:
                where[host] = found
            report.setdefault(host, []).extend(dr.drift_lines(task, result))
    return report, where


def test_findings_are_grouped_per_account_then_region() -> None:
    assert dr.render(*collect(RUN)) == [
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


def test_json_report_per_account_and_region_with_status() -> None:
    data = dr.report_data(*collect(RUN))
    assert data["status"] == "drift"
    assert data["summary"] == {"account_regions": 4, "in_line": 2, "drift": 2, "failed": 0, "drifts": 2}
    by_place = {(e["account"], e["region"]): e for e in data["account_regions"]}
    assert list(by_place) == [
        ("111111111111", "us-east-1"),
        ("111111111111", "us-west-1"),
        ("222222222222", "us-east-1"),
        (None, "us-west-1"),
    ]
    assert by_place[("111111111111", "us-west-1")] == {
        "account": "111111111111",
        "region": "us-west-1",
        "hosts": ["dev-us-west-1"],
        "status": "drift",
        "drifts": [{"host": "dev-us-west-1", "drift": "Bucket settings: would update versioning"}],
    }
    assert by_place[("111111111111", "us-east-1")]["status"] == "in_line"
    json.dumps(data)  # serialisable as it is


def test_status_failed_wins_over_drift_and_in_line_needs_both_absent() -> None:
    report, where = collect(RUN)
    failed = dr.report_data(report, where, failed=["dev-us-east-1"])
    assert failed["status"] == "failed"
    statuses = {e["region"] + "/" + str(e["account"]): e["status"] for e in failed["account_regions"]}
    assert statuses["us-east-1/111111111111"] == "failed"
    assert statuses["us-west-1/111111111111"] == "drift"
    in_line = dr.report_data({"us-east-1": []}, {"us-east-1": ("123456789012", "us-east-1")})
    assert in_line["status"] == "in_line" and in_line["summary"]["in_line"] == 1


def test_junit_xml_one_suite_per_account_one_case_per_region() -> None:
    report, where = collect(RUN)
    root = ET.fromstring(dr.junit_xml(dr.report_data(report, where, failed=["us-west-1"])))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "1")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == [
        "account 111111111111",
        "account 222222222222",
        "account unknown (no STS answer)",
    ]
    dev = suites["account 111111111111"]
    assert (dev.get("tests"), dev.get("failures"), dev.get("errors")) == ("2", "1", "0")
    cases = {case.get("name"): case for case in dev.findall("testcase")}
    assert list(cases) == ["dev-us-east-1 (us-east-1)", "dev-us-west-1 (us-west-1)"]
    assert cases["dev-us-east-1 (us-east-1)"].find("failure") is None
    failure = cases["dev-us-west-1 (us-west-1)"].find("failure")
    assert failure is not None and failure.get("message") == "1 drift(s)"
    assert failure.text == "- Bucket settings: would update versioning"
    assert cases["dev-us-west-1 (us-west-1)"].get("classname") == "drift.111111111111"
    error = suites["account unknown (no STS answer)"].find("testcase/error")
    assert error is not None and error.get("type") == "failed"


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
    run = [
        ("Queues", {"h": queues}),
        ("Alarms", {"h": alarms}),
        ("Concurrency", {"h": concurrency}),
        ("Warnings only", {"h": _result(changed=True, warnings=["x"])}),
    ]
    assert collect(run, ("h",))[0] == {
        "h": ["Queues (a-dlq)", "Alarms (cis-4.1, s3-4xx)", "Concurrency (fn-processor)", "Warnings only"]
    }


def test_each_orphan_is_a_drift_even_when_nothing_would_change() -> None:
    why = "carries ManagedBy=ansible, Project=p; not a lambda function the definition manages in us-west-1"
    orphan = {
        "kind": "lambda function",
        "name": "p-us-west-1-key_rotation",
        "arn": "arn:aws:lambda:us-west-1:111111111111:function:p-us-west-1-key_rotation",
        "region": "us-west-1",
        "why": why,
        "action": "reported",
    }
    role = {**orphan, "kind": "IAM role", "region": "global", "action": "would remove", "why": ""}
    reported = _result(
        orphans=[orphan], msg="1 orphan(s): lambda function p-us-west-1-key_rotation (reported)"
    )
    removing = _result(changed=True, orphans=[role], msg="1 orphan(s): IAM role ...")
    run = [
        ("Orphans", {"dev-us-west-1": reported, "dev-us-east-1": removing}),
        ("None left", {"prod-us-east-1": _result(orphans=[])}),
        ("Record the account and partition", RUN[0][1]),
    ]
    report, where = collect(run)
    assert report["dev-us-west-1"] == [
        "Orphans: orphan lambda function p-us-west-1-key_rotation (us-west-1, reported): carries "
        "ManagedBy=ansible, Project=p; not a lambda function the definition manages in us-west-1"
    ]
    # one line per orphan, not one more for the changed result that lists it
    assert report["dev-us-east-1"] == [
        "Orphans: orphan IAM role p-us-west-1-key_rotation (global, would remove)"
    ]
    assert report["prod-us-east-1"] == []
    data = dr.report_data(report, where, [])
    assert data["status"] == "drift"
    statuses = {(r["account"], r["region"]): r["status"] for r in data["account_regions"]}
    assert statuses[("111111111111", "us-west-1")] == "drift"
    assert statuses[("222222222222", "us-east-1")] == "in_line"
    assert dr.verdict(report, where)["drifting"]


def test_zipped_loop_items_and_long_messages() -> None:
    zipped = _result(
        results=[_result(changed=True, item=[{"name": "processor", "vpc": True}, {"dest": "/tmp/p.zip"}])]
    )
    labelled = _result(results=[_result(changed=True, item={"x": 1}, _ansible_item_label="analytics")])
    long = _result(changed=True, msg="would update " + "x" * 700)
    run = [("Function", {"h": zipped}), ("Schedule", {"h": labelled}), ("Network", {"h": long})]
    lines = collect(run, ("h",))[0]["h"]
    assert lines[:2] == ["Function [processor]", "Schedule [analytics]"]
    assert lines[2].startswith("Network: would update xxx") and lines[2].endswith("...")
    assert len(lines[2]) == len("Network: ") + dr.MAX_MESSAGE + 3


def test_verdict_names_the_drifting_account_regions() -> None:
    found = dr.verdict(*collect(RUN))
    assert found["status"] == "drift"
    assert found["drifting"] == [
        "dev-us-west-1 (us-west-1) in account 111111111111",
        "prod-us-east-1 (us-east-1) in account 222222222222",
    ]
    assert found["hosts"]["prod-us-east-1"] == {
        "account": "222222222222",
        "region": "us-east-1",
        "drifts": ["Bucket settings [b2]"],
    }
    assert dr.verdict({"h": []}, {})["status"] == "in_line"


# --- the class, fed the events of a run -------------------------------------------------------


class Play:
    def __init__(self, variables: dict[str, Any]) -> None:
        self.vars = dict(variables)

    def get_variable_manager(self) -> Any:
        return SimpleNamespace(get_vars=lambda play: dict(self.vars))

    def get_vars(self) -> dict[str, Any]:
        return dict(self.vars)

    def get_loader(self) -> Any:
        return None


class Task:
    def __init__(self, name: str) -> None:
        self._uuid = name
        self.name = name

    def get_name(self) -> str:
        return self.name


class Host:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_name(self) -> str:
        return self.name


class Stats:
    def __init__(self, counts: dict[str, dict[str, int]]) -> None:
        self.processed = dict.fromkeys(counts, 1)
        self.counts = counts

    def summarize(self, host: str) -> dict[str, int]:
        return self.counts[host]


def _event(host: str, task: Task, result: dict[str, Any]) -> Any:
    return SimpleNamespace(_host=Host(host), _task=task, _result=result)


@pytest.fixture
def loader() -> Any:
    from ansible.plugins.loader import callback_loader

    callback_loader.add_directory(str(REPO_ROOT / "playbooks" / "callback_plugins"))
    return callback_loader


def _callback(loader: Any, name: str) -> Any:
    callback = loader.get(name)
    assert callback is not None, name
    callback.set_options()
    return callback


def _run(callback: Any, report_dir: Path, marked: bool = True, failures: int = 0) -> Play:
    """The events of a drift run: the site's play (marked or not), then the verdict play."""
    marks = {"drift_report_record": True, "baseline_dry_run": True} if marked else {}
    callback.v2_playbook_on_play_start(Play({**marks, "drift_report_dir": str(report_dir)}))
    record = Task("preflight : Record the account and partition")
    callback.v2_playbook_on_task_start(record, False)
    callback.v2_runner_on_ok(_event("us-east-1", record, _facts("123456789012", "us-east-1")))
    buckets = Task("storage : Buckets")
    callback.v2_playbook_on_task_start(buckets, False)
    callback.v2_runner_on_ok(
        _event("us-east-1", buckets, _result(changed=True, msg="b: would update versioning"))
    )
    verdict_play = Play({"drift_report_verdict": True, "drift_report_dir": str(report_dir)})
    callback.v2_playbook_on_play_start(verdict_play)
    assert_task = Task("No account x region drifts")
    callback.v2_playbook_on_task_start(assert_task, False)
    callback.v2_runner_on_failed(_event("us-east-1", assert_task, _result(failed=True)))
    stats = {"failures": 1 + failures, "unreachable": 0}
    callback.v2_playbook_on_stats(Stats({"us-east-1": stats}))
    return verdict_play


def test_the_playbook_copy_hands_the_verdict_and_writes_the_reports(
    loader: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    callback = _callback(loader, "drift_report")
    assert callback.CALLBACK_NEEDS_ENABLED is False and not callback.disabled
    verdict_play = _run(callback, tmp_path)
    handed = verdict_play.vars["drift_report_result"]
    assert handed["status"] == "drift"
    assert handed["drifting"] == ["us-east-1 in account 123456789012"]
    assert handed["json"] == str(tmp_path / "drift.json") and handed["xml"] == str(tmp_path / "drift.xml")
    # The verdict's own failure is not a failed run.
    data = json.loads((tmp_path / "drift.json").read_text())
    assert data["status"] == "drift"
    assert data["account_regions"][0]["drifts"] == [
        {"host": "us-east-1", "drift": "storage : Buckets: b: would update versioning"}
    ]
    assert ET.parse(tmp_path / "drift.xml").getroot().get("failures") == "1"
    out = capsys.readouterr().out
    assert "account 123456789012: 1 of 1 region(s) drift" in out
    assert "    - storage : Buckets: b: would update versioning" in out


def test_a_failure_outside_the_verdict_is_a_failed_run(loader: Any, tmp_path: Path) -> None:
    _run(_callback(loader, "drift_report"), tmp_path, failures=1)
    assert json.loads((tmp_path / "drift.json").read_text())["status"] == "failed"


def test_the_playbook_copy_is_inert_for_unmarked_plays(
    loader: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "drift.json").write_text("{}")  # another run's: left alone
    verdict_play = _run(_callback(loader, "drift_report"), tmp_path, marked=False)
    assert "drift_report_result" not in verdict_play.vars  # the verdict then fails: no report
    assert (tmp_path / "drift.json").read_text() == "{}"
    assert not (tmp_path / "drift.xml").exists()
    assert "DRIFT REPORT" not in capsys.readouterr().out


def test_the_collection_callback_records_every_play_once_enabled(loader: Any, tmp_path: Path) -> None:
    callback = _callback(loader, "secureinfra.baseline.drift_report")
    assert callback.CALLBACK_NEEDS_ENABLED is True and callback.CALLBACK_TYPE == "aggregate"
    _run(callback, tmp_path, marked=False)
    assert json.loads((tmp_path / "drift.json").read_text())["status"] == "drift"


def test_a_stale_report_is_removed_when_recording_starts(loader: Any, tmp_path: Path) -> None:
    (tmp_path / "drift.json").write_text('{"status": "drift"}')
    (tmp_path / "drift.xml").write_text("<testsuites/>")
    callback = _callback(loader, "drift_report")
    callback.v2_playbook_on_play_start(Play({"drift_report_record": True, "drift_report_dir": str(tmp_path)}))
    assert not (tmp_path / "drift.json").exists() and not (tmp_path / "drift.xml").exists()
