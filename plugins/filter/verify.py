# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Filters of the verify role: the expected resources in the module's shape, and the summary.

Each takes what another role's defaults and facts already define (storage_buckets,
functions_definitions, the cis_alarms filter's output), so the verify role re-states no name.
The documentation of each filter is in the .yml file of its name beside this file.
"""

from __future__ import annotations

from typing import Any

STATUSES = ("pass", "fail", "not_applicable")


def verify_buckets(buckets: list[dict[str, Any]], access_log_prefix: str = "") -> list[dict[str, Any]]:
    """storage_buckets (the storage role's facts) as baseline_controls' buckets option."""
    return [
        {
            "name": bucket["name"],
            "logging_target": bucket.get("logging_target") or "",
            "logging_prefix": access_log_prefix if bucket.get("logging_target") else "",
            "lifecycle_rule_ids": [rule["id"] for rule in bucket.get("lifecycle_rules", [])],
        }
        for bucket in buckets
    ]


def verify_functions(definitions: list[dict[str, Any]], name_prefix: str) -> list[dict[str, Any]]:
    """functions_definitions (this region's) as baseline_controls' functions option."""
    return [
        {
            "name": f"{name_prefix}{definition['name']}",
            "vpc": bool(definition.get("vpc", True)),
            "dead_letter_queue": f"{name_prefix}{definition['name']}-dlq",
        }
        for definition in definitions
    ]


def first_clause(text: str) -> str:
    """The description up to its first semicolon, on one line."""
    return " ".join(text.split(";", maxsplit=1)[0].split())


def verify_cis_catalog(
    controls: list[dict[str, Any]],
    namespace: str = "CISBenchmark",
    cis_patterns: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """The cis_alarms filter's controls as baseline_controls' cis_catalog option, each with CIS's
    own filter patterns for its item (cis_patterns: CIS id -> the patterns CIS gives)."""
    patterns = {str(key): list(value) for key, value in (cis_patterns or {}).items()}
    return [
        {
            "cis_id": str(control["cis_id"]),
            "title": first_clause(str(control.get("description", control["name"]))),
            "filter_name": control["filter_name"],
            "metric_name": control["metric_name"],
            "namespace": namespace,
            "alarm_name": control["alarm"]["name"],
            "cis_patterns": patterns.get(str(control["cis_id"]), []),
        }
        for control in controls
    ]


def verify_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of a run's records and its one-line summary."""
    places = sorted({(r["account"], r["region"]) for r in records})
    controls = sorted({r["control_id"] for r in records})
    counts = {status: sum(r["status"] == status for r in records) for status in STATUSES}
    failed = sorted(
        {f"{r['control_id']} ({r['account']}/{r['region']})" for r in records if r["status"] == "fail"}
    )
    line = (
        f"verify: {len(places)} account/regions, {len(controls)} controls, {counts['pass']} passed, "
        f"{counts['fail']} failed, {counts['not_applicable']} not applicable"
    )
    return {
        "line": line,
        "places": len(places),
        "controls": len(controls),
        "counts": counts,
        "failed": failed,
    }


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "verify_buckets": verify_buckets,
            "verify_functions": verify_functions,
            "verify_cis_catalog": verify_cis_catalog,
            "verify_summary": verify_summary,
        }
