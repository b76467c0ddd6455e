"""Unit tests for secureinfra.baseline.cloudtrail_event_selectors against in-process moto.

moto 5.2.5 gaps (measured) and how these tests handle them:

* A new trail has no selectors at all in moto; AWS gives it a default *basic* selector (all
  management events). `test_replaces_default_basic_selector` installs that default with boto3
  first, so the AWS starting point is covered.
* moto stores AdvancedEventSelectors verbatim and validates nothing (a selector without
  eventCategory, or with an unknown field, is accepted; AWS rejects both). The tests only use
  selectors AWS accepts; AWS-side validation cannot be proven here.
* moto returns selectors in the order they were put, so order-normalisation is proven by
  storing one order with boto3 and asking the module for another.
* In moto a basic PutEventSelectors leaves old advanced selectors in place (AWS replaces them), so
  GetEventSelectors can return both; the module treats any basic selector as "needs a put".
* PutEventSelectors calls are counted at moto's HTTP handler (`put_calls`), so "no mutating call"
  is checked for every code path, not just the module's helper.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import cloudtrail_event_selectors as mod
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError

TRAIL = "org-audit"
BUCKETS = ["secureinfra-audit-logs", "secureinfra-state"]
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/terraform-locks"

MANAGEMENT = {
    "name": "Management events",
    "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}],
}
S3_DATA = {
    "name": "S3 data events for the audit buckets",
    "field_selectors": [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.type", "equals": ["AWS::S3::Object"]},
        {"field": "resources.ARN", "starts_with": [f"arn:aws:s3:::{b}/" for b in BUCKETS]},
    ],
}
DYNAMODB_DATA = {
    "name": "DynamoDB data events for the lock table",
    "field_selectors": [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.type", "equals": ["AWS::DynamoDB::Table"]},
        {"field": "resources.ARN", "equals": [TABLE_ARN]},
    ],
}
SELECTORS = [MANAGEMENT, S3_DATA, DYNAMODB_DATA]

# The same three selectors as the API spells them (what GetEventSelectors returns).
API_SELECTORS = [
    {"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
    {
        "Name": "S3 data events for the audit buckets",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{b}/" for b in BUCKETS]},
        ],
    },
    {
        "Name": "DynamoDB data events for the lock table",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]},
            {"Field": "resources.ARN", "Equals": [TABLE_ARN]},
        ],
    },
]


@pytest.fixture
def cloudtrail(aws):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="trail-delivery")
    client = boto3.client("cloudtrail", region_name="us-east-1")
    client.create_trail(Name=TRAIL, S3BucketName="trail-delivery")
    return client


@pytest.fixture
def put_calls(aws) -> Iterator[list[dict[str, Any]]]:
    """Every PutEventSelectors request that reaches moto, as (parsed) request bodies."""
    calls: list[dict[str, Any]] = []
    original = CloudTrailResponse.put_event_selectors

    def spy(self: CloudTrailResponse) -> str:
        calls.append(json.loads(self.body))
        return original(self)

    with mock.patch.object(CloudTrailResponse, "put_event_selectors", spy):
        yield calls


def _args(selectors: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {"trail_name": TRAIL, "advanced_event_selectors": selectors, **kw}


def _stored(client) -> dict[str, Any]:
    response = client.get_event_selectors(TrailName=TRAIL)
    return {
        "advanced": mod.normalise(response.get("AdvancedEventSelectors")),
        "basic": response.get("EventSelectors") or [],
    }


def _with_bucket(extra: str) -> list[dict[str, Any]]:
    s3 = {
        **S3_DATA,
        "field_selectors": [
            *S3_DATA["field_selectors"][:2],
            {"field": "resources.ARN", "starts_with": [*S3_DATA["field_selectors"][2]["starts_with"], extra]},
        ],
    }
    return [MANAGEMENT, s3, DYNAMODB_DATA]


# ----------------------------------------------------------------------------- set, read back, rerun


def test_sets_s3_dynamodb_and_management_selectors(cloudtrail, run_module, put_calls):
    result = run_module(mod, _args(SELECTORS))
    assert result["changed"] is True
    assert result["trail_arn"] == f"arn:aws:cloudtrail:us-east-1:123456789012:trail/{TRAIL}"
    assert _stored(cloudtrail) == {"advanced": mod.normalise(API_SELECTORS), "basic": []}
    assert len(put_calls) == 1
    assert put_calls[0]["AdvancedEventSelectors"] == API_SELECTORS  # snake_case options -> API names


def test_rerun_is_idempotent(cloudtrail, run_module, put_calls):
    run_module(mod, _args(SELECTORS))
    result = run_module(mod, _args(SELECTORS))
    assert result["changed"] is False
    assert len(put_calls) == 1
    assert result["advanced_event_selectors"] == mod.to_snake(mod.normalise(API_SELECTORS))


def test_result_is_snake_case(cloudtrail, run_module):
    result = run_module(mod, _args(SELECTORS))
    by_name = {s["name"]: s for s in result["advanced_event_selectors"]}
    s3 = {f["field"]: f for f in by_name["S3 data events for the audit buckets"]["field_selectors"]}
    assert s3["resources.ARN"] == {
        "field": "resources.ARN",
        "starts_with": ["arn:aws:s3:::secureinfra-audit-logs/", "arn:aws:s3:::secureinfra-state/"],
    }
    ddb = {f["field"]: f for f in by_name["DynamoDB data events for the lock table"]["field_selectors"]}
    assert ddb["resources.ARN"] == {"field": "resources.ARN", "equals": [TABLE_ARN]}


def test_trail_arn_accepted(cloudtrail, run_module, put_calls):
    arn = cloudtrail.get_trail(Name=TRAIL)["Trail"]["TrailARN"]
    assert run_module(mod, _args(SELECTORS, trail_name=arn))["changed"] is True
    assert run_module(mod, _args(SELECTORS, trail_name=arn))["changed"] is False
    assert run_module(mod, _args(SELECTORS))["changed"] is False
    assert len(put_calls) == 1


# ----------------------------------------------------------------------------- normalisation


def test_order_of_selectors_fields_and_values_is_ignored(cloudtrail, run_module, put_calls):
    cloudtrail.put_event_selectors(TrailName=TRAIL, AdvancedEventSelectors=API_SELECTORS)
    put_calls.clear()
    reordered = [
        {
            **selector,
            "field_selectors": [
                {k: list(reversed(v)) if isinstance(v, list) else v for k, v in field.items()}
                for field in reversed(selector["field_selectors"])
            ],
        }
        for selector in reversed(SELECTORS)
    ]
    reversed_prefixes = [f"arn:aws:s3:::{b}/" for b in reversed(BUCKETS)]
    assert reordered[1]["field_selectors"][0]["starts_with"] == reversed_prefixes
    assert run_module(mod, _args(reordered))["changed"] is False
    assert put_calls == []


def test_absent_and_empty_conditions_are_the_same(cloudtrail, run_module, put_calls):
    cloudtrail.put_event_selectors(TrailName=TRAIL, AdvancedEventSelectors=API_SELECTORS)
    put_calls.clear()
    padded = [
        {
            **MANAGEMENT,
            "field_selectors": [
                {
                    "field": "eventCategory",
                    "equals": ["Management"],
                    "not_equals": [],
                    "starts_with": None,
                    "ends_with": [],
                }
            ],
        },
        S3_DATA,
        DYNAMODB_DATA,
    ]
    assert run_module(mod, _args(padded))["changed"] is False
    assert put_calls == []


def test_normalise_api_shapes():
    absent = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
    empty = {
        "Name": "",
        "FieldSelectors": [
            {
                "Field": "eventCategory",
                "Equals": ["Management"],
                "NotEquals": [],
                "StartsWith": [],
                "EndsWith": [],
            },
        ],
    }
    assert mod.normalise([absent]) == mod.normalise([empty])
    assert mod.normalise(None) == mod.normalise([]) == []
    two = {
        "FieldSelectors": [
            {"Field": "resources.ARN", "StartsWith": ["b", "a"]},
            {"Field": "eventCategory", "Equals": ["Data"]},
        ]
    }
    assert mod.normalise([two]) == [
        {
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.ARN", "StartsWith": ["a", "b"]},
            ]
        }
    ]


def test_all_six_operators_map_both_ways():
    option = {
        "field": "eventName",
        "equals": ["a"],
        "not_equals": ["b"],
        "starts_with": ["c"],
        "not_starts_with": ["d"],
        "ends_with": ["e"],
        "not_ends_with": ["f"],
    }
    api = mod.field_selector_to_api(option)
    assert api == {
        "Field": "eventName",
        "Equals": ["a"],
        "NotEquals": ["b"],
        "StartsWith": ["c"],
        "NotStartsWith": ["d"],
        "EndsWith": ["e"],
        "NotEndsWith": ["f"],
    }
    assert mod.field_selector_to_snake(api) == option


# ----------------------------------------------------------------------------- change


def test_change_is_applied(cloudtrail, run_module, put_calls):
    run_module(mod, _args(SELECTORS))
    wanted = _with_bucket("arn:aws:s3:::secureinfra-reports/")
    result = run_module(mod, _args(wanted))
    assert result["changed"] is True
    stored = _stored(cloudtrail)["advanced"]
    s3 = next(s for s in stored if s["Name"] == "S3 data events for the audit buckets")
    arn_condition = next(f for f in s3["FieldSelectors"] if f["Field"] == "resources.ARN")
    assert "arn:aws:s3:::secureinfra-reports/" in arn_condition["StartsWith"]
    assert run_module(mod, _args(wanted))["changed"] is False
    assert len(put_calls) == 2


def test_selectors_not_listed_are_removed(cloudtrail, run_module):
    run_module(mod, _args(SELECTORS))
    assert run_module(mod, _args([MANAGEMENT]))["changed"] is True
    assert _stored(cloudtrail)["advanced"] == mod.normalise(API_SELECTORS[:1])


def test_renaming_a_selector_is_a_change(cloudtrail, run_module):
    run_module(mod, _args(SELECTORS))
    renamed = [{**MANAGEMENT, "name": "All management events"}, S3_DATA, DYNAMODB_DATA]
    assert run_module(mod, _args(renamed))["changed"] is True


def test_replaces_default_basic_selector(cloudtrail, run_module, put_calls):
    """AWS gives a new trail a basic 'all management events' selector; moto does not, so add it."""
    cloudtrail.put_event_selectors(
        TrailName=TRAIL,
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}],
    )
    put_calls.clear()
    result = run_module(mod, _args([MANAGEMENT]), diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["event_selectors"] == [
        {"read_write_type": "All", "include_management_events": True, "data_resources": []}
    ]
    assert result["diff"]["after"]["event_selectors"] == []
    assert _stored(cloudtrail) == {"advanced": mod.normalise(API_SELECTORS[:1]), "basic": []}
    assert run_module(mod, _args([MANAGEMENT]))["changed"] is False
    assert len(put_calls) == 1


# ----------------------------------------------------------------------------- check mode


def test_check_mode_on_new_trail_writes_nothing(cloudtrail, run_module, put_calls):
    result = run_module(mod, _args(SELECTORS), check_mode=True)
    assert result["changed"] is True
    assert result["advanced_event_selectors"] == mod.to_snake(mod.normalise(API_SELECTORS))
    assert put_calls == []
    assert _stored(cloudtrail) == {"advanced": [], "basic": []}


def test_check_mode_change_writes_nothing(cloudtrail, run_module, put_calls):
    run_module(mod, _args(SELECTORS))
    before = _stored(cloudtrail)
    result = run_module(mod, _args(_with_bucket("arn:aws:s3:::secureinfra-reports/")), check_mode=True)
    assert result["changed"] is True
    assert _stored(cloudtrail) == before
    assert len(put_calls) == 1  # only the first, real run


def test_check_mode_unchanged(cloudtrail, run_module, put_calls):
    run_module(mod, _args(SELECTORS))
    assert run_module(mod, _args(SELECTORS), check_mode=True)["changed"] is False
    assert len(put_calls) == 1


# ----------------------------------------------------------------------------- diff


def test_diff_before_and_after(cloudtrail, run_module):
    first = run_module(mod, _args([MANAGEMENT]), diff=True)
    assert first["diff"]["before"] == {"advanced_event_selectors": [], "event_selectors": []}
    assert first["diff"]["after"]["advanced_event_selectors"] == [MANAGEMENT]

    result = run_module(mod, _args(SELECTORS), diff=True, check_mode=True)
    assert result["diff"]["before"]["advanced_event_selectors"] == [MANAGEMENT]
    after_names = sorted(s["name"] for s in result["diff"]["after"]["advanced_event_selectors"])
    assert after_names == sorted(s["name"] for s in SELECTORS)

    same = run_module(mod, _args([MANAGEMENT]), diff=True)
    assert same["changed"] is False
    assert same["diff"]["before"] == same["diff"]["after"]


def test_no_diff_key_without_diff_mode(cloudtrail, run_module):
    assert "diff" not in run_module(mod, _args(SELECTORS))


# ----------------------------------------------------------------------------- failures


def test_missing_trail_fails(cloudtrail, run_module, put_calls):
    result = run_module(mod, _args(SELECTORS, trail_name="no-such-trail"), expect_failure=True)
    assert "Trail no-such-trail not found" in result["msg"]
    assert put_calls == []


@pytest.mark.parametrize(
    ("selectors", "message"),
    [
        ([], "at least one selector"),
        ([{"name": "empty", "field_selectors": []}], "selector empty: field_selectors must not be empty"),
        (
            [{"name": "bare", "field_selectors": [{"field": "eventCategory"}]}],
            "selector bare: field eventCategory needs at least one condition",
        ),
        (
            [{"field_selectors": [{"field": "eventCategory", "equals": []}]}],
            "selector #0: field eventCategory needs at least one condition",
        ),
    ],
)
def test_validation_before_any_call(cloudtrail, run_module, selectors, message):
    with mock.patch.object(mod.AnsibleAWSModule, "client", side_effect=AssertionError("AWS called")):
        result = run_module(mod, _args(selectors), expect_failure=True)
    assert message in result["msg"]


def test_unknown_option_rejected(cloudtrail, run_module):
    bad = [{"field_selectors": [{"field": "eventCategory", "Equals": ["Management"]}]}]
    result = run_module(mod, _args(bad), expect_failure=True)
    assert "Equals" in result["msg"]


class InvalidEventSelectors(JsonRESTError):
    code = 400


def test_put_error_is_reported(cloudtrail, run_module):
    """AWS rejects selectors moto accepts (e.g. no eventCategory); make moto answer as AWS would."""
    error = InvalidEventSelectors("InvalidEventSelectorsException", "eventCategory is required")
    bad = [{"name": "no category", "field_selectors": [{"field": "eventName", "equals": ["PutObject"]}]}]

    def reject(self: CloudTrailResponse) -> str:
        raise error

    with mock.patch.object(CloudTrailResponse, "put_event_selectors", reject):
        result = run_module(mod, _args(bad), expect_failure=True)
    assert "Failed to set the advanced event selectors of trail org-audit" in result["msg"]
    assert "eventCategory is required" in result["msg"]
    assert result["error"]["code"] == "InvalidEventSelectorsException"
