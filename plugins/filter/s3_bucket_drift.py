# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Filter `s3_bucket_drift`: what amazon.aws.s3_bucket would change on a bucket.

amazon.aws.s3_bucket has no check mode. In a dry run the storage role reads the
bucket with amazon.aws.s3_bucket_info and this filter compares it with the
settings the role asks for, so the play can still predict the change.
"""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.secureinfra.baseline.plugins.module_utils import s3_settings as s3s

DOCUMENTATION = r"""
name: s3_bucket_drift
short_description: List the settings of an S3 bucket that differ from the desired ones
version_added: 0.1.0
author:
  - Secureinfra Platform Team (@secureinfra)
description:
  - Takes one bucket as returned by M(amazon.aws.s3_bucket_info) (with bucket_facts for versioning,
    public_access_block, bucket_policy, bucket_tagging and bucket_ownership_controls) and a dict of
    desired settings; returns the names of the settings that differ,
    or C([bucket]) when the bucket is missing.
options:
  _input:
    description: The bucket from s3_bucket_info (an empty dict when it does not exist).
    type: dict
    required: true
  desired:
    description: Desired settings, keys among versioning, public_access_block, policy, tags, object_ownership.
    type: dict
    required: true
"""

EXAMPLES = r"""
drift: "{{ info.buckets[0] | secureinfra.baseline.s3_bucket_drift({'versioning': 'Enabled'}) }}"
"""

RETURN = r"""
_value:
  description: Names of the drifted settings, in a fixed order.
  type: list
  elements: str
"""


def _versioning(bucket: dict[str, Any]) -> str:
    return s3s.versioning_view(bucket.get("bucket_versioning"))


def _public_access_block(bucket: dict[str, Any]) -> bool:
    config = (bucket.get("public_access_block") or {}).get("PublicAccessBlockConfiguration")
    return all(s3s.public_access_block_view(config).values())


def _policy(bucket: dict[str, Any]) -> Any:
    return s3s.parse_policy((bucket.get("bucket_policy") or {}).get("Policy"))


def _tags(bucket: dict[str, Any]) -> dict[str, str]:
    return dict(bucket.get("bucket_tagging") or {})


def _object_ownership(bucket: dict[str, Any]) -> str | None:
    return s3s.ownership_view(bucket.get("bucket_ownership_controls"))


def s3_bucket_drift(bucket: dict[str, Any] | None, desired: dict[str, Any]) -> list[str]:
    """Names of the desired settings that the bucket does not have yet."""
    if not bucket:
        return ["bucket"]
    current = {
        "versioning": _versioning(bucket),
        "public_access_block": _public_access_block(bucket),
        "policy": _policy(bucket),
        "tags": _tags(bucket),
        "object_ownership": _object_ownership(bucket),
    }
    return [key for key in current if key in desired and _differs(key, desired[key], current[key])]


def _differs(key: str, wanted: Any, have: Any) -> bool:
    if key == "policy":
        # The same comparison amazon.aws.s3_bucket makes ("*" == {"AWS": "*"}, order-insensitive).
        return s3s.policy_differs(have, wanted)
    return _normal(wanted) != _normal(have)


def _normal(value: Any) -> Any:
    """Compare JSON documents by value (policies may come back as strings)."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        return json.loads(value)
    return value


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"s3_bucket_drift": s3_bucket_drift}
