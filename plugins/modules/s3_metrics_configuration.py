#!/usr/bin/python
# Copyright: secureinfra platform team
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_metrics_configuration
short_description: Manage one S3 request-metrics configuration on a bucket, idempotently
version_added: 0.1.0
description:
  - Creates, updates or deletes a single CloudWatch request-metrics configuration on an S3 bucket.
  - The desired configuration is compared with the one returned by C(GetBucketMetricsConfiguration)
    after normalisation (a missing filter equals an empty filter, tag order is ignored, single
    conditions and C(And) conditions are treated alike), so a second identical run reports no change.
  - In check mode only read calls are made.
author:
  - Secureinfra Platform Team (@secureinfra)
notes:
  - A bucket can have up to 1,000 metrics configurations; this module manages exactly one, by O(id).
  - To request metrics for the entire bucket, omit every C(filter_*) option.
  - A C(GetBucketMetricsConfiguration) answer that does not carry the requested C(Id) is treated as
    "no configuration"; some emulators answer this call without implementing it.
options:
  bucket_name:
    description: Name of the S3 bucket.
    required: true
    type: str
  id:
    description: The ID that identifies the metrics configuration within the bucket.
    required: true
    type: str
  filter_prefix:
    description:
      - Only objects whose key starts with this prefix are counted.
      - An empty string is the same as no prefix.
    type: str
  filter_tags:
    description:
      - Only objects carrying all these tags are counted.
      - An empty dict is the same as no tag filter.
    type: dict
  filter_access_point:
    description:
      - ARN of an S3 access point; only requests made through it are counted.
      - Must look like C(arn:<partition>:s3:<region>:<account>:accesspoint/<name>).
    type: str
  state:
    description: Whether the metrics configuration should exist.
    default: present
    choices: [present, absent]
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Request metrics for the entire bucket
  secureinfra.baseline.s3_metrics_configuration:
    bucket_name: my-bucket
    id: EntireBucket

- name: Request metrics for objects under a prefix that carry some tags
  secureinfra.baseline.s3_metrics_configuration:
    bucket_name: my-bucket
    id: ImportantDocuments
    filter_prefix: documents/
    filter_tags:
      priority: high
      class: blue

- name: Request metrics for requests made through an access point
  secureinfra.baseline.s3_metrics_configuration:
    bucket_name: my-bucket
    id: ViaAccessPoint
    filter_access_point: arn:aws:s3:eu-west-1:123456789012:accesspoint/analytics

- name: Remove a metrics configuration
  secureinfra.baseline.s3_metrics_configuration:
    bucket_name: my-bucket
    id: EntireBucket
    state: absent
"""

RETURN = r"""
metrics_configuration:
  description:
    - The metrics configuration after the run, in the module's option names.
    - Empty when the configuration is absent.
  returned: always
  type: dict
  contains:
    id:
      description: ID of the metrics configuration.
      type: str
      sample: EntireBucket
    filter_prefix:
      description: Prefix filter, or null.
      type: str
      sample: documents/
    filter_tags:
      description: Tag filter (empty dict when none).
      type: dict
      sample: {"priority": "high"}
    filter_access_point:
      description: Access point ARN filter, or null.
      type: str
      sample: null
diff:
  description: Before and after configuration, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
  contains:
    before:
      description: Configuration before the run (empty dict when absent).
      type: dict
    after:
      description: Configuration after the run (empty dict when absent).
      type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils import s3_settings as s3s
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

Config = dict[str, Any]


def desired_config(params: dict[str, Any]) -> Config:
    """The requested configuration, normalised."""
    prefix, access_point = params.get("filter_prefix"), params.get("filter_access_point")
    return s3s.metrics_config(params["id"], prefix, params.get("filter_tags"), access_point)


config_from_api = s3s.metrics_from_api
config_to_api = s3s.metrics_to_api


def validate_params(module: AnsibleAWSModule) -> None:
    access_point = module.params.get("filter_access_point")
    if access_point and not (access_point.startswith("arn:") and ":accesspoint/" in access_point):
        module.fail_json(
            msg=f"filter_access_point must be an access point ARN "
            f"(arn:<partition>:s3:<region>:<account>:accesspoint/<name>), got '{access_point}'"
        )
    if not module.params["id"]:
        module.fail_json(msg="id must not be empty")


def get_current(module: AnsibleAWSModule, client: Any, bucket: str, config_id: str) -> Config | None:
    """Current configuration, or None when it does not exist (or the bucket does not exist)."""
    try:
        response = client.get_bucket_metrics_configuration(aws_retry=True, Bucket=bucket, Id=config_id)
    except is_boto3_error_code("NoSuchConfiguration"):
        return None
    except is_boto3_error_code("NoSuchBucket"):
        if module.params["state"] == "absent":
            return None
        module.fail_json(msg=f"Bucket '{bucket}' does not exist")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to get metrics configuration '{config_id}' of bucket '{bucket}'")
    api_config = response.get("MetricsConfiguration") or {}
    if api_config.get("Id") != config_id:
        return None
    return config_from_api(api_config)


def put_config(module: AnsibleAWSModule, client: Any, bucket: str, config: Config) -> None:
    try:
        client.put_bucket_metrics_configuration(
            aws_retry=True, Bucket=bucket, Id=config["id"], MetricsConfiguration=config_to_api(config)
        )
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(
            e, msg=f"Failed to put metrics configuration '{config['id']}' on bucket '{bucket}'"
        )


def delete_config(module: AnsibleAWSModule, client: Any, bucket: str, config_id: str) -> None:
    try:
        client.delete_bucket_metrics_configuration(aws_retry=True, Bucket=bucket, Id=config_id)
    except is_boto3_error_code("NoSuchConfiguration"):
        return
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(
            e, msg=f"Failed to delete metrics configuration '{config_id}' of bucket '{bucket}'"
        )


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    bucket, config_id = module.params["bucket_name"], module.params["id"]
    current = get_current(module, client, bucket, config_id)
    wanted = desired_config(module.params) if module.params["state"] == "present" else None
    changed = current != wanted
    if changed and not module.check_mode:
        if wanted is None:
            delete_config(module, client, bucket, config_id)
        else:
            put_config(module, client, bucket, wanted)
    result: dict[str, Any] = {"changed": changed, "metrics_configuration": wanted or {}}
    if module._diff:
        result["diff"] = {"before": current or {}, "after": wanted or {}}
    return result


def main() -> None:
    argument_spec = dict(
        bucket_name=dict(type="str", required=True),
        id=dict(type="str", required=True),
        filter_prefix=dict(type="str"),
        filter_tags=dict(type="dict"),
        filter_access_point=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    share_botocore()
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)
    client = module.client("s3", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
