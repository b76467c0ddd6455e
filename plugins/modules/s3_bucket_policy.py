#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_bucket_policy
short_description: Set or delete the policy of an existing S3 bucket, idempotently
version_added: 0.2.0
description:
  - Reads the bucket's policy (C(GetBucketPolicy)) and puts the wanted one (C(PutBucketPolicy)) or
    deletes it (C(DeleteBucketPolicy)) only when it differs, with check mode and diff. Policies are
    compared as documents (M(amazon.aws.s3_bucket)'s comparison), not as text.
  - Why this exists - a teardown that deletes a bucket must first remove a policy that denies object
    requests to every principal but a few (the baseline's data bucket denies all but the function
    roles), because an explicit C(Deny) in a bucket policy applies to the deleting administrator too,
    so C(DeleteObjectVersion) would be refused. M(amazon.aws.s3_bucket) removes a policy only together
    with managing the bucket's other settings, and has no check mode.
  - A bucket that does not exist is not an error with O(state=absent) (nothing to remove); with
    O(state=present) it fails.
options:
  bucket_name:
    description: Name of the bucket.
    type: str
    required: true
  policy:
    description: The policy document (a dict or JSON string). Required with O(state=present).
    type: json
  state:
    description: C(present) puts O(policy); C(absent) deletes the bucket's policy.
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
- name: Remove the data bucket's policy before emptying and deleting the bucket
  secureinfra.baseline.s3_bucket_policy:
    bucket_name: baseline-data-123456789012-us-east-1
    state: absent

- name: TLS-only policy
  secureinfra.baseline.s3_bucket_policy:
    bucket_name: baseline-logs-123456789012-us-east-1
    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: DenyInsecureTransport
          Effect: Deny
          Principal: {AWS: "*"}
          Action: "s3:*"
          Resource:
            - arn:aws:s3:::baseline-logs-123456789012-us-east-1
            - arn:aws:s3:::baseline-logs-123456789012-us-east-1/*
          Condition: {Bool: {"aws:SecureTransport": "false"}}
"""

RETURN = r"""
policy:
  description: The bucket's policy after the run (predicted in check mode); null when it has none.
  returned: always
  type: dict
diff:
  description: The policy before and after, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
  contains:
    before:
      description: The policy before the run (empty dict when there was none).
      type: dict
    after:
      description: The policy after the run (empty dict when there is none).
      type: dict
"""

import contextlib
import json
from typing import Any

with contextlib.suppress(ImportError):  # reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils import s3_settings as s3s
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

NO_POLICY = "NoSuchBucketPolicy"
NO_BUCKET = "NoSuchBucket"


def error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def read_policy(module: AnsibleAWSModule, client: Any, bucket: str) -> tuple[bool, dict[str, Any] | None]:
    """(bucket exists, its policy or None)."""
    try:
        text = client.get_bucket_policy(aws_retry=True, Bucket=bucket)["Policy"]
    except ClientError as e:
        if error_code(e) == NO_POLICY:
            return True, None
        if error_code(e) == NO_BUCKET:
            return False, None
        module.fail_json_aws(e, msg=f"Failed to read the policy of bucket {bucket}")
    except BotoCoreError as e:
        module.fail_json_aws(e, msg=f"Failed to read the policy of bucket {bucket}")
    return True, json.loads(text)


def wanted_policy(params: dict[str, Any]) -> dict[str, Any] | None:
    if params["state"] == "absent":
        return None
    policy = params["policy"]
    return json.loads(policy) if isinstance(policy, str) else policy


differs = s3s.policy_differs


def apply(module: AnsibleAWSModule, client: Any, bucket: str, wanted: dict[str, Any] | None) -> None:
    try:
        if wanted is None:
            client.delete_bucket_policy(aws_retry=True, Bucket=bucket)
        else:
            client.put_bucket_policy(aws_retry=True, Bucket=bucket, Policy=json.dumps(wanted))
    except (BotoCoreError, ClientError) as e:
        action = "delete" if wanted is None else "put"
        module.fail_json_aws(e, msg=f"Failed to {action} the policy of bucket {bucket}")


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    bucket = module.params["bucket_name"]
    exists, current = read_policy(module, client, bucket)
    wanted = wanted_policy(module.params)
    if not exists and wanted is not None:
        module.fail_json(msg=f"Bucket {bucket} does not exist: create it before setting its policy")
    changed = exists and differs(current, wanted)
    if changed and not module.check_mode:
        apply(module, client, bucket, wanted)
    result: dict[str, Any] = {"changed": changed, "policy": wanted if changed else current}
    if module._diff:
        result["diff"] = {"before": current or {}, "after": (wanted if changed else current) or {}}
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(
        argument_spec={
            "bucket_name": {"type": "str", "required": True},
            "policy": {"type": "json"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ["policy"])],
        supports_check_mode=True,
    )
    client = module.client("s3", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
