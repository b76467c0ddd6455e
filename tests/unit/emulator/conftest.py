"""The strict patches of scripts/strict_aws.py, applied for one test and removed after it.

mock.patch undoes every patch, so the rest of the unit suite keeps plain moto; the strict
settings are restored as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from unittest import mock

import pytest
from moto.awslambda import urls as lambda_urls
from moto.awslambda.responses import LambdaResponse
from support import strict_clock as simulated_clock

from scripts import strict_aws


@pytest.fixture
def strict_patches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto with the strict patches, the /secureinfra/strict endpoint and GetAccountSettings."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    saved = strict_aws.CONFIG.as_dict()
    with ExitStack() as stack:
        for owner, name, wrapper in strict_aws.PATCHES:
            stack.enter_context(mock.patch.object(owner, name, wrapper(getattr(owner, name))))
        stack.enter_context(
            mock.patch.dict(
                lambda_urls.url_paths, {strict_aws.ACCOUNT_SETTINGS_PATH: LambdaResponse.dispatch}
            )
        )
        stack.enter_context(
            mock.patch.object(
                LambdaResponse, "get_account_settings", strict_aws.get_account_settings, create=True
            )
        )
        stack.callback(strict_aws.CONFIG.update, saved)
        yield


@pytest.fixture
def strict_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulated clock of tests/support/strict_clock.py (advance() moves it)."""
    simulated_clock.install(monkeypatch)
