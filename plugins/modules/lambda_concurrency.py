#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lambda_concurrency
short_description: Manage the reserved concurrency of an AWS Lambda function
version_added: 0.1.0
description:
  - Sets or removes the reserved concurrency of an existing Lambda function, idempotently, with
    check mode and diff.
  - Reads the current value with C(GetFunctionConcurrency) and only calls C(PutFunctionConcurrency)
    or C(DeleteFunctionConcurrency) when it differs.
  - A reservation of C(0) throttles every invocation of the function, which is a common way to
    switch a function off.
  - Before a reservation grows, it reads the account's concurrency with C(GetAccountSettings).
    AWS keeps a minimum of unreserved concurrency for the functions without a reservation - "You
    can reserve up to the Unreserved account concurrency value that is shown, minus 100 for
    functions that don't have reserved concurrency"
    (U(https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)); when the
    account's limit (the C(ConcurrentExecutions) quota) is below 100, as on new accounts
    (U(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)), the whole limit
    must stay unreserved, and C(PutFunctionConcurrency) fails with "decreases account's
    UnreservedConcurrentExecution below its minimum value". The minimum is therefore
    C(min(100, ConcurrentExecutions)).
  - A reservation that would leave less than that minimum unreserved (counting this function's
    current reservation as returned to the pool) is skipped with a warning naming the quota and
    the numbers, or fails with that message when O(strict=true). Check mode predicts the same.
  - With O(functions), one module run manages the reservations of several functions. The account's
    concurrency is then read at most once, and each reservation counts against what the ones before
    it left, in check mode too.
options:
  function_name:
    description:
      - Name, ARN or partial ARN of the function (without a version or alias qualifier).
      - Exactly one of O(function_name) and O(functions) is required.
    type: str
  functions:
    description:
      - Several functions in one module run, in the order given. O(state) does not apply; a function
        whose O(functions[].reserved_concurrent_executions) is V(null) gets no reservation.
    type: list
    elements: dict
    version_added: 0.2.0
    suboptions:
      function_name:
        description: Name, ARN or partial ARN of the function.
        type: str
        required: true
      reserved_concurrent_executions:
        description: Reserved concurrent executions (at least C(0)), or V(null) for none.
        type: int
  reserved_concurrent_executions:
    description:
      - Number of concurrent executions reserved for the function, at least C(0).
      - Required with O(state=present) and O(function_name); must be omitted with O(state=absent).
    type: int
  state:
    description:
      - C(present) sets the reservation to O(reserved_concurrent_executions).
      - C(absent) removes any reservation, so the function uses the account's unreserved pool.
    type: str
    choices: [present, absent]
    default: present
  strict:
    description:
      - C(false) skips a reservation the account's concurrency quota cannot hold, with a warning;
        the function keeps its current reservation (or none) and uses the unreserved pool.
      - C(true) fails instead, with the same message.
    type: bool
    default: false
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Cap a function at 10 concurrent executions
  secureinfra.baseline.lambda_concurrency:
    function_name: rotate-keys
    reserved_concurrent_executions: 10

- name: Stop every invocation of a function (kill switch)
  secureinfra.baseline.lambda_concurrency:
    function_name: rotate-keys
    reserved_concurrent_executions: 0

- name: Remove the reservation
  secureinfra.baseline.lambda_concurrency:
    function_name: rotate-keys
    state: absent

- name: Several functions in one run
  secureinfra.baseline.lambda_concurrency:
    functions:
      - function_name: processor
        reserved_concurrent_executions: 5
      - function_name: analytics
        reserved_concurrent_executions: null
"""

RETURN = r"""
function_name:
  description: The function name as given.
  returned: with O(function_name)
  type: str
  sample: rotate-keys
reserved_concurrent_executions:
  description: The reservation after the call; C(null) when there is none.
  returned: with O(function_name)
  type: int
  sample: 10
reservation_skipped:
  description: Whether the wanted reservation was skipped because the account's quota cannot hold it.
  returned: with O(function_name)
  type: bool
  sample: false
functions:
  description: With O(functions), one entry per function, in the order given.
  returned: with O(functions)
  type: list
  elements: dict
  contains:
    function_name:
      description: The function name as given.
      type: str
    reserved_concurrent_executions:
      description: The reservation after the call; C(null) when there is none.
      type: int
    reservation_skipped:
      description: Whether the wanted reservation was skipped because the account's quota cannot hold it.
      type: bool
    changed:
      description: Whether the reservation changed (or would, in check mode).
      type: bool
account_concurrency:
  description:
    - The account's concurrency as C(GetAccountSettings) reported it, and AWS's minimum unreserved.
    - Only when the reservation grows (otherwise the account settings are not read).
  returned: when read
  type: dict
  sample: {"concurrent_executions": 1000, "unreserved_concurrent_executions": 989, "minimum_unreserved": 100}
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore
from ansible_collections.secureinfra.baseline.plugins.module_utils.list_input import duplicate_errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    if params["functions"] is not None:
        return list_errors(params)
    value = params["reserved_concurrent_executions"]
    if params["state"] == "absent" and value is not None:
        return ["reserved_concurrent_executions must be omitted with state: absent"]
    if params["state"] == "present" and value is None:
        return ["reserved_concurrent_executions is required with state: present (state: absent removes it)"]
    if value is not None and value < 0:
        return [f"reserved_concurrent_executions must be at least 0, got {value}"]
    return []


def list_errors(params: dict[str, Any]) -> list[str]:
    errors = []
    if params["reserved_concurrent_executions"] is not None or params["state"] != "present":
        errors.append(
            "reserved_concurrent_executions and state apply to function_name only, not to functions"
        )
    for entry in params["functions"]:
        value = entry["reserved_concurrent_executions"]
        if value is not None and value < 0:
            name = entry["function_name"]
            errors.append(f"functions[{name}].reserved_concurrent_executions must be at least 0, got {value}")
    errors.extend(duplicate_errors("functions", [entry["function_name"] for entry in params["functions"]]))
    return errors


def current_reservation(module: AnsibleAWSModule, client: Any, name: str) -> int | None:
    try:
        response = client.get_function_concurrency(aws_retry=True, FunctionName=name)
    except is_boto3_error_code("ResourceNotFoundException"):
        module.fail_json(msg=f"Lambda function '{name}' does not exist")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read the reserved concurrency of Lambda function '{name}'")
    value = response.get("ReservedConcurrentExecutions")
    return None if value is None else int(value)


# "You can reserve up to the Unreserved account concurrency value that is shown, minus 100"
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html); below a limit of
# 100 (new accounts) the whole limit stays unreserved.
MINIMUM_UNRESERVED = 100
QUOTA_HINT = "Lambda quota 'Concurrent executions' (ConcurrentExecutions, Service Quotas code L-B99A9384)"


def account_concurrency(module: AnsibleAWSModule, client: Any) -> dict[str, int]:
    try:
        limit = client.get_account_settings(aws_retry=True)["AccountLimit"]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to read the account's Lambda concurrency (GetAccountSettings)")
    total = int(limit["ConcurrentExecutions"])
    return {
        "concurrent_executions": total,
        "unreserved_concurrent_executions": int(limit["UnreservedConcurrentExecutions"]),
        "minimum_unreserved": min(MINIMUM_UNRESERVED, total),
    }


def quota_problem(name: str, before: int | None, wanted: int, account: dict[str, int]) -> str | None:
    """Why the account cannot hold the reservation, or None when it can."""
    unreserved = account["unreserved_concurrent_executions"]
    left = unreserved + (before or 0) - wanted
    if left >= account["minimum_unreserved"]:
        return None
    current = f", {before} of them reserved by this function now" if before else ""
    return (
        f"Reserved concurrency {wanted} for Lambda function '{name}' does not fit the account: the "
        f"{QUOTA_HINT} is {account['concurrent_executions']} in this region, "
        f"{unreserved} unreserved{current}; reserving {wanted} would leave {left} unreserved, "
        f"below AWS's minimum of {account['minimum_unreserved']} "
        f"(min(100, ConcurrentExecutions)). Ask AWS for a higher quota or lower the reservation."
    )


def grows(before: int | None, wanted: int | None) -> bool:
    return wanted is not None and wanted > (before or 0)


def apply(module: AnsibleAWSModule, client: Any, name: str, wanted: int | None) -> None:
    try:
        if wanted is None:
            client.delete_function_concurrency(aws_retry=True, FunctionName=name)
        else:
            client.put_function_concurrency(
                aws_retry=True, FunctionName=name, ReservedConcurrentExecutions=wanted
            )
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to set the reserved concurrency of Lambda function '{name}'")


class Account:
    """The account's concurrency, read at most once per run, kept up to date with the reservations the
    run makes (or, in check mode, would make)."""

    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        self.module = module
        self.client = client
        self.state: dict[str, int] | None = None
        self.pending = 0  # check mode: unreserved concurrency returned (+) or taken (-) before the read

    def read(self) -> dict[str, int]:
        if self.state is None:
            self.state = account_concurrency(self.module, self.client)
            self.state["unreserved_concurrent_executions"] += self.pending
        return self.state

    def reserve(self, before: int | None, wanted: int | None) -> None:
        delta = (before or 0) - (wanted or 0)
        if self.state is not None:
            self.state["unreserved_concurrent_executions"] += delta
        elif self.module.check_mode:
            self.pending += delta  # a real change shows in the account's settings when they are read


def converge(
    module: AnsibleAWSModule, client: Any, name: str, wanted: int | None, account: Account
) -> dict[str, Any]:
    """One function's reservation; its result entry, with its (before, after) as 'diff'."""
    before = current_reservation(module, client, name)
    entry: dict[str, Any] = {"function_name": name, "reservation_skipped": False}
    if before != wanted and grows(before, wanted):
        entry["account_concurrency"] = dict(account.read())
        problem = quota_problem(name, before, wanted, account.read())
        if problem and module.params["strict"]:
            module.fail_json(msg=problem, **entry)
        if problem:
            module.warn(f"{problem} Skipped (strict reservations are off); the function keeps {before}.")
            entry["reservation_skipped"] = True
            wanted = before
    changed = before != wanted
    if changed and not module.check_mode:
        apply(module, client, name, wanted)
    if changed:
        account.reserve(before, wanted)
    entry.update(changed=changed, reserved_concurrent_executions=wanted, diff=(before, wanted))
    return entry


def run_list(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    account = Account(module, client)
    entries = [
        converge(module, client, f["function_name"], f["reserved_concurrent_executions"], account)
        for f in module.params["functions"]
    ]
    diffs = {e["function_name"]: e.pop("diff") for e in entries}
    for entry in entries:
        entry.pop("account_concurrency", None)
    result: dict[str, Any] = {"changed": any(e["changed"] for e in entries), "functions": entries}
    if account.state is not None:
        result["account_concurrency"] = account.state
    if module._diff:
        result["diff"] = {
            "before": {
                name: {"reserved_concurrent_executions": d[0]} for name, d in diffs.items() if d[0] != d[1]
            },
            "after": {
                name: {"reserved_concurrent_executions": d[1]} for name, d in diffs.items() if d[0] != d[1]
            },
        }
    return result


def run_one(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    name = module.params["function_name"]
    wanted = module.params["reserved_concurrent_executions"] if module.params["state"] == "present" else None
    result = converge(module, client, name, wanted, Account(module, client))
    before, after = result.pop("diff")
    if module._diff:
        result["diff"] = {
            "before": {"reserved_concurrent_executions": before},
            "after": {"reserved_concurrent_executions": after},
        }
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(
        argument_spec={
            "function_name": {"type": "str"},
            "functions": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "function_name": {"type": "str", "required": True},
                    "reserved_concurrent_executions": {"type": "int"},
                },
            },
            "reserved_concurrent_executions": {"type": "int"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "strict": {"type": "bool", "default": False},
        },
        mutually_exclusive=[("function_name", "functions")],
        required_one_of=[("function_name", "functions")],
        required_if=[("state", "present", ["reserved_concurrent_executions", "functions"], True)],
        supports_check_mode=True,
    )
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("lambda", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(
        **(run_list(module, client) if module.params["functions"] is not None else run_one(module, client))
    )


if __name__ == "__main__":
    main()
