# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Callback plugin secureinfra.baseline.drift_report: what a dry run would change, per account x region.

The pure functions (labels, grouping, the text, JSON and JUnit renderings) are unit-tested in
tests/unit/drift; the class only collects task results and hands them over.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: drift_report
type: aggregate
short_description: Report what a dry run would change, per account x region (text, JSON, JUnit XML)
version_added: 0.3.0
description:
  - Records, per host (one account x region of the baseline), every task result and loop item that
    would change something (C(changed=true)) in a check-mode run, labelled with the task's name, the
    loop item's label, the resources a list-taking module names, and the module's message (cut
    at 600 characters).
  - A result that lists C(orphans) (M(secureinfra.baseline.baseline_orphans) - resources that carry
    the baseline's tags but that the definition no longer manages) counts one drift per orphan,
    changed or not, whether the run would remove them or only reports them.
  - The account and region of a host are the facts the preflight role records after STS
    (C(preflight_account_id), C(preflight_region)); a host without them is listed under
    C(unknown (no STS answer)).
  - At the end of the run it prints the report grouped per account, then per region, and writes
    C(drift.json) and C(drift.xml) (JUnit XML, one test suite per account and one test case per
    account x region, a failure listing the drifts) into O(output_dir). Both are removed when
    the first recorded play starts, so that a report never outlives the run it describes.
  - A play whose vars set C(drift_report_verdict=true) is not recorded; when it starts, the
    callback sets its variable C(drift_report_result) to the findings (C(status), C(drifting),
    C(hosts), C(json), C(xml)). The last play of the playbook C(secureinfra.baseline.drift) fails
    with them when an account x region drifts; the report does not count that failure as a
    failed run.
  - The playbook C(secureinfra.baseline.drift) loads this callback by itself (from
    C(playbooks/callback_plugins/) beside it), which records only the plays whose vars set
    C(drift_report_record=true); enable it with
    C(callbacks_enabled) to record every play of another check-mode run, for example with
    C(ANSIBLE_CALLBACKS_ENABLED=secureinfra.baseline.drift_report) and
    C(ansible-playbook secureinfra.baseline.site --check).
  - In a run without check mode it lists what the run changed, not drift, and says so.
author:
  - Secureinfra Platform Team (@secureinfra)
options:
  output_dir:
    description:
      - The directory of C(drift.json) and C(drift.xml), created if missing.
      - A relative path is relative to the current directory of C(ansible-playbook), or to the
        configuration file when set there.
    type: path
    default: reports
    env:
      - name: ANSIBLE_DRIFT_REPORT_DIR
    ini:
      - section: callback_drift_report
        key: output_dir
    vars:
      - name: drift_report_dir
"""

# validate-modules wants the imports after DOCUMENTATION.
import json  # noqa: E402
import os  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.parsing.convert_bool import boolean  # noqa: E402
from ansible.plugins.callback import CallbackBase  # noqa: E402
from ansible.template import Templar  # noqa: E402

# The keys that name a resource in the per-resource lists the list-taking modules return
# (sqs_queues' queues, cloudwatchlogs_log_groups' log_groups, lambda_concurrency's functions, ...).
NAME_KEYS = ("name", "function_name", "role_name", "bucket", "queue_name", "log_group_name", "id")
# cloudwatch_metric_alarms returns the names of the alarms it changes in these lists.
ALARM_KEYS = ("created", "updated", "tagged", "deleted")
MAX_MESSAGE = 600
UNKNOWN_ACCOUNT = "unknown (no STS answer)"
# A play whose vars set this to true is recorded by the playbook's copy of the callback
# (playbooks/callback_plugins/drift_report.py); the collection's, once enabled, records every play.
RECORD_VAR = "drift_report_record"
# A play whose vars set this to true is handed the findings (RESULT_VAR) and is not recorded: its
# failure is the verdict, not a failed run.
VERDICT_VAR = "drift_report_verdict"
RESULT_VAR = "drift_report_result"
JSON_NAME = "drift.json"
XML_NAME = "drift.xml"


def changed_resources(result: dict[str, Any]) -> list[str]:
    """The resources a task result says would change, when its module names them."""
    names: list[str] = []
    for key, value in result.items():
        if not isinstance(value, list):
            continue
        if key in ALARM_KEYS:
            names.extend(v for v in value if isinstance(v, str) and v not in names)
            continue
        for entry in value:
            if isinstance(entry, dict) and entry.get("changed") is True:
                label = next((entry[k] for k in NAME_KEYS if isinstance(entry.get(k), str)), None)
                if label and label not in names:
                    names.append(label)
    return names


def item_label(result: dict[str, Any]) -> Any:
    """A loop item's label: the task's loop_control label, else the item's name."""
    label = result.get("_ansible_item_label", result.get("item"))
    if isinstance(label, (list, tuple)) and label:  # a zipped loop: its first element names it
        label = label[0]
    return label.get("name", label) if isinstance(label, dict) else label


def cut(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "..."


def orphan_lines(task_name: str, orphans: list[Any]) -> list[str]:
    """One line per orphan a result lists (baseline_orphans): what, where, what happens, and why."""
    lines = []
    for orphan in orphans:
        if not isinstance(orphan, dict):
            continue
        where = ", ".join(str(orphan[k]) for k in ("region", "action") if orphan.get(k))
        line = f"{task_name}: orphan {orphan.get('kind', 'resource')} {orphan.get('name', '?')}"
        line += f" ({where})" if where else ""
        if orphan.get("why"):
            line += f": {cut(str(orphan['why']))}"
        lines.append(line)
    return lines


def drift_lines(task_name: str, result: dict[str, Any]) -> list[str]:
    """One line per changed result of a task on a host: per loop item when the task loops; one per
    orphan of a result that lists orphans, changed or not."""
    lines = []
    for item in result.get("results") or [result]:
        if isinstance(item, dict) and isinstance(item.get("orphans"), list) and item["orphans"]:
            lines.extend(orphan_lines(task_name, item["orphans"]))
            continue
        if not isinstance(item, dict) or not item.get("changed"):
            continue
        label = item_label(item)
        line = task_name + (f" [{label}]" if label else "")
        resources = changed_resources(item)
        if resources:
            line += f" ({', '.join(resources)})"
        message = item.get("msg")
        if isinstance(message, str) and message:
            line += f": {cut(message)}"
        lines.append(line)
    return lines


def place(result: dict[str, Any], host: str) -> tuple[str, str] | None:
    """(account, region) from a result that sets the preflight role's facts, else None."""
    facts = result.get("ansible_facts") or {}
    if "preflight_account_id" not in facts:
        return None
    return str(facts["preflight_account_id"]), str(facts.get("preflight_region") or host)


def where_of(host: str, where: dict[str, tuple[str, str]]) -> tuple[str, str]:
    return where.get(host, (UNKNOWN_ACCOUNT, host))


def host_title(host: str, region: str) -> str:
    """A host named otherwise than its region shows both."""
    return host if region == host else f"{host} ({region})"


def grouped(report: dict[str, list[str]], where: dict[str, tuple[str, str]]) -> dict[str, list[str]]:
    """The hosts per account (sorted), each account's hosts by region, then name."""
    by_account: dict[str, list[str]] = {}
    for host in report:
        by_account.setdefault(where_of(host, where)[0], []).append(host)
    return {
        account: sorted(by_account[account], key=lambda host: (where_of(host, where)[1], host))
        for account in sorted(by_account)
    }


def render(report: dict[str, list[str]], where: dict[str, tuple[str, str]]) -> list[str]:
    """The report's lines, grouped by account; a host named otherwise than its region shows both."""
    lines = []
    for account, hosts in grouped(report, where).items():
        drifting = sum(1 for host in hosts if report[host])
        lines.append(f"account {account}: {drifting} of {len(hosts)} region(s) drift")
        for host in hosts:
            status = f"{len(report[host])} drift(s)" if report[host] else "in line with the definition"
            lines.append(f"  {host_title(host, where_of(host, where)[1])}: {status}")
            lines.extend(f"    - {line}" for line in report[host])
    return lines


def host_status(drifts: list[str], failed: bool) -> str:
    return "failed" if failed else "drift" if drifts else "in_line"


def overall_status(statuses: list[str]) -> str:
    """failed when a run failed anywhere, else drift when anything drifts, else in_line."""
    for status in ("failed", "drift"):
        if status in statuses:
            return status
    return "in_line"


def report_data(
    report: dict[str, list[str]], where: dict[str, tuple[str, str]], failed: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """drift.json: per account x region, its hosts, their drifts and its status; then the totals."""
    entries = []
    for account, hosts in grouped(report, where).items():
        regions: dict[str, list[str]] = {}
        for host in hosts:
            regions.setdefault(where_of(host, where)[1], []).append(host)
        for region, region_hosts in regions.items():
            drifts = [{"host": host, "drift": line} for host in region_hosts for line in report[host]]
            is_failed = any(host in failed for host in region_hosts)
            entries.append(
                {
                    "account": None if account == UNKNOWN_ACCOUNT else account,
                    "region": region,
                    "hosts": region_hosts,
                    "status": host_status([d["drift"] for d in drifts], is_failed),
                    "drifts": drifts,
                }
            )
    statuses = [entry["status"] for entry in entries]
    return {
        "status": overall_status(statuses),
        "summary": {
            "account_regions": len(entries),
            "in_line": statuses.count("in_line"),
            "drift": statuses.count("drift"),
            "failed": statuses.count("failed"),
            "drifts": sum(len(entry["drifts"]) for entry in entries),
        },
        "account_regions": entries,
    }


def junit_xml(data: dict[str, Any]) -> str:
    """drift.xml from drift.json's data: a test suite per account, a test case per account x region;
    a drifting one fails with its drifts, one whose run failed is an error."""
    suites = ET.Element("testsuites", name="drift")
    by_account: dict[str, list[dict[str, Any]]] = {}
    for entry in data["account_regions"]:
        by_account.setdefault(entry["account"] or UNKNOWN_ACCOUNT, []).append(entry)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for account, entries in by_account.items():
        counts = {
            "tests": len(entries),
            "failures": sum(1 for e in entries if e["status"] == "drift"),
            "errors": sum(1 for e in entries if e["status"] == "failed"),
        }
        for key, value in counts.items():
            totals[key] += value
        suite = ET.SubElement(
            suites, "testsuite", name=f"account {account}", **{k: str(v) for k, v in counts.items()}
        )
        for entry in entries:
            hosts = entry["hosts"]
            one = len(hosts) == 1
            name = host_title(hosts[0], entry["region"]) if one else f"{entry['region']} ({', '.join(hosts)})"
            case = ET.SubElement(suite, "testcase", classname=f"drift.{account}", name=name)
            lines = "\n".join(
                f"- {d['drift']}" if one else f"- {d['host']}: {d['drift']}" for d in entry["drifts"]
            )
            if entry["status"] == "failed":
                error = ET.SubElement(case, "error", type="failed", message="the dry run failed")
                error.text = lines or None
            elif entry["status"] == "drift":
                failure = ET.SubElement(
                    case, "failure", type="drift", message=f"{len(entry['drifts'])} drift(s)"
                )
                failure.text = lines
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def verdict(report: dict[str, list[str]], where: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The findings so far, as the drift playbook's last play reads them (drift_report_result)."""
    drifting = [
        f"{host_title(host, where_of(host, where)[1])} in account {where_of(host, where)[0]}"
        for hosts in grouped(report, where).values()
        for host in hosts
        if report[host]
    ]
    return {
        "status": "drift" if drifting else "in_line",
        "drifting": drifting,
        "hosts": {
            host: {"account": where_of(host, where)[0], "region": where_of(host, where)[1], "drifts": lines}
            for host, lines in report.items()
        },
    }


def _attr(result: Any, name: str) -> Any:
    """A task result's host, task or result: the public name from ansible-core 2.19, else the old one."""
    value = getattr(result, name, None)
    return value if value is not None else getattr(result, f"_{name}")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "secureinfra.baseline.drift_report"
    CALLBACK_NEEDS_ENABLED = True
    # The playbook's copy sets this: it records only the plays whose vars set RECORD_VAR.
    RECORD_MARKED_PLAYS_ONLY = False

    def __init__(self, display: Any = None) -> None:
        super().__init__(display=display)
        self.report: dict[str, list[str]] = {}
        self.where: dict[str, tuple[str, str]] = {}
        self.task_names: dict[str, str] = {}
        self.recording = False
        self.in_verdict = False
        self.verdict_failures: dict[str, int] = {}
        self.active = False
        self.check_mode = True

    # --- which plays are recorded -----------------------------------------------------------

    def _play_vars(self, play: Any) -> dict[str, Any]:
        manager = play.get_variable_manager()
        return manager.get_vars(play=play) if manager is not None else dict(play.get_vars())

    def _resolve_options(self, play: Any, variables: dict[str, Any]) -> None:
        """The options with the play's and the extra vars (drift_report_dir), templated."""
        if "drift_report_dir" not in variables:
            return
        value = Templar(loader=play.get_loader(), variables=variables).template(variables["drift_report_dir"])
        self.set_options(var_options={"drift_report_dir": value})

    def paths(self) -> tuple[str, str]:
        directory = os.path.abspath(str(self.get_option("output_dir")))
        return os.path.join(directory, JSON_NAME), os.path.join(directory, XML_NAME)

    def v2_playbook_on_play_start(self, play: Any) -> None:
        variables = self._play_vars(play)
        self.in_verdict = boolean(variables.get(VERDICT_VAR, False), strict=False)
        marked = boolean(variables.get(RECORD_VAR, False), strict=False)
        self.recording = not self.in_verdict and (marked or not self.RECORD_MARKED_PLAYS_ONLY)
        if self.recording:
            self._resolve_options(play, variables)
            if not self.active:
                self.active = True
                for path in self.paths():  # a report never outlives its run
                    if os.path.exists(path):
                        os.remove(path)
            dry_run = boolean(variables.get("ansible_check_mode", False), strict=False) or boolean(
                variables.get("baseline_dry_run", False), strict=False
            )
            self.check_mode = self.check_mode and dry_run
        elif self.in_verdict and self.active:
            # Nothing recorded, nothing handed over: the verdict then fails for want of a report.
            json_path, xml_path = self.paths()
            play.vars[RESULT_VAR] = {**verdict(self.report, self.where), "json": json_path, "xml": xml_path}

    # --- task results ----------------------------------------------------------------------

    def _task_start(self, task: Any) -> None:
        if self.recording:
            self.task_names[task._uuid] = task.get_name()

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._task_start(task)

    def _record(self, result: Any) -> None:
        if not self.recording:
            return
        host = _attr(result, "host").get_name()
        task = _attr(result, "task")
        payload = _attr(result, "result")
        self.report.setdefault(host, [])
        found = place(payload, host)
        if found:
            self.where[host] = found
        name = self.task_names.get(task._uuid) or task.get_name()
        self.report[host].extend(drift_lines(name, payload))

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        if self.in_verdict and not ignore_errors:  # the verdict's own failure is not the run's
            host = _attr(result, "host").get_name()
            self.verdict_failures[host] = self.verdict_failures.get(host, 0) + 1
        self._record(result)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record(result)

    # --- the end -----------------------------------------------------------------------------

    def v2_playbook_on_stats(self, stats: Any) -> None:
        if not self.active:
            return
        failed = []
        for host in sorted(stats.processed):
            self.report.setdefault(host, [])
            summary = stats.summarize(host)
            failures = summary.get("failures", 0) - self.verdict_failures.get(host, 0)
            if failures > 0 or summary.get("unreachable"):
                failed.append(host)
        data = report_data(self.report, self.where, failed)
        json_path, xml_path = self.paths()
        os.makedirs(os.path.dirname(json_path), exist_ok=True)
        with open(json_path, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2) + "\n")
        with open(xml_path, "w", encoding="utf-8") as handle:
            handle.write(junit_xml(data))

        self._display.banner("DRIFT REPORT (per account x region)")
        if not self.check_mode:
            self._display.warning("drift_report: this run was not a dry run: it lists what the run changed")
        for line in render(self.report, self.where):
            self._display.display(line)
        if failed:
            self._display.display(f"the dry run failed on {', '.join(failed)}", stderr=True)
        counts = data["summary"]
        self._display.display(
            f"drift: {counts['drift']} of {counts['account_regions']} account x region(s) drift, "
            f"{counts['failed']} failed (reports: {json_path}, {xml_path})"
        )
