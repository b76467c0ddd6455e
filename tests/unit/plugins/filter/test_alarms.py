"""Alarms as data: expansion over resources, disable and override by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.secureinfra.baseline.plugins.filter.alarms import cis_alarms, expand_alarms

VARS = yaml.safe_load((Path(__file__).resolve().parents[4] / "roles/monitoring/vars/main.yml").read_text())
DEFINITIONS = [
    {
        "key": "s3-5xx",
        "resource": "bucket",
        "namespace": "AWS/S3",
        "metric_name": "5xxErrors",
        "dimensions": {"BucketName": "{resource}", "FilterId": "All"},
        "threshold": 1,
        "comparison": "GreaterThanOrEqualToThreshold",
    },
    {
        "key": "ddb-throttled",
        "resource": "table",
        "namespace": "AWS/DynamoDB",
        "metric_name": "ThrottledRequests",
        "dimensions": {"TableName": "{resource}"},
        "each": {"dimension": "Operation", "values": ["PutItem", "Scan"]},
        "threshold": 1,
        "comparison": "GreaterThanOrEqualToThreshold",
    },
]
RESOURCES = {"bucket": ["b1", "b2"], "table": ["t1"]}


def test_one_alarm_per_resource_and_each_value():
    alarms = expand_alarms(DEFINITIONS, RESOURCES, prefix="p-")
    assert [a["name"] for a in alarms] == [
        "p-s3-5xx-b1",
        "p-s3-5xx-b2",
        "p-ddb-throttled-t1-PutItem",
        "p-ddb-throttled-t1-Scan",
    ]
    assert alarms[0]["dimensions"] == {"BucketName": "b1", "FilterId": "All"}
    assert alarms[3]["dimensions"] == {"TableName": "t1", "Operation": "Scan"}
    assert all(a["period"] == 300 and a["treat_missing_data"] == "notBreaching" for a in alarms)


def test_override_and_disable_by_name():
    alarms = expand_alarms(
        DEFINITIONS, RESOURCES, {"s3-5xx": {"threshold": 5, "period": 60}}, ["ddb-throttled"]
    )
    assert [(a["threshold"], a["period"]) for a in alarms] == [(5, 60), (5, 60)]
    assert expand_alarms(DEFINITIONS, RESOURCES, {"s3-5xx": {"enabled": False}}, []) == [
        a for a in expand_alarms(DEFINITIONS, RESOURCES) if a["metric_name"] == "ThrottledRequests"
    ]


@pytest.mark.parametrize(
    ("overrides", "disabled", "message"),
    [
        ({"nope": {"threshold": 1}}, [], "unknown alarm names ['nope']"),
        ({}, ["nope"], "unknown alarm names ['nope']"),
        ({"s3-5xx": {"colour": "red"}}, [], "cannot override ['colour']"),
    ],
)
def test_bad_names_are_refused(overrides, disabled, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("[", r"\[").replace("]", r"\]")):
        expand_alarms(DEFINITIONS, RESOURCES, overrides, disabled)


def test_role_definitions_expand_to_the_documented_alarms():
    resources = {"bucket": ["b"], "table": ["t"], "function": ["f1", "f2", "f3"], "region": ["us-east-1"]}
    definitions = [
        {**d, "threshold": 1} if "{{" in str(d.get("threshold")) else d
        for d in VARS["monitoring_alarm_definitions"]
    ]
    definitions = [
        {
            **d,
            "dimensions": {
                k: v.replace("{{ monitoring_request_metrics_id }}", "All") for k, v in d["dimensions"].items()
            },
        }
        for d in definitions
    ]
    alarms = expand_alarms(definitions, resources)
    assert len(alarms) == 3 + 2 + 3 + 3 + 1 + 9
    assert len({a["name"] for a in alarms}) == len(alarms)


def test_cis_controls_disable_by_id_or_name_and_override():
    controls = VARS["monitoring_cis_controls"]
    deployed = cis_alarms(controls, ["4.15", "root-account-usage"], {"4.1": {"threshold": 3}})
    ids = [c["cis_id"] for c in deployed]
    assert "4.15" not in ids and "4.3" not in ids and len(ids) == 13
    first = deployed[0]
    assert first["cis_id"] == "4.1" and first["threshold"] == 3
    assert all(
        c["threshold"] == 1
        and c["treat_missing_data"] == "notBreaching"
        and c["comparison"] == "GreaterThanOrEqualToThreshold"
        for c in deployed[1:]
    )
    with pytest.raises(AnsibleFilterError, match="unknown CIS controls"):
        cis_alarms(controls, ["4.99"], {})


def test_cis_controls_carry_their_metric_filter():
    controls = VARS["monitoring_cis_controls"]
    deployed = cis_alarms(controls, [], {}, "p-cis-", "Ns")
    for control in deployed:
        assert control["metric_filter"] == {
            "name": control["filter_name"],
            "pattern": control["pattern"],
            "metric_name": control["metric_name"],
            "metric_namespace": "Ns",
            "metric_value": "1",
            "default_value": 0,
        }
        assert control["alarm"]["metric_name"] == control["metric_name"]
        assert control["alarm"]["namespace"] == "Ns"
