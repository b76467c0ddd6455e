"""A dry run on an empty account predicts changes and makes no mutating call; and its fidelity
(issue 10): `--check` reports, task by task, the same changed status as the real run that follows.

One dry run, then the real converge, on the same empty emulator (the dry run writes nothing).
Every task result (and loop item) of both runs is keyed by host, task name and item; a key
whose changed status differs must be in FIDELITY_EXCEPTIONS, with the reason, and every entry
there must still differ (a stale exception fails too).
"""

from __future__ import annotations

from typing import Any

from conftest import REGIONS, PlaybookRun
from support.recorder import mutating

# (host, task name, item label or "") -> why --check cannot know what the real run will do.
FIDELITY_EXCEPTIONS: dict[tuple[str, str, str], str] = {}


def _label(item: dict[str, Any]) -> str:
    label = item.get("item", "")
    if isinstance(label, dict):
        label = label.get("name", label.get("key", label))
    return str(label)


def statuses(run: PlaybookRun) -> dict[tuple[str, str, str], str]:
    """changed / ok / skipped per (host, task, item) of a run (tasks named alike are numbered)."""
    found: dict[tuple[str, str, str], str] = {}
    for play in run.output.get("plays", []):
        for task in play.get("tasks", []):
            name = task["task"]["name"]
            for host, result in task.get("hosts", {}).items():
                items = result.get("results") or [result]
                for item in items:
                    status = "skipped" if item.get("skipped") else "changed" if item.get("changed") else "ok"
                    key = (host, name, _label(item) if "results" in result else "")
                    while key in found:
                        key = (key[0], key[1] + " (again)", key[2])
                    found[key] = status
    return found


def differences(
    dry: dict[tuple[str, str, str], str], real: dict[tuple[str, str, str], str]
) -> dict[tuple[str, str, str], tuple[str, str]]:
    """Keys whose changed status differs; 'skipped' on either side is not a changed status."""
    found = {}
    for key in dry.keys() | real.keys():
        before, after = dry.get(key, "absent"), real.get(key, "absent")
        if "skipped" in (before, after) or "absent" in (before, after):
            continue
        if before != after:
            found[key] = (before, after)
    return found


def test_differences_ignore_skips_and_find_changed_mismatches() -> None:
    dry = {("h", "a", ""): "changed", ("h", "b", ""): "ok", ("h", "c", ""): "skipped"}
    real = {("h", "a", ""): "changed", ("h", "b", ""): "changed", ("h", "c", ""): "changed"}
    assert differences(dry, real) == {("h", "b", ""): ("ok", "changed")}


def assert_nothing_created(fresh_aws) -> None:
    for region in REGIONS:
        assert fresh_aws("s3", region).list_buckets()["Buckets"] == []
        vpcs = fresh_aws("ec2", region).describe_vpcs(
            Filters=[{"Name": "tag:Project", "Values": ["secure-infrastructure"]}]
        )["Vpcs"]
        assert vpcs == []
        assert fresh_aws("kms", region).list_keys()["Keys"] == []


def test_check_mode_predicts_the_first_converge(fresh_run_playbook, fresh_emulator, fresh_aws) -> None:
    dry = fresh_run_playbook(check=True)
    assert dry.rc == 0, dry.stderr
    assert all(dry.changed(region) > 0 for region in REGIONS)
    assert dry.calls, "the recorder saw no request at all"
    assert mutating(dry.calls) == []
    assert_nothing_created(fresh_aws)
    real = fresh_emulator.run_playbook()
    assert real.rc == 0, real.stderr
    dry_status, real_status = statuses(dry), statuses(real)
    changed_keys = [key for key, status in real_status.items() if status == "changed"]
    assert {key[0] for key in changed_keys} == set(REGIONS)
    found = differences(dry_status, real_status)
    unexplained = {key: value for key, value in found.items() if key not in FIDELITY_EXCEPTIONS}
    stale = [key for key in FIDELITY_EXCEPTIONS if key not in found]
    assert unexplained == {}, "\n".join(f"{k}: check={v[0]} real={v[1]}" for k, v in unexplained.items())
    assert stale == [], f"exceptions that no longer differ: {stale}"
    both = [key for key in real_status if key in dry_status]
    compared = [key for key in both if "skipped" not in (dry_status[key], real_status[key])]
    print(
        f"check-mode fidelity: {len(compared)} task results compared ({len(both) - len(compared)} skipped"
        f" in one run, {len(real_status.keys() ^ dry_status.keys())} in one run only),"
        f" {len(found)} explained differences"
    )
