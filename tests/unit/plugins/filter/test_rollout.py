"""The rollout plan (host order, serial batches) and the account of each host before STS."""

from __future__ import annotations

import pytest
from ansible_collections.secureinfra.baseline.plugins.filter.account_hosts import account_hosts, account_key
from ansible_collections.secureinfra.baseline.plugins.filter.rollout_plan import rollout_errors, rollout_plan

ROLE_DEV = "arn:aws:iam::111111111111:role/baseline-deployer"
ROLE_PROD = "arn:aws-us-gov:iam::222222222222:role/path/to/baseline-deployer"


def _hosts(*specs: str) -> list[dict[str, str]]:
    """'dev:us-west-1' => host dev-us-west-1 of account dev, region us-west-1, home us-east-1."""
    return [
        {
            "host": f"{spec.split(':')[0]}-{spec.split(':')[1]}",
            "region": spec.split(":")[1],
            "home_region": "us-east-1",
        }
        for spec in specs
    ]


FOUR = _hosts("dev:us-west-1", "dev:us-east-1", "prod:us-west-1", "prod:us-east-1")


def test_account_key_prefers_the_explicit_name_then_the_role_account_then_the_caller() -> None:
    assert account_key(ROLE_DEV, "dev") == "dev"
    assert account_key(ROLE_DEV) == "111111111111"
    assert account_key(ROLE_PROD, "") == "222222222222"
    assert account_key("") == "caller"
    assert account_key(None) == "caller"
    assert account_key("arn:aws:iam::123:role/x") == "caller"


def test_account_hosts_reads_inventory_variables_with_the_host_name_as_region() -> None:
    hostvars = {
        "us-east-1": {},
        "dev-us-west-1": {"baseline_region": "us-west-1", "baseline_account_role_arn": ROLE_DEV},
        "x": {
            "baseline_region": "eu-west-1",
            "baseline_account_role_arn": ROLE_DEV,
            "baseline_account_name": "sandbox",
        },
    }
    assert account_hosts(["us-east-1", "dev-us-west-1", "x"], hostvars) == [
        {"host": "us-east-1", "region": "us-east-1", "account": "caller"},
        {"host": "dev-us-west-1", "region": "us-west-1", "account": "111111111111"},
        {"host": "x", "region": "eu-west-1", "account": "sandbox"},
    ]


def test_the_default_runs_every_host_in_one_batch_grouped_by_region() -> None:
    plan = rollout_plan(FOUR)
    assert plan == {
        "hosts": ["dev-us-west-1", "prod-us-west-1", "dev-us-east-1", "prod-us-east-1"],
        "serial": [4],
        "errors": [],
    }


def test_home_region_first_runs_the_home_hosts_alone_first() -> None:
    plan = rollout_plan(FOUR, [], True)
    assert plan["hosts"][:2] == ["dev-us-east-1", "prod-us-east-1"]
    assert plan["serial"] == [2, 2]


def test_region_order_and_sequential_regions_with_a_count() -> None:
    hosts = _hosts("a:us-west-1", "a:eu-west-1", "b:us-west-1", "c:us-west-1", "a:us-east-1")
    plan = rollout_plan(hosts, ["eu-west-1", "us-west-1"], False, 2, "sequential")
    assert plan["hosts"] == ["a-eu-west-1", "a-us-west-1", "b-us-west-1", "c-us-west-1", "a-us-east-1"]
    assert plan["serial"] == [1, 2, 1, 1]


def test_percentages_round_down_with_at_least_one_host() -> None:
    assert rollout_plan(FOUR, [], False, "50%")["serial"] == [2, 2]
    assert rollout_plan(FOUR, [], False, "10%")["serial"] == [1, 1, 1, 1]
    assert rollout_plan(FOUR, [], False, "100%")["serial"] == [4]
    assert rollout_plan(FOUR, [], False, "50%", "sequential")["serial"] == [1, 1, 1, 1]


def test_parallel_batches_cross_regions() -> None:
    assert rollout_plan(FOUR, [], False, 3)["serial"] == [3, 1]
    assert rollout_plan(FOUR, [], False, "3")["serial"] == [3, 1]
    assert rollout_plan([], [], True, 1)["serial"] == [0]


@pytest.mark.parametrize(
    ("args", "setting"),
    [
        (([], False, -1, "parallel"), "baseline_rollout_max_concurrent"),
        (([], False, "0%", "parallel"), "baseline_rollout_max_concurrent"),
        (([], False, "101%", "parallel"), "baseline_rollout_max_concurrent"),
        (([], False, True, "parallel"), "baseline_rollout_max_concurrent"),
        (([], False, 0, "SEQUENTIAL"), "baseline_rollout_region_concurrency"),
        (("us-east-1", False, 0, "parallel"), "baseline_rollout_region_order"),
        (([], "maybe", 0, "parallel"), "baseline_rollout_home_region_first"),
    ],
)
def test_invalid_controls_are_named(args: tuple, setting: str) -> None:
    plan = rollout_plan(FOUR, *args)
    assert len(plan["errors"]) == 1
    assert plan["errors"][0].startswith(setting + ":")


@pytest.mark.parametrize(
    ("value", "first"),
    [("true", True), ("yes", True), ("1", True), ("false", False), ("no", False), ("0", False)],
)
def test_home_region_first_from_the_command_line_is_a_string_converted(value: str, first: bool) -> None:
    """-e baseline_rollout_home_region_first=true gives the string "true": read as the other booleans."""
    plan = rollout_plan(FOUR, [], value)
    assert plan["errors"] == []
    assert plan == rollout_plan(FOUR, [], first)


@pytest.mark.parametrize("value", [0, 50, 100, "0", "50", "100"])
def test_max_fail_percentage_from_0_to_100(value: object) -> None:
    assert rollout_errors([], False, 0, "parallel", value) == []


@pytest.mark.parametrize("value", [-1, 101, "ten", "50%", True, 12.5])
def test_max_fail_percentage_outside_0_to_100_is_named(value: object) -> None:
    errors = rollout_errors([], False, 0, "parallel", value)
    assert errors == [
        f"baseline_rollout_max_fail_percentage: a percentage of each batch from 0 to 100 (got {value!r})."
    ]
