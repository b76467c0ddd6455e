#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatchlogs_log_groups
short_description: A list of CloudWatch Logs log groups with their retention, KMS key and tags, in one call
version_added: 0.2.0
description:
  - Creates or updates every listed log group in one module run, with its retention, KMS key and tags.
  - Replaces a loop over M(amazon.aws.cloudwatchlogs_log_group), one module run per group, which sets the
    KMS key only when it creates a group; this module also puts the key back on an existing group
    (C(AssociateKmsKey)).
  - A no-op makes two reads per group (C(DescribeLogGroups), C(ListTagsForResource)) and no write.
  - A new group is created with its KMS key and tags in the one C(CreateLogGroup) call, so it is never
    unencrypted or untagged, even if the run is interrupted; its retention follows.
  - Groups that are not listed are left alone; the module never deletes a group.
options:
  log_groups:
    description: The log groups.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Log group name, 1-512 letters, digits, underscores, hyphens, slashes, periods and number signs.
        type: str
        required: true
      retention:
        description:
          - Days to keep events, one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120,
            150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653).
          - V(0) keeps events forever. V(null) leaves the retention as it is.
        type: int
      kms_key_id:
        description: ARN of the KMS key that encrypts the group. V(null) leaves the encryption as it is.
        type: str
      tags:
        description: Tags of the group. V(null) leaves them as they are.
        type: dict
  purge_tags:
    description: Remove tags not listed in O(log_groups[].tags) (only for groups that list tags).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
notes:
  - Check mode and diff are supported.
  - CloudWatch Logs must be allowed to use the KMS key by the key's policy, or C(CreateLogGroup) and
    C(AssociateKmsKey) fail.
author:
  - Secureinfra Platform Team (@secureinfra)
"""

EXAMPLES = r"""
- name: Log groups of the functions, 30 days, encrypted
  secureinfra.baseline.cloudwatchlogs_log_groups:
    log_groups:
      - name: /aws/lambda/baseline-processor
        retention: 30
        kms_key_id: arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555
        tags:
          Function: processor
"""

RETURN = r"""
log_groups:
  description: The log groups, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Log group name.
      type: str
    created:
      description: Whether the group was created (or would be, in check mode).
      type: bool
    changed:
      description: Whether the group was created or changed (or would be).
      type: bool
diff:
  description: Per group name, the managed settings before and after, in diff mode.
  returned: when diff mode is on
  type: dict
"""

import contextlib
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore
from ansible_collections.secureinfra.baseline.plugins.module_utils.list_input import (
    duplicate_errors,
    list_result,
    tag_errors,
)

NAME = re.compile(r"^[A-Za-z0-9_\-/.#]{1,512}$")
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922)
RETENTION_DAYS += (3288, 3653)
KMS_KEY_ARN = re.compile(r"^arn:[a-z0-9-]+:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")

ARGUMENT_SPEC: dict[str, Any] = {
    "log_groups": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str", "required": True},
            "retention": {"type": "int"},
            "kms_key_id": {"type": "str", "no_log": False},
            "tags": {"type": "dict"},
        },
    },
    "purge_tags": {"type": "bool", "default": True},
}


def group_errors(group: dict[str, Any]) -> list[str]:
    name = group["name"]
    errors = []
    if not NAME.match(name):
        errors.append(f"log_groups: name '{name}' must be 1-512 letters, digits or _ - / . #")
    retention = group["retention"]
    if retention is not None and retention != 0 and retention not in RETENTION_DAYS:
        errors.append(
            f"log_groups[{name}].retention must be 0 (forever) or one of "
            f"{', '.join(map(str, RETENTION_DAYS))}, got {retention}"
        )
    key = group["kms_key_id"]
    if key is not None and not KMS_KEY_ARN.match(key):
        errors.append(
            f"log_groups[{name}].kms_key_id must be a KMS key ARN (arn:...:kms:...:key/...), got '{key}'"
        )
    errors.extend(tag_errors(f"log_groups[{name}].tags", group["tags"]))
    return errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    errors = [error for group in params["log_groups"] for error in group_errors(group)]
    errors.extend(duplicate_errors("log_groups", [group["name"] for group in params["log_groups"]]))
    return errors


def describe(module: AnsibleAWSModule, client: Any, name: str) -> dict[str, Any] | None:
    """The group as DescribeLogGroups reports it, or None."""
    try:
        pages = client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
        groups = pages.build_full_result().get("logGroups", [])
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe log group '{name}'")
    return next((group for group in groups if group["logGroupName"] == name), None)


def group_arn(group: dict[str, Any]) -> str:
    """The ARN without the ':*' suffix, as the tagging calls take it."""
    return group.get("logGroupArn") or group["arn"].removesuffix(":*")


def read_tags(module: AnsibleAWSModule, client: Any, arn: str) -> dict[str, str]:
    try:
        return client.list_tags_for_resource(aws_retry=True, resourceArn=arn).get("tags", {})
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to read the tags of log group '{arn}'")


def set_retention(module: AnsibleAWSModule, client: Any, name: str, days: int) -> None:
    try:
        if days:
            client.put_retention_policy(aws_retry=True, logGroupName=name, retentionInDays=days)
        else:
            client.delete_retention_policy(aws_retry=True, logGroupName=name)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to set the retention of log group '{name}'")


def create(module: AnsibleAWSModule, client: Any, group: dict[str, Any]) -> None:
    request: dict[str, Any] = {"logGroupName": group["name"]}
    if group["kms_key_id"]:
        request["kmsKeyId"] = group["kms_key_id"]
    if group["tags"]:
        request["tags"] = {str(k): str(v) for k, v in group["tags"].items()}
    try:
        client.create_log_group(aws_retry=True, **request)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to create log group '{group['name']}'")
    if group["retention"]:
        set_retention(module, client, group["name"], group["retention"])


def update(
    module: AnsibleAWSModule, client: Any, group: dict[str, Any], arn: str, changes: dict[str, Any]
) -> None:
    name = group["name"]
    if "retention" in changes:
        set_retention(module, client, name, changes["retention"])
    try:
        if "kms_key_id" in changes:
            client.associate_kms_key(aws_retry=True, logGroupName=name, kmsKeyId=changes["kms_key_id"])
        to_set, to_remove = changes.get("tags", ({}, []))
        if to_remove:
            client.untag_resource(aws_retry=True, resourceArn=arn, tagKeys=to_remove)
        if to_set:
            client.tag_resource(aws_retry=True, resourceArn=arn, tags=to_set)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to update log group '{name}'")


def current_settings(group: dict[str, Any], tags: dict[str, str] | None) -> dict[str, Any]:
    settings = {"retention": group.get("retentionInDays", 0), "kms_key_id": group.get("kmsKeyId")}
    if tags is not None:
        settings["tags"] = tags
    return settings


def ensure(module: AnsibleAWSModule, client: Any, group: dict[str, Any]) -> dict[str, Any]:
    """Converge one group; its result entry (with a 'diff' key for the diff)."""
    name = group["name"]
    wanted = {k: group[k] for k in ("retention", "kms_key_id", "tags") if group[k] is not None}
    existing = describe(module, client, name)
    if existing is None:
        if not module.check_mode:
            create(module, client, group)
        return {"name": name, "created": True, "changed": True, "diff": ({}, wanted)}
    arn = group_arn(existing)
    before = current_settings(existing, read_tags(module, client, arn) if group["tags"] is not None else None)
    changes: dict[str, Any] = {
        k: wanted[k] for k in ("retention", "kms_key_id") if k in wanted and before[k] != wanted[k]
    }
    after = {**before, **changes}
    if group["tags"] is not None:
        to_set, to_remove = compare_aws_tags(before["tags"], group["tags"], module.params["purge_tags"])
        if to_set or to_remove:
            changes["tags"] = (to_set, to_remove)
        after["tags"] = {**{k: v for k, v in before["tags"].items() if k not in to_remove}, **to_set}
    if changes and not module.check_mode:
        update(module, client, group, arn, changes)
    return {"name": name, "created": False, "changed": bool(changes), "diff": (before, after)}


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("logs", retry_decorator=AWSRetry.jittered_backoff())
    results = [ensure(module, client, group) for group in module.params["log_groups"]]
    result = list_result("log_groups", results, module._diff)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
