"""Unit tests for secureinfra.baseline.availability_zones against in-process moto."""

from __future__ import annotations

import boto3
from ansible_collections.secureinfra.baseline.plugins.modules import availability_zones as mod


def test_returns_the_region_zones_in_snake_case_by_name(run_module, aws) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    expected = sorted(zone["ZoneName"] for zone in ec2.describe_availability_zones()["AvailabilityZones"])
    result = run_module(mod, {})
    assert result["changed"] is False
    assert [zone["zone_name"] for zone in result["availability_zones"]] == expected
    zones = result["availability_zones"]
    assert all(zone["zone_id"] and zone["region_name"] == "us-east-1" for zone in zones)


def test_filters_are_ec2_filters_with_dashes(run_module, aws) -> None:
    result = run_module(mod, {"filters": {"zone_name": ["us-east-1b", "us-east-1c"], "state": "available"}})
    assert [zone["zone_name"] for zone in result["availability_zones"]] == ["us-east-1b", "us-east-1c"]
    expected = [{"Name": "zone-type", "Values": ["availability-zone"]}]
    assert mod.api_filters({"zone-type": "availability-zone"}) == expected
