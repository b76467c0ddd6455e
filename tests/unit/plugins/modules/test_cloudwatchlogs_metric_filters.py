"""secureinfra.baseline.cloudwatchlogs_metric_filters against in-process moto."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import cloudwatchlogs_metric_filters as mod

GROUP = "/aws/cloudtrail/baseline"
MUTATING = {"PutMetricFilter", "DeleteMetricFilter"}
NAMES = [f"baseline-cis-{i}" for i in range(3)]


def _filter(name, **overrides):
    item = {
        "name": name,
        "pattern": f'{{ $.eventName = "{name}" }}',
        "metric_name": f"{name}-count",
        "metric_namespace": "CISBenchmark",
        "default_value": 0,
    }
    item.update(overrides)
    return item


def _args(**overrides):
    args = {"log_group_name": GROUP, "filters": [_filter(n) for n in NAMES]}
    args.update(overrides)
    return args


@pytest.fixture
def logs(aws):
    client = boto3.client("logs", region_name="us-east-1")
    client.create_log_group(logGroupName=GROUP)
    return client


@pytest.fixture
def calls(calls_with_params):
    """(operation, params) of every AWS call made (by the module or the test) from now on."""
    return calls_with_params


def _filters(logs):
    return {f["filterName"]: f for f in logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"]}


def _mutations(calls):
    return [op for op, _ in calls if op in MUTATING]


def test_create_then_idempotent_with_one_read(logs, run_module, calls):
    result = run_module(mod, _args())
    assert result["changed"] and sorted(result["created"]) == NAMES
    found = _filters(logs)
    assert sorted(found) == NAMES
    transformation = found[NAMES[0]]["metricTransformations"][0]
    assert transformation["metricName"] == f"{NAMES[0]}-count"
    assert transformation["metricValue"] == "1"
    assert float(transformation["defaultValue"]) == 0
    calls.clear()
    again = run_module(mod, _args())
    assert not again["changed"]
    assert again["created"] == again["updated"] == again["deleted"] == []
    assert [op for op, _ in calls] == ["DescribeLogGroups", "DescribeMetricFilters"]


def test_only_the_changed_filter_is_put(logs, run_module, calls):
    run_module(mod, _args())
    changed = _args(filters=[_filter(NAMES[0]), _filter(NAMES[1], pattern="{ $.x = 1 }"), _filter(NAMES[2])])
    calls.clear()
    result = run_module(mod, changed, diff=True)
    assert result["changed"] and result["updated"] == [NAMES[1]]
    assert [(op, p["filterName"]) for op, p in calls if op in MUTATING] == [("PutMetricFilter", NAMES[1])]
    assert _filters(logs)[NAMES[1]]["filterPattern"] == "{ $.x = 1 }"
    assert result["diff"]["after"][NAMES[1]]["filterPattern"] == "{ $.x = 1 }"
    assert result["diff"]["before"][NAMES[1]]["filterPattern"] == f'{{ $.eventName = "{NAMES[1]}" }}'


@pytest.mark.parametrize(
    ("field", "value"),
    [("metric_name", "other"), ("metric_namespace", "Other"), ("metric_value", "2"), ("default_value", 1.0)],
)
def test_each_transformation_field_is_compared(logs, run_module, field, value):
    run_module(mod, _args())
    result = run_module(mod, _args(filters=[_filter(NAMES[0], **{field: value}), *map(_filter, NAMES[1:])]))
    assert result["updated"] == [NAMES[0]]


def test_default_value_removed_is_a_change(logs, run_module):
    run_module(mod, _args())
    result = run_module(mod, _args(filters=[_filter(NAMES[0], default_value=None), *map(_filter, NAMES[1:])]))
    assert result["updated"] == [NAMES[0]]
    assert "defaultValue" not in _filters(logs)[NAMES[0]]["metricTransformations"][0]


def test_check_mode_changes_nothing(logs, run_module, calls):
    result = run_module(mod, _args(), check_mode=True, diff=True)
    assert result["changed"] and sorted(result["created"]) == NAMES
    assert sorted(result["diff"]["after"]) == NAMES
    assert _mutations(calls) == []
    assert _filters(logs) == {}


def test_purge_prefix_deletes_only_undefined_filters_with_the_prefix(logs, run_module, calls):
    run_module(mod, _args())
    logs.put_metric_filter(
        logGroupName=GROUP,
        filterName="someone-else",
        filterPattern="",
        metricTransformations=[{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}],
    )
    keep = _args(filters=[_filter(NAMES[0])], purge_prefix="baseline-cis-")
    calls.clear()
    checked = run_module(mod, keep, check_mode=True)
    assert checked["deleted"] == NAMES[1:] and _mutations(calls) == []
    result = run_module(mod, keep)
    assert result["changed"] and result["deleted"] == NAMES[1:]
    assert sorted(_filters(logs)) == [NAMES[0], "someone-else"]


def test_a_missing_log_group_fails_with_its_name(logs, run_module, calls):
    result = run_module(mod, _args(log_group_name="/missing"), expect_failure=True)
    assert "the log group /missing does not exist" in result["msg"]
    assert _mutations(calls) == []


def test_check_mode_on_a_missing_log_group_predicts_every_filter(aws, run_module, calls):
    result = run_module(mod, _args(), check_mode=True)
    assert result["changed"] and sorted(result["created"]) == NAMES
    assert _mutations(calls) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"filters": [_filter("a:b")]}, "name 'a:b'"),
        ({"filters": [_filter("a"), _filter("a")]}, "duplicate names a"),
        ({"filters": [_filter("a", pattern="x" * 1025)]}, "longer than 1024"),
        ({"filters": [_filter("a", metric_name="bad$name")]}, "metric_name 'bad$name'"),
        ({"filters": [_filter("a", metric_value="")]}, "metric_value must not be empty"),
        ({"log_group_name": "bad group"}, "log_group_name 'bad group'"),
    ],
)
def test_bad_input_fails_before_any_call(aws, run_module, calls, overrides, message):
    result = run_module(mod, _args(**overrides), expect_failure=True)
    assert message in result["msg"]
    assert calls == []
