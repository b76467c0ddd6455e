"""The rules across hosts (plugins/filter/host_rules.py): each with one host wrong among valid ones."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible_collections.secureinfra.baseline.plugins.filter.host_rules import (
    connection_region,
    host_rule_errors,
)

ROLE = "arn:aws:iam::{}:role/baseline-deployer"
ROLLOUT = {
    "region_order": [],
    "home_region_first": False,
    "region_concurrency": "parallel",
    "max_concurrent": 0,
    "max_fail_percentage": 0,
}


def _host(account: str, region: str, **extra: Any) -> dict[str, Any]:
    """The fact preflight_host_settings of a valid host dev-us-east-1 (account dev, region us-east-1)."""
    return {
        "host": f"{account}-{region}",
        "account": account,
        "region": region,
        "home_region": "us-east-1",
        "role_arn": "",
        "caller_connection_region": region,
        "connection_region": region,
        "rollout": copy.deepcopy(ROLLOUT),
        **extra,
    }


def _four(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Two accounts x two regions; changes: host name => its changed settings."""
    hosts = [_host(a, r) for a in ("dev", "prod") for r in ("us-east-1", "us-west-1")]
    for host in hosts:
        host.update(changes.get(host["host"].replace("-", "_"), {}))
    return hosts


def _inventory(settings: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"host": s["host"], "account": s["account"], "region": s["region"]} for s in settings]


def _errors(settings: list[dict[str, Any]], **kwargs: Any) -> list[str]:
    return host_rule_errors(settings, _inventory(settings), **kwargs)


def test_four_valid_hosts_pass() -> None:
    assert _errors(_four()) == []
    with_roles = [
        {**h, "role_arn": ROLE.format("111111111111" if h["account"] == "dev" else "222222222222")}
        for h in _four()
    ]
    assert _errors(with_roles) == []


def test_the_home_region_of_one_host_disagrees_with_its_account() -> None:
    errors = _errors(_four(dev_us_west_1={"home_region": "us-west-1"}))
    assert errors == [
        'Account dev: its hosts disagree on baseline_home_region (dev-us-east-1: "us-east-1"; dev-us-west-1:'
        ' "us-west-1"): every host of an account must name the same home region, one of the account\'s'
        " regions"
        " (set it in the account's group)."
    ]


def test_a_home_region_where_the_account_has_no_host() -> None:
    hosts = _four(prod_us_east_1={"home_region": "us-west-2"}, prod_us_west_1={"home_region": "us-west-2"})
    errors = _errors(hosts)
    assert len(errors) == 1
    assert errors[0].startswith(
        'prod-us-east-1 and prod-us-west-1: baseline_home_region="us-west-2": no host of the inventory group'
        " regions in account prod is in the home region us-west-2 (the account's regions: us-east-1,"
        " us-west-1)"
    )
    # Without the group regions (a play of its own), the home region need not be among the hosts'.
    assert _errors(hosts, home_in_inventory=False) == []


def test_the_home_region_counts_hosts_outside_the_play() -> None:
    """With --limit, the home-region host of the account is in the inventory, not in the play."""
    play = [_host("dev", "us-west-1")]
    inventory = [*_inventory(_four())]
    assert host_rule_errors(play, inventory) == []
    assert "no host of the inventory group regions in account dev" in host_rule_errors(play, [])[0]


def test_two_hosts_in_one_account_and_region() -> None:
    errors = _errors(_four(prod_us_west_1={"account": "dev", "region": "us-west-1"}))
    assert errors[0] == (
        "Hosts dev-us-west-1 and prod-us-west-1 are both account dev in region us-west-1"
        ' (baseline_account_name="dev",'
        ' baseline_region="us-west-1"): one host per account x region (set baseline_region,'
        " baseline_account_role_arn"
        " or baseline_account_name per host)."
    )


def test_a_host_outside_the_play_in_the_same_place() -> None:
    play = [_host("dev", "us-east-1")]
    inventory = [{"host": "twin", "account": "dev", "region": "us-east-1"}]
    assert host_rule_errors(play, inventory)[0].startswith(
        "Hosts dev-us-east-1 and twin are both account dev"
    )


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (
            ["us-west-1", "us-west-1"],
            'baseline_rollout_region_order=["us-west-1", "us-west-1"]: names us-west-1 more',
        ),
        (
            ["eu-west-1"],
            'baseline_rollout_region_order=["eu-west-1"]: eu-west-1 is not a region of the inventory;',
        ),
        ("us-west-1", "baseline_rollout_region_order: a list of region names (got 'us-west-1')."),
    ],
)
def test_a_region_order_names_each_inventory_region_at_most_once(order: Any, expected: str) -> None:
    rollout = {**ROLLOUT, "region_order": order}
    errors = _errors([{**h, "rollout": rollout} for h in _four()])
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"every host: {expected}"), errors
    assert (
        _errors([{**h, "rollout": {**ROLLOUT, "region_order": ["us-west-1", "us-east-1"]}} for h in _four()])
        == []
    )


def test_one_host_with_its_own_rollout_setting() -> None:
    errors = _errors(_four(prod_us_west_1={"rollout": {**ROLLOUT, "max_concurrent": "0%"}}))
    assert errors[0].startswith(
        "baseline_rollout_max_concurrent differs between hosts (dev-us-east-1, dev-us-west-1 and"
        " prod-us-east-1: 0;"
        ' prod-us-west-1: "0%"): the rollout settings are the run\'s'
    )
    assert errors[1] == (
        "prod-us-west-1: baseline_rollout_max_concurrent: a number of hosts per batch (0: all at once) or"
        " a percentage"
        " from 1% to 100% (got '0%')."
    )


@pytest.mark.parametrize(
    ("setting", "value", "variable"),
    [
        ("home_region_first", "maybe", "baseline_rollout_home_region_first"),
        ("region_concurrency", "SEQUENTIAL", "baseline_rollout_region_concurrency"),
        ("max_concurrent", -1, "baseline_rollout_max_concurrent"),
        ("max_fail_percentage", 101, "baseline_rollout_max_fail_percentage"),
        ("max_fail_percentage", "ten", "baseline_rollout_max_fail_percentage"),
    ],
)
def test_invalid_rollout_settings_for_every_host(setting: str, value: Any, variable: str) -> None:
    errors = _errors([{**h, "rollout": {**ROLLOUT, setting: value}} for h in _four()])
    assert errors == [errors[0]]
    assert errors[0].startswith(f"every host: {variable}: ")
    assert repr(value) in errors[0]


@pytest.mark.parametrize("value", ["true", "false", "yes", "no", "1", "0", "True", True, False])
def test_rollout_booleans_accept_the_strings_of_the_other_booleans(value: Any) -> None:
    assert _errors([{**h, "rollout": {**ROLLOUT, "home_region_first": value}} for h in _four()]) == []


@pytest.mark.parametrize(
    ("arn", "partition"),
    [
        ("arn:aws-us-gov:iam::222222222222:role/baseline-deployer", "aws-us-gov"),
        ("arn:aws-cn:iam::222222222222:role/baseline-deployer", "aws-cn"),
        ("arn:aws-iso:iam::222222222222:role/baseline-deployer", "aws-iso"),
    ],
)
def test_a_role_arn_of_another_partition(arn: str, partition: str) -> None:
    errors = _errors(_four(prod_us_west_1={"role_arn": arn}))
    assert errors == [
        f'prod-us-west-1: baseline_account_role_arn="{arn}": partition {partition}, but'
        f' baseline_region="us-west-1"'
        " is in partition aws; the role must be arn:aws:iam::<account>:role/<name> (arn:aws: in the"
        " commercial"
        " regions, arn:aws-us-gov: in us-gov-*, arn:aws-cn: in cn-*)."
    ]


def test_a_role_arn_of_the_regions_partition_outside_aws() -> None:
    arn = ROLE.format("333333333333")
    gov = _host(
        "gov", "us-gov-west-1", home_region="us-gov-west-1", role_arn=arn.replace(":aws:", ":aws-us-gov:")
    )
    china = _host("cn", "cn-north-1", home_region="cn-north-1", role_arn=arn.replace(":aws:", ":aws-cn:"))
    assert _errors([gov, china]) == []
    assert "partition aws-cn, but" in _errors([{**gov, "role_arn": china["role_arn"]}])[0]


def test_a_caller_connection_to_another_region() -> None:
    errors = _errors(
        _four(dev_us_east_1={"caller_connection_region": "us-west-1", "connection_region": "us-west-1"})
    )
    # The module connection follows the caller's: only the caller's is named.
    assert errors == [
        'dev-us-east-1: baseline_aws_caller_connection.region="us-west-1": every AWS call of the host'
        " must go to its"
        ' region, baseline_region="us-east-1" (its region option must be the host\'s baseline_region).'
    ]


def test_a_connection_of_its_own_to_another_region_or_none() -> None:
    errors = _errors(
        _four(prod_us_east_1={"connection_region": "eu-west-1"}, dev_us_west_1={"connection_region": None})
    )
    assert errors == [
        "dev-us-west-1: baseline_aws_connection names no region: every AWS call of the host must go to"
        " its region,"
        ' baseline_region="us-west-1" (its region option must be the host\'s baseline_region).',
        'prod-us-east-1: baseline_aws_connection.region="eu-west-1": every AWS call of the host must go'
        " to its region,"
        ' baseline_region="us-east-1" (its region option must be the host\'s baseline_region).',
    ]


def test_hosts_that_failed_before_stop_the_others() -> None:
    assert _errors(_four(), failed=["b", "a"]) == [
        "a and b failed validation (see their message): no host starts until every host's input is valid."
    ]
    assert _errors(_four(), failed=[]) == []


def test_each_wrong_host_is_named_once_per_problem() -> None:
    errors = _errors(
        _four(
            dev_us_west_1={"home_region": "us-west-1"},
            prod_us_east_1={"role_arn": "arn:aws-cn:iam::222222222222:role/r"},
            prod_us_west_1={"caller_connection_region": "us-east-1", "connection_region": "us-east-1"},
        )
    )
    assert [e.split(":")[0] for e in errors] == ["Account dev", "prod-us-east-1", "prod-us-west-1"]


def test_connection_region_reads_the_region_and_its_aliases_only() -> None:
    assert connection_region({"region": "us-east-1", "access_key": "AKIA", "secret_key": "s"}) == "us-east-1"
    assert connection_region({"aws_region": "us-west-1", "profile": "p"}) == "us-west-1"
    assert connection_region({"ec2_region": "eu-west-1"}) == "eu-west-1"
    assert connection_region({"profile": "p"}) is None
    assert connection_region({"region": ""}) is None
    assert connection_region("us-east-1") is None


def test_rollout_settings_that_mean_the_same_agree() -> None:
    """-e gives strings: "true" and true, "2" and 2 are one setting."""
    hosts = _four()
    hosts[0]["rollout"].update(home_region_first="true", max_concurrent="2", max_fail_percentage="50")
    for host in hosts[1:]:
        host["rollout"].update(home_region_first=True, max_concurrent=2, max_fail_percentage=50)
    assert _errors(hosts) == []


def test_hosts_outside_the_check_count_for_the_home_region_but_are_not_named_among_themselves() -> None:
    """A batch of the provisioning play: dev-us-east-1 failed in an earlier batch (no longer checked);
    it is still the account's host in the home region. Two hosts that are both outside the check
    (failed before, each with its own message) are not named together."""
    hosts = _four()
    checked = [h for h in hosts if h["host"] != "dev-us-east-1"]
    assert host_rule_errors(checked, _inventory(hosts)) == []
    twins = [*_inventory(hosts), {"host": "x", "account": "z", "region": "us-east-1"}]
    twins.append({"host": "y", "account": "z", "region": "us-east-1"})
    assert host_rule_errors(checked, twins) == []
