#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eventbridge_schedule
short_description: Manage a scheduled EventBridge rule with one Lambda target
version_added: 0.1.0
description:
  - Creates, updates or deletes an EventBridge rule on the default event bus that runs on a schedule
    and invokes exactly one Lambda function, idempotently, with check mode and diff.
  - Unlike M(amazon.aws.cloudwatchevent_rule), this module supports check mode, and compares the rule
    (C(DescribeRule), C(ListTagsForResource)) and its targets (C(ListTargetsByRule)) with the desired
    state and only calls C(PutRule), C(TagResource), C(UntagResource), C(RemoveTargets) or
    C(PutTargets) for what differs.
  - Targets other than O(target_id) are removed from the rule.
  - The schedule expression is checked for the C(rate(...)) / C(cron(...)) shape before any AWS call.
notes:
  - EventBridge also needs permission to invoke the function (a resource-based policy statement on the
    function for C(events.amazonaws.com)); this module does not manage it.
  - When the target differs it is replaced as a whole, so retry, dead-letter and other target settings
    not managed by this module are reset.
  - C(PutRule) replaces a rule; the rule's C(RoleArn) is carried over, an C(EventPattern) is removed.
options:
  name:
    description: Name of the rule (letters, digits, C(.), C(-) and C(_), at most 64 characters).
    type: str
    required: true
  state:
    description: Whether the rule should exist. C(absent) removes its targets, then the rule.
    type: str
    choices: [present, absent]
    default: present
  schedule_expression:
    description:
      - When the rule runs, C(rate(N unit)) or C(cron(minutes hours day-of-month month day-of-week year)).
      - For C(rate), the unit is C(minute), C(hour) or C(day) when N is 1, and C(minutes), C(hours) or
        C(days) otherwise.
      - For C(cron), one of day-of-month and day-of-week must be C(?).
      - Required with O(state=present).
    type: str
  description:
    description:
      - Description of the rule. When omitted, the current description is kept.
      - Set to an empty string to remove it.
    type: str
  enabled:
    description: Whether the rule is enabled (C(ENABLED)) or disabled (C(DISABLED)).
    type: bool
    default: true
  target_arn:
    description:
      - ARN of the Lambda function (optionally with a version or alias qualifier) to invoke.
      - Required with O(state=present).
    type: str
  target_id:
    description: Id of the target within the rule. Defaults to the rule name.
    type: str
  target_input:
    description:
      - Constant JSON passed to the function instead of the event, as a JSON string or a dict.
      - When omitted, the function receives the scheduled event.
    type: raw
  tags:
    description:
      - Tags of the rule. When omitted, the tags of an existing rule are left alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
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
- name: Rotate keys every day at 03:00 UTC
  secureinfra.baseline.eventbridge_schedule:
    name: rotate-keys-daily
    description: Daily access-key rotation
    schedule_expression: cron(0 3 * * ? *)
    target_arn: arn:aws:lambda:eu-west-1:123456789012:function:rotate-keys
    target_input:
      max_age_days: 90
    tags:
      owner: security

- name: Pause the schedule
  secureinfra.baseline.eventbridge_schedule:
    name: rotate-keys-daily
    schedule_expression: cron(0 3 * * ? *)
    target_arn: arn:aws:lambda:eu-west-1:123456789012:function:rotate-keys
    enabled: false

- name: Remove the schedule
  secureinfra.baseline.eventbridge_schedule:
    name: rotate-keys-daily
    state: absent
"""

RETURN = r"""
rule:
  description: The rule after the call; empty when O(state=absent).
  returned: always
  type: dict
  contains:
    name:
      description: Rule name.
      type: str
      sample: rotate-keys-daily
    arn:
      description: Rule ARN; C(null) when the rule would be created in check mode.
      type: str
      sample: arn:aws:events:eu-west-1:123456789012:rule/rotate-keys-daily
    description:
      description: Rule description, C(null) if none.
      type: str
      sample: Daily access-key rotation
    schedule_expression:
      description: Schedule expression.
      type: str
      sample: cron(0 3 * * ? *)
    state:
      description: C(ENABLED) or C(DISABLED).
      type: str
      sample: ENABLED
    targets:
      description: Targets of the rule; C(input) is the constant input as compact JSON, or C(null).
      type: list
      elements: dict
      sample: [{"id": "rotate-keys-daily",
                "arn": "arn:aws:lambda:eu-west-1:123456789012:function:rotate-keys",
                "input": "{\"max_age_days\":90}"}]
    tags:
      description: Tags of the rule.
      type: dict
      sample: {"owner": "security"}
"""

import contextlib
import json
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

View = dict[str, Any]

NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\(([^()]+)\)$")
CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#\-]+$")
LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,129})?$"
)
RULE_FIELDS = ("description", "schedule_expression", "state")


# --- validation ------------------------------------------------------------------------------


def schedule_error(expression: str) -> str | None:
    """Why a schedule expression is malformed, or None if its shape is valid."""
    expected = "expected 'rate(N unit)' (e.g. 'rate(5 minutes)') or 'cron(m h dom mon dow year)'"
    rate = RATE.match(expression)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2)
        if count < 1:
            return f"schedule_expression '{expression}': the rate must be at least 1"
        if (count == 1) == unit.endswith("s"):
            form = "singular" if count == 1 else "plural"
            return f"schedule_expression '{expression}': the unit must be {form} for a rate of {count}"
        return None
    cron = CRON.match(expression)
    if not cron:
        return f"schedule_expression '{expression}' is not valid: {expected}"
    fields = cron.group(1).split()
    if len(fields) != 6 or not all(CRON_FIELD.match(f) for f in fields):
        return f"schedule_expression '{expression}': cron needs 6 fields (m h dom mon dow year)"
    if "?" not in (fields[2], fields[4]):
        return f"schedule_expression '{expression}': one of day-of-month and day-of-week must be '?'"
    return None


def canonical_input(value: Any) -> str | None:
    """The constant target input as compact, key-sorted JSON (raises ValueError if not JSON)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    errors = []
    if not NAME.match(params["name"]):
        errors.append(f"name '{params['name']}' must be 1-64 letters, digits, '.', '-' or '_'")
    if params["state"] == "absent":
        return errors
    missing = [k for k in ("schedule_expression", "target_arn") if not params[k]]
    if missing:
        return [*errors, f"{' and '.join(missing)} required with state: present"]
    error = schedule_error(params["schedule_expression"])
    if error:
        errors.append(error)
    if not LAMBDA_ARN.match(params["target_arn"]):
        errors.append(
            "target_arn must be a Lambda function ARN "
            f"(arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]), got '{params['target_arn']}'"
        )
    if params["target_id"] is not None and not NAME.match(params["target_id"]):
        errors.append(f"target_id '{params['target_id']}' must be 1-64 letters, digits, '.', '-' or '_'")
    try:
        canonical_input(params["target_input"])
    except (TypeError, ValueError) as e:
        errors.append(f"target_input must be valid JSON (a JSON string or a dict): {to_text(e)}")
    return errors


# --- reading -------------------------------------------------------------------------------


def describe_rule(module: AnsibleAWSModule, client: Any, name: str) -> dict[str, Any] | None:
    try:
        return client.describe_rule(aws_retry=True, Name=name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe EventBridge rule '{name}'")


def list_targets(module: AnsibleAWSModule, client: Any, name: str) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"Rule": name}
    try:
        while True:
            response = client.list_targets_by_rule(aws_retry=True, **kwargs)
            targets.extend(response.get("Targets") or [])
            if not response.get("NextToken"):
                return targets
            kwargs["NextToken"] = response["NextToken"]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the targets of EventBridge rule '{name}'")


def list_tags(module: AnsibleAWSModule, client: Any, arn: str) -> dict[str, str]:
    try:
        response = client.list_tags_for_resource(aws_retry=True, ResourceARN=arn)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the tags of EventBridge rule '{arn}'")
    return boto3_tag_list_to_ansible_dict(response.get("Tags") or [])


def target_view(target: dict[str, Any]) -> View:
    raw = target.get("Input")
    try:
        parsed = canonical_input(raw)
    except ValueError:
        parsed = raw
    view: View = {"id": target.get("Id"), "arn": target.get("Arn"), "input": parsed}
    # other ways of shaping the input conflict with a constant input: show them so they differ
    if target.get("InputPath"):
        view["input_path"] = target["InputPath"]
    if target.get("InputTransformer"):
        view["input_transformer"] = target["InputTransformer"]
    return view


def current_view(module: AnsibleAWSModule, client: Any, name: str) -> tuple[dict[str, Any] | None, View]:
    """The raw DescribeRule answer and the comparable view of the rule ({} when absent)."""
    rule = describe_rule(module, client, name)
    if rule is None:
        return None, {}
    arn = rule.get("Arn")
    view: View = {
        "name": rule.get("Name", name),
        "arn": arn,
        "description": rule.get("Description") or None,
        "schedule_expression": rule.get("ScheduleExpression"),
        "state": rule.get("State", "ENABLED"),
        "targets": sorted(
            (target_view(t) for t in list_targets(module, client, name)), key=lambda t: t["id"]
        ),
        "tags": list_tags(module, client, arn) if arn else {},
    }
    if rule.get("EventPattern"):
        view["event_pattern"] = rule["EventPattern"]
    return rule, view


# --- desired state -------------------------------------------------------------------------


def desired_tags(params: dict[str, Any], current: View) -> dict[str, str]:
    current_tags = current.get("tags") or {}
    if params["tags"] is None:
        return dict(current_tags)
    to_set, to_unset = compare_aws_tags(current_tags, params["tags"], params["purge_tags"])
    after = {k: v for k, v in current_tags.items() if k not in to_unset}
    after.update(to_set)
    return after


def desired_view(params: dict[str, Any], current: View) -> View:
    description = params["description"]
    if description is None:
        description = current.get("description")
    return {
        "name": params["name"],
        "arn": current.get("arn"),
        "description": description or None,
        "schedule_expression": params["schedule_expression"],
        "state": "ENABLED" if params["enabled"] else "DISABLED",
        "targets": [
            {
                "id": params["target_id"] or params["name"],
                "arn": params["target_arn"],
                "input": canonical_input(params["target_input"]),
            }
        ],
        "tags": desired_tags(params, current),
    }


def rule_differs(current: View, wanted: View) -> bool:
    if not current or "event_pattern" in current:
        return True
    return any(current.get(field) != wanted[field] for field in RULE_FIELDS)


# --- writing -------------------------------------------------------------------------------


def put_rule(module: AnsibleAWSModule, client: Any, raw: dict[str, Any] | None, wanted: View) -> str:
    """Create or replace the rule; tags are only passed on creation. Returns the rule ARN."""
    args: dict[str, Any] = {
        "Name": wanted["name"],
        "ScheduleExpression": wanted["schedule_expression"],
        "State": wanted["state"],
    }
    if wanted["description"]:
        args["Description"] = wanted["description"]
    if raw and raw.get("RoleArn"):
        args["RoleArn"] = raw["RoleArn"]
    if raw is None and wanted["tags"]:
        args["Tags"] = ansible_dict_to_boto3_tag_list(wanted["tags"])
    try:
        return client.put_rule(aws_retry=True, **args)["RuleArn"]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to put EventBridge rule '{wanted['name']}'")


def set_tags(
    module: AnsibleAWSModule, client: Any, arn: str, current: dict[str, str], wanted: dict[str, str]
) -> None:
    to_set, to_unset = compare_aws_tags(current, wanted, purge_tags=True)
    try:
        if to_unset:
            client.untag_resource(aws_retry=True, ResourceARN=arn, TagKeys=to_unset)
        if to_set:
            client.tag_resource(aws_retry=True, ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(to_set))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to update the tags of EventBridge rule '{arn}'")


def check_failed_entries(module: AnsibleAWSModule, response: dict[str, Any], action: str, name: str) -> None:
    if response.get("FailedEntryCount"):
        module.fail_json(
            msg=f"Failed to {action} targets of EventBridge rule '{name}'",
            failed_entries=response.get("FailedEntries", []),
        )


def remove_targets(module: AnsibleAWSModule, client: Any, name: str, ids: list[str]) -> None:
    if not ids:
        return
    try:
        response = client.remove_targets(aws_retry=True, Rule=name, Ids=ids)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to remove targets {ids} of EventBridge rule '{name}'")
    check_failed_entries(module, response, "remove", name)


def put_target(module: AnsibleAWSModule, client: Any, name: str, target: View) -> None:
    api: dict[str, Any] = {"Id": target["id"], "Arn": target["arn"]}
    if target["input"] is not None:
        api["Input"] = target["input"]
    try:
        response = client.put_targets(aws_retry=True, Rule=name, Targets=[api])
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to put the target of EventBridge rule '{name}'")
    check_failed_entries(module, response, "put", name)


def delete_rule(module: AnsibleAWSModule, client: Any, name: str) -> None:
    try:
        client.delete_rule(aws_retry=True, Name=name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to delete EventBridge rule '{name}'")


# --- states --------------------------------------------------------------------------------


def ensure_present(
    module: AnsibleAWSModule, client: Any, raw: dict[str, Any] | None, current: View
) -> tuple[bool, View]:
    wanted = desired_view(module.params, current)
    update_rule = rule_differs(current, wanted)
    update_tags = bool(current) and current["tags"] != wanted["tags"]
    wanted_ids = {t["id"] for t in wanted["targets"]}
    stale_ids = sorted(t["id"] for t in current.get("targets", []) if t["id"] not in wanted_ids)
    new_target = wanted["targets"][0]
    update_target = new_target not in current.get("targets", [])
    changed = update_rule or update_tags or bool(stale_ids) or update_target
    if not changed or module.check_mode:
        return changed, wanted
    name = wanted["name"]
    arn = put_rule(module, client, raw, wanted) if update_rule else current["arn"]
    if update_tags:
        set_tags(module, client, arn, current["tags"], wanted["tags"])
    remove_targets(module, client, name, stale_ids)
    if update_target:
        put_target(module, client, name, new_target)
    return changed, current_view(module, client, name)[1]


def ensure_absent(module: AnsibleAWSModule, client: Any, current: View) -> tuple[bool, View]:
    if not current:
        return False, {}
    if not module.check_mode:
        remove_targets(module, client, current["name"], [t["id"] for t in current["targets"]])
        delete_rule(module, client, current["name"])
    return True, {}


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "schedule_expression": {"type": "str"},
            "description": {"type": "str"},
            "enabled": {"type": "bool", "default": True},
            "target_arn": {"type": "str"},
            "target_id": {"type": "str"},
            "target_input": {"type": "raw"},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
        },
        required_if=[("state", "present", ["schedule_expression", "target_arn"])],
        supports_check_mode=True,
    )
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("events", retry_decorator=AWSRetry.jittered_backoff())
    raw, current = current_view(module, client, module.params["name"])
    if module.params["state"] == "present":
        changed, after = ensure_present(module, client, raw, current)
    else:
        changed, after = ensure_absent(module, client, current)
    result: dict[str, Any] = {"changed": changed, "rule": after}
    if module._diff:
        result["diff"] = {"before": current, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
