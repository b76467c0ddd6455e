"""secureinfra.baseline.cloudwatch_metric_alarms against in-process moto."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import cloudwatch_metric_alarms as mod

TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
OTHER_TOPIC = "arn:aws:sns:us-east-1:123456789012:other"
MUTATING = {"PutMetricAlarm", "TagResource", "UntagResource", "DeleteAlarms"}
NAMES = [f"baseline-{i}" for i in range(4)]


def _alarm(name, **overrides):
    alarm = {
        "name": name,
        "namespace": "Baseline",
        "metric_name": f"{name}-count",
        "threshold": 1,
        "comparison": "GreaterThanOrEqualToThreshold",
    }
    alarm.update(overrides)
    return alarm


def _args(**overrides):
    args = {
        "alarms": [_alarm(name) for name in NAMES],
        "alarm_actions": [TOPIC],
        "tags": {"owner": "security"},
    }
    args.update(overrides)
    return args


@pytest.fixture
def cw(aws):
    return boto3.client("cloudwatch", region_name="us-east-1")


@pytest.fixture
def calls(calls_with_params):
    """(operation, params) of every AWS call made (by the module or the test) from now on."""
    return calls_with_params


def _describe(cw, name):
    alarms = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarms[0] if alarms else None


def _tags(cw, name):
    tags = cw.list_tags_for_resource(ResourceARN=_describe(cw, name)["AlarmArn"])["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def _all_names(cw):
    return sorted(a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"])


def _mutations(calls):
    return [(op, params) for op, params in calls if op in MUTATING]


def _put(cw, name, tags=None, **overrides):
    request = {
        "AlarmName": name,
        "MetricName": f"{name}-count",
        "Namespace": "Baseline",
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [TOPIC],
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }
    request.update(overrides)
    cw.put_metric_alarm(**request)


def _fake_composite(monkeypatch, name):
    """moto lacks PutCompositeAlarm: make DescribeAlarms (as the module calls it) also return one."""
    original = mod.describe_alarms

    def describe(client, **kwargs):
        response = original(client, **kwargs)
        if name in kwargs.get("AlarmNames", []) or name.startswith(kwargs.get("AlarmNamePrefix", "\0")):
            arn = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
            response.setdefault("CompositeAlarms", []).append({"AlarmName": name, "AlarmArn": arn})
        return response

    monkeypatch.setattr(mod, "describe_alarms", describe)


def test_create_then_idempotent(cw, run_module, calls):
    result = run_module(mod, _args())
    assert result["changed"] is True
    assert result["created"] == NAMES
    assert result["updated"] == result["deleted"] == result["tagged"] == []
    puts = [params for op, params in calls if op == "PutMetricAlarm"]
    assert [p["Tags"] for p in puts] == [[{"Key": "owner", "Value": "security"}]] * 4
    assert not {"TagResource", "UntagResource"} & {op for op, _ in calls}
    for name in NAMES:
        alarm = _describe(cw, name)
        assert result["alarms"][name] == {"arn": alarm["AlarmArn"], "changed": True}
        assert alarm["Statistic"] == "Sum"
        assert alarm["Period"] == 300
        assert alarm["Threshold"] == 1.0
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [TOPIC]
        assert _tags(cw, name) == {"owner": "security"}

    calls.clear()
    again = run_module(mod, _args())
    assert again["changed"] is False
    assert again["created"] == again["updated"] == again["deleted"] == again["tagged"] == []
    assert again["alarms"] == {n: {"arn": result["alarms"][n]["arn"], "changed": False} for n in NAMES}
    assert _mutations(calls) == []


def test_full_options_are_idempotent(cw, run_module, calls):
    alarm = _alarm(
        "full",
        description="Lambda errors",
        namespace="AWS/Lambda",
        metric_name="Errors",
        dimensions={"FunctionName": "rotate", "Resource": "rotate:live"},
        statistic="Maximum",
        period=60,
        evaluation_periods=5,
        datapoints_to_alarm=2,
        threshold=0.5,
        comparison="GreaterThanThreshold",
        treat_missing_data="ignore",
        unit="Count",
    )
    args = {
        "alarms": [alarm],
        "alarm_actions": [TOPIC, OTHER_TOPIC],
        "ok_actions": [TOPIC],
        "insufficient_data_actions": [OTHER_TOPIC],
    }
    assert run_module(mod, args)["created"] == ["full"]
    described = _describe(cw, "full")
    assert described["AlarmDescription"] == "Lambda errors"
    assert {d["Name"]: d["Value"] for d in described["Dimensions"]} == alarm["dimensions"]
    assert (described["DatapointsToAlarm"], described["Unit"]) == (2, "Count")
    assert described["OKActions"] == [TOPIC]
    calls.clear()
    # actions in another order, an integer-looking threshold as a string: still the same alarm
    same = {**args, "alarm_actions": [OTHER_TOPIC, TOPIC], "alarms": [{**alarm, "threshold": "0.5"}]}
    assert run_module(mod, same)["changed"] is False
    assert _mutations(calls) == []


def test_only_the_changed_alarm_is_updated(cw, run_module, calls):
    run_module(mod, _args())
    calls.clear()
    args = _args()
    args["alarms"][2]["threshold"] = 5
    result = run_module(mod, args)
    assert result["changed"] is True
    assert result["updated"] == [NAMES[2]]
    assert result["created"] == result["tagged"] == result["deleted"] == []
    assert [n for n, a in result["alarms"].items() if a["changed"]] == [NAMES[2]]
    puts = [params for op, params in _mutations(calls)]
    assert len(puts) == 1
    assert puts[0]["AlarmName"] == NAMES[2]
    assert "Tags" not in puts[0]  # AWS ignores Tags when updating
    assert _describe(cw, NAMES[2])["Threshold"] == 5.0
    assert _describe(cw, NAMES[1])["Threshold"] == 1.0
    assert _tags(cw, NAMES[2]) == {"owner": "security"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "now described"),
        ("dimensions", {"Env": "prod"}),
        ("statistic", "Average"),
        ("period", 60),
        ("evaluation_periods", 2),
        ("datapoints_to_alarm", 1),
        ("comparison", "GreaterThanThreshold"),
        ("treat_missing_data", "breaching"),
        ("unit", "Count"),
        ("metric_name", "Other"),
        ("namespace", "Other"),
    ],
)
def test_each_field_is_compared(cw, run_module, field, value):
    base = {"evaluation_periods": 3}
    run_module(mod, _args(alarms=[_alarm("a", **base)]))
    result = run_module(mod, _args(alarms=[_alarm("a", **{**base, field: value})]))
    assert result["updated"] == ["a"]
    assert run_module(mod, _args(alarms=[_alarm("a", **{**base, field: value})]))["changed"] is False


def test_actions_are_compared(cw, run_module):
    run_module(mod, _args())
    result = run_module(mod, _args(alarm_actions=[TOPIC], ok_actions=[TOPIC]))
    assert result["updated"] == NAMES
    assert _describe(cw, NAMES[0])["OKActions"] == [TOPIC]
    assert run_module(mod, _args(alarm_actions=[], ok_actions=[TOPIC]))["updated"] == NAMES
    assert _describe(cw, NAMES[0])["AlarmActions"] == []


def test_existing_alarm_defaults_are_normalised(cw, run_module, calls):
    # created without TreatMissingData / DatapointsToAlarm: AWS defaults "missing" / evaluation periods
    _put(cw, "legacy", TreatMissingData="missing", EvaluationPeriods=2)
    calls.clear()
    args = {
        "alarms": [_alarm("legacy", treat_missing_data="missing", evaluation_periods=2)],
        "alarm_actions": [TOPIC],
    }
    assert run_module(mod, args)["changed"] is False
    args["alarms"][0]["datapoints_to_alarm"] = 2  # same as evaluation periods: nothing changes
    assert run_module(mod, args)["changed"] is False
    assert _mutations(calls) == []


def test_disabled_actions_are_enabled(cw, run_module):
    _put(cw, NAMES[0], ActionsEnabled=False, Tags=[{"Key": "owner", "Value": "security"}])
    result = run_module(mod, _args(alarms=[_alarm(NAMES[0])]))
    assert result["updated"] == [NAMES[0]]
    assert _describe(cw, NAMES[0])["ActionsEnabled"] is True


def test_tag_changes(cw, run_module, calls):
    run_module(mod, _args(tags={"owner": "security", "old": "x"}))
    calls.clear()
    result = run_module(mod, _args(tags={"owner": "platform", "version": 2}))
    assert result["tagged"] == NAMES
    assert result["updated"] == result["created"] == []
    assert {op for op, _ in _mutations(calls)} == {"TagResource", "UntagResource"}
    assert [p["TagKeys"] for op, p in calls if op == "UntagResource"] == [["old"]] * 4
    assert _tags(cw, NAMES[0]) == {"owner": "platform", "version": "2"}

    # purge_tags=false keeps other tags; tags={} with purge_tags=false does not even read tags
    _put(cw, "extra-tagged", tags={"team": "a"})
    run_module(mod, _args(alarms=[_alarm("extra-tagged")], purge_tags=False))
    assert _tags(cw, "extra-tagged") == {"team": "a", "owner": "security"}
    calls.clear()
    result = run_module(mod, _args(tags={}, purge_tags=False))
    assert result["changed"] is False
    assert "ListTagsForResource" not in {op for op, _ in calls}
    result = run_module(mod, _args(tags={}))
    assert result["tagged"] == NAMES
    assert _tags(cw, NAMES[0]) == {}


def test_only_the_differently_tagged_alarm_is_retagged(cw, run_module, calls):
    run_module(mod, _args())
    arn = _describe(cw, NAMES[1])["AlarmArn"]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "owner", "Value": "someone"}])
    calls.clear()
    result = run_module(mod, _args())
    assert result["tagged"] == [NAMES[1]]
    assert [(op, p["ResourceARN"]) for op, p in _mutations(calls)] == [("TagResource", arn)]


def test_check_mode_on_absent(cw, run_module, calls):
    result = run_module(mod, _args(), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["created"] == NAMES
    assert all(a == {"arn": None, "changed": True} for a in result["alarms"].values())
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"][NAMES[0]]["tags"] == {"owner": "security"}
    assert result["diff"]["after"][NAMES[0]]["threshold"] == 1.0
    assert _mutations(calls) == []
    assert _all_names(cw) == []


def test_check_mode_on_present(cw, run_module, calls):
    run_module(mod, _args(purge_prefix="baseline-"))
    _put(cw, "baseline-extra")
    calls.clear()
    args = _args(tags={"owner": "platform"}, purge_prefix="baseline-")
    args["alarms"][0]["threshold"] = 9
    args["alarms"].append(_alarm("baseline-new"))
    result = run_module(mod, args, check_mode=True)
    assert result["changed"] is True
    assert result["created"] == ["baseline-new"]
    assert result["updated"] == [NAMES[0]]
    assert result["tagged"] == NAMES
    assert result["deleted"] == ["baseline-extra"]
    assert _mutations(calls) == []
    assert _all_names(cw) == sorted([*NAMES, "baseline-extra"])
    assert _describe(cw, NAMES[0])["Threshold"] == 1.0
    assert _tags(cw, NAMES[0]) == {"owner": "security"}
    # check mode on a converged account reports no change
    assert run_module(mod, _args(purge_prefix="baseline-extra-none"), check_mode=True)["changed"] is False


def test_purge_prefix_deletes_extras_only(cw, run_module, calls, monkeypatch):
    run_module(mod, _args())
    _put(cw, "baseline-old-1")
    _put(cw, "baseline-old-2")
    _put(cw, "other-alarm")
    _fake_composite(monkeypatch, "baseline-composite")
    calls.clear()
    result = run_module(mod, _args(purge_prefix="baseline-"), diff=True)
    assert result["changed"] is True
    assert result["deleted"] == ["baseline-old-1", "baseline-old-2"]
    assert result["created"] == result["updated"] == result["tagged"] == []
    assert sorted(result["diff"]["before"]) == ["baseline-old-1", "baseline-old-2"]
    assert result["diff"]["after"] == {}
    assert _all_names(cw) == sorted([*NAMES, "other-alarm"])
    assert [p["AlarmNames"] for op, p in _mutations(calls)] == [["baseline-old-1", "baseline-old-2"]]
    assert run_module(mod, _args(purge_prefix="baseline-"))["changed"] is False


def test_without_purge_prefix_nothing_is_deleted(cw, run_module, calls):
    _put(cw, "baseline-old")
    result = run_module(mod, _args())
    assert result["deleted"] == []
    assert "DeleteAlarms" not in {op for op, _ in calls}
    assert "baseline-old" in _all_names(cw)


def test_purge_with_no_alarms_deletes_all_with_prefix(cw, run_module):
    _put(cw, "baseline-a")
    _put(cw, "keep")
    result = run_module(mod, {"alarms": [], "purge_prefix": "baseline-"})
    assert result["deleted"] == ["baseline-a"]
    assert _all_names(cw) == ["keep"]


def test_diff(cw, run_module):
    run_module(mod, _args(tags={"owner": "security"}))
    args = _args(tags={"owner": "platform"})
    args["alarms"][1]["threshold"] = 3
    result = run_module(mod, args, diff=True)
    assert sorted(result["diff"]["before"]) == sorted(result["diff"]["after"]) == NAMES
    before, after = result["diff"]["before"][NAMES[1]], result["diff"]["after"][NAMES[1]]
    assert (before["threshold"], after["threshold"]) == (1.0, 3.0)
    assert (before["tags"], after["tags"]) == ({"owner": "security"}, {"owner": "platform"})
    assert {k for k in before if before[k] != after[k]} == {"threshold", "tags"}
    assert "diff" not in run_module(mod, args)
    assert run_module(mod, args, diff=True)["diff"] == {"before": {}, "after": {}}


def test_many_alarms_are_described_in_batches_of_100(cw, run_module, calls):
    names = [f"alarm-{i:03d}" for i in range(150)]
    result = run_module(mod, _args(alarms=[_alarm(n) for n in names]))
    assert len(result["created"]) == 150
    assert all(result["alarms"][n]["arn"].endswith(f":alarm:{n}") for n in names)
    calls.clear()
    assert run_module(mod, _args(alarms=[_alarm(n) for n in names]))["changed"] is False
    described = [p["AlarmNames"] for op, p in calls if op == "DescribeAlarms"]
    assert [len(batch) for batch in described] == [100, 50]
    assert sorted(n for batch in described for n in batch) == names
    assert _mutations(calls) == []


def test_purge_prefix_lookup_covers_prefixed_names(cw, run_module, calls):
    run_module(mod, _args(purge_prefix="baseline-"))
    calls.clear()
    args = _args(alarms=[*(_alarm(n) for n in NAMES), _alarm("unprefixed")], purge_prefix="baseline-")
    assert run_module(mod, args)["created"] == ["unprefixed"]
    described = [p for op, p in calls if op == "DescribeAlarms"]
    assert described[0]["AlarmNamePrefix"] == "baseline-"
    assert described[1]["AlarmNames"] == ["unprefixed"]


def test_composite_alarm_name_clash_fails_before_changes(cw, run_module, calls, monkeypatch):
    _fake_composite(monkeypatch, "composite")
    calls.clear()
    result = run_module(mod, _args(alarms=[_alarm("new"), _alarm("composite")]), expect_failure=True)
    assert "composite alarms: composite" in result["msg"]
    assert _mutations(calls) == []


@pytest.mark.parametrize(
    ("alarms", "overrides", "message"),
    [
        ([_alarm("a"), _alarm("a")], {}, "alarm names must be unique: a"),
        ([_alarm("")], {}, "1 to 255 characters"),
        ([_alarm("a" * 256)], {}, "1 to 255 characters"),
        ([_alarm("a", evaluation_periods=2, datapoints_to_alarm=3)], {}, "datapoints_to_alarm must be"),
        ([_alarm("a", datapoints_to_alarm=0)], {}, "datapoints_to_alarm must be"),
        ([_alarm("a", evaluation_periods=0)], {}, "evaluation_periods must be at least 1"),
        ([_alarm("a", period=90)], {}, "period must be 10, 20, 30 or a multiple of 60, not 90"),
        ([_alarm("a", period=0)], {}, "period must be"),
        ([_alarm("a", period=60, evaluation_periods=1441)], {}, "at most 1 day"),
        ([_alarm("a", dimensions={"k": None})], {}, "dimensions need"),
        ([_alarm("a", description="x" * 1025)], {}, "1024 characters"),
        ([_alarm("a", statistic="p99")], {}, "statistic"),
        ([_alarm("a", comparison="LessThanLowerThreshold")], {}, "comparison"),
        ([_alarm("a", treat_missing_data="maybe")], {}, "treat_missing_data"),
        ([_alarm("a", unit="Parsecs")], {}, "unit"),
        ([_alarm("a", threshold="high")], {}, "threshold"),
        (
            [{"name": "a", "namespace": "N", "threshold": 1, "comparison": "GreaterThanThreshold"}],
            {},
            "metric_name",
        ),
        ([_alarm("a", colour="red")], {}, "colour"),
        ([_alarm("a")], {"alarm_actions": [f"{TOPIC}-{i}" for i in range(6)]}, "at most 5 actions"),
        ([_alarm("a")], {"tags": {"aws:x": "y"}}, "reserved by AWS: aws:x"),
        ([_alarm("a")], {"tags": {"owner": None}}, "tags need a value"),
        ([_alarm("a")], {"purge_prefix": ""}, "purge_prefix must not be empty"),
        ([_alarm("a")], {"purge_tags": "sometimes"}, "purge_tags"),
    ],
)
def test_bad_input(cw, run_module, calls, alarms, overrides, message):
    _put(cw, "a")
    calls.clear()
    result = run_module(mod, {"alarms": alarms, **overrides}, expect_failure=True)
    assert message in result["msg"]
    assert calls == []  # validated before any AWS call
    assert _all_names(cw) == ["a"]
