#!/usr/bin/python

# Copyright: secureinfra platform team
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudtrail_event_selectors
version_added: 0.1.0
short_description: Set the advanced event selectors of a CloudTrail trail
description:
  - Sets the advanced event selectors of an existing CloudTrail trail, idempotently.
  - Reads the trail's selectors with C(GetEventSelectors), normalises both sides and calls
    C(PutEventSelectors) only when they differ. Normalisation ignores the order of the selectors,
    of the field selectors inside a selector, and of the values inside each condition, and treats
    an absent condition (or name) the same as an empty one.
  - M(amazon.aws.cloudtrail) creates and updates trails but cannot set event selectors; use it to
    create the trail, then this module to choose which events the trail records.
  - Advanced selectors replace any basic C(EventSelectors) the trail had (a trail uses one kind or
    the other). A trail that still has basic selectors is always reported as changed.
  - The trail must already exist. Manage the trail in its home region.
author:
  - Secureinfra Platform Team (@secureinfra)
options:
  trail_name:
    description:
      - Name or ARN of the trail.
    type: str
    required: true
  advanced_event_selectors:
    description:
      - The complete list of advanced event selectors the trail should have. Selectors not listed
        are removed.
      - An event is logged if it matches any selector; it matches a selector if it matches all of
        that selector's field selectors.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - A descriptive name for the selector, for example C(Log S3 data events for audit buckets).
        type: str
      field_selectors:
        description:
          - The conditions of this selector; each one tests one field of the event record.
        type: list
        elements: dict
        required: true
        suboptions:
          field:
            description:
              - The event record field, for example C(eventCategory), C(readOnly), C(eventSource),
                C(eventName), C(resources.type) or C(resources.ARN).
            type: str
            required: true
          equals:
            description: The field equals one of these values.
            type: list
            elements: str
          not_equals:
            description: The field equals none of these values.
            type: list
            elements: str
          starts_with:
            description: The field starts with one of these values.
            type: list
            elements: str
          not_starts_with:
            description: The field starts with none of these values.
            type: list
            elements: str
          ends_with:
            description: The field ends with one of these values.
            type: list
            elements: str
          not_ends_with:
            description: The field ends with none of these values.
            type: list
            elements: str
notes:
  - Each field selector needs at least one non-empty condition
    (O(advanced_event_selectors[].field_selectors[].equals),
    O(advanced_event_selectors[].field_selectors[].starts_with) and so on).
  - CloudTrail itself validates field names and combinations (for example every selector needs an
    C(eventCategory) condition using C(equals)); such errors are reported from C(PutEventSelectors).
  - Supports check mode (nothing is written) and diff mode (normalised selectors before and after).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Log management events, S3 object events for two buckets and DynamoDB item events for one table
  secureinfra.baseline.cloudtrail_event_selectors:
    trail_name: org-audit
    advanced_event_selectors:
      - name: Management events
        field_selectors:
          - field: eventCategory
            equals: [Management]
      - name: S3 data events for the audit buckets
        field_selectors:
          - field: eventCategory
            equals: [Data]
          - field: resources.type
            equals: [AWS::S3::Object]
          - field: resources.ARN
            starts_with:
              - arn:aws:s3:::secureinfra-audit-logs/
              - arn:aws:s3:::secureinfra-state/
      - name: DynamoDB data events for the lock table
        field_selectors:
          - field: eventCategory
            equals: [Data]
          - field: resources.type
            equals: [AWS::DynamoDB::Table]
          - field: resources.ARN
            equals:
              - arn:aws:dynamodb:eu-west-1:111122223333:table/terraform-locks

- name: Write-only management events, excluding KMS and RDS Data API noise
  secureinfra.baseline.cloudtrail_event_selectors:
    trail_name: arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-audit
    advanced_event_selectors:
      - name: Write management events
        field_selectors:
          - field: eventCategory
            equals: [Management]
          - field: readOnly
            equals: ["false"]
          - field: eventSource
            not_equals: [kms.amazonaws.com, rdsdata.amazonaws.com]
"""

RETURN = r"""
trail_arn:
  description: ARN of the trail.
  returned: success
  type: str
  sample: arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-audit
advanced_event_selectors:
  description:
    - The trail's advanced event selectors after the module ran (in check mode, the selectors it
      would have set), normalised - selectors, field selectors and values sorted, empty
      conditions omitted.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Name of the selector (omitted when it has none).
      returned: when set
      type: str
      sample: S3 data events for the audit buckets
    field_selectors:
      description: The conditions of the selector.
      returned: always
      type: list
      elements: dict
      contains:
        field:
          description: The event record field tested.
          returned: always
          type: str
          sample: resources.ARN
        equals:
          description: Values the field must equal (one of).
          returned: when set
          type: list
          elements: str
        not_equals:
          description: Values the field must not equal.
          returned: when set
          type: list
          elements: str
        starts_with:
          description: Prefixes the field must start with (one of).
          returned: when set
          type: list
          elements: str
          sample: ["arn:aws:s3:::secureinfra-audit-logs/"]
        not_starts_with:
          description: Prefixes the field must not start with.
          returned: when set
          type: list
          elements: str
        ends_with:
          description: Suffixes the field must end with (one of).
          returned: when set
          type: list
          elements: str
        not_ends_with:
          description: Suffixes the field must not end with.
          returned: when set
          type: list
          elements: str
  sample:
    - name: Management events
      field_selectors:
        - field: eventCategory
          equals: [Management]
"""

import contextlib
import json
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

# snake_case option -> API member of AdvancedFieldSelector
OPERATORS = {
    "equals": "Equals",
    "not_equals": "NotEquals",
    "starts_with": "StartsWith",
    "not_starts_with": "NotStartsWith",
    "ends_with": "EndsWith",
    "not_ends_with": "NotEndsWith",
}

_VALUES = {"type": "list", "elements": "str"}
ARGUMENT_SPEC = {
    "trail_name": {"type": "str", "required": True},
    "advanced_event_selectors": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str"},
            "field_selectors": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "field": {"type": "str", "required": True},
                    **{key: dict(_VALUES) for key in OPERATORS},
                },
            },
        },
    },
}


# ----------------------------------------------------------------------------- options -> API


def field_selector_to_api(option: dict[str, Any]) -> dict[str, Any]:
    """One field selector option -> AdvancedFieldSelector; empty/absent conditions are left out."""
    api: dict[str, Any] = {"Field": option["field"]}
    for key, member in OPERATORS.items():
        if option.get(key):
            api[member] = list(option[key])
    return api


def selector_to_api(option: dict[str, Any]) -> dict[str, Any]:
    api: dict[str, Any] = {"FieldSelectors": [field_selector_to_api(f) for f in option["field_selectors"]]}
    if option.get("name"):
        api["Name"] = option["name"]
    return api


def validation_errors(selectors: list[dict[str, Any]]) -> list[str]:
    """Problems botocore or CloudTrail would reject with a less helpful message."""
    errors = [] if selectors else ["advanced_event_selectors must contain at least one selector"]
    for index, selector in enumerate(selectors):
        label = selector.get("name") or f"#{index}"
        if not selector["field_selectors"]:
            errors.append(f"selector {label}: field_selectors must not be empty")
        for field in selector["field_selectors"]:
            if not any(field.get(key) for key in OPERATORS):
                errors.append(f"selector {label}: field {field['field']} needs at least one condition")
    return errors


# ----------------------------------------------------------------------------- normalisation


def _sort_key(item: dict[str, Any]) -> tuple[str, str]:
    """Order by field (field selectors) or name (selectors), then by full content."""
    return item.get("Field") or item.get("Name") or "", json.dumps(item, sort_keys=True)


def normalise_field_selector(api: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Field": api["Field"]}
    for member in OPERATORS.values():
        if api.get(member):
            out[member] = sorted(api[member])
    return out


def normalise_selector(api: dict[str, Any]) -> dict[str, Any]:
    fields = [normalise_field_selector(f) for f in api.get("FieldSelectors") or []]
    out: dict[str, Any] = {"FieldSelectors": sorted(fields, key=_sort_key)}
    if api.get("Name"):
        out["Name"] = api["Name"]
    return out


def normalise(selectors: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Canonical form: order-independent, absent == empty."""
    return sorted((normalise_selector(s) for s in selectors or []), key=_sort_key)


# ----------------------------------------------------------------------------- API -> return value


def field_selector_to_snake(api: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"field": api["Field"]}
    out.update({key: api[member] for key, member in OPERATORS.items() if member in api})
    return out


def selector_to_snake(api: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"field_selectors": [field_selector_to_snake(f) for f in api["FieldSelectors"]]}
    if "Name" in api:
        out = {"name": api["Name"], **out}
    return out


def to_snake(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [selector_to_snake(s) for s in selectors]


# ----------------------------------------------------------------------------- AWS calls


def get_selectors(module: AnsibleAWSModule, client: Any, trail: str) -> dict[str, Any]:
    try:
        return client.get_event_selectors(TrailName=trail, aws_retry=True)
    except is_boto3_error_code("TrailNotFoundException") as e:
        module.fail_json_aws(e, msg=f"Trail {trail} not found")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read the event selectors of trail {trail}")


def put_selectors(module: AnsibleAWSModule, client: Any, trail: str, selectors: list[dict[str, Any]]) -> dict:
    try:
        return client.put_event_selectors(TrailName=trail, AdvancedEventSelectors=selectors, aws_retry=True)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to set the advanced event selectors of trail {trail}")


# ----------------------------------------------------------------------------- main


def state_for_diff(current: dict[str, Any]) -> dict[str, Any]:
    return {
        "advanced_event_selectors": to_snake(normalise(current.get("AdvancedEventSelectors"))),
        "event_selectors": [camel_dict_to_snake_dict(s) for s in current.get("EventSelectors") or []],
    }


def needs_update(current: dict[str, Any], desired: list[dict[str, Any]]) -> bool:
    """Different advanced selectors, or basic selectors still in place (PutEventSelectors replaces them)."""
    return normalise(current.get("AdvancedEventSelectors")) != desired or bool(current.get("EventSelectors"))


def reconcile(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    trail = module.params["trail_name"]
    desired_api = [selector_to_api(s) for s in module.params["advanced_event_selectors"]]
    desired = normalise(desired_api)
    current = get_selectors(module, client, trail)
    changed = needs_update(current, desired)
    # unchanged means the trail's normalised selectors equal `desired`; in check mode they would.
    result = {
        "changed": changed,
        "trail_arn": current.get("TrailARN", trail),
        "advanced_event_selectors": to_snake(desired),
    }
    if changed and not module.check_mode:
        response = put_selectors(module, client, trail, desired_api)
        result["trail_arn"] = response.get("TrailARN", result["trail_arn"])
        result["advanced_event_selectors"] = to_snake(normalise(response.get("AdvancedEventSelectors")))
    if module._diff:
        after = {"advanced_event_selectors": to_snake(desired), "event_selectors": []}
        result["diff"] = {"before": state_for_diff(current), "after": after}
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params["advanced_event_selectors"])
    if errors:
        module.fail_json(msg="Invalid advanced_event_selectors: " + "; ".join(errors))
    client = module.client("cloudtrail", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**reconcile(module, client))


if __name__ == "__main__":
    main()
