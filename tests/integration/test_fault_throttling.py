"""Issue 10, 2b: the site converges through a proxy that throttles a fifth of the requests.

The proxy (tests/support/throttle_proxy.py) sits on loopback in front of a private strict emulator
(TEST_EMULATOR_PORT + 4; the proxy on + 5) and answers a seeded 20% of the AWS requests with
ThrottlingException (JSON protocols), Throttling (query protocols), SlowDown (S3, 503) or a bare
HTTP 503, forwarding the rest. Every module retries through botocore's standard retry mode
(baseline_aws_max_attempts, in baseline_aws_connection's aws_config): the first converge succeeds
with no failed task, and the rerun, still throttled, reports changed=0.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from conftest import PORT, Emulator
from support.recorder import mutating
from support.throttle_proxy import ThrottleProxy, throttle_response
from test_verify import HOME

THROTTLED_PORT = PORT + 4
PROXY_PORT = PORT + 5
RATE = 0.2


@pytest.fixture(scope="module")
def throttled() -> Iterator[tuple[Emulator, ThrottleProxy]]:
    with (
        Emulator(THROTTLED_PORT, strict=True) as server,
        ThrottleProxy(server.endpoint, PROXY_PORT, rate=RATE, seed=10) as proxy,
    ):
        through_proxy = copy.copy(server)
        through_proxy.endpoint = proxy.url
        yield through_proxy, proxy


def _auth(service: str) -> dict[str, str]:
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/{service}/aws4_request"}


def test_throttle_answers_match_the_protocol() -> None:
    assert throttle_response(_auth("s3"), b"", "/bucket")[:2] == ("SlowDown", 503)
    json_headers = {**_auth("kms"), "X-Amz-Target": "TrentService.DescribeKey"}
    assert throttle_response(json_headers, b"{}", "/")[:2] == ("ThrottlingException", 400)
    assert throttle_response(_auth("ec2"), b"Action=DescribeVpcs&Version=2016-11-15", "/")[:2] == (
        "Throttling",
        400,
    )
    assert throttle_response(_auth("lambda"), b"", "/2015-03-31/functions/f")[:2] == ("HTTP 503", 503)


def _throttled_share(proxy: ThrottleProxy) -> float:
    total = sum(proxy.throttled.values()) + proxy.forwarded
    return sum(proxy.throttled.values()) / total


def test_site_converges_through_throttling(throttled: tuple[Emulator, ThrottleProxy]) -> None:
    server, proxy = throttled
    converge = server.run_playbook(limit=HOME)
    survived = dict(proxy.throttled)
    print(
        f"converge: {sum(survived.values())} throttled and survived {survived}, {proxy.forwarded} forwarded"
    )
    assert converge.rc == 0, (converge.failed_messages(), converge.stderr)
    assert not converge.failed_messages()
    assert converge.changed(HOME) > 0
    assert sum(survived.values()) >= 60, survived  # about 100 of some 500 requests
    assert {"SlowDown", "ThrottlingException", "Throttling"} <= set(survived), survived
    assert 0.12 < _throttled_share(proxy) < 0.28

    proxy.reset_counts()
    rerun = server.run_playbook(limit=HOME)
    survived = dict(proxy.throttled)
    print(f"rerun: {sum(survived.values())} throttled and survived {survived}, {proxy.forwarded} forwarded")
    assert rerun.rc == 0, (rerun.failed_messages(), rerun.stderr)
    assert rerun.changed(HOME) == 0, rerun.changed_tasks()
    assert sum(survived.values()) >= 30, survived  # about 60 of some 320
    assert rerun.calls, "the recorder saw no request"
    assert mutating(rerun.calls) == []
