"""Unit tests for secureinfra.baseline.s3_metrics_configuration against in-process moto.

moto 5.2.5 does not implement the bucket metrics-configuration API: GET answers an empty
MetricsConfiguration, PUT is a silent no-op and DELETE ?metrics falls through to DeleteBucket.
The `metrics_api` fixture adds a small, faithful implementation (stores the PUT document and
echoes it on GET, 404 NoSuchConfiguration when missing) so state can be read back with boto3.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import s3_metrics_configuration as mod
from botocore.exceptions import ClientError
from moto.s3.responses import S3Response

from scripts import moto_extensions

BUCKET = "metrics-bucket"
AP_ARN = "arn:aws:s3:us-east-1:123456789012:accesspoint/analytics"


@pytest.fixture
def metrics_api(aws) -> Iterator[None]:
    original = S3Response._bucket_response
    with mock.patch.object(S3Response, "_bucket_response", moto_extensions.metrics_handler(original)):
        yield


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def _read(s3, config_id: str) -> dict[str, Any] | None:
    try:
        return s3.get_bucket_metrics_configuration(Bucket=BUCKET, Id=config_id)["MetricsConfiguration"]
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchConfiguration"
        return None


def _args(**kw: Any) -> dict[str, Any]:
    return {"bucket_name": BUCKET, "id": "cfg", **kw}


# --- pure normalisation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "api",
    [
        {
            "Id": "x",
            "Filter": {
                "And": {"Prefix": "p/", "Tags": [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]}
            },
        },
        {
            "Id": "x",
            "Filter": {
                "And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}], "Prefix": "p/"}
            },
        },
    ],
)
def test_normalisation_ignores_tag_order(api):
    assert mod.config_from_api(api) == {
        "id": "x",
        "filter_prefix": "p/",
        "filter_tags": {"a": "1", "b": "2"},
        "filter_access_point": None,
    }


def test_normalisation_missing_vs_empty_filter():
    assert mod.config_from_api({"Id": "x"}) == mod.config_from_api({"Id": "x", "Filter": {}})
    assert mod.config_from_api({"Id": "x"}) == mod.desired_config(
        {"id": "x", "filter_prefix": "", "filter_tags": {}}
    )


@pytest.mark.parametrize(
    ("params", "api_filter"),
    [
        ({}, None),
        ({"filter_prefix": "p/"}, {"Prefix": "p/"}),
        ({"filter_tags": {"k": "v"}}, {"Tag": {"Key": "k", "Value": "v"}}),
        ({"filter_access_point": AP_ARN}, {"AccessPointArn": AP_ARN}),
        (
            {"filter_prefix": "p/", "filter_tags": {"k": "v"}},
            {"And": {"Prefix": "p/", "Tags": [{"Key": "k", "Value": "v"}]}},
        ),
        (
            {"filter_tags": {"b": "2", "a": "1"}},
            {"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},
        ),
    ],
)
def test_payload_roundtrip(params, api_filter):
    wanted = mod.desired_config({"id": "x", **params})
    payload = mod.config_to_api(wanted)
    assert payload.get("Filter") == api_filter
    assert mod.config_from_api(payload) == wanted


# --- against moto ------------------------------------------------------------------------


def test_create_whole_bucket_then_idempotent(metrics_api, s3, run_module):
    result = run_module(mod, _args())
    assert result["changed"] is True
    assert _read(s3, "cfg") == {"Id": "cfg"}

    again = run_module(mod, _args())
    assert again["changed"] is False
    assert again["metrics_configuration"] == {
        "id": "cfg",
        "filter_prefix": None,
        "filter_tags": {},
        "filter_access_point": None,
    }


def test_create_with_and_filter_then_idempotent(metrics_api, s3, run_module):
    args = _args(
        filter_prefix="docs/", filter_tags={"priority": "high", "class": "blue"}, filter_access_point=AP_ARN
    )
    assert run_module(mod, args)["changed"] is True
    stored = _read(s3, "cfg")
    assert stored["Filter"]["And"]["Prefix"] == "docs/"
    assert stored["Filter"]["And"]["AccessPointArn"] == AP_ARN
    assert {t["Key"]: t["Value"] for t in stored["Filter"]["And"]["Tags"]} == {
        "priority": "high",
        "class": "blue",
    }

    # same tags in another order: still no change, and no PUT issued
    reordered = _args(
        filter_prefix="docs/", filter_tags={"class": "blue", "priority": "high"}, filter_access_point=AP_ARN
    )
    with mock.patch.object(mod, "put_config", side_effect=AssertionError("PUT on idempotent run")):
        assert run_module(mod, reordered)["changed"] is False


def test_existing_config_written_elsewhere_is_recognised(metrics_api, s3, run_module):
    s3.put_bucket_metrics_configuration(
        Bucket=BUCKET,
        Id="cfg",
        MetricsConfiguration={
            "Id": "cfg",
            "Filter": {"And": {"Tags": [{"Key": "z", "Value": "1"}, {"Key": "a", "Value": "2"}]}},
        },
    )
    assert run_module(mod, _args(filter_tags={"a": "2", "z": "1"}))["changed"] is False


def test_update_filter(metrics_api, s3, run_module):
    run_module(mod, _args(filter_prefix="old/"))
    result = run_module(mod, _args(filter_prefix="new/", filter_tags={"k": "v"}))
    assert result["changed"] is True
    assert _read(s3, "cfg")["Filter"] == {"And": {"Prefix": "new/", "Tags": [{"Key": "k", "Value": "v"}]}}

    result = run_module(mod, _args())  # drop the filter entirely
    assert result["changed"] is True
    assert "Filter" not in _read(s3, "cfg")


def test_check_mode_on_absent_creates_nothing(metrics_api, s3, run_module):
    result = run_module(mod, _args(filter_prefix="p/"), check_mode=True)
    assert result["changed"] is True
    assert _read(s3, "cfg") is None


def test_check_mode_on_present_changes_nothing(metrics_api, s3, run_module):
    run_module(mod, _args(filter_prefix="p/"))
    before = _read(s3, "cfg")

    assert run_module(mod, _args(filter_prefix="other/"), check_mode=True)["changed"] is True
    assert run_module(mod, _args(state="absent"), check_mode=True)["changed"] is True
    assert run_module(mod, _args(filter_prefix="p/"), check_mode=True)["changed"] is False
    assert _read(s3, "cfg") == before


def test_diff(metrics_api, s3, run_module):
    result = run_module(mod, _args(filter_prefix="p/"), diff=True)
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["filter_prefix"] == "p/"

    result = run_module(mod, _args(filter_tags={"k": "v"}), diff=True, check_mode=True)
    assert result["diff"]["before"]["filter_prefix"] == "p/"
    assert result["diff"]["after"] == {
        "id": "cfg",
        "filter_prefix": None,
        "filter_tags": {"k": "v"},
        "filter_access_point": None,
    }

    result = run_module(mod, _args(state="absent"), diff=True)
    assert result["diff"] == {
        "before": {"id": "cfg", "filter_prefix": "p/", "filter_tags": {}, "filter_access_point": None},
        "after": {},
    }


def test_delete_then_idempotent(metrics_api, s3, run_module):
    run_module(mod, _args())
    assert run_module(mod, _args(state="absent"))["changed"] is True
    assert _read(s3, "cfg") is None
    assert run_module(mod, _args(state="absent"))["changed"] is False
    assert s3.head_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_other_configurations_untouched(metrics_api, s3, run_module):
    s3.put_bucket_metrics_configuration(Bucket=BUCKET, Id="keep", MetricsConfiguration={"Id": "keep"})
    run_module(mod, _args())
    run_module(mod, _args(state="absent"))
    assert _read(s3, "keep") == {"Id": "keep"}


def test_missing_bucket(metrics_api, s3, run_module):
    result = run_module(mod, {"bucket_name": "no-such-bucket", "id": "cfg"}, expect_failure=True)
    assert "does not exist" in result["msg"]
    absent = run_module(mod, {"bucket_name": "no-such-bucket", "id": "cfg", "state": "absent"})
    assert absent["changed"] is False


def test_bad_access_point(metrics_api, s3, run_module):
    result = run_module(mod, _args(filter_access_point="analytics"), expect_failure=True)
    assert "access point ARN" in result["msg"]
    assert _read(s3, "cfg") is None


def test_missing_required_option(metrics_api, run_module):
    result = run_module(mod, {"bucket_name": BUCKET}, expect_failure=True)
    assert "id" in result["msg"]


def test_stock_moto_absent_never_deletes_bucket(s3, run_module):
    """Without the emulation moto answers GET with no Id; the module must treat that as absent
    and never send DELETE ?metrics (which stock moto turns into DeleteBucket)."""
    assert run_module(mod, _args(state="absent"))["changed"] is False
    assert BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]
