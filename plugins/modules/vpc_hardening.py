#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vpc_hardening
short_description: Harden VPCs - flow logs, no default security group rules, ACLs closed to the internet
version_added: 0.3.0
description:
  - For every listed VPC, in one module run, what a VPC needs beyond its own resources (CIS AWS Foundations
    v3.0.0 3.7, 5.1 and 5.4; Security Hub EC2.6, EC2.21 and EC2.2).
  - O(vpcs[].flow_log) - a VPC flow log to a CloudWatch Logs log group through a delivery role. Flow logs
    cannot be changed, so one that differs (traffic type, role, aggregation interval) is deleted, then
    created again (EC2 refuses a second flow log of a VPC to the same log group with
    C(FlowLogAlreadyExists)); the records of those few seconds are lost. Flow logs of the VPC to other
    destinations are left alone.
  - O(vpcs[].restrict_default_security_group) - the VPC's default security group loses every inbound and
    outbound rule (it cannot be deleted; nothing of the baseline uses it).
  - O(vpcs[].network_acl) - the inbound entries of every network ACL of the VPC become exactly - all traffic
    from the listed CIDR blocks (the VPC's), then TCP return traffic on the ephemeral ports from the address
    ranges of the listed AWS prefix lists (the gateway endpoints' services, which a private subnet reaches
    through its gateway endpoints and whose answers a stateless ACL must admit). Outbound entries and the
    final deny-all entries are left as they are.
  - A no-op makes reads only - per VPC C(DescribeFlowLogs), C(DescribeSecurityGroups),
    C(DescribeNetworkAcls), and per prefix list C(DescribeManagedPrefixLists) and
    C(GetManagedPrefixListEntries).
options:
  vpcs:
    description: The VPCs.
    type: list
    elements: dict
    required: true
    suboptions:
      vpc_id:
        description: The VPC.
        type: str
        required: true
      restrict_default_security_group:
        description: Remove every rule of the default security group (V(false) leaves it as it is).
        type: bool
        default: true
      network_acl:
        description: The inbound entries of the VPC's network ACLs. Omit to leave them alone.
        type: dict
        suboptions:
          ingress_cidrs:
            description: IPv4 CIDR blocks from which all traffic is admitted (rules 100, 110, ...).
            type: list
            elements: str
            required: true
          return_traffic_prefix_lists:
            description:
              - Names of AWS-managed prefix lists (such as C(com.amazonaws.us-east-1.s3)) whose address ranges
                may send TCP traffic to O(vpcs[].network_acl.return_traffic_ports).
            type: list
            elements: str
            default: []
          return_traffic_ports:
            description: The ephemeral port range of the answers, V([from, to]).
            type: list
            elements: int
            default: [1024, 65535]
          max_entries:
            description: Inbound entries a network ACL may hold (the quota; 20 unless raised, at most 40).
            type: int
            default: 20
      flow_log:
        description: The VPC's flow log to CloudWatch Logs. Omit to leave the flow logs alone.
        type: dict
        suboptions:
          state:
            description: V(present), or V(absent) to delete the flow logs of the VPC to that log group.
            type: str
            choices: [present, absent]
            default: present
          log_group_name:
            description: The log group (it must exist; its KMS key and retention are set elsewhere).
            type: str
            required: true
          role_arn:
            description: The role that delivers (trusting vpc-flow-logs.amazonaws.com); with V(present).
            type: str
          traffic_type:
            description: The traffic recorded.
            type: str
            choices: [ALL, ACCEPT, REJECT]
            default: ALL
          max_aggregation_interval:
            description: Seconds over which a flow is aggregated into a record.
            type: int
            choices: [60, 600]
            default: 600
          tags:
            description: Tags of the flow log. V(null) leaves them as they are.
            type: dict
  purge_tags:
    description: Remove tags not listed in O(vpcs[].flow_log.tags) (only for flow logs that list tags).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
notes:
  - Check mode and diff are supported.
  - AWS documents that the network ACL of a subnet reaching Amazon S3 or DynamoDB through a gateway endpoint
    must allow the traffic to and from the service, and that ACL entries cannot name prefix lists
    (U(https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html)); hence the return-traffic
    entries from the prefix lists' address ranges.
  - A flow log whose role cannot be assumed or may not write reports C(DeliverLogsStatus) C(FAILED) (C(Access
    error)); AWS does not refuse C(CreateFlowLogs) for it. The module returns the status it reads.
author:
  - Secureinfra Platform Team (@secureinfra)
"""

EXAMPLES = r"""
- name: The baseline VPC, hardened
  secureinfra.baseline.vpc_hardening:
    vpcs:
      - vpc_id: vpc-0123456789abcdef0
        network_acl:
          ingress_cidrs: [10.0.0.0/16]
          return_traffic_prefix_lists: [com.amazonaws.us-east-1.s3, com.amazonaws.us-east-1.dynamodb]
        flow_log:
          log_group_name: /acme/vpc-flow-logs/acme-us-east-1
          role_arn: arn:aws:iam::123456789012:role/acme-us-east-1-vpc-flow-logs
          tags: {Project: landing-zone}
"""

RETURN = r"""
vpcs:
  description: One entry per VPC, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The VPC id.
      type: str
    flow_log_id:
      description: The flow log to the log group (V(null) when absent, or not created yet in check mode).
      type: str
    deliver_logs_status:
      description: C(SUCCESS) or C(FAILED), as EC2 reports it.
      type: str
    network_acl_ids:
      description: The network ACLs of the VPC.
      type: list
      elements: str
    changed:
      description: Whether anything of the VPC changed (or would).
      type: bool
diff:
  description: Per VPC, the flow log, the default group's rules and the ACLs' inbound entries (before, after).
  returned: when diff mode is on
  type: dict
"""

import contextlib
import ipaddress
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore
from ansible_collections.secureinfra.baseline.plugins.module_utils.list_input import (
    duplicate_errors,
    list_result,
    tag_errors,
)

VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
ROLE_ARN = re.compile(r"^arn:[a-z0-9-]+:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
LOG_GROUP = re.compile(r"^[A-Za-z0-9_\-/.#]{1,512}$")
PREFIX_LIST = re.compile(r"^com\.amazonaws\.[a-z0-9.-]+$")
FIRST_RULE = 100
RULE_STEP = 10
DEFAULT_DENY = (32767, 32768)  # the last entries AWS keeps (IPv4 and IPv6); never changed
TCP = "6"

ARGUMENT_SPEC: dict[str, Any] = {
    "vpcs": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "vpc_id": {"type": "str", "required": True},
            "restrict_default_security_group": {"type": "bool", "default": True},
            "network_acl": {
                "type": "dict",
                "options": {
                    "ingress_cidrs": {"type": "list", "elements": "str", "required": True},
                    "return_traffic_prefix_lists": {"type": "list", "elements": "str", "default": []},
                    "return_traffic_ports": {"type": "list", "elements": "int", "default": [1024, 65535]},
                    "max_entries": {"type": "int", "default": 20},
                },
            },
            "flow_log": {
                "type": "dict",
                "options": {
                    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
                    "log_group_name": {"type": "str", "required": True},
                    "role_arn": {"type": "str"},
                    "traffic_type": {"type": "str", "choices": ["ALL", "ACCEPT", "REJECT"], "default": "ALL"},
                    "max_aggregation_interval": {"type": "int", "choices": [60, 600], "default": 600},
                    "tags": {"type": "dict"},
                },
            },
        },
    },
    "purge_tags": {"type": "bool", "default": True},
}


def acl_errors(vpc_id: str, acl: dict[str, Any] | None) -> list[str]:
    if acl is None:
        return []
    where = f"vpcs[{vpc_id}].network_acl"
    errors = []
    if not acl["ingress_cidrs"]:
        errors.append(f"{where}.ingress_cidrs: at least one CIDR block (the VPC's)")
    for cidr in acl["ingress_cidrs"]:
        try:
            network = ipaddress.IPv4Network(cidr)
        except ValueError:
            errors.append(
                f"{where}.ingress_cidrs: '{cidr}' is not an IPv4 CIDR block (a.b.c.d/n, host bits zero)"
            )
            continue
        if network.prefixlen == 0:
            errors.append(f"{where}.ingress_cidrs: '{cidr}' admits the whole internet (CIS 5.1, EC2.21)")
    errors.extend(
        f"{where}.return_traffic_prefix_lists: '{name}' must be an AWS prefix list name such as "
        "com.amazonaws.<region>.s3"
        for name in acl["return_traffic_prefix_lists"]
        if not PREFIX_LIST.match(name)
    )
    ports = acl["return_traffic_ports"]
    if len(ports) != 2 or not 0 <= ports[0] <= ports[1] <= 65535:
        errors.append(
            f"{where}.return_traffic_ports must be [from, to] with 0 <= from <= to <= 65535, got {ports}"
        )
    if not 1 <= acl["max_entries"] <= 40:
        errors.append(
            f"{where}.max_entries must be 1-40 (AWS's quota of entries per direction), "
            f"got {acl['max_entries']}"
        )
    if len(acl["ingress_cidrs"]) > acl["max_entries"]:
        errors.append(
            f"{where}.ingress_cidrs: {len(acl['ingress_cidrs'])} blocks exceed "
            f"max_entries {acl['max_entries']}"
        )
    return errors


def flow_log_errors(vpc_id: str, flow_log: dict[str, Any] | None) -> list[str]:
    if flow_log is None:
        return []
    where = f"vpcs[{vpc_id}].flow_log"
    errors = []
    if not LOG_GROUP.match(flow_log["log_group_name"]):
        errors.append(
            f"{where}.log_group_name must be 1-512 letters, digits or _ - / . #, "
            f"got '{flow_log['log_group_name']}'"
        )
    if flow_log["state"] == "present" and not ROLE_ARN.match(str(flow_log["role_arn"] or "")):
        errors.append(
            f"{where}.role_arn must be an IAM role ARN (arn:...:iam::<account>:role/...), "
            f"got '{flow_log['role_arn']}'"
        )
    errors.extend(tag_errors(f"{where}.tags", flow_log["tags"]))
    return errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    errors = []
    for vpc in params["vpcs"]:
        if not VPC_ID.match(vpc["vpc_id"]):
            errors.append(f"vpcs: vpc_id '{vpc['vpc_id']}' must be a VPC id (vpc- and 8 or 17 hex digits)")
        errors += acl_errors(vpc["vpc_id"], vpc["network_acl"])
        errors += flow_log_errors(vpc["vpc_id"], vpc["flow_log"])
    errors.extend(duplicate_errors("vpcs", [vpc["vpc_id"] for vpc in params["vpcs"]]))
    return errors


class Ec2:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        self._prefix_lists: dict[str, list[str]] = {}

    def call(self, operation: str, what: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, operation)(aws_retry=True, **kwargs)
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to {what}")

    def paginate(self, operation: str, key: str, what: str, **kwargs: Any) -> list[Any]:
        try:
            pages = self.client.get_paginator(operation).paginate(**kwargs)
            return list(pages.build_full_result().get(key, []))
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to {what}")

    def prefix_list_cidrs(self, name: str) -> list[str]:
        """The IPv4 ranges of an AWS-managed prefix list, sorted."""
        if name not in self._prefix_lists:
            found = self.paginate(
                "describe_managed_prefix_lists",
                "PrefixLists",
                f"find prefix list {name}",
                Filters=[{"Name": "prefix-list-name", "Values": [name]}],
            )
            if not found:
                self.module.fail_json(msg=f"No prefix list named {name} in {self.client.meta.region_name}")
            entries = self.paginate(
                "get_managed_prefix_list_entries",
                "Entries",
                f"read prefix list {name}",
                PrefixListId=found[0]["PrefixListId"],
            )
            self._prefix_lists[name] = sorted({e["Cidr"] for e in entries if ":" not in e["Cidr"]})
        return self._prefix_lists[name]


# --- network ACLs -------------------------------------------------------------------------------------------


def entry_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    ports = entry.get("PortRange") or {}
    return (
        str(entry.get("Protocol")),
        entry.get("RuleAction"),
        entry.get("CidrBlock"),
        entry.get("Ipv6CidrBlock"),
        ports.get("From") if str(entry.get("Protocol")) == TCP else None,
        ports.get("To") if str(entry.get("Protocol")) == TCP else None,
    )


def wanted_entries(ec2: Ec2, vpc_id: str, acl: dict[str, Any]) -> dict[int, dict[str, Any]]:
    entries: list[dict[str, Any]] = [
        {"Protocol": "-1", "RuleAction": "allow", "CidrBlock": cidr} for cidr in acl["ingress_cidrs"]
    ]
    low, high = acl["return_traffic_ports"]
    cidrs = sorted({c for name in acl["return_traffic_prefix_lists"] for c in ec2.prefix_list_cidrs(name)})
    entries += [
        {"Protocol": TCP, "RuleAction": "allow", "CidrBlock": c, "PortRange": {"From": low, "To": high}}
        for c in cidrs
    ]
    if len(entries) > acl["max_entries"]:
        ec2.module.fail_json(
            msg=(
                f"vpcs[{vpc_id}].network_acl needs {len(entries)} inbound entries "
                f"({len(acl['ingress_cidrs'])} CIDR blocks and {len(cidrs)} prefix-list ranges), "
                f"more than max_entries {acl['max_entries']} (AWS's quota per "
                "direction: 20, up to 40 on request)"
            )
        )
    return {FIRST_RULE + RULE_STEP * i: entry for i, entry in enumerate(entries)}


def describe_entry(number: int, entry: dict[str, Any]) -> str:
    ports = entry.get("PortRange")
    where = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")
    proto = "all" if str(entry.get("Protocol")) == "-1" else f"proto {entry.get('Protocol')}"
    span = f" ports {ports['From']}-{ports['To']}" if ports and str(entry.get("Protocol")) == TCP else ""
    return f"{number} {entry.get('RuleAction')} {proto}{span} from {where}"


def ensure_acls(
    ec2: Ec2, vpc_id: str, wanted: dict[int, dict[str, Any]]
) -> tuple[bool, list[str], dict[str, Any], dict[str, Any]]:
    acls = ec2.paginate(
        "describe_network_acls",
        "NetworkAcls",
        f"read the network ACLs of {vpc_id}",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
    )
    changed = False
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for acl in acls:
        acl_id = acl["NetworkAclId"]
        current = {
            e["RuleNumber"]: e
            for e in acl.get("Entries", [])
            if not e["Egress"] and e["RuleNumber"] not in DEFAULT_DENY
        }
        create = [n for n in wanted if n not in current]
        replace = [n for n in wanted if n in current and entry_key(current[n]) != entry_key(wanted[n])]
        delete = [n for n in current if n not in wanted]
        if not (create or replace or delete):
            continue
        changed = True
        before[acl_id] = [describe_entry(n, current[n]) for n in sorted(current)]
        after[acl_id] = [describe_entry(n, wanted[n]) for n in sorted(wanted)]
        if ec2.module.check_mode:
            continue
        # new entries first, then replacements, then removals: no moment admits less than the VPC
        for number in create:
            ec2.call(
                "create_network_acl_entry",
                f"add entry {number} to {acl_id}",
                **request(acl_id, number, wanted[number]),
            )
        for number in replace:
            ec2.call(
                "replace_network_acl_entry",
                f"replace entry {number} of {acl_id}",
                **request(acl_id, number, wanted[number]),
            )
        for number in delete:
            ec2.call(
                "delete_network_acl_entry",
                f"delete entry {number} of {acl_id}",
                NetworkAclId=acl_id,
                RuleNumber=number,
                Egress=False,
            )
    return changed, [a["NetworkAclId"] for a in acls], before, after


def request(acl_id: str, number: int, entry: dict[str, Any]) -> dict[str, Any]:
    call = {"NetworkAclId": acl_id, "RuleNumber": number, "Egress": False, **entry}
    return call


# --- the default security group -----------------------------------------------------------------------------


def clean(permission: dict[str, Any]) -> dict[str, Any]:
    """A permission as DescribeSecurityGroups reports it, fit for Revoke* (empty lists dropped)."""
    return {k: v for k, v in permission.items() if v not in ([], None)}


def ensure_default_group(ec2: Ec2, vpc_id: str) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    groups = ec2.paginate(
        "describe_security_groups",
        "SecurityGroups",
        f"read the default security group of {vpc_id}",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}],
    )
    if not groups:
        return False, {}, {}
    group = groups[0]
    ingress = [clean(p) for p in group.get("IpPermissions", [])]
    egress = [clean(p) for p in group.get("IpPermissionsEgress", [])]
    if not ingress and not egress:
        return False, {}, {}
    if not ec2.module.check_mode:
        if ingress:
            ec2.call(
                "revoke_security_group_ingress",
                f"revoke the inbound rules of {group['GroupId']}",
                GroupId=group["GroupId"],
                IpPermissions=ingress,
            )
        if egress:
            ec2.call(
                "revoke_security_group_egress",
                f"revoke the outbound rules of {group['GroupId']}",
                GroupId=group["GroupId"],
                IpPermissions=egress,
            )
    before = {"group_id": group["GroupId"], "ingress": ingress, "egress": egress}
    return True, before, {"group_id": group["GroupId"], "ingress": [], "egress": []}


# --- the flow log -------------------------------------------------------------------------------------------


def flow_log_state(flow_log: dict[str, Any]) -> dict[str, Any]:
    return {
        "traffic_type": flow_log.get("TrafficType"),
        "role_arn": flow_log.get("DeliverLogsPermissionArn"),
        "max_aggregation_interval": flow_log.get("MaxAggregationInterval"),
        "tags": {t["Key"]: t["Value"] for t in flow_log.get("Tags", [])},
    }


def ensure_flow_log(ec2: Ec2, vpc_id: str, wanted: dict[str, Any], purge: bool) -> dict[str, Any]:
    logs = ec2.paginate(
        "describe_flow_logs",
        "FlowLogs",
        f"read the flow logs of {vpc_id}",
        Filters=[{"Name": "resource-id", "Values": [vpc_id]}],
    )
    ours = [
        fl
        for fl in logs
        if fl.get("LogDestinationType", "cloud-watch-logs") == "cloud-watch-logs"
        and fl.get("LogGroupName") == wanted["log_group_name"]
    ]
    before = {fl["FlowLogId"]: flow_log_state(fl) for fl in ours}
    check = ec2.module.check_mode
    if wanted["state"] == "absent":
        if ours and not check:
            ec2.call(
                "delete_flow_logs",
                f"delete the flow logs of {vpc_id}",
                FlowLogIds=[fl["FlowLogId"] for fl in ours],
            )
        return {"changed": bool(ours), "flow_log_id": None, "deliver_logs_status": None, "diff": (before, {})}

    want = {
        "traffic_type": wanted["traffic_type"],
        "role_arn": wanted["role_arn"],
        "max_aggregation_interval": wanted["max_aggregation_interval"],
    }
    keep = next((fl for fl in ours if all(flow_log_state(fl)[k] == v for k, v in want.items())), None)
    stale = [fl for fl in ours if fl is not keep]
    tags = flow_log_state(keep)["tags"] if keep else {}
    wanted_tags = {str(k): str(v) for k, v in (wanted["tags"] or {}).items()}
    tag_changes = (
        compare_aws_tags(tags, wanted_tags, purge) if keep and wanted["tags"] is not None else ({}, [])
    )
    changed = bool(keep is None or stale or tag_changes[0] or tag_changes[1])
    flow_log_id = keep["FlowLogId"] if keep else None
    status = keep.get("DeliverLogsStatus") if keep else None
    if changed and not check:
        if stale:  # first: EC2 refuses a second flow log of the VPC to the same group (FlowLogAlreadyExists)
            ec2.call(
                "delete_flow_logs",
                f"delete the replaced flow logs of {vpc_id}",
                FlowLogIds=[fl["FlowLogId"] for fl in stale],
            )
        if keep is None:
            flow_log_id, status = create_flow_log(ec2, vpc_id, wanted, wanted_tags)
        elif tag_changes[1] or tag_changes[0]:
            if tag_changes[1]:
                ec2.call(
                    "delete_tags",
                    f"untag flow log {flow_log_id}",
                    Resources=[flow_log_id],
                    Tags=[{"Key": k} for k in tag_changes[1]],
                )
            if tag_changes[0]:
                ec2.call(
                    "create_tags",
                    f"tag flow log {flow_log_id}",
                    Resources=[flow_log_id],
                    Tags=[{"Key": k, "Value": v} for k, v in tag_changes[0].items()],
                )
    kept_tags = {k: v for k, v in tags.items() if k not in tag_changes[1]}
    after_tags = {**kept_tags, **tag_changes[0]} if keep else wanted_tags
    after = {(flow_log_id or "(new)"): {**want, "tags": after_tags}}
    return {
        "changed": changed,
        "flow_log_id": flow_log_id,
        "deliver_logs_status": status,
        "diff": (before, after),
    }


def create_flow_log(
    ec2: Ec2, vpc_id: str, wanted: dict[str, Any], tags: dict[str, str]
) -> tuple[str, str | None]:
    request: dict[str, Any] = {
        "ResourceIds": [vpc_id],
        "ResourceType": "VPC",
        "TrafficType": wanted["traffic_type"],
        "LogDestinationType": "cloud-watch-logs",
        "LogGroupName": wanted["log_group_name"],
        "DeliverLogsPermissionArn": wanted["role_arn"],
        "MaxAggregationInterval": wanted["max_aggregation_interval"],
    }
    if tags:
        request["TagSpecifications"] = [
            {"ResourceType": "vpc-flow-log", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    answer = ec2.call("create_flow_logs", f"create the flow log of {vpc_id}", **request)
    if answer.get("Unsuccessful") or not answer.get("FlowLogIds"):
        ec2.module.fail_json(
            msg=f"CreateFlowLogs refused the flow log of {vpc_id}: {answer.get('Unsuccessful')}"
        )
    flow_log_id = answer["FlowLogIds"][0]
    found = ec2.paginate(
        "describe_flow_logs", "FlowLogs", f"read flow log {flow_log_id}", FlowLogIds=[flow_log_id]
    )
    return flow_log_id, (found[0].get("DeliverLogsStatus") if found else None)


def ensure_vpc(ec2: Ec2, vpc: dict[str, Any], purge: bool) -> dict[str, Any]:
    vpc_id = vpc["vpc_id"]
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    changed = False
    flow_log_id = status = None
    if vpc["flow_log"] is not None:
        flow = ensure_flow_log(ec2, vpc_id, vpc["flow_log"], purge)
        changed |= flow["changed"]
        flow_log_id, status = flow["flow_log_id"], flow["deliver_logs_status"]
        if flow["changed"]:
            before["flow_logs"], after["flow_logs"] = flow["diff"]
    if vpc["restrict_default_security_group"]:
        group_changed, group_before, group_after = ensure_default_group(ec2, vpc_id)
        changed |= group_changed
        if group_changed:
            before["default_security_group"], after["default_security_group"] = group_before, group_after
    acl_ids: list[str] = []
    if vpc["network_acl"] is not None:
        wanted = wanted_entries(ec2, vpc_id, vpc["network_acl"])
        acl_changed, acl_ids, acl_before, acl_after = ensure_acls(ec2, vpc_id, wanted)
        changed |= acl_changed
        if acl_changed:
            before["network_acl_ingress"], after["network_acl_ingress"] = acl_before, acl_after
    return {
        "name": vpc_id,
        "flow_log_id": flow_log_id,
        "deliver_logs_status": status,
        "network_acl_ids": acl_ids,
        "changed": changed,
        "diff": (before, after),
    }


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    ec2 = Ec2(module)
    results = [ensure_vpc(ec2, vpc, module.params["purge_tags"]) for vpc in module.params["vpcs"]]
    for entry in results:
        if entry["deliver_logs_status"] == "FAILED":
            module.warn(
                f"The flow log {entry['flow_log_id']} of {entry['name']} cannot deliver (DeliverLogsStatus "
                "FAILED): check that vpc-flow-logs.amazonaws.com may assume its role and that the role may "
                "write to the log group"
            )
    module.exit_json(**list_result("vpcs", results, module._diff))


if __name__ == "__main__":
    main()
