#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_bucket_lifecycle
short_description: Manage the whole lifecycle configuration of an S3 bucket
version_added: 0.1.0
description:
  - Sets an S3 bucket's lifecycle configuration to exactly the given rules, idempotently.
  - Unlike M(community.aws.s3_lifecycle), which manages one rule per call and has no check mode,
    this module compares the complete configuration, supports check mode and returns a diff.
  - Only the fields this module sets are compared, so extra fields an emulator adds do not cause changes.
options:
  bucket_name:
    description: Name of the bucket.
    type: str
    required: true
  rules:
    description:
      - The complete list of rules. Rules not listed are removed.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: Unique rule id.
        type: str
        required: true
      prefix:
        description: Object key prefix the rule applies to; empty for the whole bucket.
        type: str
        default: ""
      enabled:
        description: Whether the rule is enabled.
        type: bool
        default: true
      expiration_days:
        description: Expire current object versions this many days after creation.
        type: int
      noncurrent_version_expiration_days:
        description: Permanently delete noncurrent versions this many days after they become noncurrent.
        type: int
      abort_incomplete_multipart_upload_days:
        description: Abort incomplete multipart uploads this many days after they start.
        type: int
  state:
    description:
      - C(present) sets the rules; C(absent) deletes the lifecycle configuration.
    type: str
    choices: [present, absent]
    default: present
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Expire noncurrent versions and abort stale multipart uploads
  secureinfra.baseline.s3_bucket_lifecycle:
    bucket_name: my-bucket
    rules:
      - id: noncurrent-versions
        noncurrent_version_expiration_days: 90
        abort_incomplete_multipart_upload_days: 7
"""

RETURN = r"""
rules:
  description: The lifecycle rules in force after the call, in API form.
  returned: always
  type: list
  elements: dict
  sample: [{"ID": "noncurrent-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}]
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # reported by AnsibleAWSModule
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secureinfra.baseline.plugins.module_utils import s3_settings as s3s
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_data_loader

NOT_FOUND = s3s.LIFECYCLE_NOT_FOUND


def current_rules(module: AnsibleAWSModule, client: Any, bucket: str) -> list[dict[str, Any]]:
    try:
        response = client.get_bucket_lifecycle_configuration(Bucket=bucket)
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in NOT_FOUND:
            return []
        module.fail_json_aws(e, msg=f"Failed to read the lifecycle configuration of {bucket}")
    except botocore.exceptions.BotoCoreError as e:
        module.fail_json_aws(e, msg=f"Failed to read the lifecycle configuration of {bucket}")
    return s3s.lifecycle_view(response.get("Rules", []))


def validate(module: AnsibleAWSModule) -> None:
    errors = s3s.lifecycle_errors(module.params["rules"])
    if errors:
        module.fail_json(msg=errors[0])


def apply(module: AnsibleAWSModule, client: Any, bucket: str, rules: list[dict[str, Any]]) -> None:
    try:
        if rules:
            client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
        else:
            client.delete_bucket_lifecycle(Bucket=bucket)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to set the lifecycle configuration of {bucket}")


def main() -> None:
    rule_spec = {
        "id": {"type": "str", "required": True},
        "prefix": {"type": "str", "default": ""},
        "enabled": {"type": "bool", "default": True},
        "expiration_days": {"type": "int"},
        "noncurrent_version_expiration_days": {"type": "int"},
        "abort_incomplete_multipart_upload_days": {"type": "int"},
    }
    share_data_loader()
    module = AnsibleAWSModule(
        argument_spec={
            "bucket_name": {"type": "str", "required": True},
            "rules": {"type": "list", "elements": "dict", "default": [], "options": rule_spec},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        supports_check_mode=True,
    )
    validate(module)
    bucket = module.params["bucket_name"]
    client = module.client("s3")
    before = current_rules(module, client, bucket)
    rules = [] if module.params["state"] == "absent" else module.params["rules"]
    wanted = [s3s.lifecycle_rule(rule) for rule in rules]
    after = s3s.lifecycle_view(wanted)
    changed = before != after
    if changed and not module.check_mode:
        apply(module, client, bucket, wanted)
    result: dict[str, Any] = {"changed": changed, "rules": after}
    if module._diff:
        result["diff"] = {"before": {"rules": before}, "after": {"rules": after}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
