"""Read moto's request recorder and tell reads from writes.

Each recorded request is named as `service:Operation`:
- JSON protocols (KMS, DynamoDB, CloudTrail, Logs, EventBridge, ...): the X-Amz-Target header;
- query protocols (EC2, IAM, STS, SNS, CloudWatch, ...): the Action form field;
- REST protocols (S3, Lambda): the HTTP verb (GET => Get, HEAD => Head, ...) and the path.
A request is read-only when its operation starts with Describe, Get, List or Head.

SSM calls also name their parameter (the target). The state lock's own calls (the parameter
`/<prefix>/baseline/lock` and its `-break` marker: docs/locking.md) are bookkeeping of the run, not
changes of the baseline: `mutating` leaves them out, `lock_calls` lists them (every lock call,
reads included), so a test can say "no change but the lock's" and, for check mode, "no lock call
but reads".
"""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

READ_PREFIXES = ("Describe", "Get", "List", "Head")
_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/")
LOCK_PARAMETER = re.compile(r"^/[A-Za-z0-9_.-]+/baseline/lock(-break)?$")


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    target: str

    @property
    def read_only(self) -> bool:
        return self.operation.startswith(READ_PREFIXES)

    @property
    def is_lock(self) -> bool:
        """A call of the state lock: SSM, on the lock parameter or its -break marker."""
        return self.service == "ssm" and bool(LOCK_PARAMETER.match(self.target))

    def __str__(self) -> str:
        return f"{self.service}:{self.operation} {self.target}".rstrip()


def _body(entry: dict[str, Any]) -> str:
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        return base64.b64decode(body).decode("utf-8", errors="replace")
    return body if isinstance(body, str) else json.dumps(body)


def _header(entry: dict[str, Any], name: str) -> str:
    for key, value in (entry.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return ""


def _parameter_name(service: str, body: str) -> str:
    """The parameter an SSM request names (its JSON body's Name), else ""."""
    if service != "ssm":
        return ""
    try:
        name = json.loads(body or "{}").get("Name", "")
    except (ValueError, AttributeError):
        return ""
    return name if isinstance(name, str) else ""


# REST services whose reads are POSTs (Security Hub's GetEnabledStandards and GetFindings, GuardDuty's
# ListFindings, ...): named by their API operation, from botocore's model, rather than by the verb.
# Signing name -> botocore service name.
REST_BY_OPERATION = {
    "securityhub": "securityhub",
    "guardduty": "guardduty",
    "access-analyzer": "accessanalyzer",
}


def rest_operation(service: str, method: str, path: str, query: str) -> str | None:
    if service not in REST_BY_OPERATION:
        return None
    from scripts.deployer_policy import match_rest

    return match_rest(REST_BY_OPERATION[service], method, path, parse_qs(query))


def classify(entry: dict[str, Any]) -> Call:
    match = _SERVICE.search(_header(entry, "Authorization"))
    service = match.group(1) if match else "unknown"
    url = urlparse(entry["url"])
    target = _header(entry, "X-Amz-Target")
    if target:
        return Call(service, target.rsplit(".", 1)[-1], _parameter_name(service, _body(entry)))
    body = _body(entry)
    action = parse_qs(body).get("Action") or parse_qs(url.query).get("Action")
    if action:
        return Call(service, action[0], "")
    operation = rest_operation(service, entry["method"], url.path, url.query)
    if operation:
        return Call(service, operation, url.path)
    verb = entry["method"].capitalize()
    return Call(service, verb, f"{url.path}?{url.query}" if url.query else url.path)


class Recorder:
    """Control the recorder of the moto server at `endpoint`."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")

    def _call(self, action: str, method: str = "POST") -> str:
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/recorder/{action}",
            method=method,
            data=b"" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def start(self) -> None:
        self._call("reset-recording")
        self._call("start-recording")

    def stop(self) -> list[Call]:
        self._call("stop-recording")
        text = self._call("download-recording", method="GET")
        return [classify(json.loads(line)) for line in text.splitlines() if line.strip()]

    def entries(self) -> list[dict[str, Any]]:
        """The raw requests of the last recording (method, url, headers, body), unclassified."""
        text = self._call("download-recording", method="GET")
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def mutating(calls: list[Call]) -> list[str]:
    """The writes of a run, but the state lock's (lock_calls lists those)."""
    return [str(c) for c in calls if not c.read_only and not c.is_lock]


def lock_calls(calls: list[Call]) -> list[str]:
    """Every call of the state lock (docs/locking.md), reads included, in order."""
    return [str(c) for c in calls if c.is_lock]
