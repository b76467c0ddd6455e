"""A simulated clock for the strict rules that judge ages (IAM propagation, Lambda's network
interfaces): tests move it forward instead of waiting. Used by the strict-mode unit tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import moto.iam.models
import pytest

from scripts import strict_aws

# The execution role trust policy every Lambda test role uses.
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
_OFFSET: dict[str, float] = {"seconds": 0.0}


def advance(seconds: float) -> None:
    """Move the strict rules' clock (and IAM's creation dates) forward."""
    _OFFSET["seconds"] += seconds


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start the clock at the real time; strict_aws and moto's IAM read it from now on."""
    real_utcnow = strict_aws.utcnow
    _OFFSET["seconds"] = 0.0

    def now() -> datetime:
        return real_utcnow() + timedelta(seconds=_OFFSET["seconds"])

    for module in (strict_aws, moto.iam.models):
        monkeypatch.setattr(module, "utcnow", now)
