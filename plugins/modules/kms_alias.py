#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kms_alias
short_description: Point a KMS alias at a key, or delete the alias, idempotently
version_added: 0.2.0
description:
  - Creates a KMS alias for a key, points an existing alias at another key (C(UpdateAlias)), or
    deletes the alias (C(DeleteAlias)), with check mode and diff.
  - M(amazon.aws.kms_key) with O(amazon.aws.kms_key#module:state=absent) only schedules the key for
    deletion and leaves its alias; a teardown deletes the alias after the key is scheduled, so that a
    rerun of an interrupted teardown still finds the key by its alias.
  - The alias is read with C(ListAliases) (paginated); in check mode nothing else is called.
options:
  alias:
    description:
      - Name of the alias, with or without the C(alias/) prefix.
      - Names starting with C(alias/aws/) belong to AWS managed keys and are refused.
    type: str
    required: true
  target_key_id:
    description:
      - Key the alias points at (key id or key ARN). Required with O(state=present).
      - Compared with the C(TargetKeyId) AWS reports (a key id); a key ARN is compared by its key id.
    type: str
  state:
    description: C(present) creates or updates the alias; C(absent) deletes it (the key is left alone).
    type: str
    choices: [present, absent]
    default: present
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Schedule the key for deletion (30 days), then delete its alias
  amazon.aws.kms_key:
    alias: baseline
    pending_window: 30
    state: absent

- name: Delete the alias
  secureinfra.baseline.kms_alias:
    alias: baseline
    state: absent

- name: Point an alias at a key
  secureinfra.baseline.kms_alias:
    alias: alias/baseline
    target_key_id: 1234abcd-12ab-34cd-56ef-1234567890ab
"""

RETURN = r"""
alias:
  description: The alias name, with its C(alias/) prefix.
  returned: always
  type: str
  sample: alias/baseline
target_key_id:
  description: Key id the alias points at after the run (null when it is absent).
  returned: always
  type: str
  sample: 1234abcd-12ab-34cd-56ef-1234567890ab
diff:
  description: The alias's target before and after, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
  contains:
    before:
      description: C({target_key_id}) before the run (empty dict when the alias did not exist).
      type: dict
    after:
      description: C({target_key_id}) after the run (empty dict when the alias is deleted).
      type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

ALIAS_PREFIX = "alias/"


def alias_name(alias: str) -> str:
    return alias if alias.startswith(ALIAS_PREFIX) else ALIAS_PREFIX + alias


def key_id(value: str) -> str:
    """The key id of a key id or key ARN (arn:...:key/<id>)."""
    return value.rsplit("key/", 1)[-1] if value.startswith("arn:") else value


def validation_errors(params: dict[str, Any]) -> list[str]:
    name = alias_name(params["alias"])
    errors = []
    if name.startswith("alias/aws/"):
        errors.append(f"alias '{name}' belongs to an AWS managed key (alias/aws/...) and cannot be managed")
    if len(name) <= len(ALIAS_PREFIX):
        errors.append("alias must name an alias after 'alias/'")
    if params["state"] == "present" and not params["target_key_id"]:
        errors.append("target_key_id is required with state: present")
    if params["state"] == "absent" and params["target_key_id"]:
        errors.append("target_key_id must be omitted with state: absent")
    return errors


def find_alias(module: AnsibleAWSModule, client: Any, name: str) -> dict[str, Any] | None:
    try:
        for page in client.get_paginator("list_aliases").paginate():
            for alias in page.get("Aliases") or []:
                if alias.get("AliasName") == name:
                    return alias
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to list the KMS aliases")
    return None


def plan(current: dict[str, Any] | None, params: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The call to make (create, update, delete or None) and the alias's target after it."""
    if params["state"] == "absent":
        return ("delete" if current else None), {}
    wanted = key_id(params["target_key_id"])
    if current is None:
        return "create", {"target_key_id": wanted}
    if current.get("TargetKeyId") != wanted:
        return "update", {"target_key_id": wanted}
    return None, {"target_key_id": wanted}


def apply(module: AnsibleAWSModule, client: Any, action: str, name: str) -> None:
    target = module.params["target_key_id"]
    try:
        if action == "delete":
            client.delete_alias(aws_retry=True, AliasName=name)
        elif action == "create":
            client.create_alias(aws_retry=True, AliasName=name, TargetKeyId=target)
        else:
            client.update_alias(aws_retry=True, AliasName=name, TargetKeyId=target)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to {action} KMS alias '{name}'")


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    name = alias_name(module.params["alias"])
    current = find_alias(module, client, name)
    before = {"target_key_id": current.get("TargetKeyId")} if current else {}
    action, after = plan(current, module.params)
    if action and not module.check_mode:
        apply(module, client, action, name)
    result: dict[str, Any] = {
        "changed": action is not None,
        "alias": name,
        "target_key_id": after.get("target_key_id"),
    }
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    return result


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "alias": {"type": "str", "required": True},
            "target_key_id": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        supports_check_mode=True,
    )
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("kms", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
