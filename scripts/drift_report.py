"""Drift report: what differs, per account x region, between the definition and what exists.

Runs site.yml in check mode (reads only) over every host of the inventory (an account x region)
and lists, per account and then per region, the tasks that would change something, with the
diff where the module gives one. One definition serves every account and region, so a host that
reports nothing is in line with it. The account is the one STS reported for the host (the
preflight role's fact preflight_account_id), the region its baseline_region.

    drift_report.py [ansible-playbook options, e.g. -l us-west-1 or -i inventories/organization]

Exit status: 0 when no account x region drifts, 2 when one does, 1 when the run itself failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_check(args: list[str]) -> dict[str, Any]:
    env = {
        **os.environ,
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
    }
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    proc = subprocess.run(
        [playbook, "site.yml", "--check", "--diff", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(1) from None


# The keys that name a resource in the per-resource lists the list-taking modules return
# (sqs_queues' queues, cloudwatchlogs_log_groups' log_groups, lambda_concurrency's functions, ...).
NAME_KEYS = ("name", "function_name", "role_name", "bucket", "queue_name", "log_group_name", "id")
# cloudwatch_metric_alarms returns the names of the alarms it changes in these lists.
ALARM_KEYS = ("created", "updated", "tagged", "deleted")


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


MAX_MESSAGE = 600


def item_label(result: dict[str, Any]) -> Any:
    """A loop item's label: the task's loop_control label, else the item's name."""
    label = result.get("_ansible_item_label", result.get("item"))
    if isinstance(label, (list, tuple)) and label:  # a zipped loop: its first element names it
        label = label[0]
    return label.get("name", label) if isinstance(label, dict) else label


def drift(output: dict[str, Any]) -> dict[str, list[str]]:
    """Per host, the names (and items) of the tasks that would change."""
    found: dict[str, list[str]] = {host: [] for host in output.get("stats", {})}
    for play in output.get("plays", []):
        for task in play.get("tasks", []):
            for host, result in task.get("hosts", {}).items():
                items = result.get("results") or [result]
                for item in items:
                    if item.get("changed"):
                        label = item_label(item)
                        line = task["task"]["name"] + (f" [{label}]" if label else "")
                        resources = changed_resources(item)
                        if resources:
                            line += f" ({', '.join(resources)})"
                        message = item.get("msg")
                        if isinstance(message, str) and message:
                            cut = message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "..."
                            line += f": {cut}"
                        found[host].append(line)
    return found


def places(output: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Per host, (account, region) from the facts the preflight role records after STS."""
    found: dict[str, tuple[str, str]] = {}
    for play in output.get("plays", []):
        for task in play.get("tasks", []):
            for host, result in task.get("hosts", {}).items():
                facts = result.get("ansible_facts") or {}
                if "preflight_account_id" in facts:
                    found[host] = (
                        str(facts["preflight_account_id"]),
                        str(facts.get("preflight_region") or host),
                    )
    return found


def render(report: dict[str, list[str]], where: dict[str, tuple[str, str]]) -> list[str]:
    """The report's lines, grouped by account; a host named otherwise than its region shows both."""
    by_account: dict[str, list[str]] = {}
    for host in report:
        by_account.setdefault(where.get(host, ("unknown (no STS answer)", host))[0], []).append(host)
    lines = []
    for account in sorted(by_account):
        hosts = sorted(by_account[account], key=lambda host: (where.get(host, ("", host))[1], host))
        drifting = sum(1 for host in hosts if report[host])
        lines.append(f"account {account}: {drifting} of {len(hosts)} region(s) drift")
        for host in hosts:
            region = where.get(host, ("", host))[1]
            name = host if region == host else f"{host} ({region})"
            status = f"{len(report[host])} drift(s)" if report[host] else "in line with the definition"
            lines.append(f"  {name}: {status}")
            lines.extend(f"    - {line}" for line in report[host])
    return lines


def failures(output: dict[str, Any]) -> dict[str, int]:
    return {
        host: stats.get("failures", 0) + stats.get("unreachable", 0)
        for host, stats in output.get("stats", {}).items()
        if stats.get("failures") or stats.get("unreachable")
    }


def main(argv: list[str] | None = None) -> int:
    output = run_check(list(argv if argv is not None else sys.argv[1:]))
    report = drift(output)
    for line in render(report, places(output)):
        print(line)
    failed = failures(output)
    if failed:
        print(f"the dry run failed on {', '.join(sorted(failed))}", file=sys.stderr)
        return 1
    return 2 if any(report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
