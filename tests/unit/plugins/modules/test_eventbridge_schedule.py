"""secureinfra.baseline.eventbridge_schedule against in-process moto."""

from __future__ import annotations

import json

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import eventbridge_schedule as mod
from botocore.exceptions import ClientError

RULE = "rotate-keys-daily"
FN = "arn:aws:lambda:us-east-1:123456789012:function:rotate-keys"
FN2 = "arn:aws:lambda:us-east-1:123456789012:function:other:live"
BASE = {
    "name": RULE,
    "schedule_expression": "cron(0 3 * * ? *)",
    "description": "Daily key rotation",
    "target_arn": FN,
    "target_input": {"max_age_days": 90, "dry_run": False},
    "tags": {"owner": "security", "env": "test"},
}


@pytest.fixture
def events(aws):
    return boto3.client("events", region_name="us-east-1")


def _rule(events) -> dict | None:
    try:
        rule = events.describe_rule(Name=RULE)
        rule.pop("ResponseMetadata")
        return rule
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ResourceNotFoundException"
        return None


def _targets(events) -> dict:
    return {t["Id"]: t for t in events.list_targets_by_rule(Rule=RULE)["Targets"]}


def _tags(events) -> dict:
    arn = events.describe_rule(Name=RULE)["Arn"]
    return {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def test_create_then_idempotent(events, run_module):
    result = run_module(mod, BASE)
    assert result["changed"] is True
    rule = _rule(events)
    assert rule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert rule["State"] == "ENABLED"
    assert rule["Description"] == "Daily key rotation"
    targets = _targets(events)
    assert set(targets) == {RULE}  # target_id defaults to the rule name
    assert targets[RULE]["Arn"] == FN
    assert json.loads(targets[RULE]["Input"]) == {"max_age_days": 90, "dry_run": False}
    assert _tags(events) == {"owner": "security", "env": "test"}
    assert result["rule"]["arn"] == rule["Arn"]
    assert result["rule"]["targets"] == [
        {"id": RULE, "arn": FN, "input": '{"dry_run":false,"max_age_days":90}'}
    ]
    # rerun, with the input as an equivalent JSON string: no change
    again = dict(BASE, target_input='{ "max_age_days": 90, "dry_run": false }')
    second = run_module(mod, again)
    assert second["changed"] is False
    assert second["rule"] == result["rule"]


def test_update_schedule_state_description(events, run_module):
    run_module(mod, BASE)
    args = dict(BASE, schedule_expression="rate(5 minutes)", enabled=False, description="Every 5 min")
    result = run_module(mod, args, diff=True)
    assert result["changed"] is True
    rule = _rule(events)
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["State"] == "DISABLED"
    assert rule["Description"] == "Every 5 min"
    assert result["diff"]["before"]["state"] == "ENABLED"
    assert result["diff"]["after"]["state"] == "DISABLED"
    # PutRule must not lose targets or tags
    assert set(_targets(events)) == {RULE}
    assert _tags(events) == BASE["tags"]
    assert run_module(mod, args)["changed"] is False


def test_omitted_description_and_tags_are_kept(events, run_module):
    run_module(mod, BASE)
    args = {k: v for k, v in BASE.items() if k not in ("description", "tags")}
    assert run_module(mod, args)["changed"] is False
    result = run_module(mod, dict(args, schedule_expression="rate(1 hour)"))
    assert result["changed"] is True
    assert _rule(events)["Description"] == "Daily key rotation"
    assert _tags(events) == BASE["tags"]


def test_clear_description(events, run_module):
    run_module(mod, BASE)
    assert run_module(mod, dict(BASE, description=""))["changed"] is True
    assert not _rule(events).get("Description")
    assert run_module(mod, dict(BASE, description=""))["changed"] is False


def test_update_target_and_input(events, run_module):
    run_module(mod, BASE)
    result = run_module(mod, dict(BASE, target_arn=FN2, target_input=None), diff=True)
    assert result["changed"] is True
    target = _targets(events)[RULE]
    assert target["Arn"] == FN2
    assert "Input" not in target
    assert result["diff"]["before"]["targets"][0]["arn"] == FN
    assert run_module(mod, dict(BASE, target_arn=FN2, target_input=None))["changed"] is False
    assert run_module(mod, dict(BASE, target_arn=FN2, target_input='{"a": [1, 2]}'))["changed"] is True
    assert json.loads(_targets(events)[RULE]["Input"]) == {"a": [1, 2]}


def test_new_target_id_replaces_old_and_foreign_targets(events, run_module):
    run_module(mod, BASE)
    events.put_targets(Rule=RULE, Targets=[{"Id": "stray", "Arn": FN2}])
    result = run_module(mod, dict(BASE, target_id="main"))
    assert result["changed"] is True
    assert set(_targets(events)) == {"main"}
    assert run_module(mod, dict(BASE, target_id="main"))["changed"] is False


def test_stray_target_alone_is_a_change(events, run_module):
    run_module(mod, BASE)
    events.put_targets(Rule=RULE, Targets=[{"Id": "stray", "Arn": FN2}])
    assert run_module(mod, BASE, check_mode=True)["changed"] is True
    assert set(_targets(events)) == {RULE, "stray"}
    assert run_module(mod, BASE)["changed"] is True
    assert set(_targets(events)) == {RULE}


def test_input_path_on_target_is_replaced(events, run_module):
    run_module(mod, dict(BASE, target_input=None))
    events.put_targets(Rule=RULE, Targets=[{"Id": RULE, "Arn": FN, "InputPath": "$.detail"}])
    assert run_module(mod, dict(BASE, target_input=None))["changed"] is True
    assert "InputPath" not in _targets(events)[RULE]


def test_tags_purge_and_merge(events, run_module):
    run_module(mod, BASE)
    result = run_module(mod, dict(BASE, tags={"owner": "platform"}), diff=True)
    assert result["changed"] is True
    assert _tags(events) == {"owner": "platform"}
    assert result["diff"]["before"]["tags"] == BASE["tags"]
    assert result["diff"]["after"]["tags"] == {"owner": "platform"}
    result = run_module(mod, dict(BASE, tags={"team": "sec"}, purge_tags=False))
    assert result["changed"] is True
    assert _tags(events) == {"owner": "platform", "team": "sec"}
    assert run_module(mod, dict(BASE, tags={"team": "sec"}, purge_tags=False))["changed"] is False
    assert run_module(mod, dict(BASE, tags={}))["changed"] is True
    assert _tags(events) == {}


def test_check_mode_on_absent_rule(events, run_module):
    result = run_module(mod, BASE, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["schedule_expression"] == BASE["schedule_expression"]
    assert result["rule"]["arn"] is None
    assert _rule(events) is None
    assert run_module(mod, {"name": RULE, "state": "absent"}, check_mode=True)["changed"] is False


def test_check_mode_on_present_rule(events, run_module):
    run_module(mod, BASE)
    before = (_rule(events), _targets(events), _tags(events))
    changed = dict(
        BASE, schedule_expression="rate(1 day)", target_arn=FN2, target_id="x", tags={"a": "b"}, enabled=False
    )
    assert run_module(mod, changed, check_mode=True)["changed"] is True
    assert run_module(mod, {"name": RULE, "state": "absent"}, check_mode=True)["changed"] is True
    assert (_rule(events), _targets(events), _tags(events)) == before
    assert run_module(mod, BASE, check_mode=True)["changed"] is False


def test_absent_removes_targets_then_rule(events, run_module):
    run_module(mod, BASE)
    events.put_targets(Rule=RULE, Targets=[{"Id": "stray", "Arn": FN2}])
    result = run_module(mod, {"name": RULE, "state": "absent"}, diff=True)
    assert result["changed"] is True
    assert result["rule"] == {}
    assert result["diff"]["before"]["name"] == RULE
    assert _rule(events) is None
    assert run_module(mod, {"name": RULE, "state": "absent"})["changed"] is False


def test_event_pattern_rule_is_converted(events, run_module):
    events.put_rule(Name=RULE, EventPattern=json.dumps({"source": ["aws.ec2"]}))
    assert run_module(mod, BASE)["changed"] is True
    rule = _rule(events)
    assert rule["ScheduleExpression"] == BASE["schedule_expression"]
    assert not rule.get("EventPattern")
    assert run_module(mod, BASE)["changed"] is False


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minute)", "rate(2 hours)", "rate(10 days)", "cron(0/15 * * * ? *)", "cron(0 8 ? * MON-FRI *)"],
)
def test_valid_schedules(events, run_module, expression):
    assert run_module(mod, dict(BASE, schedule_expression=expression))["changed"] is True
    assert _rule(events)["ScheduleExpression"] == expression


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"schedule_expression": "every 5 minutes"}, "is not valid"),
        ({"schedule_expression": "rate(5 minute)"}, "must be plural"),
        ({"schedule_expression": "rate(1 hours)"}, "must be singular"),
        ({"schedule_expression": "rate(0 minutes)"}, "at least 1"),
        ({"schedule_expression": "rate(5 weeks)"}, "is not valid"),
        ({"schedule_expression": "cron(0 3 * * *)"}, "6 fields"),
        ({"schedule_expression": "cron(0 3 * * MON *)"}, "must be '?'"),
        ({"schedule_expression": None}, "schedule_expression required"),
        ({"target_arn": None}, "target_arn required"),
        ({"schedule_expression": "", "target_arn": ""}, "schedule_expression and target_arn required"),
        ({"target_arn": "arn:aws:sqs:us-east-1:123456789012:queue"}, "Lambda function ARN"),
        ({"target_input": "{not json"}, "valid JSON"),
        ({"target_id": "bad id!"}, "target_id"),
        ({"name": "bad name!"}, "name 'bad name!'"),
        ({"enabled": "sometimes"}, "bool"),
    ],
)
def test_bad_input(events, run_module, args, message):
    result = run_module(mod, dict(BASE, **args), expect_failure=True)
    assert message in result["msg"]
    assert events.list_rules()["Rules"] == []


def test_bad_input_on_update_leaves_rule_alone(events, run_module):
    run_module(mod, BASE)
    before = (_rule(events), _targets(events))
    run_module(mod, dict(BASE, schedule_expression="rate(5 minute)"), expect_failure=True)
    assert (_rule(events), _targets(events)) == before


def test_role_arn_survives_put_rule(events, run_module):
    role = "arn:aws:iam::123456789012:role/events-invoke"
    events.put_rule(Name=RULE, ScheduleExpression="rate(1 day)", RoleArn=role)
    assert run_module(mod, BASE)["changed"] is True
    rule = _rule(events)
    assert rule["ScheduleExpression"] == BASE["schedule_expression"]
    assert rule["RoleArn"] == role
