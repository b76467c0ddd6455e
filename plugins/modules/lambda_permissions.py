#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lambda_permissions
short_description: Statements of Lambda functions' resource-based policies, for several functions in one call
version_added: 0.2.0
description:
  - Makes each listed statement (by its statement id) part of its function's resource-based policy, in one
    module run for every function and statement.
  - Replaces a loop over M(amazon.aws.lambda_policy), one module run per statement.
  - A no-op makes one C(GetPolicy) read per function and no write. A statement that differs is removed
    (C(RemovePermission)) and added again (C(AddPermission)); a missing one is added.
  - Statements that are not listed are left alone.
options:
  permissions:
    description: The statements.
    type: list
    elements: dict
    required: true
    suboptions:
      function_name:
        description: Name of the function (without a qualifier).
        type: str
        required: true
      statement_id:
        description: Statement id (C(Sid)), 1-100 letters, digits, C(-) or C(_).
        type: str
        required: true
      action:
        description: The action allowed, for example C(lambda:InvokeFunction).
        type: str
        required: true
      principal:
        description:
          - A service principal (C(s3.amazonaws.com)), an account id or an ARN.
        type: str
        required: true
      source_arn:
        description: Only requests from this resource (condition C(ArnLike) C(AWS:SourceArn)).
        type: str
      source_account:
        description: Only requests from this account (condition C(StringEquals) C(AWS:SourceAccount)).
        type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
notes:
  - Check mode and diff are supported. A function that does not exist fails the module, in check mode too.
author:
  - Secureinfra Platform Team (@secureinfra)
"""

EXAMPLES = r"""
- name: S3 and EventBridge may invoke the functions, from their own bucket and rule only
  secureinfra.baseline.lambda_permissions:
    permissions:
      - function_name: baseline-processor
        statement_id: s3-data-bucket-object-created
        action: lambda:InvokeFunction
        principal: s3.amazonaws.com
        source_arn: arn:aws:s3:::baseline-data
        source_account: "123456789012"
      - function_name: baseline-analytics
        statement_id: eventbridge-schedule
        action: lambda:InvokeFunction
        principal: events.amazonaws.com
        source_arn: arn:aws:events:eu-west-1:123456789012:rule/baseline-analytics
"""

RETURN = r"""
permissions:
  description: The statements, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    function_name:
      description: Function name.
      type: str
    statement_id:
      description: Statement id.
      type: str
    changed:
      description: Whether the statement was added or replaced (or would be, in check mode).
      type: bool
diff:
  description: Per function and statement id, the statement before and after, in diff mode.
  returned: when diff mode is on
  type: dict
"""

import contextlib
import json
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore
from ansible_collections.secureinfra.baseline.plugins.module_utils.list_input import duplicate_errors

SID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ACTION = re.compile(r"^(lambda:[A-Za-z*]+|\*)$")
ACCOUNT = re.compile(r"^\d{12}$")

ARGUMENT_SPEC: dict[str, Any] = {
    "permissions": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "function_name": {"type": "str", "required": True},
            "statement_id": {"type": "str", "required": True},
            "action": {"type": "str", "required": True},
            "principal": {"type": "str", "required": True},
            "source_arn": {"type": "str"},
            "source_account": {"type": "str"},
        },
    },
}


def permission_errors(permission: dict[str, Any]) -> list[str]:
    where = f"permissions[{permission['function_name']}/{permission['statement_id']}]"
    errors = []
    if not FUNCTION.match(permission["function_name"]):
        errors.append(f"{where}.function_name must be a function name (1-64 letters, digits, '-' or '_')")
    if not SID.match(permission["statement_id"]):
        errors.append(f"{where}.statement_id must be 1-100 letters, digits, '-' or '_'")
    if not ACTION.match(permission["action"]):
        errors.append(
            f"{where}.action must be a Lambda action (lambda:InvokeFunction, ...), "
            f"got '{permission['action']}'"
        )
    account = permission["source_account"]
    if account is not None and not ACCOUNT.match(account):
        errors.append(f"{where}.source_account must be a 12-digit account id, got '{account}'")
    return errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    errors = [error for permission in params["permissions"] for error in permission_errors(permission)]
    keys = [f"{p['function_name']}/{p['statement_id']}" for p in params["permissions"]]
    return errors + duplicate_errors("permissions (function/statement_id)", keys)


def principal_of(value: str) -> dict[str, str]:
    """The Principal element AWS writes for AddPermission's Principal parameter."""
    if "." in value and not value.startswith("arn:"):
        return {"Service": value}
    if ACCOUNT.match(value):
        return {"AWS": f"arn:aws:iam::{value}:root"}
    return {"AWS": value}


def wanted_view(permission: dict[str, Any]) -> dict[str, Any]:
    """What a statement must say, in a form comparable with what GetPolicy returns."""
    conditions: dict[str, dict[str, str]] = {}
    if permission["source_arn"]:
        conditions.setdefault("ArnLike", {})["AWS:SourceArn"] = permission["source_arn"]
    if permission["source_account"]:
        conditions.setdefault("StringEquals", {})["AWS:SourceAccount"] = permission["source_account"]
    return {
        "action": permission["action"],
        "principal": principal_of(permission["principal"]),
        "condition": conditions,
    }


def current_view(statement: dict[str, Any]) -> dict[str, Any]:
    principal = statement.get("Principal", {})
    if isinstance(principal, str):
        principal = {"AWS": principal}
    action = statement.get("Action")
    return {
        "action": action[0] if isinstance(action, list) and len(action) == 1 else action,
        "principal": principal,
        "condition": statement.get("Condition", {}),
    }


def read_statements(module: AnsibleAWSModule, client: Any, function: str) -> dict[str, dict[str, Any]]:
    """The function's policy statements by Sid ({} when it has no policy)."""
    try:
        policy = json.loads(client.get_policy(aws_retry=True, FunctionName=function)["Policy"])
    except is_boto3_error_code("ResourceNotFoundException"):
        if not function_exists(module, client, function):
            module.fail_json(msg=f"Lambda function '{function}' does not exist")
        return {}
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read the policy of Lambda function '{function}'")
    return {statement.get("Sid"): statement for statement in policy.get("Statement", [])}


def function_exists(module: AnsibleAWSModule, client: Any, function: str) -> bool:
    """GetPolicy answers ResourceNotFoundException for a function without a policy too."""
    try:
        client.get_function_configuration(aws_retry=True, FunctionName=function)
    except is_boto3_error_code("ResourceNotFoundException"):
        return False
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read Lambda function '{function}'")
    return True


def replace(module: AnsibleAWSModule, client: Any, permission: dict[str, Any], exists: bool) -> None:
    function, sid = permission["function_name"], permission["statement_id"]
    request = {
        "FunctionName": function,
        "StatementId": sid,
        "Action": permission["action"],
        "Principal": permission["principal"],
    }
    if permission["source_arn"]:
        request["SourceArn"] = permission["source_arn"]
    if permission["source_account"]:
        request["SourceAccount"] = permission["source_account"]
    try:
        if exists:
            client.remove_permission(aws_retry=True, FunctionName=function, StatementId=sid)
        client.add_permission(aws_retry=True, **request)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to set statement '{sid}' of Lambda function '{function}'")


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("lambda", retry_decorator=AWSRetry.jittered_backoff())
    policies: dict[str, dict[str, dict[str, Any]]] = {}
    entries, before, after = [], {}, {}
    for permission in module.params["permissions"]:
        function, sid = permission["function_name"], permission["statement_id"]
        if function not in policies:
            policies[function] = read_statements(module, client, function)
        statement = policies[function].get(sid)
        wanted = wanted_view(permission)
        current = current_view(statement) if statement else None
        changed = current != wanted
        if changed and not module.check_mode:
            replace(module, client, permission, statement is not None)
        if changed:
            before[f"{function}/{sid}"] = current or {}
            after[f"{function}/{sid}"] = wanted
        entries.append({"function_name": function, "statement_id": sid, "changed": changed})
    result: dict[str, Any] = {"changed": any(e["changed"] for e in entries), "permissions": entries}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
