"""scripts/moto_extensions.py: DeleteTrail by ARN, as AWS accepts it (moto 5.2.5 looks up names);
DescribeTrails' trailNameList; a multi-region trail's selectors read by its ARN in another region."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.cloudtrail.models import CloudTrailBackend
from moto.cloudtrail.responses import CloudTrailResponse

from scripts import moto_extensions


@pytest.fixture
def cloudtrail(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="trail-bucket")
        client = boto3.client("cloudtrail", region_name="us-east-1")
        client.create_trail(Name="the-trail", S3BucketName="trail-bucket", IsMultiRegionTrail=True)
        yield client


def trail_names(client: object) -> list[str]:
    return [trail["Name"] for trail in client.describe_trails()["trailList"]]  # type: ignore[attr-defined]


def test_plain_moto_keeps_a_trail_deleted_by_arn(cloudtrail: object) -> None:
    arn = cloudtrail.describe_trails()["trailList"][0]["TrailARN"]  # type: ignore[attr-defined]
    cloudtrail.delete_trail(Name=arn)  # type: ignore[attr-defined]
    assert trail_names(cloudtrail) == ["the-trail"]


@pytest.mark.parametrize("by", ["name", "arn"])
def test_extension_deletes_a_trail_by_name_or_arn(cloudtrail: object, by: str) -> None:
    patched = moto_extensions._delete_trail(CloudTrailBackend.delete_trail)
    with mock.patch.object(CloudTrailBackend, "delete_trail", patched):
        trail = cloudtrail.describe_trails()["trailList"][0]  # type: ignore[attr-defined]
        cloudtrail.delete_trail(Name=trail["TrailARN"] if by == "arn" else trail["Name"])  # type: ignore[attr-defined]
    assert trail_names(cloudtrail) == []


def test_extension_describes_only_the_trails_asked_for(cloudtrail: object) -> None:
    cloudtrail.create_trail(Name="other-trail", S3BucketName="trail-bucket")  # type: ignore[attr-defined]
    west = boto3.client("cloudtrail", region_name="us-west-1")
    patched = moto_extensions._describe_trails(CloudTrailResponse.describe_trails)
    with mock.patch.object(CloudTrailResponse, "describe_trails", patched):
        assert trail_names(cloudtrail) == ["the-trail", "other-trail"]
        one = cloudtrail.describe_trails(trailNameList=["the-trail"])["trailList"]  # type: ignore[attr-defined]
        assert [trail["Name"] for trail in one] == ["the-trail"]
        by_arn = west.describe_trails(trailNameList=[one[0]["TrailARN"]])["trailList"]
        assert [trail["Name"] for trail in by_arn] == ["the-trail"]
        # A name names a trail of the current region only (its ARN reaches the others).
        assert west.describe_trails(trailNameList=["the-trail"])["trailList"] == []


def test_plain_moto_cannot_read_the_selectors_of_a_shadow_trail(cloudtrail: object) -> None:
    arn = cloudtrail.describe_trails()["trailList"][0]["TrailARN"]  # type: ignore[attr-defined]
    west = boto3.client("cloudtrail", region_name="us-west-1")
    with pytest.raises(west.exceptions.TrailNotFoundException):
        west.get_event_selectors(TrailName=arn)


@pytest.mark.parametrize("method", ["get_event_selectors", "get_insight_selectors"])
def test_extension_reads_a_shadow_trail_by_arn(cloudtrail: object, method: str) -> None:
    cloudtrail.put_event_selectors(  # type: ignore[attr-defined]
        TrailName="the-trail", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    arn = cloudtrail.describe_trails()["trailList"][0]["TrailARN"]  # type: ignore[attr-defined]
    west = boto3.client("cloudtrail", region_name="us-west-1")
    patched = moto_extensions._shadow_trail_read(getattr(CloudTrailBackend, method))
    with mock.patch.object(CloudTrailBackend, method, patched):
        answer = getattr(west, method)(TrailName=arn)
        assert answer["TrailARN"] == arn
        if method == "get_event_selectors":
            assert answer["EventSelectors"] == getattr(cloudtrail, method)(TrailName=arn)["EventSelectors"]
        # By name, only the current region's trails; a single-region trail's ARN, only its region.
        with pytest.raises(west.exceptions.TrailNotFoundException):
            getattr(west, method)(TrailName="the-trail")
        cloudtrail.create_trail(Name="east-only", S3BucketName="trail-bucket")  # type: ignore[attr-defined]
        east_only = cloudtrail.describe_trails(trailNameList=["east-only"])["trailList"]  # type: ignore[attr-defined]
        single = next(t["TrailARN"] for t in east_only if t["Name"] == "east-only")
        with pytest.raises(west.exceptions.TrailNotFoundException):
            getattr(west, method)(TrailName=single)
