"""StackSets-style rollout: four hosts in batches, one failing, stop or go on as the tolerance says.

Four hosts, two accounts x two regions, on the second private emulator (reset per test). One host,
dev-us-east-1, is misconfigured in a way only AWS can tell: its connection is overridden with the
caller's keys, so STS reports the caller's account, not its role's, and the preflight role stops
it at the start of the provisioning play (the validation play, which makes no such check, passes).
Cheap: --tags selects no role, so the provisioning play runs only the preflight tasks (tagged
always), enough to show which batches ran. The JSON callback records one play per batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

HOSTS = ("dev-us-east-1", "dev-us-west-1", "prod-us-east-1", "prod-us-west-1")
PROVISION = "Provision the baseline"
RECORDED = "Record the account and partition"


def _inventory(tmp_path: Path, endpoint: str) -> str:
    def host(region: str, **extra: Any) -> dict[str, Any]:
        return {"baseline_region": region, **extra}

    wrong_connection = {
        "region": "us-east-1",
        "endpoint_url": endpoint,
        "access_key": "testing",
        "secret_key": "testing",
    }
    inventory = {
        "regions": {
            "children": {
                "dev": {
                    "hosts": {
                        "dev-us-west-1": host("us-west-1"),
                        "dev-us-east-1": host("us-east-1", baseline_aws_connection=wrong_connection),
                    },
                    "vars": {"baseline_account_role_arn": "arn:aws:iam::111111111111:role/baseline-deployer"},
                },
                "prod": {
                    "hosts": {"prod-us-west-1": host("us-west-1"), "prod-us-east-1": host("us-east-1")},
                    "vars": {"baseline_account_role_arn": "arn:aws:iam::222222222222:role/baseline-deployer"},
                },
            },
            "vars": {"baseline_aws_access_key": "testing", "baseline_aws_secret_key": "testing"},
        }
    }
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return str(path)


def _batches(run) -> list[list[str]]:
    """The hosts of each batch of the provisioning play, in order."""
    batches = []
    for play in run.output.get("plays", []):
        if play["play"]["name"] == PROVISION:
            hosts = {host for task in play["tasks"] for host in task["hosts"]}
            batches.append(sorted(hosts))
    return batches


def _provisioned(run) -> set[str]:
    """Hosts whose account STS recorded in the provisioning play."""
    return {
        host
        for play in run.output.get("plays", [])
        if play["play"]["name"] == PROVISION
        for task in play["tasks"]
        if task["task"]["name"].endswith(RECORDED)
        for host, result in task["hosts"].items()
        if not result.get("failed") and not result.get("skipped")
    }


def _run(fresh_run_playbook, fresh_emulator, tmp_path: Path, **rollout: Any):
    return fresh_run_playbook(
        "-i",
        _inventory(tmp_path, fresh_emulator.endpoint),
        "--tags",
        "rollout-only",
        extra_vars={
            "baseline_rollout_home_region_first": True,
            "baseline_rollout_max_concurrent": 2,
            **rollout,
        },
    )


def test_no_tolerance_stops_the_rollout_after_the_failing_batch(
    fresh_run_playbook, fresh_emulator, tmp_path
) -> None:
    run = _run(fresh_run_playbook, fresh_emulator, tmp_path, baseline_rollout_max_fail_percentage=0)
    assert run.rc != 0
    assert any("not the account of baseline_account_role_arn" in m for m in run.failed_messages()), (
        run.failed_messages()
    )
    # Home region first, two at a time: the failing batch is the first; the second never starts.
    assert _batches(run) == [["dev-us-east-1", "prod-us-east-1"]]
    # The other host of the batch is stopped at its next task, before STS recorded its account.
    assert _provisioned(run) == set()


def test_a_tolerance_of_half_a_batch_goes_on_to_the_next_batch(
    fresh_run_playbook, fresh_emulator, tmp_path
) -> None:
    run = _run(fresh_run_playbook, fresh_emulator, tmp_path, baseline_rollout_max_fail_percentage=50)
    assert run.rc != 0
    assert _batches(run) == [["dev-us-east-1", "prod-us-east-1"], ["dev-us-west-1", "prod-us-west-1"]]
    assert _provisioned(run) == {"prod-us-east-1", "dev-us-west-1", "prod-us-west-1"}


def test_sequential_regions_in_a_region_order_one_host_at_a_time(
    fresh_run_playbook, fresh_emulator, tmp_path
) -> None:
    """RegionOrder us-west-1 first, SEQUENTIAL, MaxConcurrentCount 1, a tolerance: one host per batch,
    us-west-1's before us-east-1's; the failing host's batch fails whole, which stops the rollout
    whatever the tolerance (Ansible's rule), after the us-west-1 hosts."""
    run = _run(
        fresh_run_playbook,
        fresh_emulator,
        tmp_path,
        baseline_rollout_home_region_first=False,
        baseline_rollout_region_order=["us-west-1"],
        baseline_rollout_region_concurrency="sequential",
        baseline_rollout_max_concurrent=1,
        baseline_rollout_max_fail_percentage=100,
    )
    assert run.rc != 0
    assert _batches(run) == [["dev-us-west-1"], ["prod-us-west-1"], ["dev-us-east-1"]]
    assert _provisioned(run) == {"dev-us-west-1", "prod-us-west-1"}


def test_invalid_rollout_settings_stop_every_host_before_provisioning(
    fresh_run_playbook, fresh_emulator, tmp_path
) -> None:
    run = _run(
        fresh_run_playbook,
        fresh_emulator,
        tmp_path,
        baseline_rollout_max_concurrent="0%",
        baseline_rollout_region_concurrency="SEQUENTIAL",
        baseline_rollout_max_fail_percentage=101,
    )
    assert run.rc != 0
    messages = " ".join(run.failed_messages())
    for expected in (
        "baseline_rollout_max_concurrent: a number of hosts per batch",
        "baseline_rollout_region_concurrency: parallel or sequential",
        "baseline_rollout_max_fail_percentage: a percentage",
    ):
        assert expected in messages, messages
    assert all(run.stats[host].get("failures") for host in HOSTS), run.stats
    assert _batches(run) == []
