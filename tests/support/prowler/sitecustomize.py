"""Loaded by prowler's Python (PYTHONPATH) in tests/integration/test_prowler.py: transport only.

botocore sends S3 Control calls (the account's Block Public Access) to
<account>.<endpoint host>, which does not resolve for an emulator on 127.0.0.1. As
plugins/modules/baseline_controls.py does for verify, a before-sign handler takes the account
label off the host; the account still travels in the x-amz-account-id header. Nothing else changes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import botocore.session

_create_client = botocore.session.Session.create_client


def _strip_account_label(request: Any, **_kwargs: Any) -> None:
    parts = urlsplit(request.url)
    label, _, rest = parts.netloc.partition(".")
    if len(label) == 12 and label.isdigit() and rest:
        request.url = urlunsplit(parts._replace(netloc=rest))


def _client_without_account_host(self: Any, *args: Any, **kwargs: Any) -> Any:
    client = _create_client(self, *args, **kwargs)
    if client.meta.service_model.service_name == "s3control":
        client.meta.events.register("before-sign.s3-control", _strip_account_label)
    return client


botocore.session.Session.create_client = _client_without_account_host  # type: ignore[method-assign]
