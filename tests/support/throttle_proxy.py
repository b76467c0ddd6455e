"""A throttling proxy on loopback in front of an emulator (issue 10, 2b).

It answers a seeded share of the AWS requests with the error AWS sends when it throttles, and
forwards the others unchanged:
- S3 (its REST-XML protocol): 503 SlowDown;
- JSON protocols (an X-Amz-Target header: KMS, DynamoDB, CloudTrail, Logs, ...): 400
  ThrottlingException;
- query protocols (an Action form field: EC2, IAM, STS, SNS, CloudWatch, ...): 400 Throttling;
- anything else (Lambda's REST-JSON, say): a bare HTTP 503.
The emulator's own API (/moto-api/: reset, recorder) is never throttled. A throttled request never
reaches the emulator, so a client that retries it changes nothing twice.

With rate 0 it is a plain forwarder whose `stop_answering()` closes its port and every open
connection: to a client, the endpoint is gone (connection refused), while the emulator behind it
keeps what the run had made, as a region does through an outage (issue 10, 2c).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import re
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


def throttle_response(
    headers: dict[str, str], body: bytes, path: str
) -> tuple[str, int, dict[str, str], bytes]:
    """(kind, status, headers, body) of the throttling answer AWS gives to this request."""
    lowered = {key.lower(): value for key, value in headers.items()}
    match = _SERVICE.search(lowered.get("authorization", ""))
    service = match.group(1) if match else ""
    if service == "s3":
        xml = (
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
            "<Message>Please reduce your request rate.</Message><RequestId>THROTTLED</RequestId></Error>"
        )
        return "SlowDown", 503, {"Content-Type": "application/xml"}, xml.encode()
    if "x-amz-target" in lowered:
        document = {"__type": "ThrottlingException", "message": "Rate exceeded"}
        return (
            "ThrottlingException",
            400,
            {"Content-Type": "application/x-amz-json-1.1"},
            json.dumps(document).encode(),
        )
    form = parse_qs(body.decode("utf-8", errors="replace")) or parse_qs(urlparse(path).query)
    if "Action" in form:
        xml = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded"
            "</Message></Error><RequestId>THROTTLED</RequestId></ErrorResponse>"
        )
        return "Throttling", 400, {"Content-Type": "text/xml"}, xml.encode()
    return "HTTP 503", 503, {"Content-Type": "text/plain"}, b"Service Unavailable"


class ThrottleProxy:
    """Listen on 127.0.0.1:`port` and forward to `upstream` (http://host:port), throttling `rate`."""

    def __init__(self, upstream: str, port: int, rate: float = 0.2, seed: int = 10) -> None:
        parsed = urlparse(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.rate = rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.throttled: Counter[str] = Counter()
        self.forwarded = 0
        self.enabled = True
        self.down = False
        self.connections: set[socket.socket] = set()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ThrottleProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def stop_answering(self) -> None:
        """Close the listening port and every open connection (a client's next request is refused)."""
        with self.lock:
            self.down = True
            open_connections = list(self.connections)
        self.server.shutdown()
        self.server.server_close()
        for connection in open_connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def reset_counts(self) -> None:
        with self.lock:
            self.throttled.clear()
            self.forwarded = 0

    def _decide(self, path: str) -> bool:
        if path.startswith("/moto-api/") or not self.enabled:
            return False
        with self.lock:
            return self.random.random() < self.rate

    def _count(self, kind: str | None) -> None:
        with self.lock:
            if kind:
                self.throttled[kind] += 1
            else:
                self.forwarded += 1

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[Any], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=300)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with proxy.lock:
                    proxy.connections.add(self.connection)

            def finish(self) -> None:
                with proxy.lock:
                    proxy.connections.discard(self.connection)
                super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                if proxy.down:
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {
                    key: value for key, value in self.headers.items() if key.lower() not in _HOP_BY_HOP
                }
                if proxy._decide(self.path):
                    kind, status, answer_headers, answer = throttle_response(headers, body, self.path)
                    proxy._count(kind)
                    self._send(status, list(answer_headers.items()), answer)
                    return
                proxy._count(None)
                status, answer_headers, answer = proxy._forward(self.command, self.path, headers, body)
                self._send(status, answer_headers, answer)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

        return Handler
