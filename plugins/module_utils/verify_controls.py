# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""The controls the baseline promises, evaluated on a snapshot of one account x region.

Pure functions (no AWS call): `evaluate(snapshot, spec)` turns what verify_read.read_snapshot
read into one record per control, {control_id, title, service, related, status, evidence}.
Control ids are AWS Security Hub's (Foundational Security Best Practices, FSBP) or the CIS AWS
Foundations Benchmark v3.0.0's where one exists (`related` names the other), BASELINE.* where
neither has one. Account-wide controls (scope "account") are evaluated in the home region only
and are not_applicable elsewhere.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.secureinfra.baseline.plugins.module_utils.verify_security_services import (
    security_services_controls,
)

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "not_applicable"
Result = tuple[str, Any]  # (status, evidence)
Spec = dict[str, Any]
Snapshot = dict[str, Any]


@dataclass(frozen=True)
class Control:
    control_id: str
    title: str
    service: str
    check: Callable[[Snapshot, Spec], Result]
    scope: str = "region"  # "account": home region only
    related: tuple[str, ...] = field(default_factory=tuple)


# --- helpers --------------------------------------------------------------------------------------


def per_resource(items: dict[str, dict[str, Any]]) -> Result:
    """Pass when every resource is ok; not_applicable when there is none to check."""
    if not items:
        return NOT_APPLICABLE, {"reason": "no such resource in this region's definition"}
    status = PASS if all(item["ok"] for item in items.values()) else FAIL
    return status, items


def missing() -> dict[str, Any]:
    return {"ok": False, "exists": False}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(policy: Any) -> list[dict[str, Any]]:
    return [s for s in as_list((policy or {}).get("Statement")) if isinstance(s, dict)]


def buckets(
    snapshot: Snapshot, spec: Spec, check: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
) -> Result:
    items = {}
    for bucket in spec["buckets"]:
        state = snapshot["buckets"].get(bucket["name"], {"exists": False})
        items[bucket["name"]] = check(state, bucket) if state.get("exists") else missing()
    return per_resource(items)


def resources(
    found: dict[str, dict[str, Any]], names: Iterable[str], check: Callable[[dict[str, Any]], dict[str, Any]]
) -> Result:
    return per_resource(
        {name: check(found[name]) if found.get(name, {}).get("exists") else missing() for name in names}
    )


# --- S3 -------------------------------------------------------------------------------------------

PUBLIC_ACCESS_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def s3_encryption(snapshot: Snapshot, spec: Spec) -> Result:
    def check(state: dict[str, Any], _bucket: dict[str, Any]) -> dict[str, Any]:
        algorithms = [rule.get("SSEAlgorithm") for rule in state["encryption"]]
        return {"ok": algorithms == ["AES256"], "sse_algorithm": algorithms}

    return buckets(snapshot, spec, check)


def public_access_ok(config: dict[str, Any] | None) -> dict[str, Any]:
    settings = {name: bool((config or {}).get(name)) for name in PUBLIC_ACCESS_SETTINGS}
    return {"ok": all(settings.values()), **settings}


def s3_bucket_public_access(snapshot: Snapshot, spec: Spec) -> Result:
    return buckets(snapshot, spec, lambda state, _b: public_access_ok(state["public_access_block"]))


def s3_account_public_access(snapshot: Snapshot, spec: Spec) -> Result:
    if not spec.get("account_public_access_block", True):
        return NOT_APPLICABLE, {
            "reason": "the baseline leaves the account's setting alone "
            "(storage_account_public_access_block: false)"
        }
    config = snapshot.get("account_public_access_block")
    evidence = {"account": {**public_access_ok(config), "configured": config is not None}}
    return (PASS if evidence["account"]["ok"] else FAIL), evidence


def denies_insecure_transport(policy: Any, bucket_arn: str) -> bool:
    """A Deny of s3:* (or *) for everyone when aws:SecureTransport is false, on bucket and objects."""
    for statement in statements(policy):
        condition = statement.get("Condition", {}).get("Bool", {})
        if (
            statement.get("Effect") == "Deny"
            and str(condition.get("aws:SecureTransport", "")).lower() == "false"
            and set(as_list(statement.get("Action"))) & {"s3:*", "*"}
            and {bucket_arn, bucket_arn + "/*"} <= set(as_list(statement.get("Resource")))
        ):
            return True
    return False


def s3_tls_only(snapshot: Snapshot, spec: Spec) -> Result:
    def check(state: dict[str, Any], bucket: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:{spec['partition']}:s3:::{bucket['name']}"
        return {
            "ok": denies_insecure_transport(state["policy"], arn),
            "has_policy": state["policy"] is not None,
        }

    return buckets(snapshot, spec, check)


def s3_versioning(snapshot: Snapshot, spec: Spec) -> Result:
    return buckets(
        snapshot,
        spec,
        lambda state, _b: {"ok": state["versioning"] == "Enabled", "status": state["versioning"]},
    )


def s3_access_logging(snapshot: Snapshot, spec: Spec) -> Result:
    """Security Hub S3.9: server access logging enabled, on every bucket (wherever it logs to).

    Where the baseline sends each bucket's logs is evidence (as_defined), not the verdict.
    """

    def check(state: dict[str, Any], bucket: dict[str, Any]) -> dict[str, Any]:
        logging = state["logging"] or {}
        expected = (
            f"{bucket['logging_target']}/{bucket.get('logging_prefix', '')}"
            if bucket.get("logging_target")
            else None
        )
        found = (
            f"{logging['TargetBucket']}/{logging.get('TargetPrefix', '')}"
            if logging.get("TargetBucket")
            else None
        )
        return {
            "ok": bool(logging.get("TargetBucket")),
            "target_bucket": logging.get("TargetBucket"),
            "target_prefix": logging.get("TargetPrefix"),
            "expected": expected,
            "as_defined": found == expected,
        }

    return buckets(snapshot, spec, check)


def s3_lifecycle(snapshot: Snapshot, spec: Spec) -> Result:
    def check(state: dict[str, Any], bucket: dict[str, Any]) -> dict[str, Any]:
        enabled = sorted(rule["id"] for rule in state["lifecycle"] if rule["status"] == "Enabled")
        wanted = sorted(bucket.get("lifecycle_rule_ids", []))
        return {
            "ok": bool(enabled) and set(wanted) <= set(enabled),
            "enabled_rules": enabled,
            "expected": wanted,
        }

    return buckets(snapshot, spec, check)


def s3_data_principals(snapshot: Snapshot, spec: Spec) -> Result:
    name = spec.get("data_bucket")
    if not name:
        return NOT_APPLICABLE, {"reason": "no data bucket"}
    state = snapshot["buckets"].get(name, {"exists": False})
    if not state.get("exists"):
        return FAIL, {name: missing()}
    arn = f"arn:{spec['partition']}:s3:::{name}"
    wanted = sorted(spec["data_bucket_principals"])
    found: list[str] = []
    for statement in statements(state["policy"]):
        allowed = statement.get("Condition", {}).get("ArnNotLike", {}).get("aws:PrincipalArn")
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") in ({"AWS": "*"}, "*")
            and set(as_list(statement.get("Action"))) & {"s3:*", "*"}
            and f"{arn}/*" in as_list(statement.get("Resource"))
            and allowed is not None
        ):
            found = sorted(as_list(allowed))
    ok = bool(found) and found == wanted
    return (PASS if ok else FAIL), {name: {"ok": ok, "allowed_principals": found, "expected": wanted}}


# --- DynamoDB ------------------------------------------------------------------------------------


def dynamodb_sse(snapshot: Snapshot, spec: Spec) -> Result:
    key_arn = snapshot["key"].get("arn")

    def check(table: dict[str, Any]) -> dict[str, Any]:
        sse = table["sse"]
        ok = (
            sse.get("Status") == "ENABLED"
            and sse.get("SSEType") == "KMS"
            and sse.get("KMSMasterKeyArn") == key_arn
        )
        return {
            "ok": ok,
            "status": sse.get("Status"),
            "sse_type": sse.get("SSEType"),
            "key": sse.get("KMSMasterKeyArn"),
            "expected_key": key_arn,
        }

    return resources(snapshot["tables"], spec["tables"], check)


def dynamodb_pitr(snapshot: Snapshot, spec: Spec) -> Result:
    return resources(
        snapshot["tables"], spec["tables"], lambda t: {"ok": t["pitr"] == "ENABLED", "pitr": t["pitr"]}
    )


def dynamodb_deletion_protection(snapshot: Snapshot, spec: Spec) -> Result:
    return resources(
        snapshot["tables"],
        spec["tables"],
        lambda t: {"ok": t["deletion_protection"], "deletion_protection": t["deletion_protection"]},
    )


# --- Lambda --------------------------------------------------------------------------------------


def functions(
    snapshot: Snapshot,
    spec: Spec,
    check: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
) -> Result:
    items = {}
    for function in spec["functions"]:
        state = snapshot["functions"].get(function["name"], {"exists": False})
        items[function["name"]] = check(state, function) if state.get("exists") else missing()
    return per_resource(items)


def lambda_memory(snapshot: Snapshot, spec: Spec) -> Result:
    wanted = spec["function_memory"]
    return functions(
        snapshot,
        spec,
        lambda f, _d: {"ok": f["memory"] == wanted, "memory_mb": f["memory"], "expected": wanted},
    )


def lambda_vpc(snapshot: Snapshot, spec: Spec) -> Result:
    """Security Hub Lambda.3: every function is deployed in a VPC (a VpcConfig with subnets).

    Whether those are the baseline VPC's subnets and security groups is evidence (in_baseline_vpc).
    """
    network = snapshot["network"]

    def check(state: dict[str, Any], _d: dict[str, Any]) -> dict[str, Any]:
        vpc = state["vpc"]
        in_baseline = (
            network.get("exists", False)
            and bool(vpc["subnet_ids"])
            and set(vpc["subnet_ids"]) <= set(network["subnet_ids"])
            and bool(vpc["security_group_ids"])
            and set(vpc["security_group_ids"]) <= set(network["security_group_ids"])
        )
        return {
            "ok": bool(vpc["subnet_ids"]),
            **vpc,
            "in_baseline_vpc": in_baseline,
            "baseline_vpc": network.get("vpc_id"),
            "baseline_subnets": network.get("subnet_ids"),
        }

    return functions(snapshot, spec, check)


def lambda_runtime(snapshot: Snapshot, spec: Spec) -> Result:
    supported = spec["supported_runtimes"]
    return functions(
        snapshot,
        spec,
        lambda f, _d: {"ok": f["runtime"] in supported, "runtime": f["runtime"], "supported": supported},
    )


def lambda_tracing(snapshot: Snapshot, spec: Spec) -> Result:
    return functions(snapshot, spec, lambda f, _d: {"ok": f["tracing"] == "Active", "tracing": f["tracing"]})


def lambda_dead_letter(snapshot: Snapshot, spec: Spec) -> Result:
    def check(state: dict[str, Any], definition: dict[str, Any]) -> dict[str, Any]:
        queue = snapshot["queues"].get(definition.get("dead_letter_queue", ""), {"exists": False})
        ok = (
            queue.get("exists", False)
            and state["dead_letter_target"] == queue.get("arn")
            and bool(queue.get("kms"))
        )
        return {
            "ok": ok,
            "target": state["dead_letter_target"],
            "queue": queue.get("arn"),
            "queue_kms": queue.get("kms"),
        }

    return functions(snapshot, spec, check)


# --- IAM -------------------------------------------------------------------------------------------

DATA_SERVICES = ("s3:", "dynamodb:")


def wildcard_grants(policies: dict[str, Any]) -> list[str]:
    """Allow statements with a wildcard action, or a data action on every resource."""
    found = []
    for policy_name, policy in policies.items():
        for statement in statements(policy):
            if statement.get("Effect") != "Allow":
                continue
            actions = [str(a) for a in as_list(statement.get("Action"))]
            wildcard = [a for a in actions if "*" in a]
            all_resources = "*" in as_list(statement.get("Resource"))
            data_on_all = [a for a in actions if all_resources and a.lower().startswith(DATA_SERVICES)]
            if wildcard or data_on_all or "NotAction" in statement:
                offending = sorted(set(wildcard + data_on_all)) or "NotAction"
                found.append(f"{policy_name}/{statement.get('Sid', '?')}: {offending}")
    return found


def iam_no_wildcards(snapshot: Snapshot, spec: Spec) -> Result:
    def check(role: dict[str, Any]) -> dict[str, Any]:
        offending = wildcard_grants(role["policies"])
        return {"ok": not offending, "policies": sorted(role["policies"]), "offending": offending}

    return resources(snapshot["roles"], spec["roles"], check)


def iam_session_length(snapshot: Snapshot, spec: Spec) -> Result:
    limit = spec["role_max_session"]
    return resources(
        snapshot["roles"],
        spec["roles"],
        lambda r: {
            "ok": (r["max_session_duration"] or 0) <= limit,
            "max_session_duration": r["max_session_duration"],
            "limit": limit,
        },
    )


def iam_password_policy(snapshot: Snapshot, spec: Spec) -> Result:
    wanted = spec.get("password_policy")
    if not wanted:
        return NOT_APPLICABLE, {
            "reason": "the baseline manages no password policy here (iam_password_policy: false)"
        }
    policy = snapshot.get("password_policy")
    if policy is None:
        return FAIL, {"account": {"ok": False, "password_policy": None}}
    checks = {
        "MinimumPasswordLength": (policy.get("MinimumPasswordLength") or 0) >= wanted["min_length"],
        "PasswordReusePrevention": (policy.get("PasswordReusePrevention") or 0) >= wanted["reuse_prevention"],
        "MaxPasswordAge": 0 < (policy.get("MaxPasswordAge") or 0) <= wanted["max_age"],
        "RequireSymbols": bool(policy.get("RequireSymbols")),
        "RequireNumbers": bool(policy.get("RequireNumbers")),
        "RequireUppercaseCharacters": bool(policy.get("RequireUppercaseCharacters")),
        "RequireLowercaseCharacters": bool(policy.get("RequireLowercaseCharacters")),
    }
    evidence = {
        "account": {
            "ok": all(checks.values()),
            "failing": sorted(k for k, v in checks.items() if not v),
            "read": policy,
            "expected": wanted,
        }
    }
    return (PASS if evidence["account"]["ok"] else FAIL), evidence


def iam_access_key_age(snapshot: Snapshot, spec: Spec) -> Result:
    limit = spec["max_access_key_age_days"]
    keys = snapshot.get("access_keys", [])
    old = [k for k in keys if k["status"] == "Active" and k["age_days"] > limit]
    evidence = {
        "account": {
            "ok": not old,
            "max_age_days": limit,
            "active_keys": sum(k["status"] == "Active" for k in keys),
            "too_old": old,
        }
    }
    return (PASS if not old else FAIL), evidence


# --- KMS -------------------------------------------------------------------------------------------


def kms_rotation(snapshot: Snapshot, spec: Spec) -> Result:
    key = snapshot["key"]
    name = f"alias/{spec['key_alias']}"
    if not key.get("exists"):
        return FAIL, {name: missing()}
    return (PASS if key["rotation"] else FAIL), {
        name: {"ok": key["rotation"], "key": key["arn"], "rotation": key["rotation"]}
    }


# --- CloudTrail ------------------------------------------------------------------------------------


def trail_check(snapshot: Snapshot, spec: Spec, check: Callable[[dict[str, Any]], dict[str, Any]]) -> Result:
    if not spec.get("trail"):
        return NOT_APPLICABLE, {"reason": "no trail in this region's definition"}
    trail = snapshot.get("trail") or {"exists": False}
    name = spec["trail"]["arn"]
    if not trail.get("exists"):
        return FAIL, {name: missing()}
    evidence = check(trail)
    return (PASS if evidence["ok"] else FAIL), {name: evidence}


def management_events(trail: dict[str, Any]) -> bool:
    for selector in trail["advanced_event_selectors"]:
        fields = {f["Field"]: f for f in selector.get("FieldSelectors", [])}
        if fields.get("eventCategory", {}).get("Equals") == ["Management"] and "readOnly" not in fields:
            return True
    return any(
        s.get("IncludeManagementEvents") and s.get("ReadWriteType") == "All" for s in trail["event_selectors"]
    )


def cloudtrail_multi_region(snapshot: Snapshot, spec: Spec) -> Result:
    return trail_check(
        snapshot,
        spec,
        lambda t: {
            "ok": t["multi_region"] and t["global_service_events"] and management_events(t),
            "multi_region": t["multi_region"],
            "global_service_events": t["global_service_events"],
            "all_management_events": management_events(t),
        },
    )


def cloudtrail_logging(snapshot: Snapshot, spec: Spec) -> Result:
    return trail_check(snapshot, spec, lambda t: {"ok": t["logging"], "is_logging": t["logging"]})


def cloudtrail_validation(snapshot: Snapshot, spec: Spec) -> Result:
    return trail_check(
        snapshot,
        spec,
        lambda t: {"ok": t["log_file_validation"], "log_file_validation": t["log_file_validation"]},
    )


def cloudtrail_kms(snapshot: Snapshot, spec: Spec) -> Result:
    key_arn = snapshot["key"].get("arn")
    return trail_check(
        snapshot,
        spec,
        lambda t: {
            "ok": bool(key_arn) and t["kms_key_id"] == key_arn,
            "kms_key_id": t["kms_key_id"],
            "expected": key_arn,
        },
    )


def cloudtrail_logs(snapshot: Snapshot, spec: Spec) -> Result:
    wanted = spec["trail"].get("log_group_arn", "") if spec.get("trail") else ""
    return trail_check(
        snapshot,
        spec,
        lambda t: {
            "ok": t["cloudwatch_logs_log_group_arn"].removesuffix(":*") == wanted,
            "log_group_arn": t["cloudwatch_logs_log_group_arn"],
            "expected": wanted,
        },
    )


def data_selectors(trail: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """The data-event selectors of one resource type: {read_only (None = both), prefixes, arns}."""
    found = []
    for selector in trail["advanced_event_selectors"]:
        fields = {f["Field"]: f for f in selector.get("FieldSelectors", [])}
        if fields.get("eventCategory", {}).get("Equals") != ["Data"]:
            continue
        if fields.get("resources.type", {}).get("Equals") != [resource_type]:
            continue
        read_only = fields.get("readOnly", {}).get("Equals")
        found.append(
            {
                "read_only": None if not read_only else read_only[0].lower() == "true",
                "starts_with": fields.get("resources.ARN", {}).get("StartsWith", []),
                "equals": fields.get("resources.ARN", {}).get("Equals", []),
            }
        )
    return found


def covered(selectors: list[dict[str, Any]], wanted: list[str], read: bool, prefix: bool) -> list[str]:
    """The wanted ARNs no selector logs (read events when `read`, else write events)."""
    uncovered = []
    for arn in wanted:
        target = arn + "/" if prefix else arn
        hit = False
        for selector in selectors:
            if selector["read_only"] is not None and selector["read_only"] != read:
                continue
            arns = selector["starts_with"] if prefix else selector["equals"]
            if (prefix and not arns and not selector["equals"]) or target in arns:
                hit = True
        if not hit:
            uncovered.append(arn)
    return uncovered


def s3_data_events(read: bool) -> Callable[[Snapshot, Spec], Result]:
    def check(snapshot: Snapshot, spec: Spec) -> Result:
        wanted = spec["trail"].get("data_bucket_arns", []) if spec.get("trail") else []

        def evaluate(trail: dict[str, Any]) -> dict[str, Any]:
            missed = covered(data_selectors(trail, "AWS::S3::Object"), wanted, read, prefix=True)
            return {"ok": not missed, "buckets": wanted, "not_logged": missed}

        return trail_check(snapshot, spec, evaluate)

    return check


def dynamodb_data_events(snapshot: Snapshot, spec: Spec) -> Result:
    wanted = spec["trail"].get("data_table_arns", []) if spec.get("trail") else []

    def evaluate(trail: dict[str, Any]) -> dict[str, Any]:
        selectors = data_selectors(trail, "AWS::DynamoDB::Table")
        missed = sorted(
            set(
                covered(selectors, wanted, True, prefix=False)
                + covered(selectors, wanted, False, prefix=False)
            )
        )
        return {"ok": not missed, "tables": wanted, "not_logged": missed}

    return trail_check(snapshot, spec, evaluate)


# --- Network -------------------------------------------------------------------------------------


def restrictive(policy: Any) -> bool:
    """Not the default full-access endpoint policy: no Allow of every action on every resource."""
    allows = [s for s in statements(policy) if s.get("Effect") == "Allow"]
    return bool(allows) and not any(
        "*" in as_list(s.get("Action"))
        or (
            "*" in as_list(s.get("Resource"))
            and any(a.split(":")[-1] == "*" for a in as_list(s.get("Action")))
        )
        for s in allows
    )


def endpoint(service: str) -> Callable[[Snapshot, Spec], Result]:
    def check(snapshot: Snapshot, spec: Spec) -> Result:
        if service not in spec["endpoint_services"]:
            return NOT_APPLICABLE, {"reason": f"no {service} endpoint in the definition"}
        network = snapshot["network"]
        name = f"com.amazonaws.{spec['region']}.{service}"
        if not network.get("exists"):
            return FAIL, {name: {"ok": False, "vpc": None}}
        found = [e for e in network["endpoints"] if e["service"] == name and e["type"] == "Gateway"]
        if not found:
            return FAIL, {name: missing()}
        point = found[0]
        ok = (
            str(point["state"]).lower() == "available"
            and restrictive(point["policy"])
            and point["route_table_ids"] == network["private_route_table_ids"]
        )
        return (PASS if ok else FAIL), {
            name: {
                "ok": ok,
                "id": point["id"],
                "state": point["state"],
                "restrictive_policy": restrictive(point["policy"]),
                "policy": point["policy"],
                "route_table_ids": point["route_table_ids"],
                "expected_route_table_ids": network["private_route_table_ids"],
            }
        }

    return check


# --- Monitoring ------------------------------------------------------------------------------------


def alarm_ok(alarm: dict[str, Any] | None, topic_arn: str) -> dict[str, Any]:
    if alarm is None:
        return missing()
    ok = alarm["actions_enabled"] and topic_arn in alarm["actions"]
    return {"ok": ok, "actions": alarm["actions"], "actions_enabled": alarm["actions_enabled"]}


def cloudwatch_alarm_actions(snapshot: Snapshot, spec: Spec) -> Result:
    return per_resource(
        {name: alarm_ok(snapshot["alarms"].get(name), spec["topic_arn"]) for name in spec["alarms"]}
    )


def sns_topic_encrypted(snapshot: Snapshot, spec: Spec) -> Result:
    topic = snapshot["topic"]
    if not topic.get("exists"):
        return FAIL, {spec["topic_arn"]: missing()}
    key = snapshot["key"]
    ok = bool(topic["kms"]) and topic["kms"] in (key.get("arn"), f"alias/{spec['key_alias']}")
    return (PASS if ok else FAIL), {
        spec["topic_arn"]: {"ok": ok, "kms": topic["kms"], "expected": key.get("arn")}
    }


def sns_subscribers(snapshot: Snapshot, spec: Spec) -> Result:
    topic = snapshot["topic"]
    wanted = spec["subscriptions"]
    if not wanted and not spec["require_subscriber"]:
        return NOT_APPLICABLE, {
            "reason": "no subscriber configured (monitoring_subscriptions is empty): the alarms notify "
            "nobody; verify_require_subscriber: true makes this a failure",
            "subscriptions": topic.get("subscriptions", []),
        }
    if not topic.get("exists"):
        return FAIL, {spec["topic_arn"]: missing()}
    confirmed = [s for s in topic["subscriptions"] if s["confirmed"]]
    absent = [
        w
        for w in wanted
        if not any(s["protocol"] == w["protocol"] and s["endpoint"] == w["endpoint"] for s in confirmed)
    ]
    ok = bool(confirmed) and not absent
    return (PASS if ok else FAIL), {
        spec["topic_arn"]: {"ok": ok, "subscriptions": topic["subscriptions"], "missing": absent}
    }


# One term of a CloudWatch Logs JSON filter pattern: a selector, an operator, and (but for EXISTS
# and NOT EXISTS) a value, quoted or not.
TERM = re.compile(
    r"\$\.(?P<field>[A-Za-z0-9_.\[\]-]+)\s*"
    r"(?:(?P<exists>NOT\s+EXISTS|EXISTS)|(?P<op>!=|>=|<=|=|>|<|IS\s+NOT|IS)\s*"
    r"(?:\"(?P<quoted>[^\"]*)\"|(?P<bare>[^\s()&|}]+)))"
)


def filter_terms(pattern: str) -> set[str]:
    """The terms of a filter pattern, normalised: `field op value`, quotes and spaces dropped.

    `{ ($.eventName = "CreateRoute") }` and `{$.eventName=CreateRoute}` give the same term, so two
    patterns compare by what they test, not by how they are written.
    """
    found = set()
    for match in TERM.finditer(pattern):
        if match["exists"]:
            found.add(f"{match['field']} {' '.join(match['exists'].split())}")
        else:
            value = match["quoted"] if match["quoted"] is not None else match["bare"]
            found.add(f"{match['field']} {' '.join(match['op'].split())} {value}")
    return found


def more_events(extra: set[str], reference: set[str]) -> bool:
    """Extra terms that only add events to the reference's list of events (eventName = X)."""
    return any(t.startswith("eventName = ") for t in reference) and all(
        t.startswith("eventName = ") for t in extra
    )


def cis_pattern(pattern: str, references: list[str]) -> dict[str, Any]:
    """The deployed pattern against CIS v3.0.0's (any variant CIS gives): every CIS term, and no
    other term but more events in CIS's list of events (which widens the alarm, never narrows it)."""
    terms = filter_terms(pattern)
    best: dict[str, Any] = {}
    for reference in references:
        wanted = filter_terms(reference)
        missing, extra = sorted(wanted - terms), sorted(terms - wanted)
        ok = not missing and (not extra or more_events(set(extra), wanted))
        result = {"ok": ok, "missing_terms": missing, "extra_terms": extra}
        size = len(missing) + len(extra)
        if ok or not best or size < len(best["missing_terms"]) + len(best["extra_terms"]):
            best = result
        if ok:
            break
    return best or {"ok": False, "missing_terms": [], "extra_terms": [], "reason": "no CIS pattern"}


def cis_alarm(cis: dict[str, Any]) -> Callable[[Snapshot, Spec], Result]:
    """CIS v3.0.0 4.x, audit steps 2-7: the metric filter on the trail's log group with CIS's
    pattern, an alarm on its metric that notifies the topic, and at least one confirmed subscription
    to that topic (a SubscriptionArn that is an ARN, not PendingConfirmation)."""

    def check(snapshot: Snapshot, spec: Spec) -> Result:
        metric = (cis["namespace"], cis["metric_name"])
        filters = [f for f in snapshot.get("metric_filters", []) if f["name"] == cis["filter_name"]]
        filter_ok = bool(filters) and metric in filters[0]["metrics"]
        pattern = cis_pattern(filters[0]["pattern"], cis.get("cis_patterns") or []) if filters else None
        alarm = snapshot["alarms"].get(cis["alarm_name"])
        alarm_evidence = alarm_ok(alarm, spec["topic_arn"])
        metric_ok = alarm is not None and (alarm["namespace"], alarm["metric"]) == metric
        topic = snapshot["topic"]
        subscriptions = topic.get("subscriptions", []) if topic.get("exists") else []
        confirmed = [s for s in subscriptions if s["confirmed"]]
        pattern_ok = bool(pattern and pattern["ok"])
        ok = filter_ok and pattern_ok and alarm_evidence["ok"] and metric_ok and bool(confirmed)
        evidence = {
            "ok": ok,
            "log_group": spec["cis_log_group"],
            "metric_filter": filters[0] if filters else None,
            "pattern_as_cis": pattern_ok,
            "pattern_missing_terms": pattern["missing_terms"] if pattern else [],
            "pattern_extra_terms": pattern["extra_terms"] if pattern else [],
            "alarm": cis["alarm_name"],
            "alarm_on_metric": metric_ok,
            **{f"alarm_{k}": v for k, v in alarm_evidence.items() if k != "ok"},
            "topic": spec["topic_arn"],
            "topic_confirmed_subscriptions": len(confirmed),
        }
        return (PASS if ok else FAIL), {cis["filter_name"]: evidence}

    return check


# --- Tags ------------------------------------------------------------------------------------------


def tagged_resources(snapshot: Snapshot, spec: Spec) -> dict[str, dict[str, str] | None]:
    """Every resource the snapshot read, with its tags (None when it does not exist)."""
    found: dict[str, dict[str, str] | None] = {}
    groups = {
        "bucket": snapshot["buckets"],
        "table": snapshot["tables"],
        "function": snapshot["functions"],
        "queue": snapshot["queues"],
        "log group": snapshot["log_groups"],
        "role": snapshot["roles"],
    }
    for kind, states in groups.items():
        for name, state in states.items():
            found[f"{kind} {name}"] = state["tags"] if state.get("exists") else None
    found[f"key alias/{spec['key_alias']}"] = (
        snapshot["key"].get("tags") if snapshot["key"].get("exists") else None
    )
    found[f"topic {spec['topic_arn'].rsplit(':', 1)[-1]}"] = (
        snapshot["topic"].get("tags") if snapshot["topic"].get("exists") else None
    )
    network = snapshot["network"]
    for resource_id, tags in network.get("tagged", {}).items():
        found[f"network {resource_id}"] = tags
    for point in network.get("endpoints", []):
        found[f"endpoint {point['id']}"] = point["tags"]
    home = spec["region"] == spec["home_region"]
    for name in spec["alarms"] + ([c["alarm_name"] for c in spec["cis_catalog"]] if home else []):
        alarm = snapshot["alarms"].get(name)
        found[f"alarm {name}"] = alarm["tags"] if alarm else None
    trail = snapshot.get("trail")
    if spec.get("trail") and trail:
        found[f"trail {spec['trail']['arn'].rsplit('/', 1)[-1]}"] = (
            trail.get("tags") if trail.get("exists") else None
        )
    return found


def required_tags(snapshot: Snapshot, spec: Spec) -> Result:
    wanted = spec["required_tags"]
    items = {}
    for resource, tags in tagged_resources(snapshot, spec).items():
        if tags is None:
            continue  # a missing resource fails its own control
        wrong = {key: tags.get(key) for key, value in wanted.items() if tags.get(key) != value}
        if wrong:
            items[resource] = {"ok": False, "wrong_or_missing": wrong}
    checked = sum(tags is not None for tags in tagged_resources(snapshot, spec).values())
    evidence = {"checked_resources": checked, "required": wanted, "failing": items}
    return (PASS if not items and checked else FAIL), evidence


# CIS v3.0.0 section 4 item -> the Security Hub FSBP/CIS control of the same metric filter and alarm.
CIS_TO_FSBP = {"4.1": "CloudWatch.2", "4.2": "CloudWatch.3", "4.3": "CloudWatch.1"}
CIS_TO_FSBP.update({f"4.{n}": f"CloudWatch.{n}" for n in range(4, 15)})

# --- The catalog -----------------------------------------------------------------------------------


def catalog(spec: Spec) -> list[Control]:
    """Every control the baseline promises, in report order."""
    controls = [
        Control("BASELINE.S3.1", "S3 buckets encrypt by default with SSE-S3 (AES256)", "S3", s3_encryption),
        Control(
            "S3.8",
            "S3 buckets block public access (all four bucket-level settings)",
            "S3",
            s3_bucket_public_access,
        ),
        Control(
            "S3.1",
            "Account-level S3 Block Public Access: all four settings on",
            "S3",
            s3_account_public_access,
            "account",
            ("CIS 2.1.4",),
        ),
        Control(
            "S3.5",
            "S3 buckets deny requests without TLS (aws:SecureTransport)",
            "S3",
            s3_tls_only,
            related=("CIS 2.1.1",),
        ),
        Control("S3.14", "S3 buckets have versioning enabled", "S3", s3_versioning),
        Control(
            "S3.9",
            "S3 buckets have server access logging enabled",
            "S3",
            s3_access_logging,
            related=("CIS 3.4",),
        ),
        Control("S3.13", "S3 buckets have their lifecycle rules", "S3", s3_lifecycle),
        Control("BASELINE.S3.2", "Data bucket objects: only the listed principals", "S3", s3_data_principals),
        Control(
            "BASELINE.DynamoDB.1",
            "DynamoDB tables encrypted with the baseline KMS key",
            "DynamoDB",
            dynamodb_sse,
        ),
        Control("DynamoDB.2", "DynamoDB point-in-time recovery enabled", "DynamoDB", dynamodb_pitr),
        Control(
            "DynamoDB.6", "DynamoDB deletion protection enabled", "DynamoDB", dynamodb_deletion_protection
        ),
        Control(
            "BASELINE.Lambda.1", "Lambda functions have the configured memory size", "Lambda", lambda_memory
        ),
        Control("Lambda.3", "Lambda functions are deployed in a VPC", "Lambda", lambda_vpc),
        Control("Lambda.2", "Lambda functions use a supported runtime", "Lambda", lambda_runtime),
        Control("Lambda.7", "Lambda functions have X-Ray active tracing", "Lambda", lambda_tracing),
        Control(
            "BASELINE.Lambda.2",
            "Lambda functions have their encrypted dead-letter queue",
            "Lambda",
            lambda_dead_letter,
        ),
        Control(
            "BASELINE.IAM.1",
            "Function roles: no wildcard actions, no data actions on every resource",
            "IAM",
            iam_no_wildcards,
        ),
        Control(
            "BASELINE.IAM.2",
            "Function roles: maximum session duration within the limit",
            "IAM",
            iam_session_length,
        ),
        Control(
            "IAM.7",
            "Account password policy as configured",
            "IAM",
            iam_password_policy,
            "account",
            ("CIS 1.8", "CIS 1.9"),
        ),
        Control(
            "IAM.3",
            "Active IAM access keys no older than the maximum age",
            "IAM",
            iam_access_key_age,
            "account",
            ("CIS 1.14",),
        ),
        Control("KMS.4", "Baseline KMS key rotation enabled", "KMS", kms_rotation, related=("CIS 3.6",)),
        Control(
            "CloudTrail.1",
            "Multi-region trail with all management events",
            "CloudTrail",
            cloudtrail_multi_region,
            "account",
            ("CIS 3.1",),
        ),
        Control("CloudTrail.3", "The trail is logging", "CloudTrail", cloudtrail_logging, "account"),
        Control(
            "CloudTrail.4",
            "Trail log file validation enabled",
            "CloudTrail",
            cloudtrail_validation,
            "account",
            ("CIS 3.2",),
        ),
        Control(
            "CloudTrail.2",
            "Trail logs encrypted with the baseline KMS key",
            "CloudTrail",
            cloudtrail_kms,
            "account",
            ("CIS 3.5",),
        ),
        Control(
            "CloudTrail.5",
            "Trail delivers to its CloudWatch Logs group",
            "CloudTrail",
            cloudtrail_logs,
            "account",
        ),
        # Not S3.22 / S3.23 (CIS 3.8 / 3.9): AWS's rule asks for the write (read) object events of
        # every current and future bucket; the baseline logs those of its data buckets only.
        Control(
            "BASELINE.CloudTrail.2",
            "Object-level write events of the data buckets logged",
            "CloudTrail",
            s3_data_events(False),
            "account",
        ),
        Control(
            "BASELINE.CloudTrail.3",
            "Object-level read events of the data buckets logged",
            "CloudTrail",
            s3_data_events(True),
            "account",
        ),
        Control(
            "BASELINE.CloudTrail.1",
            "Item-level events of the data tables logged",
            "CloudTrail",
            dynamodb_data_events,
            "account",
        ),
        Control(
            "BASELINE.VPC.1",
            "S3 gateway endpoint with a restrictive policy on the private route tables",
            "VPC",
            endpoint("s3"),
        ),
        Control(
            "BASELINE.VPC.2",
            "DynamoDB gateway endpoint with a restrictive policy on the private route tables",
            "VPC",
            endpoint("dynamodb"),
        ),
        Control(
            "CloudWatch.15",
            "Resource alarms exist and notify the alarm topic",
            "CloudWatch",
            cloudwatch_alarm_actions,
        ),
        Control(
            "BASELINE.SNS.1", "Alarm topic encrypted with the baseline KMS key", "SNS", sns_topic_encrypted
        ),
        Control("BASELINE.SNS.2", "Alarm topic has its confirmed subscribers", "SNS", sns_subscribers),
    ]
    for cis in spec["cis_catalog"]:
        related = (CIS_TO_FSBP[cis["cis_id"]],) if cis["cis_id"] in CIS_TO_FSBP else ()
        controls.append(
            Control(
                f"CIS {cis['cis_id']}",
                f"Metric filter and alarm: {cis['title']}",
                "CloudWatch",
                cis_alarm(cis),
                "account",
                related,
            )
        )
    # The account's security services and the hardened network: module_utils/verify_security_services.py
    controls.extend(Control(*entry) for entry in security_services_controls(spec))
    controls.append(Control("BASELINE.Tags.1", "Every resource has the required tags", "Tags", required_tags))
    return controls


def exempt(status: str, evidence: Any, reasons: dict[str, str]) -> tuple[str, Any, dict[str, str]]:
    """Mark the exempt resources of one control's evidence, and judge the control on the others.

    An exemption is a Security Hub suppressed finding: the resource keeps its evaluation (its `ok`,
    as AWS would judge it) and gains `exempt` (the documented reason); the control's status counts
    the other resources only, and is not_applicable when every resource it evaluated is exempt.
    """
    if status == NOT_APPLICABLE or not isinstance(evidence, dict):
        return status, evidence, {}
    applied = {
        name: reason
        for name, item in evidence.items()
        if isinstance(item, dict)
        for pattern, reason in reasons.items()
        if fnmatch.fnmatchcase(name, pattern)
    }
    if not applied:
        return status, evidence, {}
    evidence = {
        name: ({**item, "exempt": applied[name]} if name in applied else item)
        for name, item in evidence.items()
    }
    judged = [
        item
        for name, item in evidence.items()
        if isinstance(item, dict) and "ok" in item and name not in applied
    ]
    if not judged:
        return NOT_APPLICABLE, evidence, applied
    return (PASS if all(item["ok"] for item in judged) else FAIL), evidence, applied


def evaluate(snapshot: Snapshot, spec: Spec) -> list[dict[str, Any]]:
    """One record per control for this account x region."""
    home = spec["region"] == spec["home_region"]
    exemptions: dict[str, dict[str, str]] = {}
    for item in spec.get("exemptions") or []:
        exemptions.setdefault(item["control_id"], {})[item["resource"]] = item["reason"]
    records = []
    for control in catalog(spec):
        exempted: dict[str, str] = {}
        if control.scope == "account" and not home:
            status, evidence = (
                NOT_APPLICABLE,
                {"reason": f"account-wide: evaluated in the home region {spec['home_region']}"},
            )
        else:
            status, evidence = control.check(snapshot, spec)
            status, evidence, exempted = exempt(status, evidence, exemptions.get(control.control_id, {}))
        records.append(
            {
                "control_id": control.control_id,
                "title": control.title,
                "service": control.service,
                "related": list(control.related),
                "account": spec["account_id"],
                "region": spec["region"],
                "status": status,
                "exempted": exempted,
                "evidence": evidence,
            }
        )
    return records
