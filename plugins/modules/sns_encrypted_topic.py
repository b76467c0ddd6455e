#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sns_encrypted_topic
short_description: An SNS topic with its encryption, policy, display name, tags and subscriptions
version_added: 0.2.0
description:
  - Creates or updates one SNS standard topic and everything the baseline sets on it, in one module run
    (server-side encryption (C(KmsMasterKeyId)), access policy, display name, tags and subscriptions).
  - Replaces M(community.aws.sns_topic) (no encryption option, and no check mode for a topic not created
    yet) followed by a separate encryption step and M(community.aws.sns_topic_info).
  - A no-op run makes three reads (C(GetTopicAttributes), C(ListTagsForResource),
    C(ListSubscriptionsByTopic)) and no write.
  - A new topic is created with its encryption, policy, display name and tags in the one
    C(CreateTopic) call, so it is never unencrypted or untagged, even if the run is interrupted.
  - Options left unset (V(null)) are not managed.
options:
  topic_arn:
    description:
      - ARN of the topic. The module's region is taken from it, and its name is the topic's name.
      - When the topic is created, the ARN AWS returns must be this one (same account and partition),
        otherwise the module fails.
    type: str
    required: true
  state:
    description: Whether the topic exists. V(absent) deletes it, with its subscriptions.
    type: str
    choices: [present, absent]
    default: present
  display_name:
    description: Display name of the topic (at most 100 characters).
    type: str
  policy:
    description:
      - Access policy of the topic (a dict or a JSON string). Compared as a policy, not as text.
    type: json
  kms_master_key_id:
    description:
      - KMS key for server-side encryption (key ID, key ARN, alias name or alias ARN).
      - An empty string turns server-side encryption off.
    type: str
  tags:
    description: Tags of the topic.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags) (tags starting with C(aws:) are never removed).
    type: bool
    default: true
  subscriptions:
    description:
      - Subscriptions of the topic, by protocol and endpoint.
      - A subscription pending confirmation counts as present and cannot be removed (AWS gives it no ARN
        to unsubscribe until it is confirmed).
    type: list
    elements: dict
    suboptions:
      protocol:
        description: Delivery protocol.
        type: str
        required: true
        choices: [email, email-json, http, https, sqs, lambda, sms, application, firehose]
      endpoint:
        description: Endpoint of the protocol (address, URL or ARN).
        type: str
        required: true
  purge_subscriptions:
    description: Remove confirmed subscriptions not listed in O(subscriptions).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
notes:
  - Check mode and diff are supported. In check mode a topic that does not exist yet is reported as created,
    with no call but the reads.
  - FIFO topics are not supported.
author:
  - Secureinfra Platform Team (@secureinfra)
"""

EXAMPLES = r"""
- name: Alarm topic, encrypted with the baseline key, that CloudWatch may publish to
  secureinfra.baseline.sns_encrypted_topic:
    topic_arn: arn:aws:sns:eu-west-1:123456789012:baseline-alarms
    display_name: baseline alarms
    kms_master_key_id: alias/baseline
    policy: "{{ lookup('ansible.builtin.template', 'topic_policy.json.j2') }}"
    subscriptions:
      - protocol: email
        endpoint: ops@example.com
    tags:
      Project: baseline
  register: alarm_topic

- name: Remove the topic
  secureinfra.baseline.sns_encrypted_topic:
    topic_arn: arn:aws:sns:eu-west-1:123456789012:baseline-alarms
    state: absent
"""

RETURN = r"""
topic_arn:
  description: The topic's ARN.
  returned: always
  type: str
  sample: arn:aws:sns:eu-west-1:123456789012:baseline-alarms
created:
  description: Whether the topic was created (or would be, in check mode).
  returned: always
  type: bool
subscriptions:
  description:
    - The topic's subscriptions after the run; those not confirmed yet have
      RV(subscriptions[].subscription_arn) C(PendingConfirmation).
    - In check mode, the ones the run would add are listed as C(PendingConfirmation).
  returned: state is present
  type: list
  elements: dict
  contains:
    protocol:
      description: Delivery protocol.
      type: str
    endpoint:
      description: Endpoint.
      type: str
    subscription_arn:
      description: ARN of the subscription, or C(PendingConfirmation).
      type: str
diff:
  description: The managed settings before and after, in diff mode.
  returned: when diff mode is on
  type: dict
"""

import contextlib
import json
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

# arn:<partition>:sns:<region>:<account>:<name>; names: 1-256 of [A-Za-z0-9_-] (standard topics).
TOPIC_ARN = re.compile(r"^arn:[a-z0-9-]+:sns:(?P<region>[a-z0-9-]+):\d{12}:(?P<name>[A-Za-z0-9_-]{1,256})$")
PENDING = "PendingConfirmation"
MAX_DISPLAY_NAME = 100
MAX_TAGS = 50

ARGUMENT_SPEC: dict[str, Any] = {
    "topic_arn": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "display_name": {"type": "str"},
    "policy": {"type": "json"},
    "kms_master_key_id": {"type": "str", "no_log": False},
    "tags": {"type": "dict", "aliases": ["resource_tags"]},
    "purge_tags": {"type": "bool", "default": True},
    "subscriptions": {
        "type": "list",
        "elements": "dict",
        "options": {
            "protocol": {
                "type": "str",
                "required": True,
                "choices": [
                    "email",
                    "email-json",
                    "http",
                    "https",
                    "sqs",
                    "lambda",
                    "sms",
                    "application",
                    "firehose",
                ],
            },
            "endpoint": {"type": "str", "required": True},
        },
    },
    "purge_subscriptions": {"type": "bool", "default": True},
}


def tag_errors(tags: dict[str, Any] | None) -> list[str]:
    if tags is None:
        return []
    errors = []
    if len(tags) > MAX_TAGS:
        errors.append(f"tags: at most {MAX_TAGS} tags per topic, got {len(tags)}")
    for key, value in tags.items():
        if not 1 <= len(str(key)) <= 128 or str(key).startswith("aws:"):
            errors.append(f"tags: key '{key}' must be 1-128 characters and not start with 'aws:'")
        if value is None or len(str(value)) > 256:
            errors.append(f"tags: the value of '{key}' must be a string of at most 256 characters")
    return errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    errors = []
    if not TOPIC_ARN.match(params["topic_arn"]):
        errors.append(
            "topic_arn must be the ARN of a standard topic (arn:<partition>:sns:<region>:<account>:<name>, "
            f"name of 1-256 letters, digits, '-' or '_'), got '{params['topic_arn']}'"
        )
    display_name = params["display_name"]
    if display_name is not None and len(display_name) > MAX_DISPLAY_NAME:
        errors.append(f"display_name must be at most {MAX_DISPLAY_NAME} characters, got {len(display_name)}")
    key = params["kms_master_key_id"]
    if key is not None and key != key.strip():
        errors.append(f"kms_master_key_id must not have leading or trailing whitespace, got '{key}'")
    for subscription in params["subscriptions"] or []:
        if not subscription["endpoint"].strip():
            errors.append(f"subscriptions: the {subscription['protocol']} subscription needs an endpoint")
    return errors + tag_errors(params["tags"])


def wanted_policy(params: dict[str, Any]) -> dict[str, Any] | None:
    policy = params["policy"]
    return json.loads(policy) if policy else None


def read_attributes(module: AnsibleAWSModule, client: Any, arn: str) -> dict[str, str] | None:
    """The topic's attributes, or None when it does not exist."""
    try:
        return client.get_topic_attributes(aws_retry=True, TopicArn=arn)["Attributes"]
    except is_boto3_error_code("NotFound"):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read SNS topic '{arn}'")


def read_tags(module: AnsibleAWSModule, client: Any, arn: str) -> dict[str, str]:
    try:
        response = client.list_tags_for_resource(aws_retry=True, ResourceArn=arn)
        return boto3_tag_list_to_ansible_dict(response["Tags"])
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to read the tags of SNS topic '{arn}'")


def read_subscriptions(module: AnsibleAWSModule, client: Any, arn: str) -> list[dict[str, str]]:
    try:
        pages = client.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn).build_full_result()
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the subscriptions of SNS topic '{arn}'")
    return [
        {"protocol": s["Protocol"], "endpoint": s["Endpoint"], "subscription_arn": s["SubscriptionArn"]}
        for s in pages.get("Subscriptions", [])
    ]


def current_state(
    module: AnsibleAWSModule, client: Any, arn: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    """What the topic has now, for the settings the options manage (None: no topic)."""
    attributes = read_attributes(module, client, arn)
    if attributes is None:
        return None
    state: dict[str, Any] = {
        "display_name": attributes.get("DisplayName", ""),
        "policy": json.loads(attributes["Policy"]) if attributes.get("Policy") else None,
        "kms_master_key_id": attributes.get("KmsMasterKeyId", ""),
    }
    if params["tags"] is not None:
        state["tags"] = read_tags(module, client, arn)
    if params["subscriptions"] is not None:
        state["subscriptions"] = read_subscriptions(module, client, arn)
    return state


def attribute_changes(current: dict[str, Any], params: dict[str, Any]) -> dict[str, str]:
    """SetTopicAttributes calls needed: attribute name -> value."""
    changes = {}
    if params["display_name"] is not None and current["display_name"] != params["display_name"]:
        changes["DisplayName"] = params["display_name"]
    policy = wanted_policy(params)
    if policy is not None and (current["policy"] is None or compare_policies(current["policy"], policy)):
        changes["Policy"] = json.dumps(policy)
    key = params["kms_master_key_id"]
    if key is not None and current["kms_master_key_id"] != key:
        changes["KmsMasterKeyId"] = key
    return changes


def subscription_changes(
    current: list[dict[str, str]], params: dict[str, Any]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(to subscribe, to unsubscribe) by protocol and endpoint."""
    wanted = {(s["protocol"], s["endpoint"]) for s in params["subscriptions"]}
    have = {(s["protocol"], s["endpoint"]) for s in current}
    add = [{"protocol": p, "endpoint": e} for p, e in sorted(wanted - have)]
    remove = []
    if params["purge_subscriptions"]:
        remove = [s for s in current if (s["protocol"], s["endpoint"]) not in wanted]
        remove = [s for s in remove if s["subscription_arn"] != PENDING]
    return add, remove


def create(module: AnsibleAWSModule, client: Any, arn: str, params: dict[str, Any]) -> None:
    """CreateTopic with every attribute and tag in the one call."""
    attributes = {}
    if params["display_name"]:
        attributes["DisplayName"] = params["display_name"]
    policy = wanted_policy(params)
    if policy is not None:
        attributes["Policy"] = json.dumps(policy)
    if params["kms_master_key_id"]:
        attributes["KmsMasterKeyId"] = params["kms_master_key_id"]
    request: dict[str, Any] = {"Name": TOPIC_ARN.match(arn).group("name"), "Attributes": attributes}
    if params["tags"]:
        request["Tags"] = ansible_dict_to_boto3_tag_list(params["tags"])
    try:
        created = client.create_topic(aws_retry=True, **request)["TopicArn"]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to create SNS topic '{arn}'")
    if created != arn:
        module.fail_json(
            msg=f"CreateTopic returned '{created}', not topic_arn '{arn}': check the account and partition"
        )


def apply_attributes(module: AnsibleAWSModule, client: Any, arn: str, changes: dict[str, str]) -> None:
    for name, value in changes.items():
        try:
            client.set_topic_attributes(
                aws_retry=True, TopicArn=arn, AttributeName=name, AttributeValue=value
            )
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Failed to set {name} of SNS topic '{arn}'")


def apply_tags(
    module: AnsibleAWSModule, client: Any, arn: str, to_set: dict[str, str], to_remove: list[str]
) -> None:
    try:
        if to_remove:
            client.untag_resource(aws_retry=True, ResourceArn=arn, TagKeys=to_remove)
        if to_set:
            client.tag_resource(aws_retry=True, ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(to_set))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to tag SNS topic '{arn}'")


def apply_subscriptions(
    module: AnsibleAWSModule, client: Any, arn: str, add: list[dict[str, str]], remove: list[dict[str, str]]
) -> None:
    try:
        for subscription in remove:
            client.unsubscribe(aws_retry=True, SubscriptionArn=subscription["subscription_arn"])
        for subscription in add:
            client.subscribe(
                aws_retry=True,
                TopicArn=arn,
                Protocol=subscription["protocol"],
                Endpoint=subscription["endpoint"],
            )
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to change the subscriptions of SNS topic '{arn}'")


def endpoint_list(subscriptions: list[dict[str, str]]) -> list[str]:
    return sorted(f"{s['protocol']}:{s['endpoint']}" for s in subscriptions)


def after_state(current: dict[str, Any] | None, params: dict[str, Any]) -> dict[str, Any]:
    """The managed settings as the run leaves them (for the diff)."""
    after = dict(current or {"display_name": "", "policy": None, "kms_master_key_id": ""})
    for option in ("display_name", "kms_master_key_id"):
        if params[option] is not None:
            after[option] = params[option]
    if params["policy"]:
        after["policy"] = wanted_policy(params)
    if params["tags"] is not None:
        kept = {} if params["purge_tags"] else dict((current or {}).get("tags", {}))
        kept.update({k: v for k, v in (current or {}).get("tags", {}).items() if k.startswith("aws:")})
        after["tags"] = {**kept, **params["tags"]}
    return after


def ensure_present(module: AnsibleAWSModule, client: Any, arn: str) -> dict[str, Any]:
    params = module.params
    current = current_state(module, client, arn, params)
    result: dict[str, Any] = {"topic_arn": arn, "created": current is None}
    existing_subscriptions = (current or {}).get("subscriptions", [])
    add, remove = ([], [])
    if params["subscriptions"] is not None:
        add, remove = subscription_changes(existing_subscriptions, params)
    if current is None:
        changed = True
        if not module.check_mode:
            create(module, client, arn, params)
    else:
        attributes = attribute_changes(current, params)
        to_set, to_remove = (
            compare_aws_tags(current["tags"], params["tags"], params["purge_tags"])
            if params["tags"] is not None
            else ({}, [])
        )
        changed = bool(attributes or to_set or to_remove)
        if not module.check_mode:
            apply_attributes(module, client, arn, attributes)
            apply_tags(module, client, arn, to_set, to_remove)
    changed = changed or bool(add or remove)
    if not module.check_mode:
        apply_subscriptions(module, client, arn, add, remove)
    if params["subscriptions"] is not None:
        if module.check_mode or not (add or remove):
            removed = {s["subscription_arn"] for s in remove}
            kept = [s for s in existing_subscriptions if s["subscription_arn"] not in removed]
            result["subscriptions"] = kept + [{**s, "subscription_arn": PENDING} for s in add]
        else:
            result["subscriptions"] = read_subscriptions(module, client, arn)
    result["changed"] = changed
    if module._diff:
        before = {k: v for k, v in (current or {}).items() if k != "subscriptions"}
        after = after_state(current, params)
        after.pop("subscriptions", None)
        if params["subscriptions"] is not None:
            before["subscriptions"] = endpoint_list(existing_subscriptions)
            after["subscriptions"] = endpoint_list(result["subscriptions"])
        result["diff"] = {"before": before if current is not None else {}, "after": after}
    return result


def ensure_absent(module: AnsibleAWSModule, client: Any, arn: str) -> dict[str, Any]:
    exists = read_attributes(module, client, arn) is not None
    if exists and not module.check_mode:
        try:
            client.delete_topic(aws_retry=True, TopicArn=arn)
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Failed to delete SNS topic '{arn}'")
    result: dict[str, Any] = {"changed": exists, "topic_arn": arn, "created": False}
    if module._diff:
        result["diff"] = {"before": {"topic_arn": arn} if exists else {}, "after": {}}
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    arn = module.params["topic_arn"]
    region = TOPIC_ARN.match(arn).group("region")
    client = module.client("sns", retry_decorator=AWSRetry.jittered_backoff(), region=region)
    if module.params["state"] == "absent":
        module.exit_json(**ensure_absent(module, client, arn))
    module.exit_json(**ensure_present(module, client, arn))


if __name__ == "__main__":
    main()
