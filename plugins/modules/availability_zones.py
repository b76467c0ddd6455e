#!/usr/bin/python
# Copyright: secureinfra platform team
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: availability_zones
short_description: A region's availability zones (EC2 DescribeAvailabilityZones)
version_added: 0.3.0
description:
  - Calls EC2 C(DescribeAvailabilityZones) with the given filters and returns the zones, in the
    shape of M(amazon.aws.aws_az_info)'s C(availability_zones).
  - It shares its boto3 session and client with the collection's other modules in a long-lived
    interpreter (mitogen), so it does not parse EC2's service model (the largest of botocore's) again.
author:
  - Secureinfra Platform Team (@secureinfra)
notes:
  - Permission C(ec2:DescribeAvailabilityZones).
  - U(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html)
options:
  filters:
    description:
      - Filters of C(DescribeAvailabilityZones), a name and a value or a list of values each, such
        as C(zone-type) and C(state). Underscores in a name are read as dashes, as
        M(amazon.aws.aws_az_info) does.
    type: dict
    default: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes.read_only
"""

EXAMPLES = r"""
- name: The region's availability zones (no Local or Wavelength Zones)
  secureinfra.baseline.availability_zones:
    filters:
      zone-type: availability-zone
      state: available
  register: zones
"""

RETURN = r"""
availability_zones:
  description: The zones, as EC2 describes them, in snake_case, ordered by zone name.
  returned: success
  type: list
  elements: dict
  contains:
    zone_name:
      description: The zone's name, which can map to another physical zone in another account.
      type: str
      sample: us-east-1a
    zone_id:
      description: The zone's id, the same physical zone in every account.
      type: str
      sample: use1-az1
    zone_type:
      description: C(availability-zone), C(local-zone) or C(wavelength-zone).
      type: str
      sample: availability-zone
    state:
      description: The zone's state.
      type: str
      sample: available
    region_name:
      description: The zone's region.
      type: str
      sample: us-east-1
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore


def api_filters(filters: dict[str, Any]) -> list[dict[str, Any]]:
    """The module's filters as EC2's Filters: Name (underscores read as dashes) and a list of Values."""
    values = {name: value if isinstance(value, list) else [value] for name, value in filters.items()}
    return [{"Name": name.replace("_", "-"), "Values": [str(v) for v in vs]} for name, vs in values.items()]


def zones(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    try:
        filters = api_filters(module.params["filters"])
        answer = client.describe_availability_zones(aws_retry=True, Filters=filters)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to describe the region's availability zones")
    found = sorted(answer.get("AvailabilityZones", []), key=lambda zone: zone.get("ZoneName", ""))
    return {"changed": False, "availability_zones": [camel_dict_to_snake_dict(zone) for zone in found]}


def main() -> None:
    share_botocore()
    argument_spec = {"filters": {"type": "dict", "default": {}}}
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**zones(module, client))


if __name__ == "__main__":
    main()
