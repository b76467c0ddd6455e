# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Filters `host_rule_errors` and `connection_region`: the rules that involve several hosts.

A host of the site playbook is an account x region. Some settings are right or wrong only next to
the other hosts' (one home region per account, one host per account x region, a rollout order of
the inventory's regions, the rollout settings every host must share), or are per host but must
refuse the whole run when one host breaks them (a role ARN of the region's partition, a connection
to the host's region). The preflight role records each host's settings (a fact without
credentials, `preflight_host_settings`), then one task, run once on the controller, checks every
host at once with `host_rule_errors`; when any host is wrong, every host fails with the same
messages, each naming the host(s), the variable, the value and what is accepted: no host starts.
The documentation of each filter is in the .yml file of its name beside this file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

# The partition of each region family, and the ARN prefix it takes.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
ROLE_PARTITIONS = {"aws": "the commercial regions", "aws-us-gov": "us-gov-*", "aws-cn": "cn-*"}
_ARN_PARTITION = re.compile(r"^arn:([^:]*):")
# amazon.aws's connection options: region, and its aliases.
REGION_KEYS = ("region", "aws_region", "ec2_region")
# The rollout settings (key in preflight_host_settings.rollout => variable).
ROLLOUT_SETTINGS = {
    "region_order": "baseline_rollout_region_order",
    "home_region_first": "baseline_rollout_home_region_first",
    "region_concurrency": "baseline_rollout_region_concurrency",
    "max_concurrent": "baseline_rollout_max_concurrent",
    "max_fail_percentage": "baseline_rollout_max_fail_percentage",
}
ACCOUNT_WIDE = "its account-wide trail, password policy, key rotation and S3 Block Public Access"


def _show(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _key(value: Any) -> str:
    """A value as a comparable, hashable string (lists and dicts included)."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _and(items: Iterable[str]) -> str:
    names = list(items)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def connection_region(connection: Any) -> Any:
    """The region a connection (a dict of amazon.aws module options) names; None without one."""
    if not isinstance(connection, Mapping):
        return None
    for key in REGION_KEYS:
        value = connection.get(key)
        if value not in (None, ""):
            return value
    return None


def _partition(region: str) -> str:
    # Local import: both are filter plugins of this collection.
    from ansible_collections.secureinfra.baseline.plugins.filter.aws_rules import aws_partition

    return aws_partition(region)


def _places(
    settings: list[Mapping[str, Any]], inventory: Iterable[Mapping[str, Any]]
) -> list[dict[str, str]]:
    """Account and region of every host: the inventory's, the recorded settings where a host has them."""
    recorded = {str(s["host"]): s for s in settings}
    places = [
        {"host": str(h["host"]), "account": str(h["account"]), "region": str(h["region"])}
        for h in inventory
        if str(h["host"]) not in recorded
    ]
    places += [
        {"host": str(s["host"]), "account": str(s["account"]), "region": str(s["region"])} for s in settings
    ]
    return places


def _one_host_per_place(places: list[dict[str, str]], checked: set[str]) -> list[str]:
    """Hosts of one account x region, when one of them is checked here (hosts outside the play, or
    that failed before, are named with it; not among themselves)."""
    by_place: dict[tuple[str, str], list[str]] = {}
    for place in places:
        by_place.setdefault((place["account"], place["region"]), []).append(place["host"])
    errors = []
    for (account, region), hosts in by_place.items():
        if len(hosts) > 1 and checked.intersection(hosts):
            errors.append(
                f"Hosts {_and(sorted(hosts))} are {'both' if len(hosts) == 2 else 'all'} account {account}"
                f" in region {region} (baseline_account_name={_show(account)},"
                f" baseline_region={_show(region)}): one host per account x region (set baseline_region,"
                " baseline_account_role_arn or baseline_account_name per host)."
            )
    return errors


def _home_regions(
    settings: list[Mapping[str, Any]], places: list[dict[str, str]], home_in_inventory: bool
) -> list[str]:
    regions: dict[str, list[str]] = {}
    for place in places:
        regions.setdefault(place["account"], [])
        if place["region"] not in regions[place["account"]]:
            regions[place["account"]].append(place["region"])
    by_account: dict[str, dict[str, list[str]]] = {}
    for entry in settings:
        homes = by_account.setdefault(str(entry["account"]), {})
        homes.setdefault(str(entry["home_region"]), []).append(str(entry["host"]))
    errors = []
    for account, homes in by_account.items():
        if len(homes) > 1:
            named = "; ".join(f"{_and(hosts)}: {_show(home)}" for home, hosts in homes.items())
            errors.append(
                f"Account {account}: its hosts disagree on baseline_home_region ({named}): every host of"
                " an account must name the same home region, one of the account's regions (set it in the"
                " account's group)."
            )
        if not home_in_inventory:
            continue
        for home, hosts in homes.items():
            if home not in regions.get(account, []):
                errors.append(
                    f"{_and(hosts)}: baseline_home_region={_show(home)}: no host of the inventory group"
                    f" regions in account {account} is in the home region {home} (the account's regions:"
                    f" {', '.join(regions.get(account, []))}), so {ACCOUNT_WIDE} would never be deployed;"
                    " name one of the account's regions."
                )
    return errors


def _rollout(settings: list[Mapping[str, Any]], places: list[dict[str, str]], every: list[str]) -> list[str]:
    # Local import: both are filter plugins of this collection.
    from ansible_collections.secureinfra.baseline.plugins.filter.rollout_plan import rollout_errors

    errors = []
    values: dict[str, dict[str, tuple[Any, list[str]]]] = {name: {} for name in ROLLOUT_SETTINGS}
    for entry in settings:
        rollout = entry.get("rollout") or {}
        for name in ROLLOUT_SETTINGS:
            value = rollout.get(name)
            values[name].setdefault(_key(_meaning(name, value)), (value, []))[1].append(str(entry["host"]))
    for name, variable in ROLLOUT_SETTINGS.items():
        if len(values[name]) > 1:
            named = "; ".join(f"{_and(hosts)}: {_show(value)}" for value, hosts in values[name].values())
            errors.append(
                f"{variable} differs between hosts ({named}): the rollout settings are the run's, one value"
                " for every host (set them in group_vars/all, in play vars or with -e)."
            )
    inventory_regions = list(dict.fromkeys(place["region"] for place in places))
    seen: set[str] = set()
    for name in ROLLOUT_SETTINGS:
        for value, hosts in values[name].values():
            rollout = {n: value if n == name else _neutral(n) for n in ROLLOUT_SETTINGS}
            who = "every host" if sorted(hosts) == sorted(every) and len(every) > 1 else _and(hosts)
            messages = rollout_errors(**rollout)
            if name == "region_order" and not messages:
                messages = _order_errors(value, inventory_regions)
            for message in messages:
                text = f"{who}: {message}"
                if text not in seen:
                    seen.add(text)
                    errors.append(text)
    return errors


def _meaning(name: str, value: Any) -> Any:
    """What a rollout setting means, so that "true" (-e) and true, or "2" and 2, agree."""
    # Local import: both are filter plugins of this collection.
    from ansible_collections.secureinfra.baseline.plugins.filter.aws_rules import as_bool, as_int

    if name == "home_region_first":
        meaning = as_bool(value)
    elif name in ("max_concurrent", "max_fail_percentage"):
        meaning = as_int(value)
    else:
        meaning = None
    return value if meaning is None else meaning


def _neutral(name: str) -> Any:
    """A valid value of a rollout setting, to check one setting alone."""
    return {"region_order": [], "home_region_first": False, "region_concurrency": "parallel"}.get(name, 0)


def _order_errors(order: list[str], inventory_regions: list[str]) -> list[str]:
    errors = []
    twice = sorted({region for region in order if order.count(region) > 1})
    if twice:
        errors.append(
            f"baseline_rollout_region_order={_show(order)}: names {', '.join(twice)} more than once;"
            " each region at most once (StackSets RegionOrder)."
        )
    unknown = [region for region in dict.fromkeys(order) if region not in inventory_regions]
    if unknown:
        errors.append(
            f"baseline_rollout_region_order={_show(order)}: {', '.join(unknown)}"
            f" {'is not a region' if len(unknown) == 1 else 'are not regions'} of the inventory; name"
            f" only its regions ({', '.join(inventory_regions)})."
        )
    return errors


def _partitions(settings: list[Mapping[str, Any]]) -> list[str]:
    errors = []
    accepted = ", ".join(f"arn:{p}: in {where}" for p, where in ROLE_PARTITIONS.items())
    for entry in settings:
        arn = entry.get("role_arn")
        match = _ARN_PARTITION.match(arn) if isinstance(arn, str) else None
        if not match:
            continue  # no role, or not an ARN (the shared settings' own check names it)
        region = str(entry["region"])
        wanted = _partition(region)
        if match.group(1) != wanted:
            errors.append(
                f"{entry['host']}: baseline_account_role_arn={_show(arn)}: partition {match.group(1)}, but"
                f" baseline_region={_show(region)} is in partition {wanted}; the role must be"
                f" arn:{wanted}:iam::<account>:role/<name> ({accepted})."
            )
    return errors


def _connections(settings: list[Mapping[str, Any]]) -> list[str]:
    errors = []
    for entry in settings:
        region = entry["region"]
        caller = entry.get("caller_connection_region")
        module = entry.get("connection_region")
        for variable, value in (
            ("baseline_aws_caller_connection", caller),
            ("baseline_aws_connection", module),
        ):
            # baseline_aws_connection follows the caller's: named only when it has a region of its own.
            if value == region or (variable == "baseline_aws_connection" and value == caller):
                continue
            got = f"{variable}.region={_show(value)}" if value is not None else f"{variable} names no region"
            errors.append(
                f"{entry['host']}: {got}: every AWS call of the host must go to its region,"
                f" baseline_region={_show(region)} (its region option must be the host's baseline_region)."
            )
    return errors


def host_rule_errors(
    settings: Iterable[Mapping[str, Any]],
    inventory: Iterable[Mapping[str, Any]] | None = None,
    home_in_inventory: bool = True,
    failed: Iterable[str] | None = None,
) -> list[str]:
    """Every problem across the hosts' settings; empty when every host may start."""
    settings = [entry for entry in settings if isinstance(entry, Mapping)]
    every = [str(entry["host"]) for entry in settings]
    places = _places(settings, inventory or [])
    errors = _one_host_per_place(places, set(every))
    errors += _home_regions(settings, places, home_in_inventory)
    errors += _rollout(settings, places, every)
    errors += _partitions(settings)
    errors += _connections(settings)
    stopped = sorted(str(host) for host in failed or [])
    if stopped:
        errors.append(
            f"{_and(stopped)} failed validation (see {'its' if len(stopped) == 1 else 'their'} message):"
            " no host starts until every host's input is valid."
        )
    return errors


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"host_rule_errors": host_rule_errors, "connection_region": connection_region}
