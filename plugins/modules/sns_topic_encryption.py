#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sns_topic_encryption
short_description: Manage server-side encryption (SSE) of an existing SNS topic
version_added: 0.1.0
description:
  - Sets or removes the KMS key that an existing SNS topic uses for server-side encryption,
    idempotently, with check mode and diff.
  - M(community.aws.sns_topic) creates topics but cannot set their encryption; run this module after it.
  - Reads the topic's C(KmsMasterKeyId) attribute with C(GetTopicAttributes) and only calls
    C(SetTopicAttributes) when it differs.
  - The key is compared as text, as SNS stores it, so switching between an alias, a key id and an
    ARN of the same key is reported as a change.
  - A topic that does not exist is an error, except in check mode, where it is assumed that an
    earlier task (skipped by check mode) would create it without encryption; the module then reports
    the change it would make to such a topic.
options:
  topic_arn:
    description:
      - ARN of the topic.
      - The request is sent to the region named in the ARN, whatever O(region) is.
    type: str
    required: true
  kms_master_key_id:
    description:
      - KMS key that encrypts the topic's messages, as a key id, key ARN, alias name (C(alias/...))
        or alias ARN. C(alias/aws/sns) is the AWS managed key for SNS.
      - Required with O(state=present). An empty string disables encryption, like O(state=absent).
      - Must be omitted or empty with O(state=absent).
    type: str
  state:
    description:
      - C(present) encrypts the topic with O(kms_master_key_id).
      - C(absent) disables server-side encryption.
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
- name: Create the alarm topic
  community.aws.sns_topic:
    name: baseline-alarms
  register: alarm_topic

- name: Encrypt it with a customer managed key
  secureinfra.baseline.sns_topic_encryption:
    topic_arn: "{{ alarm_topic.sns_arn }}"
    kms_master_key_id: alias/baseline

- name: Encrypt a topic with the AWS managed key for SNS
  secureinfra.baseline.sns_topic_encryption:
    topic_arn: arn:aws:sns:eu-west-1:123456789012:baseline-alarms
    kms_master_key_id: alias/aws/sns

- name: Disable server-side encryption
  secureinfra.baseline.sns_topic_encryption:
    topic_arn: arn:aws:sns:eu-west-1:123456789012:baseline-alarms
    state: absent
"""

RETURN = r"""
topic_arn:
  description: The topic ARN as given.
  returned: always
  type: str
  sample: arn:aws:sns:eu-west-1:123456789012:baseline-alarms
kms_master_key_id:
  description: The topic's KMS key after the call; C(null) when server-side encryption is disabled.
  returned: always
  type: str
  sample: alias/aws/sns
"""

import contextlib
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_data_loader

ATTRIBUTE = "KmsMasterKeyId"
# arn:<partition>:sns:<region>:<account>:<topic name>
TOPIC_ARN = re.compile(r"^arn:[a-z0-9-]+:sns:(?P<region>[a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    errors = []
    if not TOPIC_ARN.match(params["topic_arn"]):
        errors.append(
            f"topic_arn must be an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>), "
            f"got '{params['topic_arn']}'"
        )
    key = params["kms_master_key_id"]
    if params["state"] == "absent" and key:
        errors.append("kms_master_key_id must be omitted or empty with state: absent")
    if params["state"] == "present" and key is None:
        errors.append("kms_master_key_id is required with state: present (state: absent disables SSE)")
    if key is not None and key != key.strip():
        errors.append(f"kms_master_key_id must not have leading or trailing whitespace, got '{key}'")
    return errors


def wanted_key(params: dict[str, Any]) -> str | None:
    if params["state"] == "absent":
        return None
    return params["kms_master_key_id"] or None


def current_key(module: AnsibleAWSModule, client: Any, arn: str) -> tuple[bool, str | None]:
    """Whether the topic exists, and its KMS key (None when SSE is off)."""
    try:
        response = client.get_topic_attributes(aws_retry=True, TopicArn=arn)
    except is_boto3_error_code("NotFound"):
        return False, None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read the attributes of SNS topic '{arn}'")
    return True, response.get("Attributes", {}).get(ATTRIBUTE) or None


def apply(module: AnsibleAWSModule, client: Any, arn: str, wanted: str | None) -> None:
    try:
        client.set_topic_attributes(
            aws_retry=True, TopicArn=arn, AttributeName=ATTRIBUTE, AttributeValue=wanted or ""
        )
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to set the server-side encryption of SNS topic '{arn}'")


def main() -> None:
    share_data_loader()
    module = AnsibleAWSModule(
        argument_spec={
            "topic_arn": {"type": "str", "required": True},
            "kms_master_key_id": {"type": "str", "no_log": False},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ["kms_master_key_id"])],
        supports_check_mode=True,
    )
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    arn = module.params["topic_arn"]
    wanted = wanted_key(module.params)
    region = TOPIC_ARN.match(arn).group("region")
    client = module.client("sns", retry_decorator=AWSRetry.jittered_backoff(), region=region)
    exists, before = current_key(module, client, arn)
    if not exists and not module.check_mode:
        module.fail_json(msg=f"SNS topic '{arn}' does not exist")
    changed = before != wanted
    if changed and not module.check_mode:
        apply(module, client, arn, wanted)
    result: dict[str, Any] = {"changed": changed, "topic_arn": arn, "kms_master_key_id": wanted}
    if module._diff:
        result["diff"] = {"before": {"kms_master_key_id": before}, "after": {"kms_master_key_id": wanted}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
