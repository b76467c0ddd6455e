#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vpc_gateway_endpoint
short_description: Manage a gateway VPC endpoint (S3, DynamoDB), its policy and its route tables
version_added: 0.1.0
description:
  - Finds the gateway endpoint of a service in a VPC, creates it when missing, and brings its
    endpoint policy, route tables and tags to the desired state, with check mode and diff.
  - M(amazon.aws.ec2_vpc_endpoint) only updates the tags of an existing endpoint, so a changed
    endpoint policy or route-table list is never applied (or reported) by it.
options:
  vpc_id:
    description: The VPC.
    type: str
    required: true
  service:
    description: Service name, for example C(com.amazonaws.us-east-1.s3).
    type: str
    required: true
  route_table_ids:
    description: The exact route tables the endpoint is attached to.
    type: list
    elements: str
    default: []
  policy:
    description: The endpoint policy (a dict or JSON string). Omit for the default full-access policy.
    type: json
  tags:
    description: Tags of the endpoint.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not in O(tags).
    type: bool
    default: true
  state:
    description: C(absent) deletes the endpoint.
    type: str
    choices: [present, absent]
    default: present
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: S3 gateway endpoint limited to the project's buckets
  secureinfra.baseline.vpc_gateway_endpoint:
    vpc_id: vpc-0123456789abcdef0
    service: com.amazonaws.us-east-1.s3
    route_table_ids: [rtb-01, rtb-02]
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: "*"
          Action: s3:GetObject
          Resource: arn:aws:s3:::my-prefix-*/*
    tags:
      Name: my-vpc-s3
"""

RETURN = r"""
vpc_endpoint_id:
  description: Id of the endpoint (absent in check mode when it would be created).
  returned: when present
  type: str
route_table_ids:
  description: Route tables of the endpoint after the call.
  returned: always
  type: list
  elements: str
policy:
  description: The endpoint policy after the call.
  returned: always
  type: dict
"""

import contextlib
import json
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import ensure_ec2_tags
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_specifications
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

LIVE_STATES = ["pending", "available", "pendingAcceptance"]


def find_endpoint(module: AnsibleAWSModule, client: Any) -> dict[str, Any] | None:
    filters = [
        {"Name": "vpc-id", "Values": [module.params["vpc_id"]]},
        {"Name": "service-name", "Values": [module.params["service"]]},
        {"Name": "vpc-endpoint-state", "Values": LIVE_STATES},
    ]
    try:
        pages = client.get_paginator("describe_vpc_endpoints").paginate(Filters=filters)
        endpoints = [
            e for page in pages for e in page["VpcEndpoints"] if e.get("VpcEndpointType") == "Gateway"
        ]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to describe the VPC endpoints")
    if len(endpoints) > 1:
        ids = [e["VpcEndpointId"] for e in endpoints]
        module.fail_json(
            msg=f"More than one gateway endpoint for {module.params['service']} in the VPC: {ids}"
        )
    return endpoints[0] if endpoints else None


def policy_of(endpoint: dict[str, Any] | None) -> dict[str, Any] | None:
    document = (endpoint or {}).get("PolicyDocument")
    return json.loads(document) if isinstance(document, str) and document else document


def wanted_policy(module: AnsibleAWSModule) -> dict[str, Any] | None:
    policy = module.params["policy"]
    return json.loads(policy) if isinstance(policy, str) else policy


def create(module: AnsibleAWSModule, client: Any) -> str | None:
    if module.check_mode:
        return None
    params: dict[str, Any] = {
        "VpcEndpointType": "Gateway",
        "VpcId": module.params["vpc_id"],
        "ServiceName": module.params["service"],
        "RouteTableIds": module.params["route_table_ids"],
    }
    if module.params["policy"]:
        params["PolicyDocument"] = json.dumps(wanted_policy(module))
    if module.params["tags"]:
        params["TagSpecifications"] = boto3_tag_specifications(module.params["tags"], ["vpc-endpoint"])
    try:
        return client.create_vpc_endpoint(**params)["VpcEndpoint"]["VpcEndpointId"]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to create the VPC endpoint")


def modify(module: AnsibleAWSModule, client: Any, endpoint: dict[str, Any]) -> bool:
    """Apply policy and route-table differences; True when something differed."""
    params: dict[str, Any] = {}
    wanted = wanted_policy(module)
    if wanted is not None and compare_policies(policy_of(endpoint), wanted):
        params["PolicyDocument"] = json.dumps(wanted)
    have = set(endpoint.get("RouteTableIds", []))
    want = set(module.params["route_table_ids"])
    if want - have:
        params["AddRouteTableIds"] = sorted(want - have)
    if have - want:
        params["RemoveRouteTableIds"] = sorted(have - want)
    if params and not module.check_mode:
        try:
            client.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"], **params)
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Failed to modify {endpoint['VpcEndpointId']}")
    return bool(params)


def delete(module: AnsibleAWSModule, client: Any, endpoint: dict[str, Any]) -> None:
    if module.check_mode:
        return
    try:
        client.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to delete {endpoint['VpcEndpointId']}")


def view(endpoint: dict[str, Any] | None) -> dict[str, Any]:
    if not endpoint:
        return {}
    return {"route_table_ids": sorted(endpoint.get("RouteTableIds", [])), "policy": policy_of(endpoint)}


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(
        argument_spec={
            "vpc_id": {"type": "str", "required": True},
            "service": {"type": "str", "required": True},
            "route_table_ids": {"type": "list", "elements": "str", "default": []},
            "policy": {"type": "json"},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        supports_check_mode=True,
    )
    client = module.client("ec2")
    endpoint = find_endpoint(module, client)
    before = view(endpoint)
    result: dict[str, Any] = {"changed": False}
    if module.params["state"] == "absent":
        if endpoint:
            delete(module, client, endpoint)
            result["changed"] = True
        after: dict[str, Any] = {}
    elif endpoint is None:
        result["vpc_endpoint_id"] = create(module, client)
        result["changed"] = True
        after = {"route_table_ids": sorted(module.params["route_table_ids"]), "policy": wanted_policy(module)}
    else:
        result["changed"] = modify(module, client, endpoint)
        if module.params["tags"] is not None:
            result["changed"] |= ensure_ec2_tags(
                client,
                module,
                endpoint["VpcEndpointId"],
                "vpc-endpoint",
                module.params["tags"],
                module.params["purge_tags"],
            )
        result["vpc_endpoint_id"] = endpoint["VpcEndpointId"]
        after = {
            "route_table_ids": sorted(module.params["route_table_ids"]),
            "policy": wanted_policy(module) if module.params["policy"] else before.get("policy"),
        }
    result.update(after)
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
