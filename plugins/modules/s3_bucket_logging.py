#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_bucket_logging
short_description: Manage S3 server access logging of a bucket without any ACL call
version_added: 0.2.0
description:
  - Enables, updates or disables server access logging of an S3 bucket with
    C(GetBucketLogging) and C(PutBucketLogging) only, idempotently, with check mode and diff.
  - Unlike C(community.aws.s3_logging), it never calls C(PutBucketAcl) on the target bucket. On a
    target bucket with Object Ownership C(BucketOwnerEnforced), ACLs are disabled and "requests to
    set ACLs or update ACLs fail with a 400 error and return the AccessControlListNotSupported error
    code" (U(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html),
    community.aws issue 1797). Delivery must be granted by the target bucket's policy to the
    C(logging.s3.amazonaws.com) service principal instead
    (U(https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)).
options:
  bucket_name:
    description: Name of the bucket whose requests are logged (the source bucket).
    type: str
    required: true
    aliases: [name]
  target_bucket:
    description:
      - Bucket that receives the log objects, in the same region and account.
      - Required with O(state=present).
    type: str
  target_prefix:
    description: Key prefix of the log objects in O(target_bucket).
    type: str
    default: ""
  target_object_key_format:
    description:
      - C(simple) (the default S3 key format) or C(partitioned) (date-partitioned keys).
      - With C(partitioned), O(partition_date_source) chooses the date used.
    type: str
    choices: [simple, partitioned]
    default: simple
  partition_date_source:
    description: Date of the partitioned key format (only with O(target_object_key_format=partitioned)).
    type: str
    choices: [EventTime, DeliveryTime]
    default: EventTime
  state:
    description:
      - C(present) enables logging to O(target_bucket)/O(target_prefix).
      - C(absent) disables logging (an empty C(BucketLoggingStatus)).
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
- name: Access logs of the data bucket go to the log bucket (no ACL call)
  secureinfra.baseline.s3_bucket_logging:
    bucket_name: my-data-bucket
    target_bucket: my-log-bucket
    target_prefix: access-logs/my-data-bucket/

- name: Date-partitioned log keys
  secureinfra.baseline.s3_bucket_logging:
    bucket_name: my-data-bucket
    target_bucket: my-log-bucket
    target_prefix: access-logs/
    target_object_key_format: partitioned
    partition_date_source: DeliveryTime

- name: Stop logging
  secureinfra.baseline.s3_bucket_logging:
    bucket_name: my-data-bucket
    state: absent
"""

RETURN = r"""
bucket_name:
  description: The source bucket.
  returned: always
  type: str
  sample: my-data-bucket
logging:
  description: The logging configuration after the task; empty when logging is off.
  returned: always
  type: dict
  sample:
    target_bucket: my-log-bucket
    target_prefix: access-logs/
    target_object_key_format: simple
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils import s3_settings as s3s
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_data_loader

View = dict[str, Any]


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    if params["state"] == "present" and not params["target_bucket"]:
        return ["target_bucket is required with state: present (state: absent disables logging)"]
    if params["target_bucket"] and params["target_bucket"] == params["bucket_name"]:
        return [
            f"target_bucket '{params['target_bucket']}' is the source bucket itself: S3 would log its own "
            "log deliveries; use a separate log bucket"
        ]
    return []


view_from_aws = s3s.logging_view_from_aws
status_for_aws = s3s.logging_status


def desired_view(params: dict[str, Any]) -> View:
    if params["state"] == "absent":
        return {}
    return s3s.logging_view(
        params["target_bucket"],
        params["target_prefix"],
        params["target_object_key_format"],
        params["partition_date_source"],
    )


def read_logging(module: AnsibleAWSModule, client: Any, bucket: str) -> View:
    try:
        response = client.get_bucket_logging(aws_retry=True, Bucket=bucket)
    except is_boto3_error_code("NoSuchBucket"):
        module.fail_json(msg=f"S3 bucket '{bucket}' does not exist")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read server access logging of S3 bucket '{bucket}'")
    return view_from_aws(response)


def write_logging(module: AnsibleAWSModule, client: Any, bucket: str, view: View) -> None:
    try:
        client.put_bucket_logging(aws_retry=True, Bucket=bucket, BucketLoggingStatus=status_for_aws(view))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to set server access logging of S3 bucket '{bucket}'")


def main() -> None:
    share_data_loader()
    module = AnsibleAWSModule(
        argument_spec={
            "bucket_name": {"type": "str", "required": True, "aliases": ["name"]},
            "target_bucket": {"type": "str"},
            "target_prefix": {"type": "str", "default": ""},
            "target_object_key_format": {
                "type": "str",
                "choices": ["simple", "partitioned"],
                "default": "simple",
            },
            "partition_date_source": {
                "type": "str",
                "choices": ["EventTime", "DeliveryTime"],
                "default": "EventTime",
            },
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        supports_check_mode=True,
    )
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    bucket = module.params["bucket_name"]
    client = module.client("s3", retry_decorator=AWSRetry.jittered_backoff())
    before = read_logging(module, client, bucket)
    after = desired_view(module.params)
    changed = before != after
    if changed and not module.check_mode:
        write_logging(module, client, bucket, after)
    result: dict[str, Any] = {"changed": changed, "bucket_name": bucket, "logging": after}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
