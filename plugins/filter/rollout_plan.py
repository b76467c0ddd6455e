# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Filter `rollout_plan`: the order of the hosts and the `serial` batches of a StackSets-style rollout.

StackSets deploys a stack set to accounts x regions with a region order (RegionOrder), regions one
after the other or all at once (RegionConcurrencyType SEQUENTIAL / PARALLEL), a number of accounts
at once in each region (MaxConcurrentCount / MaxConcurrentPercentage) and a failure tolerance.
Ansible runs a play's hosts in batches (`serial`) in the order of its host pattern. This filter
turns the StackSets controls into an ordered host list and the explicit list of batch sizes that
`serial` takes; `max_fail_percentage` is Ansible's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: rollout_plan
short_description: Order hosts and size the serial batches of a StackSets-style rollout
version_added: 0.2.0
author:
  - Secureinfra Platform Team (@secureinfra)
description:
  - Takes one dict per host (C(host), C(region), C(home_region)) in inventory order, and returns the
    hosts ordered for the rollout and the batch sizes for the play keyword C(serial).
  - Order, stable within a rank; the home-region hosts (a host whose region is its account's
    home region) first when I(home_region_first); then the regions of I(region_order) in that order;
    then the other regions in inventory order.
  - Batches, I(region_concurrency=parallel); every host at once when I(max_concurrent) is 0, else
    batches of I(max_concurrent) hosts (a count, or a percentage of the hosts, rounded down, at
    least 1); with I(home_region_first), the home-region hosts make up the first batch(es) alone.
  - Batches, I(region_concurrency=sequential); one region after the other, each in batches of
    I(max_concurrent) of its hosts (0, all of them).
  - Returns C(errors), a list of messages naming the setting, when a control is invalid (the site
    checks them before any AWS call, with the filter C(host_rule_errors)).
options:
  _input:
    description: One dict per host with keys C(host), C(region), C(home_region).
    type: list
    elements: dict
    required: true
  region_order:
    description: Regions to run first, in this order.
    type: list
    elements: str
    default: []
  home_region_first:
    description:
      - Run the home-region hosts in batches of their own, before any other host.
      - A boolean, or a string Ansible converts to one (C(-e baseline_rollout_home_region_first=true)
        gives the string C(true)), as the roles' other booleans.
    type: raw
    default: false
  max_concurrent:
    description: Hosts per batch, a count (0, all) or a percentage such as C(25%).
    type: raw
    default: 0
  region_concurrency:
    description: C(parallel) or C(sequential).
    type: str
    default: parallel
"""

EXAMPLES = r"""
plan: "{{ entries | secureinfra.baseline.rollout_plan(['us-east-1'], true, 2, 'sequential') }}"
"""

RETURN = r"""
_value:
  description: C(hosts) (ordered host names), C(serial) (batch sizes), C(errors) (messages).
  type: dict
"""

PARALLEL = "parallel"
SEQUENTIAL = "sequential"
_PERCENT = re.compile(r"^(\d{1,3})%$")
_FAIL_PERCENTAGE = re.compile(r"100|[1-9]?[0-9]")


def _concurrency(value: Any) -> tuple[str, int] | None:
    """('count', n) or ('percent', p); None when invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return ("count", value) if value >= 0 else None
    text = str(value).strip()
    if text.isdigit():
        return "count", int(text)
    match = _PERCENT.match(text)
    if match and 1 <= int(match.group(1)) <= 100:
        return "percent", int(match.group(1))
    return None


def _batch_size(spec: tuple[str, int], hosts: int) -> int:
    kind, number = spec
    if kind == "percent":
        return max(1, hosts * number // 100)
    return number if 0 < number < hosts else hosts


def _split(count: int, spec: tuple[str, int]) -> list[int]:
    if count == 0:
        return []
    size = _batch_size(spec, count)
    full, rest = divmod(count, size)
    return [size] * full + ([rest] if rest else [])


def _as_bool(value: Any) -> bool | None:
    """A boolean from a bool or a string Ansible converts (-e gives strings), as the roles' other
    booleans (aws_rules.as_bool); None when it is neither."""
    # Local import: both are filter plugins of this collection.
    from ansible_collections.secureinfra.baseline.plugins.filter.aws_rules import as_bool

    return as_bool(value)


def rollout_errors(
    region_order: Any,
    home_region_first: Any,
    max_concurrent: Any,
    region_concurrency: Any,
    max_fail_percentage: Any = 0,
) -> list[str]:
    """What is wrong with the rollout settings, one message per setting (empty when valid)."""
    errors = []
    if not isinstance(region_order, list) or not all(isinstance(region, str) for region in region_order):
        errors.append(f"baseline_rollout_region_order: a list of region names (got {region_order!r}).")
    if _as_bool(home_region_first) is None:
        errors.append(
            "baseline_rollout_home_region_first: true or false (or the strings true/false, yes/no,"
            f" on/off, 1/0) (got {home_region_first!r})."
        )
    if _concurrency(max_concurrent) is None:
        errors.append(
            "baseline_rollout_max_concurrent: a number of hosts per batch (0: all at once) or a percentage"
            f" from 1% to 100% (got {max_concurrent!r})."
        )
    if region_concurrency not in (PARALLEL, SEQUENTIAL):
        errors.append(
            f"baseline_rollout_region_concurrency: parallel or sequential (got {region_concurrency!r})."
        )
    if isinstance(max_fail_percentage, bool) or not _FAIL_PERCENTAGE.fullmatch(
        str(max_fail_percentage).strip()
    ):
        errors.append(
            "baseline_rollout_max_fail_percentage: a percentage of each batch from 0 to 100"
            f" (got {max_fail_percentage!r})."
        )
    return errors


def _rank(entry: Mapping[str, Any], order: list[str], home_region_first: bool) -> tuple[int, int]:
    """(0 for a home-region host when they go first, else 1; the region's place in `order`)."""
    home = 0 if home_region_first and entry["region"] == entry.get("home_region") else 1
    return home, order.index(entry["region"])


def _runs(ordered: list[Mapping[str, Any]], key: Any) -> list[int]:
    """Lengths of the runs of consecutive entries with the same key."""
    runs: list[int] = []
    previous = object()
    for entry in ordered:
        current = key(entry)
        if runs and current == previous:
            runs[-1] += 1
        else:
            runs.append(1)
        previous = current
    return runs


def rollout_plan(
    entries: Iterable[Mapping[str, Any]],
    region_order: Any = None,
    home_region_first: Any = False,
    max_concurrent: Any = 0,
    region_concurrency: Any = PARALLEL,
) -> dict[str, Any]:
    region_order = [] if region_order is None else region_order
    errors = rollout_errors(region_order, home_region_first, max_concurrent, region_concurrency)
    entries = list(entries)
    if errors:
        return {"hosts": [entry["host"] for entry in entries], "serial": [0], "errors": errors}
    home_first = _as_bool(home_region_first) is True
    # The regions of region_order, then the others in the order the inventory first names them.
    order = list(dict.fromkeys([*region_order, *(entry["region"] for entry in entries)]))
    ordered = sorted(entries, key=lambda entry: _rank(entry, order, home_first))
    spec = _concurrency(max_concurrent)
    if spec is None:  # checked by rollout_errors
        raise AssertionError("max_concurrent was validated above")
    if region_concurrency == SEQUENTIAL:
        groups = _runs(ordered, lambda entry: _rank(entry, order, home_first))
    elif home_first:
        groups = _runs(ordered, lambda entry: _rank(entry, order, home_first)[0])
    else:
        groups = [len(ordered)]
    serial = [size for group in groups for size in _split(group, spec)]
    return {"hosts": [entry["host"] for entry in ordered], "serial": serial or [0], "errors": []}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"rollout_plan": rollout_plan}
