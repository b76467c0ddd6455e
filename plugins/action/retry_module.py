# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Action plugin secureinfra.baseline.retry_module (documentation: plugins/modules/retry_module.py).

Runs one module with the given arguments and, while it fails with one of the listed AWS error
codes (and message pattern), runs it again after a capped exponential backoff with jitter, up to
a time budget. Any other outcome is returned at once.
"""

from __future__ import annotations

import re
import time
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.secureinfra.baseline.plugins.module_utils.backoff import (
    RetryPolicy,
    run_with_backoff,
)

# Connection options that module_defaults (group/secureinfra.baseline.aws) put on this task;
# they are handed to the wrapped module unless its module_args set them.
CONNECTION_OPTIONS = (
    "access_key",
    "secret_key",
    "session_token",
    "profile",
    "region",
    "endpoint_url",
    "validate_certs",
    "aws_ca_bundle",
    "aws_config",
    "debug_botocore_endpoint_logs",
)

ARGUMENT_SPEC: dict[str, Any] = {
    "module": {"type": "str", "required": True},
    "module_args": {"type": "dict", "default": {}},
    "retry_error_codes": {"type": "list", "elements": "str", "required": True},
    "retry_message_pattern": {"type": "str"},
    "retry_message_patterns": {"type": "list", "elements": "str", "default": []},
    "retry_timeout": {"type": "int", "default": 180},
    "retry_initial_delay": {"type": "float", "default": 2.0},
    "retry_max_delay": {"type": "float", "default": 30.0},
    **{name: {"type": "raw"} for name in CONNECTION_OPTIONS},
}


def policy_from(args: dict[str, Any]) -> RetryPolicy:
    return RetryPolicy(
        error_codes=tuple(args["retry_error_codes"]),
        message_pattern=args.get("retry_message_pattern"),
        message_patterns=tuple(args.get("retry_message_patterns") or ()),
        timeout=float(args["retry_timeout"]),
        initial_delay=float(args["retry_initial_delay"]),
        max_delay=float(args["retry_max_delay"]),
    )


def argument_errors(args: dict[str, Any]) -> list[str]:
    errors = []
    if args["retry_timeout"] < 0:
        errors.append(f"retry_timeout must be 0 or more seconds, got {args['retry_timeout']}")
    if args["retry_initial_delay"] <= 0 or args["retry_max_delay"] < args["retry_initial_delay"]:
        errors.append(
            "retry_initial_delay must be above 0 and retry_max_delay at least retry_initial_delay, "
            f"got {args['retry_initial_delay']} and {args['retry_max_delay']}"
        )
    if not args["retry_error_codes"]:
        errors.append("retry_error_codes must name at least one error code")
    if args.get("retry_message_pattern") is not None and args.get("retry_message_patterns"):
        errors.append("give retry_message_pattern or retry_message_patterns, not both")
    errors += pattern_errors([args.get("retry_message_pattern"), *(args.get("retry_message_patterns") or [])])
    return errors


def pattern_errors(patterns: list[str | None]) -> list[str]:
    """A message for each pattern that is not a regular expression."""
    errors = []
    for pattern in patterns:
        if pattern is None:
            continue
        try:
            re.compile(pattern)
        except re.error as exc:
            errors.append(f"retry message pattern {pattern!r} is not a regular expression: {exc}")
    return errors


def wrapped_args(args: dict[str, Any]) -> dict[str, Any]:
    """The wrapped module's arguments: module_args, plus the connection defaults it lacks."""
    merged = dict(args["module_args"] or {})
    for name in CONNECTION_OPTIONS:
        if args.get(name) is not None and name not in merged:
            merged[name] = args[name]
    return merged


# botocore's ClientError text, which a module that fails with fail_json(msg=str(error)) reports
# (community.aws.s3_bucket_notification): "An error occurred (<code>) when calling the <op> operation"
CLIENT_ERROR_TEXT = re.compile(r"An error occurred \(([A-Za-z0-9.:_-]+)\) when calling the \w+ operation")


def error_of(result: dict[str, Any]) -> tuple[str | None, str | None] | None:
    """None for a success; else (AWS error code, message) as amazon.aws's fail_json_aws reports,
    or, without its error.code, the code botocore's error text names in the message."""
    if not result.get("failed"):
        return None
    error = result.get("error") if isinstance(result.get("error"), dict) else {}
    message = " ".join(str(part) for part in (error.get("message"), result.get("msg")) if part)
    found = CLIENT_ERROR_TEXT.search(message)
    return error.get("code") or (found.group(1) if found else None), message


def annotate(result: dict[str, Any], policy: RetryPolicy, log: Any) -> dict[str, Any]:
    result["retries"] = {
        "attempts": log.attempts,
        "waited_seconds": round(log.waited, 1),
        "retried": log.retried,
    }
    if result.get("failed") and log.retried and policy.matches(*(error_of(result) or (None, None))):
        result["msg"] = (
            f"{result.get('msg', '')} (still {error_of(result)[0]} after {log.attempts} attempts over "
            f"{round(log.waited)} s; retry_timeout is {int(policy.timeout)} s)"
        )
    return result


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        errors = argument_errors(args)
        if errors:
            return {**result, "failed": True, "msg": "; ".join(errors)}
        policy = policy_from(args)
        module_args = wrapped_args(args)

        def call() -> dict[str, Any]:
            return self._execute_module(
                module_name=args["module"], module_args=module_args, task_vars=task_vars
            )

        outcome, log = run_with_backoff(call, error_of, policy, sleep=time.sleep, clock=time.monotonic)
        return annotate({**result, **outcome}, policy, log)
