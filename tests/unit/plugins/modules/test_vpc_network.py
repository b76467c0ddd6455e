"""secureinfra.baseline.vpc_network against in-process moto: one invocation converges the VPC, its
subnets, route tables, security group and gateway endpoints; reruns and check mode make no
mutating call, and a no-op makes one read per resource kind."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import vpc_network as mod

REGION = "us-east-1"
TAGS = {"Project": "p", "ManagedBy": "ansible"}


def _policy(resource: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resource}],
    }


def _args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "name": "net",
        "cidr_block": "10.0.0.0/16",
        "tags": TAGS,
        "subnets": [
            {
                "cidr": f"10.0.{i + 1}.0/24",
                "availability_zone": zone,
                "name": f"net-private-{i}",
                "route_table_name": f"net-private-{i}",
                "tags": {"Tier": "private"},
            }
            for i, zone in enumerate(("us-east-1a", "us-east-1b"))
        ],
        "security_group": {
            "name": "net-functions",
            "description": "functions",
            "egress": [
                {
                    "proto": "tcp",
                    "from_port": 443,
                    "to_port": 443,
                    "cidr_ips": ["0.0.0.0/0"],
                    "description": "HTTPS",
                }
            ],
        },
        "gateway_endpoints": [
            {"service": "s3", "name": "net-s3", "policy": _policy("arn:aws:s3:::a-*/*")},
            {"service": "dynamodb", "name": "net-dynamodb"},
        ],
    }
    args.update(overrides)
    return args


@pytest.fixture
def ec2(aws: None) -> Any:
    return boto3.client("ec2", region_name=REGION)


def _writes(seen: list[str]) -> list[str]:
    return [op for op in seen if not op.startswith("Describe")]


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def _vpc_filter(vpc_id: str) -> list[dict[str, Any]]:
    return [{"Name": "vpc-id", "Values": [vpc_id]}]


def _endpoints(ec2: Any, vpc_id: str) -> dict[str, dict[str, Any]]:
    found = ec2.describe_vpc_endpoints(Filters=_vpc_filter(vpc_id))["VpcEndpoints"]
    return {
        e["ServiceName"].rsplit(".", 1)[-1]: e for e in found if e["State"] not in ("deleted", "deleting")
    }


def _group(ec2: Any, group_id: str) -> dict[str, Any]:
    return ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]


def _table(ec2: Any, table_id: str) -> dict[str, Any]:
    return ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]


def test_create_everything_tagged_then_a_noop_reads_once_per_kind(ec2, calls, run_module) -> None:
    first = run_module(mod, _args())
    assert first["changed"] is True
    vpc = ec2.describe_vpcs(VpcIds=[first["vpc_id"]])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.0.0.0/16" and _tags(vpc) == {**TAGS, "Name": "net"}
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        answer = ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attribute)
        assert answer[attribute[0].upper() + attribute[1:]]["Value"] is True
    subnets = ec2.describe_subnets(SubnetIds=first["subnet_ids"])["Subnets"]
    by_id = {s["SubnetId"]: s for s in subnets}
    for index, subnet_id in enumerate(first["subnet_ids"]):
        subnet = by_id[subnet_id]
        assert subnet["CidrBlock"] == f"10.0.{index + 1}.0/24"
        assert subnet["AvailabilityZone"] == ("us-east-1a", "us-east-1b")[index]
        assert subnet["MapPublicIpOnLaunch"] is False
        assert _tags(subnet) == {**TAGS, "Tier": "private", "Name": f"net-private-{index}"}
        table = _table(ec2, first["route_table_ids"][index])
        assert _tags(table) == {**TAGS, "Name": f"net-private-{index}"}
        assert [a["SubnetId"] for a in table["Associations"] if not a.get("Main")] == [subnet_id]
        assert not [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    group = _group(ec2, first["security_group_id"])
    assert group["IpPermissions"] == []
    assert [(p["IpProtocol"], p["FromPort"], p["IpRanges"]) for p in group["IpPermissionsEgress"]] == [
        ("tcp", 443, [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS"}])
    ]
    assert _tags(group) == {**TAGS, "Name": "net-functions"}
    endpoints = _endpoints(ec2, vpc["VpcId"])
    assert first["vpc_endpoint_ids"] == {s: endpoints[s]["VpcEndpointId"] for s in ("s3", "dynamodb")}
    for service in ("s3", "dynamodb"):
        assert sorted(endpoints[service]["RouteTableIds"]) == sorted(first["route_table_ids"])
        assert _tags(endpoints[service]) == {**TAGS, "Name": f"net-{service}"}
    assert json.loads(endpoints["s3"]["PolicyDocument"]) == _policy("arn:aws:s3:::a-*/*")
    # every resource was created with its tags: no separate CreateTags call
    assert "CreateTags" not in calls
    calls.clear()

    again = run_module(mod, _args())
    assert again["changed"] is False, again["changes"]
    assert _writes(calls) == []
    assert sorted(calls) == sorted(
        [
            "DescribeVpcs",
            "DescribeVpcAttribute",
            "DescribeVpcAttribute",
            "DescribeSubnets",
            "DescribeRouteTables",
            "DescribeSecurityGroups",
            "DescribeVpcEndpoints",
        ]
    )
    assert {k: again[k] for k in ("vpc_id", "subnet_ids", "route_table_ids", "security_group_id")} == {
        k: first[k] for k in ("vpc_id", "subnet_ids", "route_table_ids", "security_group_id")
    }
    assert again["vpc_endpoint_ids"] == first["vpc_endpoint_ids"]
    # the endpoints' routes in the route tables survive the rerun
    for table_id in first["route_table_ids"]:
        assert [r for r in _table(ec2, table_id)["Routes"] if r.get("DestinationPrefixListId")]


def test_check_mode_on_an_empty_account_writes_nothing_and_predicts(ec2, calls, run_module) -> None:
    result = run_module(mod, _args(), check_mode=True, diff=True)
    assert result["changed"] is True
    assert _writes(calls) == []
    assert result["vpc_id"] == "" and result["subnet_ids"] == [] and result["route_table_ids"] == []
    assert result["security_group_id"] == "" and result["vpc_endpoint_ids"] == {}
    assert "would create VPC net" in result["changes"]
    assert "would create gateway endpoint s3" in result["changes"]
    assert result["diff"]["before"]["vpc"] == {}
    assert result["diff"]["after"]["vpc"]["tags"] == {**TAGS, "Name": "net"}
    assert calls == ["DescribeVpcs"]  # nothing else to read without a VPC
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["net"]}])["Vpcs"] == []


def _drift(ec2: Any, first: dict[str, Any]) -> None:
    """Out-of-band changes of every kind the module repairs."""
    vpc_id = first["vpc_id"]
    subnet_a, subnet_b = first["subnet_ids"]
    table_a, table_b = first["route_table_ids"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": False})
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Extra", "Value": "x"}])
    ec2.modify_subnet_attribute(SubnetId=subnet_a, MapPublicIpOnLaunch={"Value": True})
    ec2.delete_tags(Resources=[subnet_b], Tags=[{"Key": "Tier"}])
    # subnet b moves to table a
    association = next(a for a in _table(ec2, table_b)["Associations"] if a.get("SubnetId") == subnet_b)
    ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
    ec2.associate_route_table(RouteTableId=table_a, SubnetId=subnet_b)
    group_id = first["security_group_id"]
    ec2.authorize_security_group_egress(
        GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.9.0.0/16"}]}]
    )
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "1.2.3.4/32"}]}
        ],
    )
    endpoint_id = first["vpc_endpoint_ids"]["s3"]
    ec2.modify_vpc_endpoint(
        VpcEndpointId=endpoint_id,
        RemoveRouteTableIds=[table_a],
        PolicyDocument=json.dumps(_policy("arn:aws:s3:::other-*/*")),
    )


def test_drift_is_predicted_in_check_mode_then_repaired(ec2, calls, run_module) -> None:
    first = run_module(mod, _args())
    _drift(ec2, first)
    calls.clear()

    dry = run_module(mod, _args(), check_mode=True, diff=True)
    assert dry["changed"] is True
    assert _writes(calls) == []
    text = "\n".join(dry["changes"])
    for words in (
        "update VPC net (enableDnsHostnames, tags)",
        "update subnet net-private-0 (map_public_ip_on_launch)",
        "update subnet net-private-1 (tags)",
        "update route table net-private-0 (subnet association)",
        "update route table net-private-1 (subnet association)",
        "update gateway endpoint s3 (policy, route tables)",
    ):
        assert f"would {words}" in text, text
    assert "ingress removed" in text and "egress removed: all to 10.9.0.0/16" in text
    assert "gateway endpoint dynamodb" not in text
    assert dry["diff"]["before"]["vpc"]["enableDnsHostnames"] is False
    assert dry["diff"]["after"]["vpc"]["enableDnsHostnames"] is True

    fixed = run_module(mod, _args())
    assert fixed["changed"] is True
    assert "updated gateway endpoint s3 (policy, route tables)" in fixed["changes"]
    assert fixed["msg"] == "; ".join(fixed["changes"])
    assert run_module(mod, _args())["changed"] is False
    vpc_id = first["vpc_id"]
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"][
        "Value"
    ]
    assert "Extra" not in _tags(ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0])
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(SubnetIds=first["subnet_ids"])["Subnets"]}
    assert subnets[first["subnet_ids"][0]]["MapPublicIpOnLaunch"] is False
    assert _tags(subnets[first["subnet_ids"][1]])["Tier"] == "private"
    for subnet_id, table_id in zip(first["subnet_ids"], first["route_table_ids"], strict=True):
        associated = [a["SubnetId"] for a in _table(ec2, table_id)["Associations"] if not a.get("Main")]
        assert associated == [subnet_id]
    group = _group(ec2, first["security_group_id"])
    assert group["IpPermissions"] == []
    assert [p["IpProtocol"] for p in group["IpPermissionsEgress"]] == ["tcp"]
    endpoint = _endpoints(ec2, vpc_id)["s3"]
    assert sorted(endpoint["RouteTableIds"]) == sorted(first["route_table_ids"])
    assert json.loads(endpoint["PolicyDocument"]) == _policy("arn:aws:s3:::a-*/*")


def test_a_new_subnet_in_check_mode_reaches_its_table_and_the_endpoints(ec2, calls, run_module) -> None:
    run_module(mod, _args())
    args = _args()
    args["subnets"].append(
        {
            "cidr": "10.0.3.0/24",
            "availability_zone": "us-east-1c",
            "name": "net-private-2",
            "route_table_name": "net-private-2",
            "tags": {},
        }
    )
    calls.clear()
    dry = run_module(mod, args, check_mode=True)
    assert _writes(calls) == []
    assert len(dry["subnet_ids"]) == 2 and len(dry["route_table_ids"]) == 2
    assert "would create subnet net-private-2 (10.0.3.0/24, us-east-1c)" in dry["changes"]
    assert "would create route table net-private-2 for 10.0.3.0/24" in dry["changes"]
    assert "would update gateway endpoint s3 (route tables)" in dry["changes"]
    real = run_module(mod, args)
    assert len(real["route_table_ids"]) == 3
    endpoint = _endpoints(ec2, real["vpc_id"])["dynamodb"]
    assert sorted(endpoint["RouteTableIds"]) == sorted(real["route_table_ids"])


def test_tags_are_not_purged_when_told(ec2, run_module) -> None:
    first = run_module(mod, _args())
    ec2.create_tags(Resources=[first["vpc_id"]], Tags=[{"Key": "Extra", "Value": "x"}])
    assert run_module(mod, _args(purge_tags=False))["changed"] is False
    assert run_module(mod, _args(tags={**TAGS, "Owner": "me"}, purge_tags=False))["changed"] is True
    vpc = ec2.describe_vpcs(VpcIds=[first["vpc_id"]])["Vpcs"][0]
    assert _tags(vpc) == {**TAGS, "Owner": "me", "Extra": "x", "Name": "net"}


def test_an_existing_subnet_in_another_zone_is_an_error(ec2, run_module) -> None:
    first = run_module(mod, _args())
    args = _args()
    args["subnets"][0]["availability_zone"] = "us-east-1c"
    result = run_module(mod, args, expect_failure=True)
    assert "10.0.1.0/24" in result["msg"] and "us-east-1a, not in us-east-1c" in result["msg"]
    assert len(ec2.describe_subnets(Filters=_vpc_filter(first["vpc_id"]))["Subnets"]) == 2


ZONES = ["us-east-1b", "us-east-1c", "us-east-1a", "us-east-1d"]  # the region's, in zone-ID order


def _zoned(zones: tuple[str, ...], **overrides: Any) -> dict[str, Any]:
    args = _args(**overrides)
    for subnet, zone in zip(args["subnets"], zones, strict=True):
        subnet["availability_zone"] = zone
    return args


def test_subnets_an_earlier_release_placed_elsewhere_are_adopted(ec2, calls, run_module) -> None:
    first = run_module(mod, _args())  # 10.0.1.0/24 in us-east-1a, 10.0.2.0/24 in us-east-1b
    calls.clear()
    upgrade = _zoned(("us-east-1b", "us-east-1c"), adoptable_zones=ZONES)

    predicted = run_module(mod, upgrade, check_mode=True, diff=True)
    assert _writes(calls) == []
    assert predicted["changed"] is False, predicted["changes"]
    assert [(a["cidr"], a["availability_zone"], a["definition_zone"]) for a in predicted["adopted"]] == [
        ("10.0.1.0/24", "us-east-1a", "us-east-1b"),
        ("10.0.2.0/24", "us-east-1b", "us-east-1c"),
    ]
    assert [a["subnet_id"] for a in predicted["adopted"]] == first["subnet_ids"]
    after = predicted["diff"]["after"]["subnets"]
    assert after["10.0.1.0/24"]["availability_zone"] == "us-east-1a"
    assert after["10.0.1.0/24"]["adopted"] == "in us-east-1a, not in us-east-1b"

    applied = run_module(mod, upgrade)
    assert applied["changed"] is False and _writes(calls) == []
    assert applied["adopted"] == predicted["adopted"]
    assert applied["subnet_ids"] == first["subnet_ids"]
    assert applied["route_table_ids"] == first["route_table_ids"]


def test_a_zone_that_is_not_adoptable_is_still_an_error(ec2, calls, run_module) -> None:
    run_module(mod, _args())
    calls.clear()
    upgrade = _zoned(("us-east-1b", "us-east-1c"), adoptable_zones=["us-east-1b", "us-east-1c"])
    result = run_module(mod, upgrade, expect_failure=True)
    assert "10.0.1.0/24" in result["msg"] and "exists in us-east-1a, not in us-east-1b" in result["msg"]
    assert "us-east-1a is not one of the zones it may stay in: us-east-1b, us-east-1c" in result["msg"]
    assert _writes(calls) == []


def test_adoption_never_puts_two_subnets_in_one_zone(ec2, calls, run_module) -> None:
    run_module(mod, _zoned(("us-east-1a", "us-east-1a")))
    calls.clear()
    upgrade = _zoned(("us-east-1a", "us-east-1b"), adoptable_zones=ZONES)
    result = run_module(mod, upgrade, expect_failure=True)
    assert "10.0.2.0/24" in result["msg"] and "and so is 10.0.1.0/24" in result["msg"]
    assert "two subnets in one zone" in result["msg"]
    assert _writes(calls) == []


def test_a_new_subnet_whose_zone_an_adopted_one_holds_goes_to_a_free_zone(ec2, calls, run_module) -> None:
    one = _args()
    one["subnets"] = one["subnets"][:1]  # only 10.0.1.0/24, in us-east-1a (a run stopped half-way)
    first = run_module(mod, one)
    calls.clear()
    upgrade = _zoned(("us-east-1c", "us-east-1a"), adoptable_zones=ZONES)

    predicted = run_module(mod, upgrade, check_mode=True)
    assert _writes(calls) == []
    # 10.0.1.0/24 stays in us-east-1a; 10.0.2.0/24 (meant for us-east-1a) goes to the first zone of
    # the list that no subnet uses or is meant for: us-east-1b
    assert "would create subnet net-private-1 (10.0.2.0/24, us-east-1b)" in predicted["changes"]
    assert [(a["cidr"], a["availability_zone"], a["subnet_id"]) for a in predicted["adopted"]] == [
        ("10.0.1.0/24", "us-east-1a", first["subnet_ids"][0]),
        ("10.0.2.0/24", "us-east-1b", ""),
    ]

    applied = run_module(mod, upgrade)
    assert "created subnet net-private-1 (10.0.2.0/24, us-east-1b)" in applied["changes"]
    zones = {
        s["CidrBlock"]: s["AvailabilityZone"]
        for s in ec2.describe_subnets(SubnetIds=applied["subnet_ids"])["Subnets"]
    }
    assert zones == {"10.0.1.0/24": "us-east-1a", "10.0.2.0/24": "us-east-1b"}
    calls.clear()
    again = run_module(mod, upgrade)
    assert again["changed"] is False and _writes(calls) == []
    assert [(a["cidr"], a["availability_zone"]) for a in again["adopted"]] == [
        ("10.0.1.0/24", "us-east-1a"),
        ("10.0.2.0/24", "us-east-1b"),
    ]


def test_two_route_tables_with_one_name_are_refused(ec2, run_module) -> None:
    first = run_module(mod, _args())
    ec2.create_route_table(
        VpcId=first["vpc_id"],
        TagSpecifications=[
            {"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "net-private-0"}]}
        ],
    )
    result = run_module(mod, _args(), expect_failure=True)
    assert "More than one route table named net-private-0" in result["msg"]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"cidr_block": "10.0.0.0/33"}, "cidr_block:"),
        (
            {
                "subnets": [
                    {"cidr": "10.1.0.0/24", "availability_zone": "a", "name": "n", "route_table_name": "r"},
                ]
            },
            "subnets[0].cidr: 10.1.0.0/24 is not inside 10.0.0.0/16",
        ),
        (
            {
                "subnets": [
                    {"cidr": "10.0.1.0/24", "availability_zone": "a", "name": "n", "route_table_name": "r"},
                    {"cidr": "10.0.2.0/24", "availability_zone": "b", "name": "n", "route_table_name": "s"},
                ]
            },
            "subnets[1].name: n is listed twice",
        ),
        (
            {"gateway_endpoints": [{"service": "s3", "name": "a"}, {"service": "s3", "name": "b"}]},
            "gateway_endpoints: s3 is listed twice",
        ),
        (
            {
                "security_group": {
                    "name": "g",
                    "description": "d",
                    "egress": [{"proto": "tcp", "cidr_ips": ["x"]}],
                }
            },
            "security_group.egress[0]: from_port and to_port are required",
        ),
    ],
)
def test_bad_input_fails_before_any_call(calls, run_module, overrides: dict[str, Any], words: str) -> None:
    result = run_module(mod, _args(**overrides), expect_failure=True)
    assert words in result["msg"]
    assert calls == []


def test_egress_rules_are_flattened_per_destination() -> None:
    group = {
        "IpPermissionsEgress": [
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "PrefixListIds": [{"PrefixListId": "pl-1"}],
            },
        ]
    }
    rules = mod.egress_rules(group)
    assert set(rules) == {
        ("-1", None, None, "0.0.0.0/0"),
        ("-1", None, None, "CidrIpv6:::/0"),
        ("tcp", 443, 443, "PrefixListId:pl-1"),
    }
    assert mod.ip_permission(("-1", None, None, "CidrIpv6:::/0"), None) == {
        "IpProtocol": "-1",
        "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
    }
    assert mod.ip_permission(("tcp", 443, 443, "10.0.0.0/8"), "d") == {
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "d"}],
    }
    assert mod.service_name("s3", "eu-west-1") == "com.amazonaws.eu-west-1.s3"
    assert mod.service_name("com.amazonaws.us-east-1.s3", "eu-west-1") == "com.amazonaws.us-east-1.s3"
