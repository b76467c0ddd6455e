#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sqs_queues
short_description: A list of encrypted SQS standard queues with their retention and tags, in one call
version_added: 0.2.0
description:
  - Creates or updates every listed SQS standard queue in one module run, with its KMS key, data key reuse
    period, message retention period and tags.
  - Replaces a loop over M(community.aws.sqs_queue), one module run per queue that reads the queue's
    attributes twice.
  - A no-op makes three reads per queue (C(GetQueueUrl), C(GetQueueAttributes), C(ListQueueTags)) and no
    write.
  - A new queue is created with its attributes and tags in the one C(CreateQueue) call, so it is never
    unencrypted or untagged, even if the run is interrupted.
  - Queues that are not listed are left alone; the module never deletes a queue.
options:
  queues:
    description: The queues.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Queue name (1-80 letters, digits, C(-) or C(_); FIFO queues are not supported).
        type: str
        required: true
      kms_master_key_id:
        description:
          - KMS key for server-side encryption (key ID, key ARN, alias name or alias ARN).
          - V(null) leaves the queue's encryption as it is.
        type: str
      kms_data_key_reuse_period_seconds:
        description: Seconds SQS may reuse a data key (60-86400). V(null) leaves it as it is.
        type: int
      message_retention_period:
        description: Seconds a message is kept (60-1209600). V(null) leaves it as it is.
        type: int
      tags:
        description: Tags of the queue. V(null) leaves them as they are.
        type: dict
  purge_tags:
    description: Remove tags not listed in O(queues[].tags) (only for queues that list tags).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
notes:
  - Check mode and diff are supported. In check mode a queue that does not exist yet is reported as created,
    with its predicted ARN and no call but the reads.
author:
  - Secureinfra Platform Team (@secureinfra)
"""

EXAMPLES = r"""
- name: Dead-letter queues, encrypted with the baseline key, kept 14 days
  secureinfra.baseline.sqs_queues:
    queues:
      - name: baseline-processor-dlq
        kms_master_key_id: alias/baseline
        kms_data_key_reuse_period_seconds: 300
        message_retention_period: 1209600
        tags:
          Function: processor
      - name: baseline-analytics-dlq
        kms_master_key_id: alias/baseline
        message_retention_period: 1209600
  register: dlqs
"""

RETURN = r"""
queues:
  description: The queues, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Queue name.
      type: str
    queue_url:
      description: URL of the queue (predicted in check mode for a queue not created yet).
      type: str
    queue_arn:
      description: ARN of the queue (predicted in check mode for a queue not created yet).
      type: str
    created:
      description: Whether the queue was created (or would be, in check mode).
      type: bool
    changed:
      description: Whether the queue was created or changed (or would be).
      type: bool
diff:
  description: Per queue name, the managed attributes and tags before and after, in diff mode.
  returned: when diff mode is on
  type: dict
"""

import contextlib
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore
from ansible_collections.secureinfra.baseline.plugins.module_utils.list_input import (
    duplicate_errors,
    list_result,
    tag_errors,
)

NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
# option -> (SQS attribute, lowest, highest); None bounds: any non-empty string
ATTRIBUTES: dict[str, tuple[str, int | None, int | None]] = {
    "kms_master_key_id": ("KmsMasterKeyId", None, None),
    "kms_data_key_reuse_period_seconds": ("KmsDataKeyReusePeriodSeconds", 60, 86400),
    "message_retention_period": ("MessageRetentionPeriod", 60, 1209600),
}

ARGUMENT_SPEC: dict[str, Any] = {
    "queues": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str", "required": True},
            "kms_master_key_id": {"type": "str", "no_log": False},
            "kms_data_key_reuse_period_seconds": {"type": "int", "no_log": False},
            "message_retention_period": {"type": "int"},
            "tags": {"type": "dict"},
        },
    },
    "purge_tags": {"type": "bool", "default": True},
}


def queue_errors(queue: dict[str, Any]) -> list[str]:
    name = queue["name"]
    errors = []
    if not NAME.match(name):
        errors.append(
            f"queues: name '{name}' must be 1-80 letters, digits, '-' or '_' (standard queues only)"
        )
    for option, (_attribute, low, high) in ATTRIBUTES.items():
        value = queue[option]
        if value is not None and low is not None and not low <= value <= high:
            errors.append(f"queues[{name}].{option} must be {low}-{high}, got {value}")
    key = queue["kms_master_key_id"]
    if key is not None and (not key or key != key.strip()):
        errors.append(
            f"queues[{name}].kms_master_key_id must be a key id, ARN or alias without spaces, got '{key}'"
        )
    errors.extend(tag_errors(f"queues[{name}].tags", queue["tags"]))
    return errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    errors = [error for queue in params["queues"] for error in queue_errors(queue)]
    errors.extend(duplicate_errors("queues", [queue["name"] for queue in params["queues"]]))
    return errors


def wanted_attributes(queue: dict[str, Any]) -> dict[str, str]:
    return {
        attribute: str(queue[option])
        for option, (attribute, _low, _high) in ATTRIBUTES.items()
        if queue[option] is not None
    }


def queue_url(module: AnsibleAWSModule, client: Any, name: str) -> str | None:
    try:
        return client.get_queue_url(aws_retry=True, QueueName=name)["QueueUrl"]
    # The query-compatible code botocore reports, and the JSON protocol's own name for it.
    except is_boto3_error_code(["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"]):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to look up SQS queue '{name}'")


def read_queue(
    module: AnsibleAWSModule, client: Any, url: str, tags: bool
) -> tuple[dict[str, str], dict[str, str]]:
    """The queue's attributes (with QueueArn) and, when asked, its tags."""
    names = [spec[0] for spec in ATTRIBUTES.values()] + ["QueueArn"]
    try:
        attributes = client.get_queue_attributes(aws_retry=True, QueueUrl=url, AttributeNames=names)[
            "Attributes"
        ]
        current_tags = client.list_queue_tags(aws_retry=True, QueueUrl=url).get("Tags", {}) if tags else {}
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to read SQS queue '{url}'")
    return attributes, current_tags


def queue_arn(client: Any, url: str) -> str:
    """The ARN of a queue from its URL (https://sqs.<region>.amazonaws.com/<account>/<name>), without a call:
    SQS asks to wait a second after CreateQueue before using the queue."""
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:{client.meta.partition}:sqs:{client.meta.region_name}:{account}:{name}"


def create(module: AnsibleAWSModule, client: Any, queue: dict[str, Any]) -> tuple[str, str]:
    """CreateQueue with the attributes and tags in the one call; (url, arn)."""
    request: dict[str, Any] = {"QueueName": queue["name"], "Attributes": wanted_attributes(queue)}
    if queue["tags"]:
        request["tags"] = {str(k): str(v) for k, v in queue["tags"].items()}
    try:
        url = client.create_queue(aws_retry=True, **request)["QueueUrl"]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to create SQS queue '{queue['name']}'")
    return url, queue_arn(client, url)


def update(
    module: AnsibleAWSModule,
    client: Any,
    url: str,
    attributes: dict[str, str],
    tags: tuple[dict[str, str], list[str]],
) -> None:
    to_set, to_remove = tags
    try:
        if attributes:
            client.set_queue_attributes(aws_retry=True, QueueUrl=url, Attributes=attributes)
        if to_remove:
            client.untag_queue(aws_retry=True, QueueUrl=url, TagKeys=to_remove)
        if to_set:
            client.tag_queue(aws_retry=True, QueueUrl=url, Tags=to_set)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to update SQS queue '{url}'")


class Predicted:
    """Queue URL and ARN of a queue not created yet, from the region and the caller's account."""

    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        self.module = module
        self.client = client
        self._account: str | None = None

    def account(self) -> str:
        if self._account is None:
            sts = self.module.client("sts", retry_decorator=AWSRetry.jittered_backoff())
            try:
                self._account = sts.get_caller_identity(aws_retry=True)["Account"]
            except (BotoCoreError, ClientError) as e:
                self.module.fail_json_aws(
                    e, msg="Failed to read the caller's account (STS GetCallerIdentity)"
                )
        return self._account

    def of(self, name: str) -> tuple[str, str]:
        region = self.client.meta.region_name
        partition = self.client.meta.partition
        url = f"https://sqs.{region}.amazonaws.com/{self.account()}/{name}"
        return url, f"arn:{partition}:sqs:{region}:{self.account()}:{name}"


def ensure(
    module: AnsibleAWSModule, client: Any, queue: dict[str, Any], predicted: Predicted
) -> dict[str, Any]:
    """Converge one queue; its result entry (with a 'diff' key for the diff)."""
    name = queue["name"]
    wanted = wanted_attributes(queue)
    url = queue_url(module, client, name)
    if url is None:
        if module.check_mode:
            url, arn = predicted.of(name)
        else:
            url, arn = create(module, client, queue)
        after = {**wanted, "tags": queue["tags"] or {}}
        return {
            "name": name,
            "queue_url": url,
            "queue_arn": arn,
            "created": True,
            "changed": True,
            "diff": ({}, after),
        }
    manage_tags = queue["tags"] is not None
    attributes, tags = read_queue(module, client, url, manage_tags)
    changes = {k: v for k, v in wanted.items() if attributes.get(k) != v}
    tag_changes = (
        compare_aws_tags(tags, queue["tags"], module.params["purge_tags"]) if manage_tags else ({}, [])
    )
    changed = bool(changes or tag_changes[0] or tag_changes[1])
    if changed and not module.check_mode:
        update(module, client, url, changes, tag_changes)
    before = {k: attributes.get(k) for k in wanted}
    after = dict(wanted)
    if manage_tags:
        before["tags"] = tags
        kept = {k: v for k, v in tags.items() if k not in tag_changes[1]}
        after["tags"] = {**kept, **tag_changes[0]}
    return {
        "name": name,
        "queue_url": url,
        "queue_arn": attributes["QueueArn"],
        "created": False,
        "changed": changed,
        "diff": (before, after),
    }


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("sqs", retry_decorator=AWSRetry.jittered_backoff())
    predicted = Predicted(module, client)
    results = [ensure(module, client, queue, predicted) for queue in module.params["queues"]]
    result = list_result("queues", results, module._diff)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
