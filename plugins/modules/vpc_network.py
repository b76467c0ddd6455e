#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vpc_network
short_description: A private VPC, its subnets, route tables, security group and gateway endpoints in one call
version_added: 0.2.0
description:
  - In one invocation, finds or creates a VPC (by its Name tag and CIDR), its private subnets (by
    CIDR), one private route table per subnet (by Name tag), one security group (by name) and the
    gateway VPC endpoints of the listed services, and brings their settings and tags to the
    desired state, with check mode and diff.
  - A no-op run makes one C(Describe*) call per resource kind (the tags come in those answers)
    plus one C(DescribeVpcAttribute) per managed DNS attribute, instead of a module run (and its
    reads) per resource.
  - Every resource is created with its tags (C(TagSpecifications)), so an interrupted run never
    leaves an untagged resource that a rerun could not find again.
  - Routes are never changed; the routes the gateway endpoints add to the route tables stay.
    Subnets, route tables, security groups and endpoints of the VPC that are not listed are left
    alone.
  - Gateway endpoints are attached to exactly the route tables of O(subnets).
  - A subnet cannot move to another zone. An existing subnet (found by its CIDR) in another zone
    than its O(subnets[].availability_zone) is adopted where it is when that zone is one of
    O(adoptable_zones) and no other subnet of O(subnets) is in it (an earlier release chose the
    zones otherwise); RV(adopted) and the diff say so. Otherwise the run fails before any change.
options:
  name:
    description: Name tag of the VPC.
    type: str
    required: true
  cidr_block:
    description: Primary IPv4 CIDR of the VPC; the VPC is found by its Name tag and this CIDR.
    type: str
    required: true
  dns_support:
    description: The VPC's C(enableDnsSupport). V(null) leaves it as it is (and saves a read).
    type: bool
    default: true
  dns_hostnames:
    description: The VPC's C(enableDnsHostnames). V(null) leaves it as it is (and saves a read).
    type: bool
    default: true
  tags:
    description: Tags of every resource, besides its C(Name) tag (and the subnets' own O(subnets[].tags)).
    type: dict
    default: {}
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags that are not wanted (C(aws:) tags are never removed).
    type: bool
    default: true
  subnets:
    description:
      - The private subnets, each found by its CIDR in the VPC. C(MapPublicIpOnLaunch) is kept off.
      - Each gets its own route table, found by its Name tag and associated with that subnet only.
    type: list
    elements: dict
    default: []
    suboptions:
      cidr:
        description: IPv4 CIDR of the subnet, inside O(cidr_block).
        type: str
        required: true
      availability_zone:
        description:
          - Name of the availability zone of a subnet to create.
          - An existing subnet in another zone is adopted there when O(adoptable_zones) allows it,
            and is an error otherwise.
        type: str
        required: true
      name:
        description: Name tag of the subnet.
        type: str
        required: true
      tags:
        description: More tags of the subnet only.
        type: dict
        default: {}
      route_table_name:
        description: Name tag of the subnet's route table.
        type: str
        required: true
  adoptable_zones:
    description:
      - The zones, in order of preference, where an existing subnet of O(subnets) may stay when its
        O(subnets[].availability_zone) names another one - the region's real availability zones
        (zone-type C(availability-zone); not Local or Wavelength Zones).
      - An existing subnet is adopted in its zone only if that zone is listed here and no other
        subnet of O(subnets) is there; a subnet still to be created whose zone an adopted subnet
        holds is created in the first zone of this list that no subnet of O(subnets) uses (the
        subnets stay in distinct zones).
      - Empty (the default) - an existing subnet in another zone is an error, as before.
    type: list
    elements: str
    default: []
    version_added: 0.3.0
  security_group:
    description:
      - A security group of the VPC, found by its name; its Name tag is the same. It has no ingress
        rule and exactly the egress rules of O(security_group.egress).
    type: dict
    suboptions:
      name:
        description: Group name (and Name tag).
        type: str
        required: true
      description:
        description: Group description (set on creation; AWS cannot change it afterwards).
        type: str
        required: true
      egress:
        description: The egress rules.
        type: list
        elements: dict
        default: []
        suboptions:
          proto:
            description: C(tcp), C(udp), C(icmp) or C(-1) (all).
            type: str
            default: tcp
          from_port:
            description: First port (ignored for C(-1)).
            type: int
          to_port:
            description: Last port (ignored for C(-1)).
            type: int
          cidr_ips:
            description: IPv4 destinations.
            type: list
            elements: str
            required: true
          description:
            description: Description of each rule.
            type: str
  gateway_endpoints:
    description: Gateway endpoints of the VPC, one per service, attached to the route tables of O(subnets).
    type: list
    elements: dict
    default: []
    suboptions:
      service:
        description:
          - Service, C(s3) or C(dynamodb) (the module adds C(com.amazonaws.<region>.)), or a full
            service name.
        type: str
        required: true
      name:
        description: Name tag of the endpoint.
        type: str
        required: true
      policy:
        description: Endpoint policy (a dict or JSON string). Omit for the default full-access policy.
        type: json
notes:
  - "IAM actions: C(ec2:DescribeVpcs), C(ec2:DescribeVpcAttribute), C(ec2:DescribeSubnets),
    C(ec2:DescribeRouteTables), C(ec2:DescribeSecurityGroups), C(ec2:DescribeVpcEndpoints);
    to create: C(ec2:CreateVpc), C(ec2:ModifyVpcAttribute), C(ec2:CreateSubnet),
    C(ec2:CreateRouteTable), C(ec2:AssociateRouteTable), C(ec2:CreateSecurityGroup),
    C(ec2:AuthorizeSecurityGroupEgress), C(ec2:RevokeSecurityGroupEgress), C(ec2:CreateVpcEndpoint),
    C(ec2:CreateTags); to repair drift also C(ec2:DeleteTags), C(ec2:ModifySubnetAttribute),
    C(ec2:DisassociateRouteTable), C(ec2:RevokeSecurityGroupIngress),
    C(ec2:UpdateSecurityGroupRuleDescriptionsEgress) and C(ec2:ModifyVpcEndpoint)."
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Private network with S3 and DynamoDB gateway endpoints, in one call
  secureinfra.baseline.vpc_network:
    name: my-vpc
    cidr_block: 10.0.0.0/16
    tags:
      Project: demo
    subnets:
      - cidr: 10.0.1.0/24
        availability_zone: us-east-1a
        name: my-vpc-private-0
        route_table_name: my-vpc-private-0
        tags:
          Tier: private
      - cidr: 10.0.2.0/24
        availability_zone: us-east-1b
        name: my-vpc-private-1
        route_table_name: my-vpc-private-1
        tags:
          Tier: private
    security_group:
      name: my-vpc-functions
      description: Lambda functions; no ingress, HTTPS egress only
      egress:
        - proto: tcp
          from_port: 443
          to_port: 443
          cidr_ips: [0.0.0.0/0]
          description: HTTPS to AWS APIs
    gateway_endpoints:
      - service: s3
        name: my-vpc-s3
      - service: dynamodb
        name: my-vpc-dynamodb
  register: network
"""

RETURN = r"""
vpc_id:
  description: Id of the VPC; empty in check mode when it would be created.
  returned: always
  type: str
subnet_ids:
  description:
    - Ids of the subnets, in the order of O(subnets).
    - Those that would be created (check mode) are left out.
  returned: always
  type: list
  elements: str
adopted:
  description:
    - The existing subnets kept in a zone other than their O(subnets[].availability_zone) (see
      O(adoptable_zones)), and the subnets to create moved to another zone because an adopted
      subnet holds theirs. Empty when every subnet is where the definition puts it.
    - Adoption writes nothing and is not a change; it is reported on every run.
  returned: always
  type: list
  elements: dict
  version_added: 0.3.0
  contains:
    name:
      description: Name tag of the subnet (O(subnets[].name)).
      type: str
    cidr:
      description: CIDR of the subnet.
      type: str
    subnet_id:
      description: Id of the subnet; empty for a subnet still to be created.
      type: str
    availability_zone:
      description: The zone the subnet is (or will be created) in.
      type: str
    definition_zone:
      description: The zone O(subnets[].availability_zone) names.
      type: str
    reason:
      description: Why, in words.
      type: str
  sample:
    - name: net-private-0
      cidr: 10.0.1.0/24
      subnet_id: subnet-0123456789abcdef0
      availability_zone: us-east-1a
      definition_zone: us-east-1b
      reason: >-
        an existing subnet cannot move; us-east-1a is an availability zone of the region and no
        other subnet is there
route_table_ids:
  description: Ids of the subnets' route tables, in the order of O(subnets) (as O(subnets) ids).
  returned: always
  type: list
  elements: str
security_group_id:
  description: Id of the security group; empty when there is none (yet).
  returned: always
  type: str
vpc_endpoint_ids:
  description:
    - Endpoint id by service, as given in O(gateway_endpoints).
    - Those that would be created (check mode) are left out.
  returned: always
  type: dict
changes:
  description:
    - One line per resource that changed, with what changed, for example
      C(updated gateway endpoint s3 (route tables)); in check mode C(would update ...), C(would create ...).
  returned: always
  type: list
  elements: str
  sample: ["would update gateway endpoint s3 (route tables)"]
msg:
  description: The changes in one line, when there are any.
  returned: changed
  type: str
"""

import contextlib
import ipaddress
import json
import time
from collections.abc import Callable
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    boto3_tag_specifications,
    compare_aws_tags,
)
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

# Right after a create, EC2 may not know the new id yet (eventual consistency):
# https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html
NOT_YET_CODES = [
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidVpcEndpointId.NotFound",
]
LIVE_ENDPOINT_STATES = ["pending", "available", "pendingAcceptance"]
LIVE_ASSOCIATION_STATES = ("associating", "associated")
PROTOCOLS = {
    "tcp": "tcp",
    "6": "tcp",
    "udp": "udp",
    "17": "udp",
    "icmp": "icmp",
    "1": "icmp",
    "-1": "-1",
    "all": "-1",
}
ATTRIBUTE_WAIT_SECONDS = 60


def _api(module: AnsibleAWSModule, what: str, call: Callable[..., Any], **kwargs: Any) -> Any:
    """One EC2 call with the collection's retries; any error fails the module, naming `what`."""
    try:
        return call(aws_retry=True, **kwargs)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to {what}")


@AWSRetry.jittered_backoff()
def _paginate(client: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
    return client.get_paginator(operation).paginate(**kwargs).build_full_result()


def _read(
    module: AnsibleAWSModule, client: Any, operation: str, key: str, **kwargs: Any
) -> list[dict[str, Any]]:
    try:
        return _paginate(client, operation, **kwargs).get(key, [])
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to {operation.replace('_', ' ')}")


def _filters(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"Name": name, "Values": value if isinstance(value, list) else [value]}
        for name, value in values.items()
    ]


def _tags(resource: dict[str, Any] | None) -> dict[str, str]:
    return boto3_tag_list_to_ansible_dict((resource or {}).get("Tags", []))


def _policy(value: Any) -> dict[str, Any] | None:
    return json.loads(value) if isinstance(value, str) and value else value or None


def service_name(service: str, region: str) -> str:
    return service if "." in service else f"com.amazonaws.{region}.{service}"


def egress_rules(group: dict[str, Any] | None) -> dict[tuple[str, int | None, int | None, str], str | None]:
    """IPv4 egress rules, one entry per (protocol, from, to, CIDR) => description; other kinds of
    destinations (IPv6, prefix lists, groups) are keyed by their own id so they can be revoked."""
    rules: dict[tuple[str, int | None, int | None, str], str | None] = {}
    for permission in (group or {}).get("IpPermissionsEgress", []):
        proto = PROTOCOLS.get(str(permission.get("IpProtocol")), str(permission.get("IpProtocol")))
        ports = (None, None) if proto == "-1" else (permission.get("FromPort"), permission.get("ToPort"))
        for entry, field in (
            *((r, "CidrIp") for r in permission.get("IpRanges", [])),
            *((r, "CidrIpv6") for r in permission.get("Ipv6Ranges", [])),
            *((r, "PrefixListId") for r in permission.get("PrefixListIds", [])),
            *((r, "GroupId") for r in permission.get("UserIdGroupPairs", [])),
        ):
            destination = entry[field] if field == "CidrIp" else f"{field}:{entry[field]}"
            rules[(proto, *ports, destination)] = entry.get("Description")
    return rules


def wanted_egress(spec: dict[str, Any]) -> dict[tuple[str, int | None, int | None, str], str | None]:
    rules: dict[tuple[str, int | None, int | None, str], str | None] = {}
    for rule in spec.get("egress") or []:
        proto = PROTOCOLS[str(rule["proto"]).lower()]
        ports = (None, None) if proto == "-1" else (rule["from_port"], rule["to_port"])
        for cidr in rule["cidr_ips"]:
            rules[(proto, *ports, cidr)] = rule.get("description")
    return rules


def ip_permission(key: tuple[str, int | None, int | None, str], description: str | None) -> dict[str, Any]:
    proto, from_port, to_port, destination = key
    permission: dict[str, Any] = {"IpProtocol": proto}
    if proto != "-1":
        permission.update(FromPort=from_port, ToPort=to_port)
    field, value = destination.split(":", 1) if ":" in destination else ("CidrIp", destination)
    entry: dict[str, Any] = {field: value}
    if description and field != "PrefixListId":
        entry["Description"] = description
    kind = {
        "CidrIp": "IpRanges",
        "CidrIpv6": "Ipv6Ranges",
        "PrefixListId": "PrefixListIds",
        "GroupId": "UserIdGroupPairs",
    }
    permission[kind[field]] = [entry]
    return permission


def rule_text(key: tuple[str, int | None, int | None, str]) -> str:
    proto, from_port, to_port, destination = key
    ports = "" if proto == "-1" else f" {from_port}" + ("" if from_port == to_port else f"-{to_port}")
    return f"{'all' if proto == '-1' else proto}{ports} to {destination}"


def input_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the arguments, found before any AWS call."""
    errors: list[str] = []
    try:
        vpc = ipaddress.IPv4Network(params["cidr_block"])
    except ValueError as e:
        return [f"cidr_block: {e} (an IPv4 CIDR such as 10.0.0.0/16)"]
    seen: dict[str, set[str]] = {"cidr": set(), "name": set(), "route_table_name": set()}
    for index, subnet in enumerate(params["subnets"]):
        try:
            if not ipaddress.IPv4Network(subnet["cidr"]).subnet_of(vpc):
                errors.append(f"subnets[{index}].cidr: {subnet['cidr']} is not inside {params['cidr_block']}")
        except ValueError as e:
            errors.append(f"subnets[{index}].cidr: {e} (an IPv4 CIDR)")
        for key, values in seen.items():
            if subnet[key] in values:
                errors.append(f"subnets[{index}].{key}: {subnet[key]} is listed twice")
            values.add(subnet[key])
    for rule_index, rule in enumerate((params["security_group"] or {}).get("egress") or []):
        where = f"security_group.egress[{rule_index}]"
        proto = PROTOCOLS.get(str(rule["proto"]).lower())
        if proto is None:
            errors.append(f"{where}.proto: {rule['proto']} is not one of tcp, udp, icmp, -1")
        elif proto != "-1" and (rule["from_port"] is None or rule["to_port"] is None):
            errors.append(f"{where}: from_port and to_port are required for {proto}")
        for cidr in rule["cidr_ips"]:
            try:
                ipaddress.IPv4Network(cidr)
            except ValueError as e:
                errors.append(f"{where}.cidr_ips: {e} (IPv4 CIDRs)")
    services = [endpoint["service"] for endpoint in params["gateway_endpoints"]]
    errors.extend(
        f"gateway_endpoints: {service} is listed twice"
        for service in sorted({s for s in services if services.count(s) > 1})
    )
    for index, endpoint in enumerate(params["gateway_endpoints"]):
        try:
            _policy(endpoint["policy"])
        except ValueError as e:
            errors.append(f"gateway_endpoints[{index}].policy: not JSON ({e})")
    return errors


class Network:
    """The desired network against one read of each kind; changes are applied (or, in check
    mode, only predicted) resource by resource."""

    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        self.module = module
        self.client = client
        self.params = module.params
        self.check = module.check_mode
        self.changes: list[str] = []
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}
        self.dns_before: dict[str, bool] = {}
        self.ended: set[str] = set()  # route-table associations this run ended
        self.adopted: list[dict[str, str]] = []  # subnets kept (or placed) off their definition's zone

    # -- helpers -----------------------------------------------------------------------------

    def call(self, what: str, operation: str, **kwargs: Any) -> Any:
        return _api(self.module, what, getattr(self.client, operation), **kwargs)

    def note(self, verb: str, what: str) -> None:
        """One line per resource: "created X" / "updated X (what)", or "would create X" in check mode."""
        self.changes.append(f"would {verb} {what}" if self.check else f"{verb}d {what}")

    def wanted_tags(self, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**self.params["tags"], **(extra or {}), "Name": name}

    def spec(self, kind: str, name: str, extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
        return boto3_tag_specifications(self.wanted_tags(name, extra), [kind])

    def ensure_tags(
        self, resource_id: str | None, current: dict[str, str], wanted: dict[str, str]
    ) -> list[str]:
        """Bring the tags of an existing resource to `wanted`; the keys that differ."""
        to_set, to_unset = compare_aws_tags(current, wanted, self.params["purge_tags"])
        if self.check or resource_id is None:
            return sorted([*to_set, *to_unset])
        if to_unset:
            self.call(
                f"remove tags of {resource_id}",
                "delete_tags",
                Resources=[resource_id],
                Tags=[{"Key": k} for k in to_unset],
            )
        if to_set:
            self.call(
                f"tag {resource_id}",
                "create_tags",
                Resources=[resource_id],
                Tags=ansible_dict_to_boto3_tag_list(to_set),
            )
        return sorted([*to_set, *to_unset])

    def wait(self, waiter: str, **filters: str) -> None:
        """boto3's waiter, by filter: a new id EC2 does not know yet (eventual consistency) is an
        empty answer to wait on, where the id itself would be an InvalidVpcID.NotFound error."""
        try:
            self.client.get_waiter(waiter).wait(
                Filters=_filters(filters), WaiterConfig={"Delay": 2, "MaxAttempts": 90}
            )
        except (BotoCoreError, ClientError, WaiterError) as e:
            self.module.fail_json_aws(e, msg=f"Timed out waiting for {waiter.replace('_', ' ')}")

    # -- VPC ---------------------------------------------------------------------------------

    def vpc(self) -> str | None:
        name, cidr = self.params["name"], self.params["cidr_block"]
        vpcs = _read(
            self.module,
            self.client,
            "describe_vpcs",
            "Vpcs",
            Filters=_filters({"tag:Name": name, "cidr-block": cidr}),
        )
        vpcs = [v for v in vpcs if _tags(v).get("Name") == name]
        if len(vpcs) > 1:
            self.module.fail_json(
                msg=f"More than one VPC named {name} with CIDR {cidr}: {[v['VpcId'] for v in vpcs]}"
            )
        wanted_tags = self.wanted_tags(name)
        if not vpcs:
            self.before["vpc"] = {}
            self.note("create", f"VPC {name}")
            vpc_id = None
            if not self.check:
                vpc_id = self.call(
                    "create the VPC", "create_vpc", CidrBlock=cidr, TagSpecifications=self.spec("vpc", name)
                )["Vpc"]["VpcId"]
                self.wait("vpc_available", **{"vpc-id": vpc_id})
                self.dns(vpc_id, new=True)
        else:
            vpc_id = vpcs[0]["VpcId"]
            self.before["vpc"] = {"id": vpc_id, "cidr_block": cidr, "tags": _tags(vpcs[0])}
            what = [*self.dns(vpc_id, new=False)]
            if self.ensure_tags(vpc_id, _tags(vpcs[0]), wanted_tags):
                what.append("tags")
            if what:
                self.note("update", f"VPC {name} ({', '.join(what)})")
            self.before["vpc"].update(self.dns_before)
        self.after["vpc"] = {"id": vpc_id, "cidr_block": cidr, "tags": wanted_tags, **self.dns_wanted()}
        return vpc_id

    def dns_wanted(self) -> dict[str, bool]:
        return {
            attribute: self.params[option]
            for attribute, option in (
                ("enableDnsSupport", "dns_support"),
                ("enableDnsHostnames", "dns_hostnames"),
            )
            if self.params[option] is not None
        }

    def dns_value(self, vpc_id: str, attribute: str) -> bool:
        answer = self.call(
            f"read {attribute} of {vpc_id}", "describe_vpc_attribute", VpcId=vpc_id, Attribute=attribute
        )
        return bool(answer[attribute[0].upper() + attribute[1:]]["Value"])

    def dns(self, vpc_id: str, new: bool) -> list[str]:
        """Set DNS support/hostnames as wanted (one read per managed attribute); what differed."""
        self.dns_before = {}
        differing = []
        for attribute, value in self.dns_wanted().items():
            current = self.dns_value(vpc_id, attribute)
            self.dns_before[attribute] = current
            if current == value:
                continue
            differing.append(attribute)
            if not self.check:
                self.call(
                    f"set {attribute} of {vpc_id}",
                    "modify_vpc_attribute",
                    VpcId=vpc_id,
                    **{attribute[0].upper() + attribute[1:]: {"Value": value}},
                )
                self.wait_attribute(vpc_id, attribute, value)
        return differing

    def wait_attribute(self, vpc_id: str, attribute: str, value: bool) -> None:
        deadline = time.monotonic() + ATTRIBUTE_WAIT_SECONDS
        while self.dns_value(vpc_id, attribute) != value:
            if time.monotonic() > deadline:
                self.module.fail_json(msg=f"{attribute} of {vpc_id} did not become {value}")
            time.sleep(2)

    # -- subnets -----------------------------------------------------------------------------

    def subnets(self, vpc_id: str | None) -> list[str | None]:
        existing = {}
        if vpc_id:
            for subnet in _read(
                self.module, self.client, "describe_subnets", "Subnets", Filters=_filters({"vpc-id": vpc_id})
            ):
                existing[subnet["CidrBlock"]] = subnet
        self.before["subnets"], self.after["subnets"] = {}, {}
        zones = self.plan_zones(existing)
        return [
            self.subnet(vpc_id, wanted, existing.get(wanted["cidr"]), zones[wanted["cidr"]])
            for wanted in self.params["subnets"]
        ]

    def plan_zones(self, existing: dict[str, dict[str, Any]]) -> dict[str, str]:
        """The zone of each subnet (by CIDR), decided before any change.

        An existing subnet stays where it is: in its definition's zone, or adopted in another one of
        adoptable_zones that no other subnet of the list is in (else the run fails: a subnet cannot
        move). A subnet to create goes to its definition's zone, unless an adopted subnet holds it:
        then to the first adoptable zone no subnet of the list uses or is meant for.
        """
        adoptable = self.params["adoptable_zones"]
        wanted_subnets = self.params["subnets"]
        found = [(w, existing[w["cidr"]]) for w in wanted_subnets if w["cidr"] in existing]
        holders: dict[str, list[str]] = {}
        for wanted, subnet in found:
            holders.setdefault(subnet["AvailabilityZone"], []).append(wanted["cidr"])
        zones: dict[str, str] = {}
        adopted_zones: dict[str, str] = {}
        for wanted, subnet in found:
            cidr, zone, definition = wanted["cidr"], subnet["AvailabilityZone"], wanted["availability_zone"]
            zones[cidr] = zone
            if zone == definition:
                continue
            where = f"The subnet {cidr} ({subnet['SubnetId']}) exists in {zone}, not in {definition}"
            if zone not in adoptable:
                allowed = ", ".join(adoptable)
                why = f" ({zone} is not one of the zones it may stay in: {allowed})" if adoptable else ""
                move = "a subnet cannot move; delete it or choose its zone."
                self.module.fail_json(msg=f"{where}{why}: {move}")
            others = [c for c in holders[zone] if c != cidr]
            if others:
                self.module.fail_json(
                    msg=f"{where}, and so is {', '.join(others)}: adopting it would put two subnets in "
                    "one zone; a subnet cannot move; delete one of them or choose their zones."
                )
            adopted_zones[zone] = cidr
            self.adopted.append(
                {
                    "name": wanted["name"],
                    "cidr": cidr,
                    "subnet_id": subnet["SubnetId"],
                    "availability_zone": zone,
                    "definition_zone": definition,
                    "reason": f"an existing subnet cannot move; {zone} is an availability zone of the region "
                    "and no other subnet is there",
                }
            )
        used = set(zones.values())
        for index, wanted in enumerate(wanted_subnets):
            cidr, definition = wanted["cidr"], wanted["availability_zone"]
            if cidr in zones:
                continue
            zone = definition
            if definition in adopted_zones:
                later = wanted_subnets[index + 1 :]
                meant = {w["availability_zone"] for w in later if w["cidr"] not in zones}
                free = [z for z in adoptable if z not in used and z not in meant]
                if not free:
                    self.module.fail_json(
                        msg=f"The subnet {cidr} is meant for {definition}, where the adopted subnet "
                        f"{adopted_zones[definition]} is, and no other zone of "
                        f"{', '.join(adoptable)} is free."
                    )
                zone = free[0]
                self.adopted.append(
                    {
                        "name": wanted["name"],
                        "cidr": cidr,
                        "subnet_id": "",
                        "availability_zone": zone,
                        "definition_zone": definition,
                        "reason": f"the adopted subnet {adopted_zones[definition]} is in {definition}; "
                        f"{zone} is the first free zone",
                    }
                )
            zones[cidr] = zone
            used.add(zone)
        return zones

    def subnet(
        self, vpc_id: str | None, wanted: dict[str, Any], subnet: dict[str, Any] | None, zone: str
    ) -> str | None:
        name, cidr = wanted["name"], wanted["cidr"]
        tags = self.wanted_tags(name, wanted["tags"])
        self.after["subnets"][cidr] = {
            "availability_zone": zone,
            "map_public_ip_on_launch": False,
            "tags": tags,
        }
        if zone != wanted["availability_zone"]:
            self.after["subnets"][cidr]["adopted"] = f"in {zone}, not in {wanted['availability_zone']}"
        if subnet is None:
            self.note("create", f"subnet {name} ({cidr}, {zone})")
            if self.check:
                return None
            created = self.call(
                f"create the subnet {cidr}",
                "create_subnet",
                VpcId=vpc_id,
                CidrBlock=cidr,
                AvailabilityZone=zone,
                TagSpecifications=self.spec("subnet", name, wanted["tags"]),
            )["Subnet"]
            self.wait("subnet_available", **{"subnet-id": created["SubnetId"]})
            if created.get("MapPublicIpOnLaunch"):
                self.no_public_ips(created["SubnetId"])
            return created["SubnetId"]
        subnet_id = subnet["SubnetId"]
        self.before["subnets"][cidr] = {
            "availability_zone": subnet["AvailabilityZone"],
            "map_public_ip_on_launch": subnet.get("MapPublicIpOnLaunch", False),
            "tags": _tags(subnet),
        }
        what = []
        if subnet.get("MapPublicIpOnLaunch"):
            what.append("map_public_ip_on_launch")
            if not self.check:
                self.no_public_ips(subnet_id)
        if self.ensure_tags(subnet_id, _tags(subnet), tags):
            what.append("tags")
        if what:
            self.note("update", f"subnet {name} ({', '.join(what)})")
        return subnet_id

    def no_public_ips(self, subnet_id: str) -> None:
        self.call(
            f"turn off public IPs on {subnet_id}",
            "modify_subnet_attribute",
            SubnetId=subnet_id,
            MapPublicIpOnLaunch={"Value": False},
        )

    # -- route tables ------------------------------------------------------------------------

    def route_tables(self, vpc_id: str | None, subnet_ids: list[str | None]) -> list[str | None]:
        tables = (
            _read(
                self.module,
                self.client,
                "describe_route_tables",
                "RouteTables",
                Filters=_filters({"vpc-id": vpc_id}),
            )
            if vpc_id
            else []
        )
        self.before["route_tables"], self.after["route_tables"] = {}, {}
        return [
            self.route_table(vpc_id, wanted, subnet_id, tables)
            for wanted, subnet_id in zip(self.params["subnets"], subnet_ids, strict=True)
        ]

    def route_table(
        self, vpc_id: str | None, wanted: dict[str, Any], subnet_id: str | None, tables: list[dict[str, Any]]
    ) -> str | None:
        name = wanted["route_table_name"]
        tags = self.wanted_tags(name)
        self.after["route_tables"][name] = {"subnet": wanted["cidr"], "tags": tags}
        named = [t for t in tables if _tags(t).get("Name") == name]
        if len(named) > 1:
            self.module.fail_json(
                msg=f"More than one route table named {name}: {[t['RouteTableId'] for t in named]}"
            )
        if not named:
            self.note("create", f"route table {name} for {wanted['cidr']}")
            if self.check:
                return None
            table_id = self.call(
                f"create the route table {name}",
                "create_route_table",
                VpcId=vpc_id,
                TagSpecifications=self.spec("route-table", name),
            )["RouteTable"]["RouteTableId"]
            self.associate(table_id, subnet_id, tables)
            return table_id
        table = named[0]
        table_id = table["RouteTableId"]
        associated = sorted(a["SubnetId"] for a in self.live_associations(table))
        self.before["route_tables"][name] = {"subnets": associated, "tags": _tags(table)}
        self.after["route_tables"][name]["subnets"] = [subnet_id or wanted["cidr"]]
        what = []
        if associated != [subnet_id]:
            what.append("subnet association")
            if not self.check:
                self.disassociate_others(table, subnet_id)
                self.associate(table_id, subnet_id, tables)
        if self.ensure_tags(table_id, _tags(table), tags):
            what.append("tags")
        if what:
            self.note("update", f"route table {name} ({', '.join(what)})")
        return table_id

    @staticmethod
    def live_associations(table: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            a
            for a in table.get("Associations", [])
            if not a.get("Main")
            and a.get("SubnetId")
            and a.get("AssociationState", {}).get("State", "associated") in LIVE_ASSOCIATION_STATES
        ]

    def disassociate_others(self, table: dict[str, Any], subnet_id: str | None) -> None:
        for association in self.live_associations(table):
            if association["SubnetId"] != subnet_id:
                self.disassociate(association, table["RouteTableId"])

    def disassociate(self, association: dict[str, Any], table_id: str) -> None:
        """End an association once (the answer read at the start does not show what this run ended)."""
        association_id = association["RouteTableAssociationId"]
        if association_id in self.ended:
            return
        self.call(
            f"disassociate {association['SubnetId']} from {table_id}",
            "disassociate_route_table",
            AssociationId=association_id,
        )
        self.ended.add(association_id)

    def associate(self, table_id: str, subnet_id: str | None, tables: list[dict[str, Any]]) -> None:
        """Associate the subnet with the table, first ending its association with another table."""
        for other in tables:
            for association in self.live_associations(other):
                ended = association["RouteTableAssociationId"] in self.ended
                if association["SubnetId"] != subnet_id or ended:
                    continue
                if other["RouteTableId"] == table_id:
                    return
                self.disassociate(association, other["RouteTableId"])
        self.call(
            f"associate {subnet_id} with {table_id}",
            "associate_route_table",
            RouteTableId=table_id,
            SubnetId=subnet_id,
        )

    # -- security group ----------------------------------------------------------------------

    def security_group(self, vpc_id: str | None) -> str | None:
        spec = self.params["security_group"]
        if not spec:
            return None
        name = spec["name"]
        groups = (
            _read(
                self.module,
                self.client,
                "describe_security_groups",
                "SecurityGroups",
                Filters=_filters({"vpc-id": vpc_id, "group-name": name}),
            )
            if vpc_id
            else []
        )
        tags, wanted = self.wanted_tags(name), wanted_egress(spec)
        self.after["security_group"] = {
            "ingress": [],
            "egress": sorted(rule_text(key) for key in wanted),
            "tags": tags,
        }
        if not groups:
            self.before["security_group"] = {}
            self.note("create", f"security group {name}")
            if self.check:
                return None
            group_id = self.call(
                f"create the security group {name}",
                "create_security_group",
                GroupName=name,
                Description=spec["description"],
                VpcId=vpc_id,
                TagSpecifications=self.spec("security-group", name),
            )["GroupId"]
            (group,) = self.call(f"read {group_id}", "describe_security_groups", GroupIds=[group_id])[
                "SecurityGroups"
            ]
            self.rules(group, wanted)
            return group_id
        group = groups[0]
        self.before["security_group"] = {
            "ingress": [
                rule_text(k) for k in egress_rules({"IpPermissionsEgress": group.get("IpPermissions", [])})
            ],
            "egress": sorted(rule_text(key) for key in egress_rules(group)),
            "tags": _tags(group),
        }
        if group.get("Description") != spec["description"]:
            self.module.warn(
                f"The description of {name} differs; AWS cannot change it (delete the group to renew it)."
            )
        what = self.rules(group, wanted)
        if self.ensure_tags(group["GroupId"], _tags(group), tags):
            what.append("tags")
        if what:
            self.note("update", f"security group {name} ({', '.join(what)})")
        return group["GroupId"]

    def rules(
        self, group: dict[str, Any], wanted: dict[tuple[str, int | None, int | None, str], str | None]
    ) -> list[str]:
        """No ingress, exactly the wanted egress; what differed."""
        group_id, what = group["GroupId"], []
        current = egress_rules(group)
        if group.get("IpPermissions"):
            what.append("ingress removed")
            if not self.check:
                self.call(
                    f"revoke the ingress of {group_id}",
                    "revoke_security_group_ingress",
                    GroupId=group_id,
                    IpPermissions=group["IpPermissions"],
                )
        missing = [key for key in wanted if key not in current]
        extra = [key for key in current if key not in wanted]
        described = [
            key for key in wanted if key in current and (current[key] or None) != (wanted[key] or None)
        ]
        if missing:
            what.append("egress added: " + ", ".join(rule_text(k) for k in missing))
            self.egress(
                "authorize_security_group_egress", group_id, [ip_permission(k, wanted[k]) for k in missing]
            )
        if described:
            what.append("egress descriptions")
            self.egress(
                "update_security_group_rule_descriptions_egress",
                group_id,
                [ip_permission(k, wanted[k]) for k in described],
            )
        if extra:
            what.append("egress removed: " + ", ".join(rule_text(k) for k in extra))
            self.egress("revoke_security_group_egress", group_id, [ip_permission(k, None) for k in extra])
        return what

    def egress(self, operation: str, group_id: str, permissions: list[dict[str, Any]]) -> None:
        if not self.check:
            self.call(
                f"{operation.replace('_', ' ')} of {group_id}",
                operation,
                GroupId=group_id,
                IpPermissions=permissions,
            )

    # -- gateway endpoints -------------------------------------------------------------------

    def endpoints(self, vpc_id: str | None, table_ids: list[str | None]) -> dict[str, str]:
        if not self.params["gateway_endpoints"]:
            return {}
        found: dict[str, list[dict[str, Any]]] = {}
        if vpc_id:
            for endpoint in _read(
                self.module,
                self.client,
                "describe_vpc_endpoints",
                "VpcEndpoints",
                Filters=_filters({"vpc-id": vpc_id, "vpc-endpoint-state": LIVE_ENDPOINT_STATES}),
            ):
                if endpoint.get("VpcEndpointType") == "Gateway":
                    found.setdefault(endpoint["ServiceName"], []).append(endpoint)
        self.before["gateway_endpoints"], self.after["gateway_endpoints"] = {}, {}
        ids = {}
        for wanted in self.params["gateway_endpoints"]:
            endpoint_id = self.endpoint(
                vpc_id, wanted, found.get(service_name(wanted["service"], self.module.region), []), table_ids
            )
            if endpoint_id:
                ids[wanted["service"]] = endpoint_id
        return ids

    def endpoint(
        self,
        vpc_id: str | None,
        wanted: dict[str, Any],
        endpoints: list[dict[str, Any]],
        table_ids: list[str | None],
    ) -> str | None:
        service, name = service_name(wanted["service"], self.module.region), wanted["name"]
        policy, tags = _policy(wanted["policy"]), self.wanted_tags(name)
        known_tables = sorted(t for t in table_ids if t)
        self.after["gateway_endpoints"][wanted["service"]] = {
            "route_table_ids": known_tables,
            "policy": policy,
            "tags": tags,
        }
        if len(endpoints) > 1:
            ids = [e["VpcEndpointId"] for e in endpoints]
            self.module.fail_json(msg=f"More than one gateway endpoint for {service} in the VPC: {ids}")
        if not endpoints:
            self.note("create", f"gateway endpoint {wanted['service']}")
            if self.check:
                return None
            params: dict[str, Any] = {
                "RouteTableIds": known_tables,
                "TagSpecifications": self.spec("vpc-endpoint", name),
            }
            if policy is not None:
                params["PolicyDocument"] = json.dumps(policy)
            return self.call(
                f"create the gateway endpoint of {service}",
                "create_vpc_endpoint",
                VpcEndpointType="Gateway",
                VpcId=vpc_id,
                ServiceName=service,
                **params,
            )["VpcEndpoint"]["VpcEndpointId"]
        endpoint = endpoints[0]
        endpoint_id, have = endpoint["VpcEndpointId"], set(endpoint.get("RouteTableIds", []))
        self.before["gateway_endpoints"][wanted["service"]] = {
            "route_table_ids": sorted(have),
            "policy": _policy(endpoint.get("PolicyDocument")),
            "tags": _tags(endpoint),
        }
        changes: dict[str, Any] = {}
        if policy is not None and compare_policies(_policy(endpoint.get("PolicyDocument")), policy):
            changes["PolicyDocument"] = json.dumps(policy)
        want = set(known_tables)
        if want - have:
            changes["AddRouteTableIds"] = sorted(want - have)
        if have - want:
            changes["RemoveRouteTableIds"] = sorted(have - want)
        # A route table still to be created (check mode) is a change too.
        what = ["policy"] if "PolicyDocument" in changes else []
        if set(changes) - {"PolicyDocument"} or None in table_ids:
            what.append("route tables")
        if changes and not self.check:
            self.call(f"modify {endpoint_id}", "modify_vpc_endpoint", VpcEndpointId=endpoint_id, **changes)
        if self.ensure_tags(endpoint_id, _tags(endpoint), tags):
            what.append("tags")
        if what:
            self.note("update", f"gateway endpoint {wanted['service']} ({', '.join(what)})")
        return endpoint_id

    # -- all ---------------------------------------------------------------------------------

    def converge(self) -> dict[str, Any]:
        vpc_id = self.vpc()
        subnet_ids = self.subnets(vpc_id)
        table_ids = self.route_tables(vpc_id, subnet_ids)
        group_id = self.security_group(vpc_id)
        endpoint_ids = self.endpoints(vpc_id, table_ids)
        result: dict[str, Any] = {
            "changed": bool(self.changes),
            "vpc_id": vpc_id or "",
            "subnet_ids": [s for s in subnet_ids if s],
            "route_table_ids": [t for t in table_ids if t],
            "security_group_id": group_id or "",
            "vpc_endpoint_ids": endpoint_ids,
            "adopted": self.adopted,
            "changes": self.changes,
        }
        if self.changes:
            result["msg"] = "; ".join(result["changes"])
        if self.module._diff:
            result["diff"] = {"before": self.before, "after": self.after}
        return result


def main() -> None:
    egress = {
        "proto": {"type": "str", "default": "tcp"},
        "from_port": {"type": "int"},
        "to_port": {"type": "int"},
        "cidr_ips": {"type": "list", "elements": "str", "required": True},
        "description": {"type": "str"},
    }
    share_botocore()
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "cidr_block": {"type": "str", "required": True},
            "dns_support": {"type": "bool", "default": True},
            "dns_hostnames": {"type": "bool", "default": True},
            "tags": {"type": "dict", "default": {}, "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
            "adoptable_zones": {"type": "list", "elements": "str", "default": []},
            "subnets": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "cidr": {"type": "str", "required": True},
                    "availability_zone": {"type": "str", "required": True},
                    "name": {"type": "str", "required": True},
                    "tags": {"type": "dict", "default": {}},
                    "route_table_name": {"type": "str", "required": True},
                },
            },
            "security_group": {
                "type": "dict",
                "options": {
                    "name": {"type": "str", "required": True},
                    "description": {"type": "str", "required": True},
                    "egress": {"type": "list", "elements": "dict", "default": [], "options": egress},
                },
            },
            "gateway_endpoints": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "service": {"type": "str", "required": True},
                    "name": {"type": "str", "required": True},
                    "policy": {"type": "json"},
                },
            },
        },
        supports_check_mode=True,
    )
    errors = input_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client(
        "ec2", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=NOT_YET_CODES)
    )
    module.exit_json(**Network(module, client).converge())


if __name__ == "__main__":
    main()
