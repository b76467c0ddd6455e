#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_alarm_tags
short_description: Manage the tags of existing CloudWatch alarms
version_added: 0.1.0
description:
  - Sets the tags of one or more existing CloudWatch alarms (metric or composite), idempotently,
    with check mode and diff.
  - M(amazon.aws.cloudwatch_metric_alarm) creates alarms but cannot tag them; run this module after it.
  - Looks the alarms up with C(DescribeAlarms) (up to 100 names per request), reads each alarm's tags
    with C(ListTagsForResource) and only calls C(TagResource) or C(UntagResource) for the differences.
  - All alarms are looked up before anything is changed, so a missing alarm fails the task without
    tagging the others. In check mode a missing alarm is assumed to be created, untagged, by an
    earlier task that check mode skipped, and the module reports the tags it would set.
options:
  alarm_names:
    description: Names of the alarms. Every alarm gets the same tags.
    type: list
    elements: str
    required: true
  tags:
    description:
      - Tags for the alarms, as a dictionary of keys and values. Values are stored as strings.
      - Keys starting with C(aws:) are reserved by AWS and cannot be set.
    type: dict
    required: true
    aliases: [resource_tags]
  purge_tags:
    description:
      - Remove tags not listed in O(tags) (tags starting with C(aws:) are never removed).
      - With O(purge_tags=true), O(tags={}) removes every tag of the alarms.
    type: bool
    default: true
author:
  - secureinfra.baseline contributors
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create an alarm
  amazon.aws.cloudwatch_metric_alarm:
    name: root-account-usage
    metric_name: RootAccountUsage
    namespace: Baseline
    statistic: Sum
    comparison: GreaterThanOrEqualToThreshold
    threshold: 1
    period: 300
    evaluation_periods: 1

- name: Tag it, removing any other tag
  secureinfra.baseline.cloudwatch_alarm_tags:
    alarm_names: [root-account-usage]
    tags:
      owner: security
      severity: high

- name: Add a tag to several alarms, keeping their other tags
  secureinfra.baseline.cloudwatch_alarm_tags:
    alarm_names:
      - root-account-usage
      - unauthorized-api-calls
    tags:
      baseline: "v1"
    purge_tags: false
"""

RETURN = r"""
alarms:
  description:
    - The alarms by name, each with its ARN and its tags after the call.
    - In check mode, an alarm that does not exist has C(arn=null) and the tags it would get.
  returned: always
  type: dict
  sample:
    root-account-usage:
      arn: arn:aws:cloudwatch:eu-west-1:123456789012:alarm:root-account-usage
      tags: {"owner": "security", "severity": "high"}
changed_alarms:
  description: Names of the alarms whose tags were changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [root-account-usage]
"""

import contextlib
from collections.abc import Iterator
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

DESCRIBE_BATCH = 100  # DescribeAlarms accepts at most 100 AlarmNames
ALARM_TYPES = ["MetricAlarm", "CompositeAlarm"]


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    errors = []
    names = params["alarm_names"]
    if not names:
        errors.append("alarm_names must list at least one alarm")
    if any(not name or not name.strip() for name in names):
        errors.append("alarm_names must not contain empty names")
    tags = params["tags"]
    reserved = sorted(k for k in tags if str(k).startswith("aws:"))
    if reserved:
        errors.append(f"tag keys starting with 'aws:' are reserved by AWS: {', '.join(reserved)}")
    if any(not str(k) for k in tags):
        errors.append("tag keys must not be empty")
    unset = sorted(str(k) for k, v in tags.items() if v is None)
    if unset:
        errors.append(f"tags need a value (use '' for an empty one): {', '.join(unset)}")
    return errors


def batches(names: list[str], size: int = DESCRIBE_BATCH) -> Iterator[list[str]]:
    for start in range(0, len(names), size):
        yield names[start : start + size]


@AWSRetry.jittered_backoff()
def describe_alarms(client: Any, names: list[str]) -> dict[str, Any]:
    paginator = client.get_paginator("describe_alarms")
    return paginator.paginate(AlarmNames=names, AlarmTypes=ALARM_TYPES).build_full_result()


def alarm_arns(module: AnsibleAWSModule, client: Any, names: list[str]) -> dict[str, str]:
    """ARNs of the alarms among `names` that exist, by name."""
    arns: dict[str, str] = {}
    for batch in batches(names):
        try:
            response = describe_alarms(client, batch)
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Failed to describe CloudWatch alarms {', '.join(batch)}")
        for alarm in response.get("MetricAlarms", []) + response.get("CompositeAlarms", []):
            arns[alarm["AlarmName"]] = alarm["AlarmArn"]
    return arns


def current_tags(module: AnsibleAWSModule, client: Any, name: str, arn: str) -> dict[str, str]:
    try:
        response = client.list_tags_for_resource(aws_retry=True, ResourceARN=arn)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the tags of CloudWatch alarm '{name}'")
    return boto3_tag_list_to_ansible_dict(response.get("Tags") or [])


def tag_changes(
    before: dict[str, str], wanted: dict[str, str], purge: bool
) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """Tags to set, tag keys to remove, and the resulting tags."""
    to_set, to_unset = compare_aws_tags(before, wanted, purge)
    after = {k: v for k, v in before.items() if k not in to_unset}
    after.update(to_set)
    return to_set, sorted(to_unset), after


def apply(
    module: AnsibleAWSModule, client: Any, name: str, arn: str, to_set: dict[str, str], to_unset: list[str]
) -> None:
    try:
        if to_unset:
            client.untag_resource(aws_retry=True, ResourceARN=arn, TagKeys=to_unset)
        if to_set:
            client.tag_resource(aws_retry=True, ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(to_set))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to update the tags of CloudWatch alarm '{name}'")


def reconcile(
    module: AnsibleAWSModule, client: Any, names: list[str], arns: dict[str, str], wanted: dict[str, str]
) -> tuple[dict[str, dict[str, Any]], list[str], dict[str, dict[str, dict[str, str]]]]:
    """Bring each alarm's tags to `wanted` (only reading in check mode); return result, changed, diff."""
    alarms: dict[str, dict[str, Any]] = {}
    changed_alarms: list[str] = []
    diff: dict[str, dict[str, dict[str, str]]] = {"before": {}, "after": {}}
    for name in names:
        arn = arns.get(name)
        before = current_tags(module, client, name, arn) if arn else {}  # a new alarm has no tags
        to_set, to_unset, after = tag_changes(before, wanted, module.params["purge_tags"])
        if to_set or to_unset:
            changed_alarms.append(name)
            if not module.check_mode:
                apply(module, client, name, arn, to_set, to_unset)
        alarms[name] = {"arn": arn, "tags": after}
        diff["before"][name] = before
        diff["after"][name] = after
    return alarms, changed_alarms, diff


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "alarm_names": {"type": "list", "elements": "str", "required": True},
            "tags": {"type": "dict", "required": True, "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    names = list(dict.fromkeys(module.params["alarm_names"]))  # unique, in the order given
    wanted = {str(k): str(v) for k, v in module.params["tags"].items()}
    client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff())

    arns = alarm_arns(module, client, names)
    missing = [name for name in names if name not in arns]
    if missing and not module.check_mode:
        module.fail_json(msg=f"CloudWatch alarms do not exist: {', '.join(missing)}", missing_alarms=missing)

    alarms, changed_alarms, diff = reconcile(module, client, names, arns, wanted)
    result: dict[str, Any] = {
        "changed": bool(changed_alarms),
        "alarms": alarms,
        "changed_alarms": changed_alarms,
    }
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
