"""secureinfra.baseline.vpc_gateway_endpoint against in-process moto."""

from __future__ import annotations

import json

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import vpc_gateway_endpoint as mod

SERVICE = "com.amazonaws.us-east-1.s3"


def _policy(resource: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resource}],
    }


@pytest.fixture
def net(aws):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in range(3)]
    return ec2, vpc, tables


def _endpoints(ec2, vpc):
    return ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]


def _args(vpc, tables, **kw):
    return {
        "vpc_id": vpc,
        "service": SERVICE,
        "route_table_ids": tables,
        "policy": _policy("arn:aws:s3:::a-*/*"),
        "tags": {"Name": "ep"},
        **kw,
    }


def test_create_then_idempotent(net, run_module):
    ec2, vpc, tables = net
    first = run_module(mod, _args(vpc, tables[:2]))
    assert first["changed"] is True
    (endpoint,) = _endpoints(ec2, vpc)
    assert endpoint["VpcEndpointId"] == first["vpc_endpoint_id"]
    assert sorted(endpoint["RouteTableIds"]) == sorted(tables[:2])
    assert json.loads(endpoint["PolicyDocument"]) == _policy("arn:aws:s3:::a-*/*")
    assert {t["Key"]: t["Value"] for t in endpoint["Tags"]} == {"Name": "ep"}
    again = run_module(mod, _args(vpc, list(reversed(tables[:2]))))
    assert again["changed"] is False
    assert len(_endpoints(ec2, vpc)) == 1


def test_policy_and_route_tables_are_updated(net, run_module):
    ec2, vpc, tables = net
    run_module(mod, _args(vpc, tables[:2]))
    result = run_module(mod, _args(vpc, tables[1:], policy=_policy("arn:aws:s3:::b-*/*")), diff=True)
    assert result["changed"] is True
    (endpoint,) = _endpoints(ec2, vpc)
    assert sorted(endpoint["RouteTableIds"]) == sorted(tables[1:])
    assert json.loads(endpoint["PolicyDocument"]) == _policy("arn:aws:s3:::b-*/*")
    assert result["diff"]["before"]["route_table_ids"] == sorted(tables[:2])


def test_tags_are_updated(net, run_module):
    ec2, vpc, tables = net
    run_module(mod, _args(vpc, tables[:2]))
    assert run_module(mod, _args(vpc, tables[:2], tags={"Name": "ep", "Owner": "me"}))["changed"] is True
    (endpoint,) = _endpoints(ec2, vpc)
    assert {t["Key"]: t["Value"] for t in endpoint["Tags"]} == {"Name": "ep", "Owner": "me"}


def test_check_mode_writes_nothing(net, run_module):
    ec2, vpc, tables = net
    assert run_module(mod, _args(vpc, tables[:2]), check_mode=True)["changed"] is True
    assert _endpoints(ec2, vpc) == []
    run_module(mod, _args(vpc, tables[:2]))
    changed = _args(vpc, tables, policy=_policy("arn:aws:s3:::c-*/*"), tags={"Name": "other"})
    assert run_module(mod, changed, check_mode=True)["changed"] is True
    (endpoint,) = _endpoints(ec2, vpc)
    assert sorted(endpoint["RouteTableIds"]) == sorted(tables[:2])
    assert json.loads(endpoint["PolicyDocument"]) == _policy("arn:aws:s3:::a-*/*")
    assert {t["Key"]: t["Value"] for t in endpoint["Tags"]} == {"Name": "ep"}


def test_absent(net, run_module):
    ec2, vpc, tables = net
    run_module(mod, _args(vpc, tables[:2]))
    assert run_module(mod, _args(vpc, tables[:2], state="absent"), check_mode=True)["changed"] is True
    assert len(_endpoints(ec2, vpc)) == 1
    assert run_module(mod, _args(vpc, tables[:2], state="absent"))["changed"] is True
    assert [e for e in _endpoints(ec2, vpc) if e["State"] not in ("deleted", "deleting")] == []


def test_two_endpoints_for_one_service_are_refused(net, run_module):
    ec2, vpc, tables = net
    for table in tables[:2]:
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=SERVICE, VpcEndpointType="Gateway", RouteTableIds=[table]
        )
    result = run_module(mod, _args(vpc, tables[:2]), expect_failure=True)
    assert "More than one gateway endpoint" in result["msg"]
