"""Unit tests run against in-process moto only: never against a server named in the environment."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # boto3 honours AWS_ENDPOINT_URL; moto's in-process mock only intercepts AWS hostnames.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
