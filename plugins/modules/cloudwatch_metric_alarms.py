#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_metric_alarms
short_description: Manage a list of CloudWatch metric alarms, tags included, in one call
version_added: 0.1.0
description:
  - Creates or updates a whole list of CloudWatch metric alarms in one module run, idempotently,
    with check mode and diff. Every alarm gets the same actions and the same tags.
  - Replaces a loop over M(amazon.aws.cloudwatch_metric_alarm) (one module process per alarm, no tags)
    followed by C(secureinfra.baseline.cloudwatch_alarm_tags).
  - Looks the alarms up with C(DescribeAlarms) (up to 100 names per request), compares each alarm field by
    field and calls C(PutMetricAlarm) only for alarms that are missing or differ. New alarms get their tags
    on creation; the tags of existing alarms are read with C(ListTagsForResource) and only the differences
    are sent with C(TagResource) and C(UntagResource).
  - With O(purge_prefix), metric alarms whose names start with the prefix but are not in O(alarms) are
    deleted with C(DeleteAlarms).
  - All options are validated before any AWS call, and all alarms are looked up before anything is changed.
  - Alarm actions are always enabled (C(ActionsEnabled=true)); an existing alarm with disabled actions
    is updated.
options:
  alarms:
    description:
      - The metric alarms. Names must be unique.
      - An alarm is replaced as a whole when it differs, so any setting not given here
        (for example a description set by hand) is removed.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the alarm.
        type: str
        required: true
      description:
        description: Description of the alarm. Unset or empty means no description.
        type: str
      namespace:
        description: Namespace of the metric.
        type: str
        required: true
      metric_name:
        description: Name of the metric.
        type: str
        required: true
      dimensions:
        description: Dimensions of the metric, as a dictionary of names and values (values are strings).
        type: dict
        default: {}
      statistic:
        description: Statistic applied to the metric.
        type: str
        choices: [SampleCount, Average, Sum, Minimum, Maximum]
        default: Sum
      period:
        description:
          - Length of one evaluation period, in seconds.
          - V(10), V(20), V(30) (high-resolution alarms) or a multiple of V(60).
        type: int
        default: 300
      evaluation_periods:
        description: Number of periods evaluated.
        type: int
        default: 1
      datapoints_to_alarm:
        description:
          - Number of breaching data points, among O(alarms[].evaluation_periods), that trigger the alarm.
          - Unset means O(alarms[].evaluation_periods).
        type: int
      threshold:
        description: Value compared with the statistic.
        type: float
        required: true
      comparison:
        description: How the statistic is compared with O(alarms[].threshold).
        type: str
        required: true
        choices:
          - GreaterThanOrEqualToThreshold
          - GreaterThanThreshold
          - LessThanThreshold
          - LessThanOrEqualToThreshold
      treat_missing_data:
        description: How missing data points are treated.
        type: str
        choices: [breaching, notBreaching, ignore, missing]
        default: notBreaching
      unit:
        description: Unit of the metric. Unset means any unit.
        type: str
        choices:
          - Seconds
          - Microseconds
          - Milliseconds
          - Bytes
          - Kilobytes
          - Megabytes
          - Gigabytes
          - Terabytes
          - Bits
          - Kilobits
          - Megabits
          - Gigabits
          - Terabits
          - Percent
          - Count
          - Bytes/Second
          - Kilobytes/Second
          - Megabytes/Second
          - Gigabytes/Second
          - Terabytes/Second
          - Bits/Second
          - Kilobits/Second
          - Megabits/Second
          - Gigabits/Second
          - Terabits/Second
          - Count/Second
          - None
  alarm_actions:
    description: ARNs of the actions (for example SNS topics) run when an alarm goes to C(ALARM). At most 5.
    type: list
    elements: str
    default: []
  ok_actions:
    description: ARNs of the actions run when an alarm goes to C(OK). At most 5.
    type: list
    elements: str
    default: []
  insufficient_data_actions:
    description: ARNs of the actions run when an alarm goes to C(INSUFFICIENT_DATA). At most 5.
    type: list
    elements: str
    default: []
  tags:
    description:
      - Tags for every alarm, as a dictionary of keys and values. Values are stored as strings.
      - Keys starting with C(aws:) are reserved by AWS and cannot be set.
    type: dict
    default: {}
    aliases: [resource_tags]
  purge_tags:
    description:
      - Remove tags not listed in O(tags) from the alarms (tags starting with C(aws:) are never removed).
      - With O(purge_tags=false) and O(tags={}), the tags of the alarms are not read or changed.
    type: bool
    default: true
  purge_prefix:
    description:
      - When set, metric alarms whose names start with this prefix and are not in O(alarms) are deleted.
      - Composite alarms are never deleted.
      - Unset (the default) deletes nothing. An empty prefix is refused.
    type: str
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Baseline alarms, tagged, notifying a topic; remove baseline alarms no longer listed
  secureinfra.baseline.cloudwatch_metric_alarms:
    alarms:
      - name: baseline-root-account-usage
        description: The root user was used
        namespace: Baseline
        metric_name: RootAccountUsage
        comparison: GreaterThanOrEqualToThreshold
        threshold: 1
      - name: baseline-lambda-errors
        namespace: AWS/Lambda
        metric_name: Errors
        dimensions:
          FunctionName: rotate-credentials
        period: 60
        evaluation_periods: 5
        datapoints_to_alarm: 2
        comparison: GreaterThanThreshold
        threshold: 0
        treat_missing_data: notBreaching
    alarm_actions:
      - arn:aws:sns:eu-west-1:123456789012:security-alerts
    tags:
      owner: security
    purge_prefix: baseline-

- name: Add a tag to the alarms, keeping their other tags
  secureinfra.baseline.cloudwatch_metric_alarms:
    alarms: "{{ baseline_alarms }}"
    tags:
      baseline: "v1"
    purge_tags: false
"""

RETURN = r"""
alarms:
  description:
    - The alarms of O(alarms) by name, each with its ARN and whether it was changed (or would be).
    - In check mode, an alarm that does not exist yet has C(arn=null).
  returned: always
  type: dict
  sample:
    baseline-root-account-usage:
      arn: arn:aws:cloudwatch:eu-west-1:123456789012:alarm:baseline-root-account-usage
      changed: true
created:
  description: Names of the alarms created (or that would be, in check mode). They get their tags on creation.
  returned: always
  type: list
  elements: str
  sample: [baseline-root-account-usage]
updated:
  description: Names of the existing alarms whose settings were changed (or would be).
  returned: always
  type: list
  elements: str
  sample: [baseline-lambda-errors]
deleted:
  description: Names of the alarms deleted because of O(purge_prefix) (or that would be).
  returned: always
  type: list
  elements: str
  sample: [baseline-old-alarm]
tagged:
  description: Names of the existing alarms whose tags were changed (or would be).
  returned: always
  type: list
  elements: str
  sample: [baseline-lambda-errors]
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
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

BATCH = 100  # DescribeAlarms and DeleteAlarms accept at most 100 AlarmNames
ALARM_TYPES = ["MetricAlarm", "CompositeAlarm"]
ACTION_OPTIONS = {
    "alarm_actions": "AlarmActions",
    "ok_actions": "OKActions",
    "insufficient_data_actions": "InsufficientDataActions",
}
MAX_ACTIONS = 5
MAX_DIMENSIONS = 30
HIGH_RESOLUTION_PERIODS = (10, 20, 30)
PAST = {"create": "created", "update": "updated"}
UNITS = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
]

ALARM_SPEC: dict[str, Any] = {
    "name": {"type": "str", "required": True},
    "description": {"type": "str"},
    "namespace": {"type": "str", "required": True},
    "metric_name": {"type": "str", "required": True},
    "dimensions": {"type": "dict", "default": {}},
    "statistic": {
        "type": "str",
        "choices": ["SampleCount", "Average", "Sum", "Minimum", "Maximum"],
        "default": "Sum",
    },
    "period": {"type": "int", "default": 300},
    "evaluation_periods": {"type": "int", "default": 1},
    "datapoints_to_alarm": {"type": "int"},
    "threshold": {"type": "float", "required": True},
    "comparison": {
        "type": "str",
        "required": True,
        "choices": [
            "GreaterThanOrEqualToThreshold",
            "GreaterThanThreshold",
            "LessThanThreshold",
            "LessThanOrEqualToThreshold",
        ],
    },
    "treat_missing_data": {
        "type": "str",
        "choices": ["breaching", "notBreaching", "ignore", "missing"],
        "default": "notBreaching",
    },
    "unit": {"type": "str", "choices": UNITS},
}

ARGUMENT_SPEC: dict[str, Any] = {
    "alarms": {"type": "list", "elements": "dict", "required": True, "options": ALARM_SPEC},
    "alarm_actions": {"type": "list", "elements": "str", "default": []},
    "ok_actions": {"type": "list", "elements": "str", "default": []},
    "insufficient_data_actions": {"type": "list", "elements": "str", "default": []},
    "tags": {"type": "dict", "default": {}, "aliases": ["resource_tags"]},
    "purge_tags": {"type": "bool", "default": True},
    "purge_prefix": {"type": "str"},
}


# --- validation -------------------------------------------------------------------------------------


def alarm_errors(alarm: dict[str, Any]) -> list[str]:
    """Problems with one alarm's options."""
    name = alarm["name"]
    errors = []
    if not name or not name.strip() or len(name) > 255:
        errors.append(f"alarm name {name!r} must have 1 to 255 characters")
    if len(alarm["description"] or "") > 1024:
        errors.append(f"alarm '{name}': description must have at most 1024 characters")
    period, evaluations, datapoints = (
        alarm["period"],
        alarm["evaluation_periods"],
        alarm["datapoints_to_alarm"],
    )
    if period not in HIGH_RESOLUTION_PERIODS and (period <= 0 or period % 60):
        errors.append(f"alarm '{name}': period must be 10, 20, 30 or a multiple of 60, not {period}")
    if evaluations < 1:
        errors.append(f"alarm '{name}': evaluation_periods must be at least 1")
    elif period > 0 and period * evaluations > (86400 if period < 3600 else 604800):
        errors.append(
            f"alarm '{name}': period x evaluation_periods must be at most 1 day (7 days for periods of 1 hour"
            " or more)"
        )
    if datapoints is not None and not 1 <= datapoints <= evaluations:
        errors.append(f"alarm '{name}': datapoints_to_alarm must be between 1 and evaluation_periods")
    dimensions = alarm["dimensions"] or {}
    if len(dimensions) > MAX_DIMENSIONS:
        errors.append(f"alarm '{name}': at most {MAX_DIMENSIONS} dimensions")
    if any(not str(k) or v is None or str(v) == "" for k, v in dimensions.items()):
        errors.append(f"alarm '{name}': dimensions need non-empty names and values")
    return errors


def tag_errors(tags: dict[str, Any]) -> list[str]:
    errors = []
    reserved = sorted(str(k) for k in tags if str(k).startswith("aws:"))
    if reserved:
        errors.append(f"tag keys starting with 'aws:' are reserved by AWS: {', '.join(reserved)}")
    if any(not str(k) for k in tags):
        errors.append("tag keys must not be empty")
    unset = sorted(str(k) for k, v in tags.items() if v is None)
    if unset:
        errors.append(f"tags need a value (use '' for an empty one): {', '.join(unset)}")
    return errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    errors = []
    names = [alarm["name"] for alarm in params["alarms"]]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        errors.append(f"alarm names must be unique: {', '.join(duplicates)}")
    for alarm in params["alarms"]:
        errors.extend(alarm_errors(alarm))
    for option in ACTION_OPTIONS:
        if len(set(params[option])) > MAX_ACTIONS:
            errors.append(f"{option} must list at most {MAX_ACTIONS} actions")
    errors.extend(tag_errors(params["tags"]))
    if params["purge_prefix"] is not None and not params["purge_prefix"].strip():
        errors.append("purge_prefix must not be empty (it would delete every metric alarm)")
    return errors


# --- desired and current state, in one comparable shape -----------------------------------------------


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def desired_state(alarm: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The alarm as the module wants it, normalised for comparison."""
    return {
        "description": alarm["description"] or "",
        "namespace": alarm["namespace"],
        "metric_name": alarm["metric_name"],
        "dimensions": {str(k): str(v) for k, v in (alarm["dimensions"] or {}).items()},
        "statistic": alarm["statistic"],
        "period": alarm["period"],
        "evaluation_periods": alarm["evaluation_periods"],
        "datapoints_to_alarm": alarm["datapoints_to_alarm"] or alarm["evaluation_periods"],
        "threshold": float(alarm["threshold"]),
        "comparison": alarm["comparison"],
        "treat_missing_data": alarm["treat_missing_data"],
        "unit": alarm["unit"],
        "actions_enabled": True,
        **{option: sorted(set(params[option])) for option in ACTION_OPTIONS},
    }


def current_state(alarm: dict[str, Any]) -> dict[str, Any]:
    """An alarm from DescribeAlarms, in the shape of desired_state()."""
    evaluations = alarm.get("EvaluationPeriods")
    threshold = alarm.get("Threshold")
    return {
        "description": alarm.get("AlarmDescription") or "",
        "namespace": alarm.get("Namespace"),
        "metric_name": alarm.get("MetricName"),
        "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions") or []},
        "statistic": alarm.get("Statistic"),
        "period": alarm.get("Period"),
        "evaluation_periods": evaluations,
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm") or evaluations,
        "threshold": None if threshold is None else float(threshold),
        "comparison": alarm.get("ComparisonOperator"),
        "treat_missing_data": alarm.get("TreatMissingData") or "missing",  # the AWS default
        "unit": alarm.get("Unit"),
        "actions_enabled": alarm.get("ActionsEnabled", True),
        **{option: sorted(set(alarm.get(key) or [])) for option, key in ACTION_OPTIONS.items()},
    }


def put_request(alarm: dict[str, Any], params: dict[str, Any], tags: dict[str, str] | None) -> dict[str, Any]:
    """PutMetricAlarm parameters; `tags` only on creation (AWS ignores them on update)."""
    request: dict[str, Any] = {
        "AlarmName": alarm["name"],
        "Namespace": alarm["namespace"],
        "MetricName": alarm["metric_name"],
        "Dimensions": [{"Name": str(k), "Value": str(v)} for k, v in (alarm["dimensions"] or {}).items()],
        "Statistic": alarm["statistic"],
        "Period": alarm["period"],
        "EvaluationPeriods": alarm["evaluation_periods"],
        "Threshold": float(alarm["threshold"]),
        "ComparisonOperator": alarm["comparison"],
        "TreatMissingData": alarm["treat_missing_data"],
        "ActionsEnabled": True,
        **{key: unique(params[option]) for option, key in ACTION_OPTIONS.items()},
    }
    optional = {
        "AlarmDescription": alarm["description"],
        "DatapointsToAlarm": alarm["datapoints_to_alarm"],
        "Unit": alarm["unit"],
    }
    request.update({key: value for key, value in optional.items() if value})
    if tags:
        request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return request


# --- AWS calls ----------------------------------------------------------------------------------------


def batches(names: list[str], size: int = BATCH) -> Iterator[list[str]]:
    for start in range(0, len(names), size):
        yield names[start : start + size]


@AWSRetry.jittered_backoff()
def describe_alarms(client: Any, **kwargs: Any) -> dict[str, Any]:
    paginator = client.get_paginator("describe_alarms")
    return paginator.paginate(AlarmTypes=ALARM_TYPES, **kwargs).build_full_result()


def lookup(module: AnsibleAWSModule, client: Any, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        return describe_alarms(client, **kwargs)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe CloudWatch alarms {what}")


def existing_alarms(
    module: AnsibleAWSModule, client: Any, names: list[str], prefix: str | None
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Metric alarms by name (`names`, and those starting with `prefix`), and names of composite alarms."""
    metric: dict[str, dict[str, Any]] = {}
    composite: list[str] = []

    def add(response: dict[str, Any]) -> None:
        metric.update({alarm["AlarmName"]: alarm for alarm in response.get("MetricAlarms", [])})
        composite.extend(alarm["AlarmName"] for alarm in response.get("CompositeAlarms", []))

    if prefix:
        add(lookup(module, client, f"starting with '{prefix}'", AlarmNamePrefix=prefix))
    remaining = [name for name in names if not (prefix and name.startswith(prefix))]
    for batch in batches(remaining):
        add(lookup(module, client, ", ".join(batch), AlarmNames=batch))
    return metric, unique(composite)


def current_tags(module: AnsibleAWSModule, client: Any, name: str, arn: str) -> dict[str, str]:
    try:
        response = client.list_tags_for_resource(aws_retry=True, ResourceARN=arn)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the tags of CloudWatch alarm '{name}'")
    return boto3_tag_list_to_ansible_dict(response.get("Tags") or [])


def put_alarm(module: AnsibleAWSModule, client: Any, request: dict[str, Any]) -> None:
    try:
        client.put_metric_alarm(aws_retry=True, **request)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to put CloudWatch alarm '{request['AlarmName']}'")


def retag(
    module: AnsibleAWSModule, client: Any, name: str, arn: str, to_set: dict[str, str], to_unset: list[str]
) -> None:
    try:
        if to_unset:
            client.untag_resource(aws_retry=True, ResourceARN=arn, TagKeys=to_unset)
        if to_set:
            client.tag_resource(aws_retry=True, ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(to_set))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to update the tags of CloudWatch alarm '{name}'")


def delete_alarms(module: AnsibleAWSModule, client: Any, names: list[str]) -> None:
    for batch in batches(names):
        try:
            client.delete_alarms(aws_retry=True, AlarmNames=batch)
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Failed to delete CloudWatch alarms {', '.join(batch)}")


def new_arns(module: AnsibleAWSModule, client: Any, names: list[str]) -> dict[str, str]:
    """ARNs of just-created alarms (PutMetricAlarm does not return them)."""
    arns: dict[str, str] = {}
    for batch in batches(names):
        response = lookup(module, client, ", ".join(batch), AlarmNames=batch)
        arns.update({alarm["AlarmName"]: alarm["AlarmArn"] for alarm in response.get("MetricAlarms", [])})
    return arns


# --- planning and applying ----------------------------------------------------------------------------


def tag_changes(
    before: dict[str, str], wanted: dict[str, str], purge: bool
) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """Tags to set, tag keys to remove, and the resulting tags."""
    to_set, to_unset = compare_aws_tags(before, wanted, purge)
    after = {k: v for k, v in before.items() if k not in to_unset}
    after.update(to_set)
    return to_set, sorted(to_unset), after


def plan_alarm(
    module: AnsibleAWSModule, client: Any, alarm: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    """What to do for one desired alarm: action (create/update/None), tag changes, before/after."""
    params = module.params
    wanted_tags = {str(k): str(v) for k, v in params["tags"].items()}
    manage_tags = bool(wanted_tags) or params["purge_tags"]
    after = desired_state(alarm, params)
    if existing is None:
        if manage_tags:
            after["tags"] = wanted_tags
        return {"action": "create", "arn": None, "before": None, "after": after, "to_set": {}, "to_unset": []}
    before = current_state(existing)
    action = None if before == after else "update"
    to_set: dict[str, str] = {}
    to_unset: list[str] = []
    if manage_tags:
        before["tags"] = current_tags(module, client, alarm["name"], existing["AlarmArn"])
        to_set, to_unset, after["tags"] = tag_changes(before["tags"], wanted_tags, params["purge_tags"])
    return {
        "action": action,
        "arn": existing["AlarmArn"],
        "before": before,
        "after": after,
        "to_set": to_set,
        "to_unset": to_unset,
    }


def apply_alarm(module: AnsibleAWSModule, client: Any, alarm: dict[str, Any], plan: dict[str, Any]) -> None:
    if plan["action"] == "create":
        tags = {str(k): str(v) for k, v in module.params["tags"].items()}
        put_alarm(module, client, put_request(alarm, module.params, tags))
    elif plan["action"] == "update":
        put_alarm(module, client, put_request(alarm, module.params, None))
    if plan["to_set"] or plan["to_unset"]:
        retag(module, client, alarm["name"], plan["arn"], plan["to_set"], plan["to_unset"])


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    params = module.params
    desired = params["alarms"]
    names = [alarm["name"] for alarm in desired]
    prefix = params["purge_prefix"]
    existing, composite = existing_alarms(module, client, names, prefix)
    clashes = [name for name in names if name in composite]
    if clashes:
        module.fail_json(msg=f"These alarms exist as composite alarms: {', '.join(clashes)}")
    plans = {
        alarm["name"]: plan_alarm(module, client, alarm, existing.get(alarm["name"])) for alarm in desired
    }
    extras = sorted(name for name in existing if prefix and name.startswith(prefix) and name not in names)

    result: dict[str, Any] = {"created": [], "updated": [], "deleted": extras, "tagged": [], "alarms": {}}
    diff: dict[str, dict[str, Any]] = {"before": {}, "after": {}}
    for alarm in desired:
        name, plan = alarm["name"], plans[alarm["name"]]
        retagged = bool(plan["to_set"] or plan["to_unset"])
        if plan["action"]:
            result[PAST[plan["action"]]].append(name)
        if retagged:
            result["tagged"].append(name)
        changed = bool(plan["action"]) or retagged
        result["alarms"][name] = {"arn": plan["arn"], "changed": changed}
        if changed:
            if plan["before"] is not None:
                diff["before"][name] = plan["before"]
            diff["after"][name] = plan["after"]
        if changed and not module.check_mode:
            apply_alarm(module, client, alarm, plan)
    for name in extras:
        diff["before"][name] = current_state(existing[name])
    if extras and not module.check_mode:
        delete_alarms(module, client, extras)
    if result["created"] and not module.check_mode:
        for name, arn in new_arns(module, client, result["created"]).items():
            result["alarms"][name]["arn"] = arn

    result["changed"] = any(result[key] for key in ("created", "updated", "deleted", "tagged"))
    if module._diff:
        result["diff"] = diff
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
