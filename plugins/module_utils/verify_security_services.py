# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""The account's security services and the hardened network, read back and evaluated (verify).

`read_security_services(clients, spec)` reads what the controls need (reads only, paginators;
a missing resource reads as absent), for the `security_services` part of baseline_controls'
spec; `security_services_controls(spec)` returns their controls, which verify_controls.catalog
adds to the others. Ids are Security Hub's (FSBP) where one exists, with CIS AWS Foundations
v3.0.0's in `related`; BASELINE.* for what the baseline promises beyond them. Every control here
is regional (each region has its own recorder, hub, detector, analyzer, flow log); a service the
settings leave alone (security_services_<service>: false) makes its controls not_applicable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ansible_collections.secureinfra.baseline.plugins.module_utils.verify_read import (
    error_code,
    optional,
    paginate,
    policy_document,
    tag_dict,
)

try:
    from botocore.exceptions import ClientError
except ImportError:  # reported by AnsibleAWSModule
    ClientError = Exception  # type: ignore[assignment,misc]

Clients = Callable[[str], Any]
Result = tuple[str, Any]
Check = Callable[[dict[str, Any], dict[str, Any]], Result]
# (control_id, title, service, check, scope, related): the fields of verify_controls.Control
Entry = tuple[str, str, str, Check, str, tuple[str, ...]]
PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "not_applicable"
OPEN = ("0.0.0.0/0", "::/0")
ADMIN_PORTS = (22, 3389)
NOT_SUBSCRIBED = ("InvalidAccessException",)
CONFIG_ROLE = "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(policy: Any) -> list[dict[str, Any]]:
    return [s for s in as_list((policy or {}).get("Statement")) if isinstance(s, dict)]


# --- reads ------------------------------------------------------------------------------------------------


def read_flow_logs(ec2: Any, vpc_id: str) -> list[dict[str, Any]]:
    found = paginate(
        ec2, "describe_flow_logs", "FlowLogs", Filters=[{"Name": "resource-id", "Values": [vpc_id]}]
    )
    return [
        {
            "id": f["FlowLogId"],
            "status": f.get("FlowLogStatus"),
            "delivery": f.get("DeliverLogsStatus"),
            "error": f.get("DeliverLogsErrorMessage"),
            "traffic_type": f.get("TrafficType"),
            "destination_type": f.get("LogDestinationType", "cloud-watch-logs"),
            "log_group": f.get("LogGroupName"),
            "role": f.get("DeliverLogsPermissionArn"),
            "tags": tag_dict(f.get("Tags")),
        }
        for f in found
    ]


def read_vpc(ec2: Any, vpc_name: str) -> dict[str, Any]:
    vpcs = paginate(ec2, "describe_vpcs", "Vpcs", Filters=[{"Name": "tag:Name", "Values": [vpc_name]}])
    if not vpcs:
        return {"exists": False}
    vpc_id = vpcs[0]["VpcId"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    groups = paginate(
        ec2,
        "describe_security_groups",
        "SecurityGroups",
        Filters=[*in_vpc, {"Name": "group-name", "Values": ["default"]}],
    )
    acls = paginate(ec2, "describe_network_acls", "NetworkAcls", Filters=in_vpc)
    return {
        "exists": True,
        "vpc_id": vpc_id,
        "cidr": vpcs[0].get("CidrBlock"),
        "flow_logs": read_flow_logs(ec2, vpc_id),
        "default_group": groups[0] if groups else None,
        "acls": [
            {
                "id": acl["NetworkAclId"],
                "ingress": [e for e in acl.get("Entries", []) if not e.get("Egress")],
            }
            for acl in acls
        ],
    }


def read_log_group(logs: Any, name: str) -> dict[str, Any]:
    groups = paginate(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=name)
    group = next((g for g in groups if g["logGroupName"] == name), None)
    if group is None:
        return {"exists": False}
    arn = str(group.get("arn", "")).removesuffix(":*")
    tags = optional(logs.list_tags_for_resource, resourceArn=arn) if arn else None
    return {
        "exists": True,
        "kms": group.get("kmsKeyId", ""),
        "retention": group.get("retentionInDays"),
        "tags": tag_dict((tags or {}).get("tags")),
    }


def read_role_tags(iam: Any, name: str) -> dict[str, Any]:
    role = optional(iam.get_role, RoleName=name)
    if role is None:
        return {"exists": False}
    return {"exists": True, "tags": tag_dict(role["Role"].get("Tags"))}


def read_config(config: Any) -> dict[str, Any]:
    recorders = [
        r
        for r in config.describe_configuration_recorders().get("ConfigurationRecorders", [])
        if not r.get("servicePrincipal")
    ]
    statuses = config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
    channels = config.describe_delivery_channels().get("DeliveryChannels", [])
    return {
        "recorder": recorders[0] if recorders else None,
        "status": next((s for s in statuses if recorders and s.get("name") == recorders[0]["name"]), None),
        "channel": channels[0] if channels else None,
    }


def read_security_hub(hub: Any) -> dict[str, Any]:
    try:
        described = hub.describe_hub()
    except ClientError as exc:
        if error_code(exc) in NOT_SUBSCRIBED:
            return {"enabled": False}
        raise
    standards = paginate(hub, "get_enabled_standards", "StandardsSubscriptions")
    tags = hub.list_tags_for_resource(ResourceArn=described["HubArn"]).get("Tags", {})
    return {
        "enabled": True,
        "arn": described["HubArn"],
        "standards": {
            s["StandardsArn"]: {
                "status": s.get("StandardsStatus"),
                "reason": (s.get("StandardsStatusReason") or {}).get("StatusReasonCode"),
            }
            for s in standards
        },
        "tags": tag_dict(tags),
    }


def read_guardduty(guardduty: Any) -> dict[str, Any]:
    ids = paginate(guardduty, "list_detectors", "DetectorIds")
    if not ids:
        return {"exists": False}
    detector = guardduty.get_detector(DetectorId=ids[0])
    return {
        "exists": True,
        "id": ids[0],
        "status": detector.get("Status"),
        "tags": tag_dict(detector.get("Tags")),
    }


def read_rule(events: Any, name: str) -> dict[str, Any]:
    rule = optional(events.describe_rule, Name=name)
    if rule is None:
        return {"exists": False}
    targets = paginate(events, "list_targets_by_rule", "Targets", Rule=name)
    tags = events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags", [])
    return {
        "exists": True,
        "state": rule.get("State"),
        "pattern": json.loads(rule.get("EventPattern") or "{}"),
        "targets": sorted(t["Arn"] for t in targets),
        "tags": tag_dict(tags),
    }


def read_topic_policy(sns: Any, arn: str) -> Any:
    attributes = optional(sns.get_topic_attributes, TopicArn=arn)
    return policy_document(((attributes or {}).get("Attributes") or {}).get("Policy"))


def read_key_policy(kms: Any, alias: str) -> Any:
    described = optional(kms.describe_key, KeyId=f"alias/{alias}")
    if described is None:
        return None
    answer = optional(kms.get_key_policy, KeyId=described["KeyMetadata"]["KeyId"], PolicyName="default")
    return policy_document((answer or {}).get("Policy"))


def read_analyzers(analyzer: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": a["name"],
            "type": a.get("type"),
            "status": a.get("status"),
            "tags": dict(a.get("tags") or {}),
        }
        for a in paginate(analyzer, "list_analyzers", "analyzers")
    ]


def read_security_services(clients: Clients, spec: dict[str, Any]) -> dict[str, Any]:
    """What the security services' controls evaluate, for one account x region."""
    wanted = spec["security_services"]
    ec2 = clients("ec2")
    found: dict[str, Any] = {"vpc": read_vpc(ec2, spec["vpc_name"])}
    if wanted.get("flow_logs"):
        found["flow_log_group"] = read_log_group(clients("logs"), wanted["flow_log_group"])
        found["flow_log_role"] = read_role_tags(clients("iam"), wanted["flow_log_role"])
    if wanted.get("ebs_encryption"):
        found["ebs"] = {
            "enabled": ec2.get_ebs_encryption_by_default().get("EbsEncryptionByDefault", False),
            "kms_key_id": ec2.get_ebs_default_kms_key_id().get("KmsKeyId"),
        }
    if wanted.get("config"):
        found["config"] = read_config(clients("config"))
    if wanted.get("security_hub"):
        found["security_hub"] = read_security_hub(clients("securityhub"))
    if wanted.get("guardduty"):
        found["guardduty"] = read_guardduty(clients("guardduty"))
        found["findings_rule"] = read_rule(clients("events"), wanted["findings_rule"])
        found["topic_policy"] = read_topic_policy(clients("sns"), wanted["findings_topic"])
        found["key_policy"] = read_key_policy(clients("kms"), spec["key_alias"])
    if wanted.get("access_analyzer"):
        found["analyzers"] = read_analyzers(clients("accessanalyzer"))
    return found


# --- evaluation ------------------------------------------------------------------------------------------


def off(service: str) -> Result:
    return NOT_APPLICABLE, {"reason": f"security_services_{service}: false leaves it as it is in the account"}


def services(snapshot: dict[str, Any]) -> dict[str, Any]:
    return snapshot.get("security_services") or {}


def vpc_of(snapshot: dict[str, Any]) -> dict[str, Any]:
    return services(snapshot).get("vpc") or {"exists": False}


def flow_logging(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """EC2.6 (CIS 3.7): the VPC has an active flow log that delivers (AWS's rule: flow logs enabled)."""
    wanted = spec["security_services"]
    vpc = vpc_of(snapshot)
    if not vpc.get("exists"):
        return FAIL, {spec["vpc_name"]: {"ok": False, "exists": False}}
    logs = [f for f in vpc["flow_logs"] if f["status"] == "ACTIVE"]
    ours = [
        f
        for f in logs
        if f["destination_type"] == "cloud-watch-logs" and f["log_group"] == wanted.get("flow_log_group")
    ]
    delivering = [f for f in logs if f["delivery"] != "FAILED"]
    item = {
        "ok": bool(delivering),
        "flow_logs": [
            {k: f[k] for k in ("id", "traffic_type", "log_group", "delivery", "error")} for f in logs
        ],
        "as_defined": bool(ours)
        and all(f["traffic_type"] == wanted.get("flow_log_traffic_type") for f in ours),
    }
    return (PASS if item["ok"] else FAIL), {spec["vpc_name"]: item}


def flow_log_records(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """BASELINE.VPC.3: the flow logs' log group is encrypted with the baseline key and kept as configured."""
    wanted = spec["security_services"]
    if not wanted.get("flow_logs"):
        return NOT_APPLICABLE, {
            "reason": "network_endpoints_flow_logs: false leaves the flow logs as they are"
        }
    group = services(snapshot).get("flow_log_group") or {"exists": False}
    name = wanted["flow_log_group"]
    if not group.get("exists"):
        return FAIL, {name: {"ok": False, "exists": False}}
    key_arn = (snapshot.get("key") or {}).get("arn")
    key_ok = bool(key_arn) and group["kms"] == key_arn
    retention_ok = group["retention"] == wanted.get("flow_log_retention")
    item = {
        "ok": key_ok and retention_ok,
        "kms": group["kms"],
        "retention": group["retention"],
        "baseline_key": key_arn,
    }
    return (PASS if item["ok"] else FAIL), {name: item}


def permission_text(permission: dict[str, Any]) -> str:
    sources = [r.get("CidrIp") for r in permission.get("IpRanges", [])]
    sources += [r.get("CidrIpv6") for r in permission.get("Ipv6Ranges", [])]
    sources += [g.get("GroupId") for g in permission.get("UserIdGroupPairs", [])]
    sources += [p.get("PrefixListId") for p in permission.get("PrefixListIds", [])]
    ports = f"{permission.get('FromPort', '')}-{permission.get('ToPort', '')}"
    return f"{permission.get('IpProtocol')} {ports} {sources}"


def default_group_closed(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """EC2.2 (CIS 5.4): the VPC's default security group has no inbound and no outbound rule."""
    vpc = vpc_of(snapshot)
    group = vpc.get("default_group")
    if not vpc.get("exists") or group is None:
        return FAIL, {spec["vpc_name"]: {"ok": False, "exists": False}}
    ingress = [permission_text(p) for p in group.get("IpPermissions", [])]
    egress = [permission_text(p) for p in group.get("IpPermissionsEgress", [])]
    item = {
        "ok": not ingress and not egress,
        "group_id": group["GroupId"],
        "ingress": ingress,
        "egress": egress,
    }
    return (PASS if item["ok"] else FAIL), {group["GroupId"]: item}


def entry_text(entry: dict[str, Any]) -> str:
    ports = entry.get("PortRange") or {}
    span = f" {ports.get('From')}-{ports.get('To')}" if ports else ""
    source = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")
    rule = f"{entry.get('RuleNumber')} {entry.get('RuleAction')}"
    return f"{rule} proto {entry.get('Protocol')}{span} from {source}"


def admits(entry: dict[str, Any], port: int | None) -> bool:
    """An allow entry from anywhere that covers `port` (None: any port, the protocol -1 entries)."""
    if (
        entry.get("RuleAction") != "allow"
        or (entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")) not in OPEN
    ):
        return False
    protocol = str(entry.get("Protocol"))
    if protocol == "-1":
        return True
    if port is None or protocol not in ("6", "17"):
        return False
    ports = entry.get("PortRange") or {}
    return int(ports.get("From", 0)) <= port <= int(ports.get("To", 65535))


def acls_closed_to_admin_ports(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """EC2.21 (CIS 5.1): no network ACL of the VPC admits 0.0.0.0/0 or ::/0 to port 22 or 3389."""
    vpc = vpc_of(snapshot)
    if not vpc.get("exists"):
        return FAIL, {spec["vpc_name"]: {"ok": False, "exists": False}}
    items = {}
    for acl in vpc["acls"]:
        open_entries = [entry_text(e) for e in acl["ingress"] if any(admits(e, port) for port in ADMIN_PORTS)]
        items[acl["id"]] = {"ok": not open_entries, "admits_admin_ports_from_anywhere": open_entries}
    if not items:
        return NOT_APPLICABLE, {"reason": "the VPC has no network ACL"}
    return (PASS if all(i["ok"] for i in items.values()) else FAIL), items


def acls_private(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """BASELINE.VPC.4: no network ACL of the VPC admits anything from 0.0.0.0/0 or ::/0 (any port)."""
    if not spec["security_services"].get("restrict_network_acls"):
        return NOT_APPLICABLE, {
            "reason": "network_endpoints_restrict_network_acls: false leaves the ACLs as they are"
        }
    vpc = vpc_of(snapshot)
    if not vpc.get("exists"):
        return FAIL, {spec["vpc_name"]: {"ok": False, "exists": False}}
    items = {}
    for acl in vpc["acls"]:
        open_entries = [
            entry_text(e)
            for e in acl["ingress"]
            if e.get("RuleAction") == "allow" and (e.get("CidrBlock") or e.get("Ipv6CidrBlock")) in OPEN
        ]
        items[acl["id"]] = {"ok": not open_entries, "admits_from_anywhere": open_entries}
    return (PASS if items and all(i["ok"] for i in items.values()) else FAIL), items


def ebs_default_encryption(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """EC2.7 (CIS 2.2.1): EBS encryption by default is on (the default key, as defined, is evidence)."""
    wanted = spec["security_services"]
    if not wanted.get("ebs_encryption"):
        return off("ebs_encryption")
    ebs = services(snapshot).get("ebs") or {}
    key = str(ebs.get("kms_key_id") or "")
    baseline_key = (snapshot.get("key") or {}).get("arn")
    expected = baseline_key if wanted.get("ebs_baseline_key") else "alias/aws/ebs"
    item = {
        "ok": bool(ebs.get("enabled")),
        "kms_key_id": key,
        "as_defined": bool(expected) and (key == expected or key.endswith(f":{expected}")),
    }
    return (PASS if item["ok"] else FAIL), {"account": item}


def config_recording(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """Config.1 (CIS 3.3): AWS Config records every supported resource type, with the service-linked
    role, is recording (its last status not a failure) and has a delivery channel."""
    wanted = spec["security_services"]
    if not wanted.get("config"):
        return off("config")
    config = services(snapshot).get("config") or {}
    recorder, status, channel = config.get("recorder"), config.get("status") or {}, config.get("channel")
    if recorder is None:
        return FAIL, {"account": {"ok": False, "exists": False}}
    group = recorder.get("recordingGroup") or {}
    item = {
        "ok": bool(
            group.get("allSupported")
            and status.get("recording")
            and status.get("lastStatus") != "Failure"
            and str(recorder.get("roleARN", "")).endswith(CONFIG_ROLE)
            and channel
        ),
        "recorder": recorder.get("name"),
        "all_supported": bool(group.get("allSupported")),
        "include_global_resource_types": bool(group.get("includeGlobalResourceTypes")),
        "recording": bool(status.get("recording")),
        "last_status": status.get("lastStatus"),
        "service_linked_role": str(recorder.get("roleARN", "")).endswith(CONFIG_ROLE),
        "bucket": (channel or {}).get("s3BucketName"),
        "as_defined": (channel or {}).get("s3BucketName") == wanted.get("config_bucket")
        and bool(group.get("includeGlobalResourceTypes"))
        == bool(wanted.get("include_global_resource_types")),
    }
    return (PASS if item["ok"] else FAIL), {"account": item}


def security_hub_standards(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """BASELINE.SecurityHub.1: Security Hub is enabled and each configured standard is READY (not
    INCOMPLETE, which a standard without Config recording is)."""
    wanted = spec["security_services"]
    if not wanted.get("security_hub"):
        return off("security_hub")
    hub = services(snapshot).get("security_hub") or {}
    if not hub.get("enabled"):
        return FAIL, {"account": {"ok": False, "enabled": False}}
    items = {}
    for arn in standards_arns(spec):
        subscription = hub["standards"].get(arn)
        status = (subscription or {}).get("status", "NOT_ENABLED")
        items[arn] = {"ok": status == "READY", "status": status, "reason": (subscription or {}).get("reason")}
    if not items:
        return PASS, {"account": {"ok": True, "enabled": True, "standards": sorted(hub["standards"])}}
    return (PASS if all(i["ok"] for i in items.values()) else FAIL), items


def standards_arns(spec: dict[str, Any]) -> list[str]:
    """The ARNs of the configured standards in this region (CIS v1.2.0's is a global ruleset)."""
    partition, region = spec["partition"], spec["region"]
    return [
        f"arn:{partition}:securityhub:::ruleset/{path}"
        if path == "cis-aws-foundations-benchmark/v/1.2.0"
        else f"arn:{partition}:securityhub:{region}::standards/{path}"
        for path in spec["security_services"].get("standards", [])
    ]


def guardduty_enabled(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """GuardDuty.1: the region has a GuardDuty detector, enabled."""
    if not spec["security_services"].get("guardduty"):
        return off("guardduty")
    detector = services(snapshot).get("guardduty") or {"exists": False}
    if not detector.get("exists"):
        return FAIL, {"account": {"ok": False, "exists": False}}
    item = {
        "ok": detector.get("status") == "ENABLED",
        "detector": detector["id"],
        "status": detector.get("status"),
    }
    return (PASS if item["ok"] else FAIL), {detector["id"]: item}


def allows(policy: Any, principal: str, actions: tuple[str, ...]) -> bool:
    """Whether an Allow statement names the service principal and each action (or a wildcard of it)."""
    for action in actions:
        service = action.split(":", 1)[0]
        if not any(
            s.get("Effect") == "Allow"
            and principal
            in as_list(
                (s.get("Principal") or {}).get("Service") if isinstance(s.get("Principal"), dict) else []
            )
            and any(
                a in (action, f"{service}:*", "*") or (a.endswith("*") and action.startswith(a[:-1]))
                for a in as_list(s.get("Action"))
            )
            for s in statements(policy)
        ):
            return False
    return True


def findings_routed(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """BASELINE.GuardDuty.1: an enabled EventBridge rule sends GuardDuty findings to the alarm topic,
    whose policy lets events.amazonaws.com publish and whose key lets it encrypt."""
    wanted = spec["security_services"]
    if not wanted.get("guardduty"):
        return off("guardduty")
    found = services(snapshot)
    rule = found.get("findings_rule") or {"exists": False}
    name = wanted["findings_rule"]
    if not rule.get("exists"):
        return FAIL, {name: {"ok": False, "exists": False}}
    pattern = rule["pattern"]
    item = {
        "enabled": rule["state"] == "ENABLED",
        "guardduty_findings": "aws.guardduty" in as_list(pattern.get("source"))
        and "GuardDuty Finding" in as_list(pattern.get("detail-type")),
        "to_alarm_topic": wanted["findings_topic"] in rule["targets"],
        "topic_policy_admits_eventbridge": allows(
            found.get("topic_policy"), "events.amazonaws.com", ("sns:Publish",)
        ),
        "key_policy_admits_eventbridge": allows(
            found.get("key_policy"), "events.amazonaws.com", ("kms:Decrypt", "kms:GenerateDataKey")
        ),
    }
    item = {"ok": all(item.values()), **item, "targets": rule["targets"]}
    return (PASS if item["ok"] else FAIL), {name: item}


def access_analyzer(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """IAM.28 (CIS 1.20): an active IAM Access Analyzer external access analyzer in the region."""
    if not spec["security_services"].get("access_analyzer"):
        return off("access_analyzer")
    analyzers = services(snapshot).get("analyzers") or []
    external = [a for a in analyzers if a["type"] in ("ACCOUNT", "ORGANIZATION") and a["status"] == "ACTIVE"]
    if not external:
        return FAIL, {"account": {"ok": False, "analyzers": [a["name"] for a in analyzers]}}
    return PASS, {a["name"]: {"ok": True, "type": a["type"], "status": a["status"]} for a in external}


def services_tagged(snapshot: dict[str, Any], spec: dict[str, Any]) -> Result:
    """BASELINE.Tags.2: the security services' and flow logs' resources carry the required tags."""
    wanted = spec["security_services"]
    required = spec["required_tags"]
    found = services(snapshot)
    resources: dict[str, dict[str, Any] | None] = {}
    vpc = vpc_of(snapshot)
    if wanted.get("flow_logs"):
        ours = [f for f in vpc.get("flow_logs", []) if f["log_group"] == wanted["flow_log_group"]]
        resources["flow log"] = {"tags": ours[0]["tags"]} if ours else None
        resources[wanted["flow_log_group"]] = found.get("flow_log_group")
        resources[wanted["flow_log_role"]] = found.get("flow_log_role")
    if wanted.get("security_hub"):
        hub = found.get("security_hub") or {}
        resources["hub"] = hub if hub.get("enabled") else None
    if wanted.get("guardduty"):
        detector = found.get("guardduty") or {}
        resources["detector"] = detector if detector.get("exists") else None
        rule = found.get("findings_rule") or {}
        resources[wanted["findings_rule"]] = rule if rule.get("exists") else None
    if wanted.get("access_analyzer"):
        analyzer = next(
            (a for a in found.get("analyzers") or [] if a["name"] == wanted.get("analyzer")), None
        )
        if analyzer is not None or not any(a["type"] == "ACCOUNT" for a in found.get("analyzers") or []):
            resources[wanted.get("analyzer", "analyzer")] = analyzer  # an adopted analyzer is not ours to tag
    items = {}
    for name, resource in resources.items():
        if resource is None or resource.get("exists") is False:
            items[name] = {"ok": False, "exists": False}
            continue
        missing = {k: v for k, v in required.items() if (resource.get("tags") or {}).get(k) != v}
        items[name] = {"ok": not missing, "missing": missing}
    if not items:
        return NOT_APPLICABLE, {"reason": "no security service or flow log is managed"}
    return (PASS if all(i["ok"] for i in items.values()) else FAIL), items


def security_services_controls(spec: dict[str, Any]) -> list[Entry]:
    """The controls of the security services and the hardened network, as verify_controls.Control's
    fields (empty without their spec)."""
    if not spec.get("security_services"):
        return []
    region = "region"
    return [
        (
            "EC2.6",
            "VPC flow logging enabled (an active flow log that delivers)",
            "VPC",
            flow_logging,
            region,
            ("CIS 3.7",),
        ),
        (
            "BASELINE.VPC.3",
            "Flow log records encrypted with the baseline KMS key, kept as configured",
            "VPC",
            flow_log_records,
            region,
            (),
        ),
        (
            "EC2.2",
            "The VPC's default security group has no inbound or outbound rule",
            "VPC",
            default_group_closed,
            region,
            ("CIS 5.4",),
        ),
        (
            "EC2.21",
            "Network ACLs do not admit 0.0.0.0/0 or ::/0 to port 22 or 3389",
            "VPC",
            acls_closed_to_admin_ports,
            region,
            ("CIS 5.1",),
        ),
        (
            "BASELINE.VPC.4",
            "Network ACLs admit nothing from 0.0.0.0/0 or ::/0 (the VPC and the endpoints' answers only)",
            "VPC",
            acls_private,
            region,
            (),
        ),
        ("EC2.7", "EBS encryption by default enabled", "EC2", ebs_default_encryption, region, ("CIS 2.2.1",)),
        (
            "Config.1",
            "AWS Config records all resources with its service-linked role",
            "Config",
            config_recording,
            region,
            ("CIS 3.3",),
        ),
        (
            "BASELINE.SecurityHub.1",
            "Security Hub enabled with the configured standards READY",
            "SecurityHub",
            security_hub_standards,
            region,
            (),
        ),
        ("GuardDuty.1", "GuardDuty enabled", "GuardDuty", guardduty_enabled, region, ()),
        (
            "BASELINE.GuardDuty.1",
            "GuardDuty findings routed to the alarm topic (rule, topic and key policies)",
            "GuardDuty",
            findings_routed,
            region,
            (),
        ),
        (
            "IAM.28",
            "IAM Access Analyzer external access analyzer enabled",
            "IAM",
            access_analyzer,
            region,
            ("CIS 1.20",),
        ),
        (
            "BASELINE.Tags.2",
            "Security services and flow log resources have the required tags",
            "Tags",
            services_tagged,
            region,
            (),
        ),
    ]
