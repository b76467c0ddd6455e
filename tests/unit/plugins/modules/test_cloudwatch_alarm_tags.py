"""secureinfra.baseline.cloudwatch_alarm_tags against in-process moto."""

from __future__ import annotations

import boto3
import botocore.client
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import cloudwatch_alarm_tags as mod

ALARMS = ["root-account-usage", "unauthorized-api-calls"]
MUTATING = {"TagResource", "UntagResource"}


@pytest.fixture
def cw(aws):
    client = boto3.client("cloudwatch", region_name="us-east-1")
    for name in ALARMS:
        _create(client, name)
    return client


@pytest.fixture
def calls(monkeypatch):
    """(operation, params) of every AWS call made (by the module or the test) from now on."""
    seen: list[tuple[str, dict]] = []
    original = botocore.client.BaseClient._make_api_call

    def spy(self, operation_name, api_params):
        seen.append((operation_name, api_params))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    return seen


def _create(cw, name, tags=None):
    cw.put_metric_alarm(
        AlarmName=name,
        MetricName="Count",
        Namespace="Baseline",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )


def _arn(cw, name):
    return cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]


def _tags(cw, name):
    tags = cw.list_tags_for_resource(ResourceARN=_arn(cw, name))["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def _operations(calls):
    return [operation for operation, _ in calls]


def test_tag_then_idempotent(cw, run_module):
    args = {"alarm_names": ALARMS, "tags": {"owner": "security", "severity": "high"}}
    result = run_module(mod, args)
    assert result["changed"] is True
    assert result["changed_alarms"] == ALARMS
    for name in ALARMS:
        assert _tags(cw, name) == {"owner": "security", "severity": "high"}
        assert result["alarms"][name] == {"arn": _arn(cw, name), "tags": _tags(cw, name)}
    again = run_module(mod, args)
    assert again["changed"] is False
    assert again["changed_alarms"] == []
    assert again["alarms"] == result["alarms"]


def test_update_and_purge_with_diff(cw, run_module, calls):
    run_module(mod, {"alarm_names": ALARMS, "tags": {"owner": "security", "old": "x"}})
    calls.clear()
    result = run_module(mod, {"alarm_names": ALARMS, "tags": {"owner": "platform"}}, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {
        "before": {name: {"owner": "security", "old": "x"} for name in ALARMS},
        "after": {name: {"owner": "platform"} for name in ALARMS},
    }
    for name in ALARMS:
        assert _tags(cw, name) == {"owner": "platform"}
    tagged = [params for operation, params in calls if operation == "TagResource"]
    untagged = [params for operation, params in calls if operation == "UntagResource"]
    assert [p["Tags"] for p in tagged] == [[{"Key": "owner", "Value": "platform"}]] * 2
    assert [p["TagKeys"] for p in untagged] == [["old"]] * 2


def test_only_differing_alarms_are_changed(cw, run_module, calls):
    _create(cw, "already-tagged", {"owner": "security"})
    _create(cw, "other-owner", {"owner": "platform"})
    calls.clear()
    names = ["already-tagged", "other-owner"]
    result = run_module(mod, {"alarm_names": names, "tags": {"owner": "security"}})
    assert result["changed_alarms"] == ["other-owner"]
    assert _tags(cw, "already-tagged") == {"owner": "security"}
    assert _tags(cw, "other-owner") == {"owner": "security"}
    assert [p["ResourceARN"] for op, p in calls if op in MUTATING] == [_arn(cw, "other-owner")]


def test_purge_false_keeps_other_tags(cw, run_module):
    _create(cw, "keep", {"team": "a", "owner": "x"})
    result = run_module(mod, {"alarm_names": ["keep"], "tags": {"owner": "security"}, "purge_tags": False})
    assert result["changed"] is True
    assert _tags(cw, "keep") == {"team": "a", "owner": "security"}
    assert result["alarms"]["keep"]["tags"] == {"team": "a", "owner": "security"}
    assert run_module(mod, {"alarm_names": ["keep"], "tags": {}, "purge_tags": False})["changed"] is False
    assert run_module(mod, {"alarm_names": ["keep"], "tags": {}})["changed"] is True
    assert _tags(cw, "keep") == {}


def test_non_string_values_are_stored_as_strings(cw, run_module):
    args = {"alarm_names": ALARMS[:1], "tags": {"version": 2, "enabled": True}}
    assert run_module(mod, args)["changed"] is True
    assert _tags(cw, ALARMS[0]) == {"version": "2", "enabled": "True"}
    assert run_module(mod, args)["changed"] is False


def test_check_mode_changes_nothing(cw, run_module, calls):
    _create(cw, "tagged", {"owner": "platform", "old": "x"})
    calls.clear()
    names = [*ALARMS, "tagged"]
    result = run_module(
        mod, {"alarm_names": names, "tags": {"owner": "security"}}, check_mode=True, diff=True
    )
    assert result["changed"] is True
    assert result["changed_alarms"] == names
    assert result["diff"]["before"]["tagged"] == {"owner": "platform", "old": "x"}
    assert result["diff"]["after"]["tagged"] == {"owner": "security"}
    assert result["alarms"]["tagged"] == {"arn": _arn(cw, "tagged"), "tags": {"owner": "security"}}
    assert not MUTATING & set(_operations(calls))
    assert _tags(cw, "tagged") == {"owner": "platform", "old": "x"}
    assert all(_tags(cw, name) == {} for name in ALARMS)


def test_missing_alarm_fails_before_changing_anything(cw, run_module, calls):
    result = run_module(
        mod, {"alarm_names": [*ALARMS, "nope", "gone"], "tags": {"owner": "security"}}, expect_failure=True
    )
    assert result["msg"] == "CloudWatch alarms do not exist: nope, gone"
    assert result["missing_alarms"] == ["nope", "gone"]
    assert not MUTATING & set(_operations(calls))
    assert all(_tags(cw, name) == {} for name in ALARMS)


def test_missing_alarm_in_check_mode_reports_changed(cw, run_module, calls):
    names = [ALARMS[0], "created-by-an-earlier-task"]
    result = run_module(
        mod, {"alarm_names": names, "tags": {"owner": "security"}}, check_mode=True, diff=True
    )
    assert result["changed"] is True
    assert result["changed_alarms"] == names
    assert result["alarms"]["created-by-an-earlier-task"] == {"arn": None, "tags": {"owner": "security"}}
    assert result["diff"]["before"]["created-by-an-earlier-task"] == {}
    assert not MUTATING & set(_operations(calls))
    # a new alarm has no tags, so purging all tags would change nothing
    empty = run_module(mod, {"alarm_names": ["created-by-an-earlier-task"], "tags": {}}, check_mode=True)
    assert empty["changed"] is False


def test_many_alarms_are_described_in_batches_of_100(cw, run_module, calls):
    names = [f"alarm-{i:03d}" for i in range(150)]
    for name in names:
        _create(cw, name)
    calls.clear()
    result = run_module(mod, {"alarm_names": names, "tags": {"owner": "security"}})
    assert len(result["changed_alarms"]) == 150
    described = [p["AlarmNames"] for op, p in calls if op == "DescribeAlarms"]
    assert [len(batch) for batch in described] == [100, 50]
    assert sorted(n for batch in described for n in batch) == names
    assert _tags(cw, names[0]) == _tags(cw, names[-1]) == {"owner": "security"}


def test_duplicate_names_are_handled_once(cw, run_module, calls):
    result = run_module(mod, {"alarm_names": [ALARMS[0], ALARMS[0]], "tags": {"owner": "security"}})
    assert result["changed_alarms"] == [ALARMS[0]]
    assert _operations(calls).count("TagResource") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"alarm_names": []}, "at least one alarm"),
        ({"alarm_names": [""]}, "empty names"),
        ({"tags": {"aws:cloudformation:stack-name": "x"}}, "reserved by AWS: aws:cloudformation:stack-name"),
        ({"tags": {"owner": None}}, "tags need a value"),
        ({"tags": ["owner", "security"]}, "tags"),
        ({"tags": None}, "tags"),
        ({"purge_tags": "sometimes"}, "purge_tags"),
    ],
)
def test_bad_input(cw, run_module, calls, args, message):
    base = {"alarm_names": ALARMS, "tags": {"owner": "security"}}
    result = run_module(mod, {**base, **args}, expect_failure=True)
    assert message in result["msg"]
    assert not MUTATING & set(_operations(calls))
    assert all(_tags(cw, name) == {} for name in ALARMS)
