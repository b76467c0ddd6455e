#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kms_key_deletion
short_description: Schedule the deletion of the KMS key an alias names, then delete the alias
version_added: 0.2.0
description:
  - Finds the customer managed key that O(alias) points at (C(ListAliases), C(DescribeKey)),
    schedules its deletion after O(pending_window) days (C(ScheduleKeyDeletion)) unless it is
    already C(PendingDeletion), then deletes the alias (C(DeleteAlias)) when O(delete_alias=true).
  - The alias goes last, so a run interrupted after the scheduling finds the key again by its alias
    and completes; a run after that finds no alias and changes nothing.
  - Until the window ends the key is disabled and C(CancelKeyDeletion) brings it back; then the key
    and everything encrypted under it is gone for good
    (U(https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html)).
  - Why this exists - M(amazon.aws.kms_key) with O(amazon.aws.kms_key#module:state=absent) leaves the
    alias, so a later converge finds the key pending deletion and cancels the deletion; and it passes
    the key ARN to C(ScheduleKeyDeletion), which AWS accepts but moto 5.2.5 answers with an HTTP 500.
    This module passes the key id.
  - In check mode only the two reads are made.
options:
  alias:
    description:
      - Name of the alias, with or without the C(alias/) prefix.
      - Names starting with C(alias/aws/) belong to AWS managed keys and are refused.
    type: str
    required: true
  pending_window:
    description: Days (7-30) before KMS deletes the key; 30 is the longest window.
    type: int
    default: 30
  delete_alias:
    description: Delete the alias once the key is scheduled for deletion.
    type: bool
    default: true
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Schedule the baseline key's deletion in 30 days and delete its alias
  secureinfra.baseline.kms_key_deletion:
    alias: secureinfra-baseline
    pending_window: 30
"""

RETURN = r"""
alias:
  description: The alias name, with its C(alias/) prefix.
  returned: always
  type: str
  sample: alias/secureinfra-baseline
key_id:
  description: Id of the key the alias named (null when there was no such alias).
  returned: always
  type: str
  sample: 1234abcd-12ab-34cd-56ef-1234567890ab
key_state:
  description: State of the key after the run (C(PendingDeletion)), predicted in check mode.
  returned: when the alias named a key
  type: str
  sample: PendingDeletion
deletion_date:
  description: When KMS deletes the key (ISO 8601), when known.
  returned: when the key is scheduled for deletion, outside check mode
  type: str
diff:
  description: The alias's key and its state before and after, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
  contains:
    before:
      description: C({alias, key_id, key_state}) before the run (empty dict without the alias).
      type: dict
    after:
      description: The same after the run (no C(alias) once it is deleted).
      type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

ALIAS_PREFIX = "alias/"
PENDING = "PendingDeletion"


def alias_name(alias: str) -> str:
    return alias if alias.startswith(ALIAS_PREFIX) else ALIAS_PREFIX + alias


def validation_errors(params: dict[str, Any]) -> list[str]:
    name = alias_name(params["alias"])
    errors = []
    if name.startswith("alias/aws/"):
        errors.append(f"alias '{name}' belongs to an AWS managed key, which cannot be deleted")
    if len(name) <= len(ALIAS_PREFIX):
        errors.append("alias must name an alias after 'alias/'")
    if not 7 <= params["pending_window"] <= 30:
        errors.append(
            f"pending_window must be 7-30 days (KMS PendingWindowInDays), got {params['pending_window']}"
        )
    return errors


def find_key_id(module: AnsibleAWSModule, client: Any, name: str) -> str | None:
    try:
        for page in client.get_paginator("list_aliases").paginate():
            for alias in page.get("Aliases") or []:
                if alias.get("AliasName") == name:
                    return alias.get("TargetKeyId")
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to list the KMS aliases")
    return None


def describe(module: AnsibleAWSModule, client: Any, key_id: str) -> dict[str, Any]:
    try:
        return client.describe_key(aws_retry=True, KeyId=key_id)["KeyMetadata"]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe KMS key {key_id}")


def schedule(module: AnsibleAWSModule, client: Any, key_id: str) -> str | None:
    try:
        response = client.schedule_key_deletion(
            aws_retry=True, KeyId=key_id, PendingWindowInDays=module.params["pending_window"]
        )
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to schedule the deletion of KMS key {key_id}")
    date = response.get("DeletionDate")
    return date.isoformat() if hasattr(date, "isoformat") else date


def delete_alias(module: AnsibleAWSModule, client: Any, name: str) -> None:
    try:
        client.delete_alias(aws_retry=True, AliasName=name)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to delete KMS alias {name}")


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    name = alias_name(module.params["alias"])
    key_id = find_key_id(module, client, name)
    result: dict[str, Any] = {"changed": False, "alias": name, "key_id": key_id}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if key_id:
        metadata = describe(module, client, key_id)
        if metadata.get("KeyManager") == "AWS":
            module.fail_json(msg=f"{name} names an AWS managed key ({key_id}), which cannot be deleted")
        before = {"alias": name, "key_id": key_id, "key_state": metadata.get("KeyState")}
        after = {"key_id": key_id, "key_state": PENDING}
        if not module.params["delete_alias"]:
            after["alias"] = name
        to_schedule = metadata.get("KeyState") != PENDING
        result["changed"] = to_schedule or module.params["delete_alias"]
        result["key_state"] = PENDING
        if metadata.get("DeletionDate") and not to_schedule:
            date = metadata["DeletionDate"]
            result["deletion_date"] = date.isoformat() if hasattr(date, "isoformat") else date
        if to_schedule and not module.check_mode:
            result["deletion_date"] = schedule(module, client, key_id)
        if module.params["delete_alias"] and not module.check_mode:
            delete_alias(module, client, name)
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(
        argument_spec={
            "alias": {"type": "str", "required": True},
            "pending_window": {"type": "int", "default": 30},
            "delete_alias": {"type": "bool", "default": True},
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
