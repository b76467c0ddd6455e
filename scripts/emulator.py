#!/usr/bin/env python3
"""Start, stop and reset the embedded AWS emulator (moto server).

    emulator.py start [--port 4566] [--record]   start unless something already answers
    emulator.py stop                             stop the one we started (by its pid file)
    emulator.py reset                            wipe all emulated state (moto reset API)
    emulator.py serve [--port 4566]              run moto server in the foreground

moto runs with the additions in moto_extensions.py (an API moto lacks).

If anything already answers on the port (a LocalStack a user runs, or an earlier
moto), it is used as is and not stopped by `stop`. Before anything is created,
moto's Lambda backend is switched to run without Docker.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = REPO_ROOT / ".emulator"
HOST = "127.0.0.1"
LAMBDA_CONFIG = {"lambda": {"use_docker": False}}


def _url(port: int, path: str = "") -> str:
    return f"http://{HOST}:{port}{path}"


def answers(port: int, timeout: float = 1.0) -> bool:
    """True when an HTTP server answers on the port (any status code)."""
    try:
        with urllib.request.urlopen(_url(port, "/"), timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def is_moto(port: int) -> bool:
    try:
        with urllib.request.urlopen(_url(port, "/moto-api/config"), timeout=5):
            return True
    except (urllib.error.URLError, OSError):
        return False


def _post(port: int, path: str, body: dict | None = None) -> None:
    data = json.dumps(body or {}).encode()
    req = urllib.request.Request(
        _url(port, path), data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10):
        pass


def configure(port: int) -> None:
    """Switch moto's Lambda backend to run without Docker (before functions exist)."""
    if is_moto(port):
        _post(port, "/moto-api/config", LAMBDA_CONFIG)


def reset(port: int) -> None:
    if not is_moto(port):
        raise SystemExit(f"emulator on port {port} is not moto: cannot reset it")
    _post(port, "/moto-api/reset")
    configure(port)


def wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(port, timeout=0.5):
            return
        time.sleep(0.2)
    raise SystemExit(f"emulator did not answer on {_url(port)} within {timeout:.0f}s")


def pid_file(port: int) -> Path:
    return STATE_DIR / f"moto-{port}.pid"


def start(port: int, record: bool = False, recording_path: Path | None = None) -> int | None:
    """Start moto server on the port unless something answers there. Returns our pid or None."""
    if answers(port):
        print(f"emulator: something already answers on {_url(port)}; using it as is")
        configure(port)
        return None
    STATE_DIR.mkdir(exist_ok=True)
    env = dict(os.environ)
    if record:
        env["MOTO_ENABLE_RECORDING"] = "True"
        env["MOTO_RECORDER_FILEPATH"] = str(recording_path or STATE_DIR / f"recording-{port}.jsonl")
    log = (STATE_DIR / f"moto-{port}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pid_file(port).write_text(str(proc.pid))
    wait_ready(port)
    configure(port)
    print(f"emulator: moto server pid {proc.pid} on {_url(port)}")
    return proc.pid


def stop(port: int) -> None:
    path = pid_file(port)
    if not path.exists():
        print(f"emulator: no pid file for port {port}; nothing of ours to stop")
        return
    pid = int(path.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    path.unlink(missing_ok=True)
    print(f"emulator: stopped pid {pid}")


def serve(port: int) -> None:
    """Run moto server in this process, with our additions."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import moto_extensions
    from moto.server import main as moto_main

    moto_extensions.install()
    moto_main(["-H", HOST, "-p", str(port)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["start", "stop", "reset", "status", "serve"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "4566")))
    parser.add_argument("--record", action="store_true", help="enable moto's request recorder")
    args = parser.parse_args(argv)
    if args.action == "start":
        start(args.port, record=args.record)
    elif args.action == "stop":
        stop(args.port)
    elif args.action == "serve":
        serve(args.port)
    elif args.action == "reset":
        reset(args.port)
    else:
        up = answers(args.port)
        print(
            f"emulator on {_url(args.port)}: {'up' if up else 'down'}"
            + (" (moto)" if up and is_moto(args.port) else "")
        )
        return 0 if up else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
