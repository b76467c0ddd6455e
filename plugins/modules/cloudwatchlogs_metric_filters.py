#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatchlogs_metric_filters
short_description: Manage a list of CloudWatch Logs metric filters of one log group in one call
version_added: 0.2.0
description:
  - Creates or updates a whole list of metric filters on one CloudWatch Logs log group in one module
    run, idempotently, with check mode and diff.
  - Replaces a loop over M(amazon.aws.cloudwatchlogs_log_group_metric_filter) (one module run and one
    C(DescribeMetricFilters) request per filter).
  - Reads the log group's filters with C(DescribeMetricFilters) (paginated, one request per 50 filters),
    compares each filter's pattern and metric transformation and calls C(PutMetricFilter) only for filters
    that are missing or differ.
  - With O(purge_prefix), filters of the log group whose names start with the prefix but are not in
    O(filters) are deleted with C(DeleteMetricFilter).
  - All options are validated before any AWS call, and all filters are read before anything is changed.
options:
  log_group_name:
    description:
      - Name of the log group, read first with C(DescribeLogGroups).
      - When it does not exist, the module fails; in check mode it reports every filter as one it would
        create (an earlier task of the same run would create the group).
    type: str
    required: true
  filters:
    description: The metric filters. Names must be unique.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the metric filter (1-512 characters, no colon or asterisk).
        type: str
        required: true
      pattern:
        description: The filter pattern (at most 1024 characters; empty matches every event).
        type: str
        required: true
      metric_name:
        description: Name of the metric the filter publishes.
        type: str
        required: true
      metric_namespace:
        description: Namespace of that metric.
        type: str
        required: true
      metric_value:
        description: Value published for each matching event.
        type: str
        default: "1"
      default_value:
        description: Value published when no event matches; unset publishes nothing.
        type: float
  purge_prefix:
    description:
      - Delete filters of the log group whose names start with this prefix and are not in O(filters).
      - Unset deletes nothing.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
author:
  - Secureinfra Platform Team (@secureinfra)
"""

EXAMPLES = r"""
- name: CIS metric filters on the trail's log group
  secureinfra.baseline.cloudwatchlogs_metric_filters:
    log_group_name: /aws/cloudtrail/secureinfra
    filters:
      - name: secureinfra-cis-4.3-root-usage
        pattern: '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }'
        metric_name: RootUsage
        metric_namespace: CISBenchmark
        default_value: 0
    purge_prefix: secureinfra-cis-
"""

RETURN = r"""
created:
  description: Names of the filters created (or that would be, in check mode).
  returned: always
  type: list
  elements: str
updated:
  description: Names of the filters updated (or that would be).
  returned: always
  type: list
  elements: str
deleted:
  description: Names of the filters deleted (or that would be), by O(purge_prefix).
  returned: always
  type: list
  elements: str
diff:
  description: The changed filters before and after (only with C(--diff)).
  returned: when diff mode is on
  type: dict
"""

import contextlib
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

ARGUMENT_SPEC: dict[str, Any] = {
    "log_group_name": {"type": "str", "required": True},
    "filters": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str", "required": True},
            "pattern": {"type": "str", "required": True},
            "metric_name": {"type": "str", "required": True},
            "metric_namespace": {"type": "str", "required": True},
            "metric_value": {"type": "str", "default": "1"},
            "default_value": {"type": "float"},
        },
    },
    "purge_prefix": {"type": "str"},
}

# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html
FILTER_NAME = re.compile(r"^[^:*]{1,512}$")
LOG_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
MAX_PATTERN = 1024
METRIC_NAME = re.compile(r"^[^:*$]{1,255}$")


def filter_errors(item: dict[str, Any]) -> list[str]:
    name = item["name"]
    errors = []
    if not FILTER_NAME.match(name):
        errors.append(f"filters: name {name!r} must be 1-512 characters without ':' or '*'")
    if len(item["pattern"]) > MAX_PATTERN:
        errors.append(f"filters[{name}]: pattern is longer than {MAX_PATTERN} characters")
    for key in ("metric_name", "metric_namespace"):
        if not METRIC_NAME.match(item[key]):
            errors.append(
                f"filters[{name}]: {key} {item[key]!r} must be 1-255 characters without ':', '*' or '$'"
            )
    if not item["metric_value"]:
        errors.append(f"filters[{name}]: metric_value must not be empty")
    return errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    errors = []
    if not LOG_GROUP_NAME.match(params["log_group_name"]):
        name = params["log_group_name"]
        errors.append(f"log_group_name {name!r} must be 1-512 characters of letters, digits and ._-/#")
    names = [item["name"] for item in params["filters"]]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        errors.append(f"filters: duplicate names {', '.join(duplicates)}")
    for item in params["filters"]:
        errors.extend(filter_errors(item))
    return errors


def desired_state(item: dict[str, Any]) -> dict[str, Any]:
    transformation: dict[str, Any] = {
        "metricName": item["metric_name"],
        "metricNamespace": item["metric_namespace"],
        "metricValue": item["metric_value"],
    }
    if item.get("default_value") is not None:
        transformation["defaultValue"] = float(item["default_value"])
    return {"filterPattern": item["pattern"], "metricTransformations": [transformation]}


def current_state(existing: dict[str, Any]) -> dict[str, Any]:
    transformations = []
    for t in existing.get("metricTransformations", []):
        kept = {k: t[k] for k in ("metricName", "metricNamespace", "metricValue") if k in t}
        if t.get("defaultValue") is not None:
            kept["defaultValue"] = float(t["defaultValue"])
        # Only set by hand (this module sends neither): their presence is a difference.
        for key in ("unit", "dimensions"):
            if t.get(key):
                kept[key] = t[key]
        transformations.append(kept)
    return {"filterPattern": existing.get("filterPattern", ""), "metricTransformations": transformations}


def log_group_exists(module: AnsibleAWSModule, client: Any, log_group: str) -> bool:
    try:
        paginator = client.get_paginator("describe_log_groups")
        for page in paginator.paginate(logGroupNamePrefix=log_group):
            if any(g["logGroupName"] == log_group for g in page.get("logGroups", [])):
                return True
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Could not read the log group {log_group}")
    return False


def existing_filters(module: AnsibleAWSModule, client: Any, log_group: str) -> dict[str, dict[str, Any]]:
    if not log_group_exists(module, client, log_group):
        if module.check_mode:
            return {}
        module.fail_json(msg=f"log_group_name: the log group {log_group} does not exist")
    try:
        paginator = client.get_paginator("describe_metric_filters")
        pages = paginator.paginate(logGroupName=log_group).build_full_result()
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Could not read the metric filters of the log group {log_group}")
    return {f["filterName"]: f for f in pages.get("metricFilters", [])}


def put_filter(
    module: AnsibleAWSModule, client: Any, log_group: str, name: str, state: dict[str, Any]
) -> None:
    try:
        client.put_metric_filter(logGroupName=log_group, filterName=name, **state)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Could not put the metric filter {name}")


def delete_filter(module: AnsibleAWSModule, client: Any, log_group: str, name: str) -> None:
    try:
        client.delete_metric_filter(logGroupName=log_group, filterName=name)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Could not delete the metric filter {name}")


def plan(params: dict[str, Any], existing: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What to put and delete, and the diff; no AWS call."""
    puts: dict[str, dict[str, Any]] = {}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    created, updated = [], []
    for item in params["filters"]:
        name, want = item["name"], desired_state(item)
        have = current_state(existing[name]) if name in existing else None
        if have == want:
            continue
        puts[name] = want
        (updated if have else created).append(name)
        if have:
            before[name] = have
        after[name] = want
    wanted = {item["name"] for item in params["filters"]}
    prefix = params.get("purge_prefix")
    deleted = sorted(n for n in existing if prefix and n.startswith(prefix) and n not in wanted)
    for name in deleted:
        before[name] = current_state(existing[name])
    return {
        "puts": puts,
        "created": created,
        "updated": updated,
        "deleted": deleted,
        "diff": {"before": before, "after": after},
    }


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    log_group = module.params["log_group_name"]
    todo = plan(module.params, existing_filters(module, client, log_group))
    if not module.check_mode:
        for name, state in todo["puts"].items():
            put_filter(module, client, log_group, name, state)
        for name in todo["deleted"]:
            delete_filter(module, client, log_group, name)
    result: dict[str, Any] = {
        "changed": bool(todo["puts"] or todo["deleted"]),
        "created": todo["created"],
        "updated": todo["updated"],
        "deleted": todo["deleted"],
    }
    if module._diff:
        result["diff"] = todo["diff"]
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("logs", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
