# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Filters `expand_alarms` and `cis_alarms`: alarms as data, one list and one loop.

In the manner of terraform-aws-modules cloudwatch `cis-alarms`: each alarm is defined
once, applied to every resource of its kind, and can be disabled or overridden by name.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# The documentation of both filters is in expand_alarms.yml and cis_alarms.yml beside this file
# (one file holding two filters cannot document both in Python).

OVERRIDABLE = (
    "threshold",
    "period",
    "evaluation_periods",
    "datapoints_to_alarm",
    "statistic",
    "comparison",
    "treat_missing_data",
)
DEFAULTS = {"period": 300, "evaluation_periods": 1, "treat_missing_data": "notBreaching", "statistic": "Sum"}


def _settings(definition: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    unknown = set(override) - set(OVERRIDABLE) - {"enabled"}
    if unknown:
        raise AnsibleFilterError(f"alarm {definition['key']}: cannot override {sorted(unknown)}")
    merged = {**DEFAULTS, **{k: definition[k] for k in OVERRIDABLE if k in definition}}
    merged.update({k: v for k, v in override.items() if k in OVERRIDABLE})
    return merged


def _dimension_sets(definition: dict[str, Any], resource: str) -> list[tuple[str, dict[str, str]]]:
    base = {
        k: str(v).replace("{resource}", resource) for k, v in (definition.get("dimensions") or {}).items()
    }
    each = definition.get("each")
    if not each:
        return [("", base)]
    return [(f"-{value}", {**base, each["dimension"]: value}) for value in each["values"]]


def _slug(resource: str) -> str:
    return resource.replace("/", "-").replace(":", "-")


def expand_alarms(
    definitions: list[dict[str, Any]],
    resources: dict[str, list[str]],
    overrides: dict[str, dict[str, Any]] | None = None,
    disabled: list[str] | None = None,
    prefix: str = "",
) -> list[dict[str, Any]]:
    """One alarm per (definition, resource[, each value]), with overrides applied."""
    overrides = overrides or {}
    disabled = set(disabled or [])
    keys = {d["key"] for d in definitions}
    unknown = (set(overrides) | disabled) - keys
    if unknown:
        raise AnsibleFilterError(f"unknown alarm names {sorted(unknown)}; known: {sorted(keys)}")
    alarms = []
    for definition in definitions:
        override = overrides.get(definition["key"], {})
        if definition["key"] in disabled or override.get("enabled", True) is False:
            continue
        settings = _settings(definition, override)
        key = definition["key"]
        for resource in resources.get(definition["resource"], []):
            for suffix, dimensions in _dimension_sets(definition, resource):
                alarms.append(
                    {
                        "name": f"{prefix}{definition['key']}-{_slug(resource)}{suffix}",
                        "namespace": definition["namespace"],
                        "metric_name": definition["metric_name"],
                        "dimensions": dimensions,
                        "description": f"{definition.get('description', key)} ({resource}{suffix})",
                        **settings,
                    }
                )
    return alarms


def cis_alarms(
    controls: list[dict[str, Any]],
    disabled: list[str] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    prefix: str = "",
    namespace: str = "CISBenchmark",
) -> list[dict[str, Any]]:
    """The CIS controls to deploy, with their alarm settings (threshold 1, notBreaching, ...).

    Each control also gets `filter_name`, `alarm` (the alarm in the shape of `expand_alarms`'s items)
    and `metric_filter` (the filter in the shape of cloudwatchlogs_metric_filters's `filters` items).
    """
    overrides = overrides or {}
    disabled = set(disabled or [])
    names = {c["name"] for c in controls} | {c["cis_id"] for c in controls}
    unknown = (set(overrides) | disabled) - names
    if unknown:
        raise AnsibleFilterError(f"unknown CIS controls {sorted(unknown)}; known: {sorted(names)}")
    result = []
    base = {**DEFAULTS, "threshold": 1, "comparison": "GreaterThanOrEqualToThreshold", "statistic": "Sum"}
    for control in controls:
        override = {**overrides.get(control["cis_id"], {}), **overrides.get(control["name"], {})}
        if disabled & {control["name"], control["cis_id"]} or override.get("enabled", True) is False:
            continue
        settings = _settings({"key": control["name"], **base}, override)
        alarm = {
            "name": f"{prefix}{control['name']}",
            "namespace": namespace,
            "metric_name": control["metric_name"],
            "dimensions": {},
            "description": f"CIS {control['cis_id']}: {' '.join(control.get('description', '').split())}"[
                :1024
            ],
            **settings,
        }
        metric_filter = {
            "name": alarm["name"],
            "pattern": control["pattern"],
            "metric_name": control["metric_name"],
            "metric_namespace": namespace,
            "metric_value": "1",
            "default_value": 0,
        }
        named = {"filter_name": alarm["name"], "alarm": alarm, "metric_filter": metric_filter}
        result.append({**control, **settings, **named})
    return result


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"expand_alarms": expand_alarms, "cis_alarms": cis_alarms}
