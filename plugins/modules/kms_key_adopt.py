#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kms_key_adopt
short_description: Give its alias back to the KMS key a run interrupted between CreateKey and CreateAlias
version_added: 0.2.0
description:
  - A KMS key has no name, only an id that C(CreateKey) returns; the alias that lets a later run
    find it is made by a second call (C(CreateAlias)). A run killed between the two (or whose
    answer to C(CreateKey) was lost) leaves an enabled key without alias, and the next run of
    M(amazon.aws.kms_key) creates a second key. Run this module before M(amazon.aws.kms_key) with
    the same alias, description and tags, and that key is found and adopted instead.
  - When O(alias) exists, one read (C(DescribeKey) of the alias) and nothing else.
  - When it does not, C(ListAliases) and C(ListKeys), then C(DescribeKey) of each key without an
    alias and C(ListResourceTags) of those that match. A key is adopted when it is customer
    managed, C(Enabled), has no alias, its description is O(description) and it carries every tag
    of O(tags) with the same value; then C(CreateAlias) points O(alias) at it. When several match, the
    oldest is adopted and the others are named in a warning (they are not changed).
  - Keys the caller may not describe or list the tags of are passed over. When the caller may not
    list the keys or the aliases (C(kms:ListKeys), C(kms:ListAliases)), the module warns and
    changes nothing.
  - In check mode only the reads are made.
options:
  alias:
    description:
      - Name of the alias, with or without the C(alias/) prefix.
      - Names starting with C(alias/aws/) belong to AWS managed keys and are refused.
    type: str
    required: true
  description:
    description: The description the key was created with.
    type: str
    required: true
  tags:
    description: Tags the key was created with; every one must be on the key, with its value.
    type: dict
    required: true
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Adopt the key a killed run left without its alias
  secureinfra.baseline.kms_key_adopt:
    alias: secureinfra-baseline
    description: secureinfra baseline key (us-east-1)
    tags:
      Project: secureinfra
      ManagedBy: ansible

- name: The key, with its alias (found, not created again)
  amazon.aws.kms_key:
    alias: secureinfra-baseline
    description: secureinfra baseline key (us-east-1)
    tags:
      Project: secureinfra
      ManagedBy: ansible
"""

RETURN = r"""
alias:
  description: The alias name, with its C(alias/) prefix.
  returned: always
  type: str
  sample: alias/secureinfra-baseline
key_id:
  description: Id of the key the alias names after the run (predicted in check mode); null when
    there is neither the alias nor a key to adopt.
  returned: always
  type: str
  sample: 1234abcd-12ab-34cd-56ef-1234567890ab
adopted:
  description: Whether an alias-less key was found (and, outside check mode, given the alias).
  returned: always
  type: bool
other_candidates:
  description: Ids of further matching keys without alias, left unchanged.
  returned: always
  type: list
  elements: str
diff:
  description: The alias and its key before and after, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
  contains:
    before:
      description: C({alias, key_id}) before the run (key_id null without the alias).
      type: dict
    after:
      description: The same after the run.
      type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

ALIAS_PREFIX = "alias/"
UNREADABLE = ["AccessDeniedException", "NotFoundException", "KMSInvalidStateException"]


def alias_name(alias: str) -> str:
    return alias if alias.startswith(ALIAS_PREFIX) else ALIAS_PREFIX + alias


def validation_errors(params: dict[str, Any]) -> list[str]:
    name = alias_name(params["alias"])
    errors = []
    if name.startswith("alias/aws/"):
        errors.append(f"alias '{name}' is reserved for AWS managed keys (alias/aws/...)")
    if len(name) <= len(ALIAS_PREFIX):
        errors.append("alias must name an alias after 'alias/'")
    return errors


def key_of_alias(module: AnsibleAWSModule, client: Any, name: str) -> str | None:
    try:
        return client.describe_key(aws_retry=True, KeyId=name)["KeyMetadata"]["KeyId"]
    except is_boto3_error_code("NotFoundException"):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe KMS alias {name}")


def denied(module: AnsibleAWSModule, action: str) -> None:
    module.warn(
        f"{action} is denied to the caller: no key left without its alias can be found, and a new key is "
        "made if one was (the deployer policy, files/iam/deployer-policy.json, allows it)"
    )


def aliased_key_ids(module: AnsibleAWSModule, client: Any) -> set[str] | None:
    """Ids of the keys an alias names, or None when the caller may not list the aliases."""
    try:
        pages = client.get_paginator("list_aliases").paginate()
        return {a["TargetKeyId"] for page in pages for a in page.get("Aliases") or [] if a.get("TargetKeyId")}
    except is_boto3_error_code("AccessDeniedException"):
        denied(module, "kms:ListAliases")
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to list the KMS aliases")


def key_ids(module: AnsibleAWSModule, client: Any) -> list[str]:
    """Ids of the region's keys, or none when the caller may not list them."""
    try:
        pages = client.get_paginator("list_keys").paginate()
        return [k["KeyId"] for page in pages for k in page.get("Keys") or []]
    except is_boto3_error_code("AccessDeniedException"):
        denied(module, "kms:ListKeys")
        return []
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to list the KMS keys")


def metadata_of(module: AnsibleAWSModule, client: Any, key_id: str) -> dict[str, Any] | None:
    """DescribeKey, or None for a key the caller may not read."""
    try:
        return client.describe_key(aws_retry=True, KeyId=key_id)["KeyMetadata"]
    except is_boto3_error_code(UNREADABLE):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe KMS key {key_id}")


def tags_of(module: AnsibleAWSModule, client: Any, key_id: str) -> dict[str, str] | None:
    """The key's tags, or None for a key the caller may not read."""
    try:
        pages = client.get_paginator("list_resource_tags").paginate(KeyId=key_id)
        return {t["TagKey"]: t["TagValue"] for page in pages for t in page.get("Tags") or []}
    except is_boto3_error_code(UNREADABLE):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to list the tags of KMS key {key_id}")


def is_orphan(metadata: dict[str, Any] | None, description: str) -> bool:
    return bool(metadata) and (
        metadata.get("KeyManager") == "CUSTOMER"
        and metadata.get("KeyState") == "Enabled"
        and metadata.get("Description", "") == description
    )


def has_tags(tags: dict[str, str] | None, wanted: dict[str, Any]) -> bool:
    return tags is not None and all(tags.get(key) == str(value) for key, value in wanted.items())


def orphans(module: AnsibleAWSModule, client: Any) -> list[dict[str, Any]]:
    """Keys without alias that match description and tags, oldest first."""
    aliased = aliased_key_ids(module, client)
    if aliased is None:
        return []
    found = []
    for key_id in key_ids(module, client):
        if key_id in aliased:
            continue
        metadata = metadata_of(module, client, key_id)
        if is_orphan(metadata, module.params["description"]) and has_tags(
            tags_of(module, client, key_id), module.params["tags"]
        ):
            found.append(metadata)
    return sorted(found, key=lambda m: (str(m.get("CreationDate", "")), m["KeyId"]))


def create_alias(module: AnsibleAWSModule, client: Any, name: str, key_id: str) -> None:
    try:
        client.create_alias(aws_retry=True, AliasName=name, TargetKeyId=key_id)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to point KMS alias {name} at key {key_id}")


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    name = alias_name(module.params["alias"])
    current = key_of_alias(module, client, name)
    result: dict[str, Any] = {
        "changed": False,
        "alias": name,
        "key_id": current,
        "adopted": False,
        "other_candidates": [],
    }
    if current is None:
        candidates = orphans(module, client)
        if candidates:
            adopted = candidates[0]["KeyId"]
            result.update(changed=True, adopted=True, key_id=adopted)
            result["other_candidates"] = [m["KeyId"] for m in candidates[1:]]
            if result["other_candidates"]:
                module.warn(
                    f"KMS keys without alias that match {name}'s description and tags, left unchanged: "
                    f"{', '.join(result['other_candidates'])} (adopted: {adopted}, the oldest)"
                )
            if not module.check_mode:
                create_alias(module, client, name, adopted)
    if module._diff:
        result["diff"] = {
            "before": {"alias": name, "key_id": current},
            "after": {"alias": name, "key_id": result["key_id"]},
        }
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(
        argument_spec={
            "alias": {"type": "str", "required": True},
            "description": {"type": "str", "required": True},
            "tags": {"type": "dict", "required": True},
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
