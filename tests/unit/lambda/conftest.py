"""Harness for the Lambda handler unit tests.

`load_lambda("processor")` imports files/lambda/processor/handler.py by path as a fresh
module (fresh client cache); the `aws` fixture gives dummy credentials, us-east-1 and an
in-process moto backend; `api_calls` records the AWS actions a block of code performs. The plain
helpers (documented_actions, create_data_stores) are in tests/support/lambda_helpers.py.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from unittest import mock

import pytest
from botocore.client import BaseClient
from moto import mock_aws

LAMBDA_ROOT = Path(__file__).resolve().parents[3] / "files" / "lambda"


def load_handler(name: str) -> ModuleType:
    """Import files/lambda/<name>/handler.py as a new module object."""
    path = LAMBDA_ROOT / name / "handler.py"
    module_name = f"lambda_{name}_handler"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look the module up while executing it
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.fixture
def load_lambda() -> Callable[[str], ModuleType]:
    return load_handler


@pytest.fixture
def api_calls() -> Callable[[], contextmanager]:
    """`with api_calls() as calls:` collects "service:Operation" strings made inside the block."""

    @contextmanager
    def _record() -> Iterator[list[str]]:
        calls: list[str] = []
        original = BaseClient._make_api_call

        def _spy(self: BaseClient, operation_name: str, api_params: dict) -> dict:
            calls.append(f"{self.meta.service_model.endpoint_prefix}:{operation_name}")
            return original(self, operation_name, api_params)

        with mock.patch.object(BaseClient, "_make_api_call", _spy):
            yield calls

    return _record
