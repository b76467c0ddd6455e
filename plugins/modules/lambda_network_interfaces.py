#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lambda_network_interfaces
short_description: Wait for Lambda to release the interfaces of deleted VPC functions, delete those it left
version_added: 0.3.0
description:
  - Lists the network interfaces Lambda made in a VPC for VPC functions (description
    C(AWS Lambda VPC ENI-*), requester-managed), optionally only those in the security groups
    O(security_group_names). An C(available) one (Lambda has released it but not deleted it) is
    deleted (C(DeleteNetworkInterface)); while one is C(in-use) (Lambda still holds it), the list is
    read again after a wait that doubles up to 30 seconds, for up to O(wait_timeout) seconds. The
    run fails, naming them, if interfaces are still in use then.
  - Why - Lambda deletes the interfaces of deleted functions some minutes later, with the execution
    role of the function that created them; when that role was deleted first it only releases them
    and they stay C(available), and their subnets and security group cannot be deleted
    (C(DependencyViolation)) until they are deleted by hand
    (U(https://docs.aws.amazon.com/lambda/latest/dg/foundation-networking.html#foundation-nw-eni-delete),
    U(https://repost.aws/knowledge-center/lambda-eni-find-delete)).
  - No upstream module waits for Lambda; M(amazon.aws.ec2_eni) deletes one interface by id.
  - In check mode only the list is read, nothing is waited for; the C(available) interfaces are
    reported as to be deleted, the C(in-use) ones as held by Lambda.
options:
  vpc_id:
    description: The VPC.
    type: str
    required: true
  security_group_names:
    description:
      - Only interfaces in one of these security groups (by name).
      - Empty - every Lambda interface of the VPC.
    type: list
    elements: str
    default: []
  state:
    description: C(absent) - no Lambda interface left. The only state.
    type: str
    choices: [absent]
    default: absent
  wait_timeout:
    description:
      - Seconds to wait, across all waits, while Lambda still holds an interface (C(in-use)).
      - C(0) does not wait. Lambda takes up to 20 minutes (more when it is busy).
    type: int
    default: 2700
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Network interfaces Lambda left in the VPC (before the security group and subnets go)
  secureinfra.baseline.lambda_network_interfaces:
    vpc_id: vpc-0123456789abcdef0
    security_group_names: [baseline-functions]
    wait_timeout: 2700
"""

RETURN = r"""
deleted:
  description: Ids of the interfaces deleted (to be deleted, in check mode).
  returned: always
  type: list
  elements: str
  sample: [eni-0123456789abcdef0]
held:
  description: Ids of the interfaces Lambda still held at the end (in check mode, those it holds now).
  returned: always
  type: list
  elements: str
waited_seconds:
  description: Seconds spent waiting for Lambda.
  returned: always
  type: float
diff:
  description: The Lambda interfaces of the VPC before and after, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
  contains:
    before:
      description: C({network_interfaces}) - the ids found first.
      type: dict
    after:
      description: The same after the run (predicted in check mode).
      type: dict
"""

import contextlib
import time
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.backoff import RetryPolicy, next_delay
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

LAMBDA_DESCRIPTION = "AWS Lambda VPC ENI*"
IN_USE = "in-use"
AVAILABLE = "available"
GONE = "InvalidNetworkInterfaceID.NotFound"
STILL_IN_USE = "InvalidNetworkInterface.InUse"


def lambda_interfaces(module: AnsibleAWSModule, client: Any) -> list[dict[str, Any]]:
    """Lambda's interfaces in the VPC (and in the named groups, when given)."""
    filters = [
        {"Name": "vpc-id", "Values": [module.params["vpc_id"]]},
        {"Name": "description", "Values": [LAMBDA_DESCRIPTION]},
    ]
    try:
        pages = client.get_paginator("describe_network_interfaces").paginate(Filters=filters)
        found = [eni for page in pages for eni in page.get("NetworkInterfaces") or []]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the network interfaces of {module.params['vpc_id']}")
    groups = set(module.params["security_group_names"])
    return [
        eni
        for eni in found
        if eni.get("RequesterManaged")
        and (not groups or groups & {g.get("GroupName") for g in eni.get("Groups") or []})
    ]


def with_status(interfaces: list[dict[str, Any]], status: str) -> list[str]:
    return sorted(eni["NetworkInterfaceId"] for eni in interfaces if eni.get("Status") == status)


def delete(module: AnsibleAWSModule, client: Any, eni_id: str) -> bool:
    """Delete one released interface; False when Lambda took it back or deleted it meanwhile."""
    try:
        client.delete_network_interface(aws_retry=True, NetworkInterfaceId=eni_id)
    except is_boto3_error_code([GONE, STILL_IN_USE]):
        return False
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to delete network interface {eni_id}")
    return True


def still_held_message(module: AnsibleAWSModule, held: list[str], waited: float) -> str:
    return (
        f"Lambda still holds network interface(s) {', '.join(held)} in {module.params['vpc_id']} after "
        f"{round(waited)} s (wait_timeout {module.params['wait_timeout']} s). Lambda deletes the "
        "interfaces of deleted functions with the execution role of the function that created them, "
        "some minutes after DeleteFunction; a function (or version) still configured with these "
        "subnets and security groups keeps them. Run again later, or raise wait_timeout."
    )


def check_mode_result(interfaces: list[dict[str, Any]]) -> dict[str, Any]:
    available, held = with_status(interfaces, AVAILABLE), with_status(interfaces, IN_USE)
    return {"changed": bool(available), "deleted": available, "held": held, "waited_seconds": 0.0}


def converge(module: AnsibleAWSModule, client: Any, interfaces: list[dict[str, Any]]) -> dict[str, Any]:
    policy = RetryPolicy(error_codes=(), timeout=float(module.params["wait_timeout"]), max_delay=30.0)
    deleted: list[str] = []
    start, attempt = time.monotonic(), 0
    while True:
        deleted += [eni for eni in with_status(interfaces, AVAILABLE) if delete(module, client, eni)]
        held = with_status(interfaces, IN_USE)
        if not held:
            break
        delay = next_delay(policy, attempt, time.monotonic() - start)
        if delay is None:
            waited = time.monotonic() - start
            module.fail_json(msg=still_held_message(module, held, waited), deleted=deleted, held=held)
        time.sleep(delay)
        attempt += 1
        interfaces = lambda_interfaces(module, client)
    waited = round(time.monotonic() - start, 1) if attempt else 0.0
    return {"changed": bool(deleted), "deleted": deleted, "held": [], "waited_seconds": waited}


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    interfaces = lambda_interfaces(module, client)
    before = sorted(eni["NetworkInterfaceId"] for eni in interfaces)
    result = check_mode_result(interfaces) if module.check_mode else converge(module, client, interfaces)
    if module._diff:
        after = result["held"] if module.check_mode else []
        result["diff"] = {"before": {"network_interfaces": before}, "after": {"network_interfaces": after}}
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(
        argument_spec={
            "vpc_id": {"type": "str", "required": True},
            "security_group_names": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["absent"], "default": "absent"},
            "wait_timeout": {"type": "int", "default": 2700},
        },
        supports_check_mode=True,
    )
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg=f"wait_timeout must be 0 or more seconds, got {module.params['wait_timeout']}")
    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
