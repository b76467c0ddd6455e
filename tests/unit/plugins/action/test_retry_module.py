"""secureinfra.baseline.retry_module action: runs the wrapped module again on named errors only."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible_collections.secureinfra.baseline.plugins.action import retry_module as action

ROLE_NOT_READY = {
    "failed": True,
    "msg": "Unable to create function: An error occurred (InvalidParameterValueException) when calling the "
    "CreateFunction operation: The role defined for the function cannot be assumed by Lambda.",
    "error": {
        "code": "InvalidParameterValueException",
        "message": "The role defined for the function cannot be assumed by Lambda.",
    },
}
BAD_RUNTIME = {
    "failed": True,
    "msg": "Unable to create function",
    "error": {
        "code": "InvalidParameterValueException",
        "message": "Value python2 at 'runtime' failed to satisfy constraint",
    },
}
CREATED = {"changed": True, "configuration": {"function_name": "fn"}}


def _action(args: dict[str, Any], results: list[dict[str, Any]], check_mode: bool = False):
    task = Task()
    task.args = args
    context = PlayContext()
    context.check_mode = check_mode
    plugin = action.ActionModule(
        task, mock.MagicMock(), context, mock.MagicMock(), mock.MagicMock(), mock.MagicMock()
    )
    calls: list[dict[str, Any]] = []

    def execute(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append({"module": module_name, "args": module_args})
        return dict(results.pop(0))

    plugin._execute_module = execute
    return plugin, calls


ARGS = {
    "module": "amazon.aws.lambda",
    "module_args": {"name": "fn", "region": "us-west-1"},
    "retry_error_codes": ["InvalidParameterValueException"],
    "retry_message_pattern": "cannot be assumed by Lambda",
    "retry_timeout": 60,
    "region": "us-east-1",
    "endpoint_url": "http://127.0.0.1:4630",
    "access_key": "testing",
}


@pytest.fixture
def sleeps(monkeypatch):
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(action.time, "sleep", sleep)
    monkeypatch.setattr(action.time, "monotonic", lambda: now[0])
    return slept


def test_retries_role_propagation_then_returns_the_success(sleeps):
    plugin, calls = _action(dict(ARGS), [ROLE_NOT_READY, ROLE_NOT_READY, CREATED])
    result = plugin.run(task_vars={})
    assert result["changed"] is True
    assert not result.get("failed")
    assert len(calls) == 3
    assert len(sleeps) == 2
    assert result["retries"]["attempts"] == 3
    assert calls[0]["module"] == "amazon.aws.lambda"
    # module_args win; connection defaults fill in what they lack
    assert calls[0]["args"] == {
        "name": "fn",
        "region": "us-west-1",
        "endpoint_url": "http://127.0.0.1:4630",
        "access_key": "testing",
    }


def test_other_error_is_returned_at_once(sleeps):
    plugin, calls = _action(dict(ARGS), [BAD_RUNTIME, CREATED])
    result = plugin.run(task_vars={})
    assert result["failed"] is True
    assert result["msg"] == "Unable to create function"
    assert len(calls) == 1
    assert sleeps == []


def test_gives_up_after_the_budget_and_says_so(sleeps):
    plugin, calls = _action({**ARGS, "retry_timeout": 10}, [ROLE_NOT_READY] * 20)
    result = plugin.run(task_vars={})
    assert result["failed"] is True
    assert sum(sleeps) == pytest.approx(10)
    assert len(calls) == len(sleeps) + 1 == result["retries"]["attempts"]
    assert "retry_timeout is 10 s" in result["msg"]
    assert "cannot be assumed by Lambda" in result["msg"]


def test_bad_retry_settings_fail_before_running_the_module(sleeps):
    plugin, calls = _action({**ARGS, "retry_timeout": -1}, [CREATED])
    result = plugin.run(task_vars={})
    assert result["failed"] is True
    assert "retry_timeout must be 0 or more seconds, got -1" in result["msg"]
    assert calls == []


def test_error_of_reads_amazon_aws_failures():
    assert action.error_of(CREATED) is None
    code, message = action.error_of(ROLE_NOT_READY)
    assert code == "InvalidParameterValueException"
    assert "cannot be assumed" in message
    assert action.error_of({"failed": True, "msg": "boom"}) == (None, "boom")


def _lacks(action_name: str, service: str) -> dict:
    message = f"The provided execution role does not have permissions to call {action_name} on {service}"
    return {
        "failed": True,
        "msg": f"Unable to create function: An error occurred (InvalidParameterValueException): {message}",
        "error": {"code": "InvalidParameterValueException", "message": message},
    }


# What roles/functions/tasks/deploy.yml retries: the messages the Terraform AWS provider retries.
LAMBDA_CHECKS = {
    **{k: v for k, v in ARGS.items() if k != "retry_message_pattern"},
    "retry_message_patterns": [
        "cannot be assumed by Lambda",
        "The provided execution role does not have permissions",
        "throttled by EC2",
    ],
}


def test_several_patterns_retry_each_propagation_message_in_turn(sleeps):
    lacks = [_lacks("CreateNetworkInterface", "EC2"), _lacks("SendMessage", "SQS")]
    outcomes = [ROLE_NOT_READY, *lacks, CREATED]
    plugin, calls = _action(dict(LAMBDA_CHECKS), outcomes)
    result = plugin.run(task_vars={})
    assert result["changed"] is True and not result.get("failed")
    assert len(calls) == 4
    assert [e["message"][:40] for e in result["retries"]["retried"]] == [
        "The role defined for the function cannot",
        "The provided execution role does not hav",
        "The provided execution role does not hav",
    ]


def test_one_pattern_does_not_retry_the_permission_messages(sleeps):
    """Before several patterns: deploy.yml's one pattern failed at Lambda's first permission check."""
    plugin, calls = _action(dict(ARGS), [_lacks("PutTraceSegments", "XRAY"), CREATED])
    result = plugin.run(task_vars={})
    assert result["failed"] is True
    assert len(calls) == 1 and sleeps == []


def test_several_patterns_still_fail_at_once_on_other_messages(sleeps):
    plugin, calls = _action(dict(LAMBDA_CHECKS), [BAD_RUNTIME, CREATED])
    assert plugin.run(task_vars={})["failed"] is True
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"retry_message_patterns": ["x"]}, "retry_message_pattern or retry_message_patterns, not both"),
        ({"retry_message_pattern": "(unclosed"}, "pattern '(unclosed' is not a regular expression"),
    ],
)
def test_pattern_settings_checked_before_running_the_module(sleeps, extra, message):
    plugin, calls = _action({**ARGS, **extra}, [CREATED])
    result = plugin.run(task_vars={})
    assert result["failed"] is True
    assert message in result["msg"]
    assert calls == []


# community.aws.s3_bucket_notification fails with fail_json(msg=str(ClientError)): no error.code
NOT_VALIDATED = {
    "failed": True,
    "msg": "An error occurred (InvalidArgument) when calling the PutBucketNotificationConfiguration "
    "operation: Unable to validate the following destination configurations",
}
NOTIFICATION = {
    "module": "community.aws.s3_bucket_notification",
    "module_args": {"event_name": "processor-incoming", "bucket_name": "data"},
    "retry_error_codes": ["InvalidArgument"],
    "retry_message_patterns": ["Unable to validate the following destination configurations"],
    "retry_timeout": 60,
}


def test_error_code_read_from_botocores_text_when_the_module_gives_none():
    assert action.error_of(NOT_VALIDATED)[0] == "InvalidArgument"
    text = NOT_VALIDATED["msg"].replace("operation:", "operation (reached max retries: 4):")
    retried = {**NOT_VALIDATED, "msg": text}
    assert action.error_of(retried)[0] == "InvalidArgument"
    assert action.error_of({"failed": True, "msg": "Unable to validate (InvalidArgument)"})[0] is None


def test_notification_retried_until_s3_validates_the_function(sleeps):
    plugin, calls = _action(dict(NOTIFICATION), [NOT_VALIDATED, NOT_VALIDATED, {"changed": True}])
    result = plugin.run(task_vars={})
    assert result["changed"] is True and not result.get("failed")
    assert len(calls) == 3 and len(sleeps) == 2


def test_notification_other_invalid_argument_fails_at_once(sleeps):
    other = {**NOT_VALIDATED, "msg": NOT_VALIDATED["msg"].replace("Unable to validate", "Overlapping")}
    plugin, calls = _action(dict(NOTIFICATION), [other, {"changed": True}])
    assert plugin.run(task_vars={})["failed"] is True
    assert len(calls) == 1
