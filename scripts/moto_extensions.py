"""What the embedded emulator adds to moto 5.2.5, and why.

moto 5.2.5 does not implement the S3 bucket metrics-configuration API
(Get/Put/DeleteBucketMetricsConfiguration): GET answers an empty document, PUT is
a silent no-op, and DELETE ?metrics falls through to DeleteBucket. The storage role
puts a request-metrics configuration on each data bucket for the monitoring alarms,
so the emulator stores it faithfully: the PUT document is kept on the bucket
(and so disappears with it, or with a moto reset) and returned by GET;
a missing id answers 404 NoSuchConfiguration, as AWS does.

Real AWS and LocalStack implement this API natively; nothing here runs against them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from moto.s3.responses import S3Response

NO_SUCH_CONFIGURATION = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchConfiguration</Code>'
    "<Message>The specified configuration does not exist.</Message></Error>"
)
_ATTR = "_secureinfra_metrics_configurations"


def metrics_handler(original: Any) -> Any:
    """Wrap S3Response._bucket_response to serve ?metrics&id=... requests."""

    def handler(self: S3Response, request: Any, full_url: str) -> Any:
        query = self._get_querystring(request, full_url)
        if "metrics" not in query or "id" not in query:
            return original(self, request, full_url)
        bucket = self.backend.get_bucket(self.parse_bucket_name_from_url(request, full_url))
        store: dict[str, bytes] = bucket.__dict__.setdefault(_ATTR, {})
        config_id = query["id"][0]
        if request.method == "PUT":
            body = self.body if isinstance(self.body, bytes) else self.body.encode()
            if ET.fromstring(body).findtext("{*}Id") != config_id:
                return 400, {}, "<Error><Code>InvalidArgument</Code><Message>Id mismatch</Message></Error>"
            store[config_id] = body
            return 200, {}, b""
        if config_id not in store:
            return 404, {}, NO_SUCH_CONFIGURATION
        if request.method == "DELETE":
            del store[config_id]
            return 204, {}, b""
        return 200, {"content-type": "application/xml"}, store[config_id]

    return handler


def install() -> None:
    """Patch moto in this process (idempotent)."""
    if not getattr(S3Response._bucket_response, "_secureinfra", False):
        patched = metrics_handler(S3Response._bucket_response)
        patched._secureinfra = True  # type: ignore[attr-defined]
        S3Response._bucket_response = patched  # type: ignore[method-assign]
