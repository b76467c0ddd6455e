"""Issue 10, 2c: the endpoint goes away in the middle of a first converge.

The run reaches a private strict emulator (TEST_EMULATOR_PORT + 6) through a loopback forwarder
(tests/support/throttle_proxy.py at rate 0, on + 7). After a seeded number of forwarded requests
the test closes the forwarder's port and its open connections: from then on every request is
refused, as when the endpoint stops. The emulator behind it keeps what the run had made (a real
region keeps it through an outage too), so the rerun after the "restart" (the forwarder listening
again) has to converge from a partial state. The failed run must end with a clear message naming
the endpoint, and no Python traceback in what ansible prints.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from pathlib import Path

from conftest import ANSIBLE_PLAYBOOK, PORT, REPO_ROOT, Emulator, PlaybookRun, failed_results
from support.throttle_proxy import ThrottleProxy
from test_verify import HOME

DOWN_PORT = PORT + 6
STALE = 60  # the shortest baseline_lock_stale_seconds accepted
FRONT_PORT = PORT + 7
SEED = 10
# Few attempts, so that the run gives up on the refused endpoint in seconds (the setting's
# default, 10 attempts, waits about a minute before it fails).
ATTEMPTS = {"baseline_aws_max_attempts": 2}


def _env(endpoint: str, callback: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": callback,
        "ANSIBLE_NOCOLOR": "1",
    }


def run_until_down(front: ThrottleProxy, after: int, log: Path) -> tuple[int, str]:
    """Converge HOME through `front` with the default callback; close `front` after `after` requests."""
    cmd = [ANSIBLE_PLAYBOOK, "site.yml", "--limit", HOME, "--extra-vars", json.dumps(ATTEMPTS)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=_env(front.url, "ansible.builtin.default"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 900
        while proc.poll() is None and front.forwarded < after and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, f"the run ended before {after} requests: {log.read_text()[-3000:]}"
        front.stop_answering()
        rc = proc.wait(timeout=600)
    return rc, log.read_text()


def msg_values(printed: str) -> list[str]:
    """Each `msg:` of the yaml result format, with the lines it wraps onto (indented deeper) joined."""
    reasons: list[str] = []
    lines = printed.splitlines()
    for number, line in enumerate(lines):
        if not line.strip().startswith("msg:"):
            continue
        indent = len(line) - len(line.lstrip())
        parts = [line.strip()]
        for following in lines[number + 1 :]:
            if not following.strip() or len(following) - len(following.lstrip()) <= indent:
                break
            parts.append(following.strip())
        reasons.append(" ".join(parts))
    return reasons


def test_endpoint_down_mid_run_fails_clearly_and_rerun_converges(tmp_path: Path) -> None:
    after = random.Random(SEED).randint(60, 300)
    with Emulator(DOWN_PORT, strict=True) as server:
        with ThrottleProxy(server.endpoint, FRONT_PORT, rate=0) as front:
            rc, printed = run_until_down(front, after, tmp_path / "down.log")
        print(f"endpoint closed after {after} requests; the run's last lines:\n{printed[-1500:]}")
        assert rc != 0
        assert "Traceback (most recent call last)" not in printed
        assert "The full traceback is" not in printed
        assert "MODULE FAILURE" not in printed
        fatal = [line for line in printed.splitlines() if line.startswith(("fatal:", "failed:"))]
        assert fatal, printed[-3000:]
        # The result's msg (the yaml result format of ansible.cfg prints it on a line of its own):
        # what failed, and botocore's reason with the endpoint.
        reasons = msg_values(printed)
        assert reasons, printed[-3000:]
        for reason in reasons:
            # botocore names the URL it tried: the endpoint, with the bucket's path for S3.
            assert f'endpoint URL: "http://127.0.0.1:{FRONT_PORT}/' in reason, reasons
            assert "Could not connect to the endpoint URL" in reason or "Connection was closed" in reason, (
                reasons
            )

        with ThrottleProxy(server.endpoint, FRONT_PORT, rate=0) as front:
            through_front = Emulator(DOWN_PORT)
            through_front.endpoint = front.url
            # The interrupted run could not release its state lock (docs/locking.md): the next run
            # stops at the lock, naming that run, before any change; once the lock is older than
            # baseline_lock_stale_seconds, a run breaks it (with a warning) and converges.
            held: PlaybookRun = through_front.run_playbook(limit=HOME)
            assert held.rc != 0 and any("is held by run" in m for m in held.failed_messages()), (
                held.failed_messages(),
                held.stderr[-2000:],
            )
            time.sleep(STALE + 1)
            rerun: PlaybookRun = through_front.run_playbook(
                limit=HOME, extra_vars={"baseline_lock_stale_seconds": STALE}
            )
            assert rerun.rc == 0, (rerun.failed_messages(), rerun.stderr)
            assert not failed_results(rerun.output)
            assert rerun.changed(HOME) > 0  # it finished what the first run had left
