# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Filter `account_hosts`: the account and region of each inventory host, before any STS call.

A host of the site playbook is an account x region. Its region is `baseline_region` (default, the
host's name); its account is `baseline_account_name` when the inventory sets it, else the account
id in `baseline_account_role_arn`, else `caller` (the credentials the play runs with). The
preflight role groups hosts by account with it: the regions of an account (the audit role's data
events), the check that every account has a host in its home region, and the check that no two
hosts are the same account x region.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: account_hosts
short_description: The account and region of inventory hosts, from their inventory variables
version_added: 0.2.0
author:
  - Secureinfra Platform Team (@secureinfra)
description:
  - For each host name, a dict with C(host), C(region) (C(baseline_region), default the host's
    name) and C(account) (C(baseline_account_name), else the account id of
    C(baseline_account_role_arn), else C(caller)).
  - Reads inventory variables only (hostvars hold no role defaults), so it works before any STS call.
options:
  _input:
    description: Host names (for example C(groups['regions'])).
    type: list
    elements: str
    required: true
  hostvars:
    description: The C(hostvars) magic variable.
    type: dict
    required: true
"""

EXAMPLES = r"""
regions_of_my_account: >-
  {{ groups['regions'] | secureinfra.baseline.account_hosts(hostvars)
     | selectattr('account', 'eq', baseline_account_name) | map(attribute='region') | unique }}
"""

RETURN = r"""
_value:
  description: One dict per host, in the input's order, with keys host, region and account.
  type: list
  elements: dict
"""

CALLER = "caller"
_ROLE_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/")


def account_key(role_arn: Any, name: Any = None) -> str:
    """The account a host belongs to, before STS: explicit name, role ARN's account, or the caller."""
    if name not in (None, ""):
        return str(name)
    match = _ROLE_ACCOUNT.match(str(role_arn or ""))
    return match.group(1) if match else CALLER


def _lookup(variables: Any, key: str) -> Any:
    try:
        return variables.get(key)
    except (AttributeError, KeyError):
        return None


def account_hosts(hosts: Iterable[str], hostvars: Mapping[str, Any]) -> list[dict[str, str]]:
    entries = []
    for host in hosts:
        variables = hostvars.get(host) or {}
        entries.append(
            {
                "host": str(host),
                "region": str(_lookup(variables, "baseline_region") or host),
                "account": account_key(
                    _lookup(variables, "baseline_account_role_arn"),
                    _lookup(variables, "baseline_account_name"),
                ),
            }
        )
    return entries


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"account_hosts": account_hosts}
