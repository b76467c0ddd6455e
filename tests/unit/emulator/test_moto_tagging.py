"""scripts/moto_tagging.py: GetResources answers EventBridge rules, VPC endpoints and CloudTrail
trails by their tags, as AWS does (moto 5.2.5 leaves all three out)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from scripts import moto_tagging

TAGS = [{"Key": "ManagedBy", "Value": "ansible"}, {"Key": "Project", "Value": "p"}]
FILTERS = [{"Key": "ManagedBy", "Values": ["ansible"]}, {"Key": "Project", "Values": ["p"]}]


def _client(service: str, region: str = "us-east-1") -> Any:
    return boto3.client(service, region_name=region)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A tagged rule, VPC endpoint and trail in us-east-1, and an untagged rule."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        events = _client("events")
        rule = events.put_rule(Name="tagged", ScheduleExpression="rate(1 day)", Tags=TAGS)["RuleArn"]
        events.put_rule(Name="untagged", ScheduleExpression="rate(1 day)")
        ec2 = _client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        endpoint = ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName="com.amazonaws.us-east-1.s3",
            VpcEndpointType="Gateway",
            TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": TAGS}],
        )["VpcEndpoint"]["VpcEndpointId"]
        _client("s3").create_bucket(Bucket="trail-bucket")
        trail = _client("cloudtrail").create_trail(
            Name="trail", S3BucketName="trail-bucket", IsMultiRegionTrail=True, TagsList=TAGS
        )["TrailARN"]
        yield {"rule": rule, "endpoint": endpoint, "trail": trail}


def _arns(region: str = "us-east-1") -> set[str]:
    pages = (
        _client("resourcegroupstaggingapi", region)
        .get_paginator("get_resources")
        .paginate(TagFilters=FILTERS)
    )
    return {item["ResourceARN"] for page in pages for item in page["ResourceTagMappingList"]}


@pytest.fixture
def patched() -> Iterator[None]:
    with ExitStack() as stack:
        for owner, name, wrapper in moto_tagging._PATCHES:
            stack.enter_context(mock.patch.object(owner, name, wrapper(getattr(owner, name))))
        yield


def test_plain_moto_leaves_rules_endpoints_and_trails_out(account: dict[str, str]) -> None:
    arns = _arns()
    assert account["rule"] not in arns
    assert not any(account["endpoint"] in arn or ":cloudtrail:" in arn for arn in arns)


def test_the_emulator_answers_them_by_their_tags(account: dict[str, str], patched: None) -> None:
    arns = _arns()
    assert account["rule"] in arns
    assert "arn:aws:events:us-east-1:123456789012:rule/untagged" not in arns
    assert f"arn:aws:ec2:us-east-1:123456789012:vpc-endpoint/{account['endpoint']}" in arns
    assert account["trail"] in arns
    # the trail belongs to its home region only; the other region sees none of these
    assert _arns("us-west-1") == set()


def test_a_deleted_endpoint_is_left_out(account: dict[str, str], patched: None) -> None:
    _client("ec2").delete_vpc_endpoints(VpcEndpointIds=[account["endpoint"]])
    assert not any(account["endpoint"] in arn for arn in _arns())


def test_a_tag_filter_that_does_not_match_leaves_them_out(account: dict[str, str], patched: None) -> None:
    pages = (
        _client("resourcegroupstaggingapi")
        .get_paginator("get_resources")
        .paginate(TagFilters=[{"Key": "Project", "Values": ["other"]}])
    )
    assert [item for page in pages for item in page["ResourceTagMappingList"]] == []


def test_install_is_idempotent() -> None:
    # keyed by owner and name: EventsBackend and EC2Backend both patch iter_tagged_resources
    originals = {(owner, name): getattr(owner, name) for owner, name, _ in moto_tagging._PATCHES}
    try:
        moto_tagging.install()
        once = {(owner, name): getattr(owner, name) for owner, name, _ in moto_tagging._PATCHES}
        moto_tagging.install()
        assert {(owner, name): getattr(owner, name) for owner, name, _ in moto_tagging._PATCHES} == once
        assert all(once[key] is not originals[key] for key in once)
    finally:
        for (owner, name), original in originals.items():
            setattr(owner, name, original)
