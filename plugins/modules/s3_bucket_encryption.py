#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_bucket_encryption
short_description: Manage an S3 bucket's default encryption, including the bucket-key setting
version_added: 0.1.0
description:
  - Sets a bucket's default server-side encryption rule idempotently, with check mode and diff.
  - M(amazon.aws.s3_bucket) refuses O(bucket_key_enabled) unless the algorithm is C(aws:kms);
    this module sets it for SSE-S3 (C(AES256)) too, as the S3 API allows.
options:
  bucket_name:
    description: Name of the bucket.
    type: str
    required: true
  algorithm:
    description: Default encryption algorithm.
    type: str
    choices: [AES256, "aws:kms", "aws:kms:dsse"]
    default: AES256
  kms_key_id:
    description: KMS key id or ARN; only with O(algorithm=aws:kms) or O(algorithm=aws:kms:dsse).
    type: str
  bucket_key_enabled:
    description: Whether S3 Bucket Keys are enabled for new objects.
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
- name: SSE-S3 (AES-256) default encryption with the bucket key
  secureinfra.baseline.s3_bucket_encryption:
    bucket_name: my-bucket
    algorithm: AES256
    bucket_key_enabled: true
"""

RETURN = r"""
encryption:
  description: The default encryption rule in force after the call.
  returned: always
  type: dict
  sample: {"algorithm": "AES256", "kms_key_id": null, "bucket_key_enabled": true}
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # reported by AnsibleAWSModule
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secureinfra.baseline.plugins.module_utils import s3_settings as s3s
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_data_loader

NOT_FOUND = s3s.ENCRYPTION_NOT_FOUND


def current_rule(module: AnsibleAWSModule, client: Any, bucket: str) -> dict[str, Any]:
    try:
        return s3s.encryption_view(client.get_bucket_encryption(Bucket=bucket))
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in NOT_FOUND:
            return s3s.encryption_view(None)
        module.fail_json_aws(e, msg=f"Failed to read the encryption of {bucket}")
    except botocore.exceptions.BotoCoreError as e:
        module.fail_json_aws(e, msg=f"Failed to read the encryption of {bucket}")
    return {}


def main() -> None:
    share_data_loader()
    module = AnsibleAWSModule(
        argument_spec={
            "bucket_name": {"type": "str", "required": True},
            "algorithm": {
                "type": "str",
                "choices": ["AES256", "aws:kms", "aws:kms:dsse"],
                "default": "AES256",
            },
            "kms_key_id": {"type": "str"},
            "bucket_key_enabled": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    errors = s3s.encryption_errors(params)
    if errors:
        module.fail_json(msg=errors[0])
    bucket = params["bucket_name"]
    client = module.client("s3")
    before = current_rule(module, client, bucket)
    after = {k: params[k] for k in ("algorithm", "kms_key_id", "bucket_key_enabled")}
    changed = before != after
    if changed and not module.check_mode:
        try:
            client.put_bucket_encryption(
                Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [s3s.encryption_rule(after)]}
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Failed to set the encryption of {bucket}")
    result: dict[str, Any] = {"changed": changed, "encryption": after}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
