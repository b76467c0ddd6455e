"""Harness for unit tests of this collection's modules.

`run_module(module, args)` runs a module's `main()` with the given arguments and
returns its result dict; `exit_json`/`fail_json` are intercepted, nothing is printed.
The moto fixture gives each test a fresh in-process AWS.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from moto import mock_aws

AWS_ARGS = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}


class ModuleExit(Exception):
    def __init__(self, result: dict[str, Any], failed: bool) -> None:
        super().__init__(result.get("msg", ""))
        self.result = result
        self.failed = failed


def _exit_json(self: basic.AnsibleModule, **kwargs: Any) -> None:
    kwargs.setdefault("changed", False)
    raise ModuleExit(kwargs, failed=False)


def _fail_json(self: basic.AnsibleModule, msg: str, **kwargs: Any) -> None:
    kwargs["msg"] = msg
    kwargs["failed"] = True
    raise ModuleExit(kwargs, failed=True)


@pytest.fixture
def aws() -> Iterator[None]:
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with mock.patch.dict(os.environ, env), mock_aws():
        yield


@pytest.fixture
def run_module() -> Callable[..., dict[str, Any]]:
    """Run `module.main()` with `args` (+ dummy AWS credentials); return the result.

    Pass check_mode=True / diff=True to set Ansible's internal flags.
    """

    def _run(
        module: ModuleType,
        args: dict[str, Any],
        check_mode: bool = False,
        diff: bool = False,
        expect_failure: bool = False,
    ) -> dict[str, Any]:
        full = {**AWS_ARGS, **args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
        with (
            patch_module_args(full),
            mock.patch.multiple(basic.AnsibleModule, exit_json=_exit_json, fail_json=_fail_json),
            pytest.raises(ModuleExit) as exc,
        ):
            module.main()
        result = exc.value.result
        if expect_failure:
            assert exc.value.failed, f"expected failure, got {result}"
        else:
            assert not exc.value.failed, f"module failed: {result}"
        return result

    return _run


def _spy_on_calls(monkeypatch: pytest.MonkeyPatch, entry: Callable[[str, dict[str, Any]], Any]) -> list[Any]:
    """entry(operation, params) of every AWS call made (by the module or the test) from now on."""
    import botocore.client

    seen: list[Any] = []
    original = botocore.client.BaseClient._make_api_call

    def spy(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        seen.append(entry(operation_name, api_params))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    return seen


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the AWS operations called (by the module or the test) from now on. Test files that
    define their own `calls` (to answer some operations themselves) override this one."""
    return _spy_on_calls(monkeypatch, lambda operation, _params: operation)


@pytest.fixture
def calls_with_params(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """(operation, a copy of its params) of every AWS call made from now on."""
    return _spy_on_calls(monkeypatch, lambda operation, params: (operation, copy.deepcopy(params)))
