"""Start, stop and reset the embedded AWS emulator (moto server).

    emulator.py start [--port 4566] [--record] [--strict]
                                                 start unless something already answers
    emulator.py stop                             stop the one we started (by its pid file)
    emulator.py reset                            wipe all emulated state (moto reset API)
    emulator.py strict [--set key=value ...]     show (or change) the strict-mode settings
    emulator.py serve [--port 4566]              run moto server in the foreground

moto runs with the additions in moto_extensions.py (APIs moto lacks) and moto_tagging.py (the
resources moto's tagging API GetResources leaves out). With --strict (or
SECUREINFRA_STRICT=1 in the environment) it also enforces the AWS rules listed in
strict_aws.py, with the delays and quota of SECUREINFRA_STRICT_IAM_PROPAGATION_SECONDS,
SECUREINFRA_STRICT_PITR_SECONDS and SECUREINFRA_ACCOUNT_CONCURRENCY; at runtime, POST
/secureinfra/strict (or `strict --set`) changes them. A reset keeps the settings and clears
the clocks (they are the creation times of the emulated resources).

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
STRICT_PATH = "/secureinfra/strict"
STRICT_ENV = "SECUREINFRA_STRICT"


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


def _post(port: int, path: str, body: dict | None = None) -> bytes:
    data = json.dumps(body or {}).encode()
    req = urllib.request.Request(
        _url(port, path), data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return response.read()


def strict_settings(port: int, changes: dict | None = None) -> dict:
    """The strict-mode settings of our emulator on the port, after applying changes (if any)."""
    try:
        if changes:
            return json.loads(_post(port, STRICT_PATH, changes))
        with urllib.request.urlopen(_url(port, STRICT_PATH), timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise SystemExit(f"emulator on port {port}: {STRICT_PATH} answered {exc.code}: {detail}") from None


def configure(port: int) -> None:
    """Switch moto's Lambda backend to run without Docker (before functions exist)."""
    if is_moto(port):
        _post(port, "/moto-api/config", LAMBDA_CONFIG)


def reset(port: int) -> None:
    if not is_moto(port):
        raise SystemExit(f"emulator on port {port} is not moto: cannot reset it")
    _post(port, "/moto-api/reset")
    configure(port)


def wait_ready(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(port, timeout=0.5):
            return
        if proc is not None and proc.poll() is not None:
            raise SystemExit(
                f"emulator exited ({proc.returncode}) before answering on {_url(port)}; "
                f"see {STATE_DIR / f'moto-{port}.log'}"
            )
        time.sleep(0.2)
    raise SystemExit(f"emulator did not answer on {_url(port)} within {timeout:.0f}s")


def pid_file(port: int) -> Path:
    return STATE_DIR / f"moto-{port}.pid"


def start(
    port: int, record: bool = False, recording_path: Path | None = None, strict: bool = False
) -> int | None:
    """Start moto server on the port unless something answers there. Returns our pid or None.

    strict=True turns strict mode on (SECUREINFRA_STRICT=1 for a server we start; for one that
    already answers, through its /secureinfra/strict endpoint). strict=False changes nothing:
    the environment decides, and strict mode is off unless SECUREINFRA_STRICT=1.
    """
    if answers(port):
        print(f"emulator: something already answers on {_url(port)}; using it as is")
        configure(port)
        if strict:
            print(f"emulator: strict mode {strict_settings(port, {'enabled': True})}")
        return None
    STATE_DIR.mkdir(exist_ok=True)
    env = dict(os.environ)
    if strict:
        env[STRICT_ENV] = "1"
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
    wait_ready(port, proc=proc)
    configure(port)
    mode = " (strict)" if env.get(STRICT_ENV, "") not in ("", "0") else ""
    print(f"emulator: moto server pid {proc.pid} on {_url(port)}{mode}")
    return proc.pid


def stop(port: int) -> None:
    stop_recorded(pid_file(port), "emulator", port, grace_seconds=5.0)


def stop_recorded(path: Path, label: str, port: int, grace_seconds: float) -> None:
    """Stop the process group whose leader's pid is in `path`: SIGTERM, then SIGKILL after the grace."""
    if not path.exists():
        print(f"{label}: no pid file for port {port}; nothing of ours to stop")
        return
    pid = int(path.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(int(grace_seconds * 10)):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    path.unlink(missing_ok=True)
    print(f"{label}: stopped pid {pid}")


def serve(port: int) -> None:
    """Run moto server in this process, with our additions."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import moto_extensions
    import moto_tagging
    from moto.server import main as moto_main

    moto_extensions.install()
    moto_tagging.install()
    print(f"emulator: strict mode settings {moto_extensions.strict_aws.CONFIG.as_dict()}", flush=True)
    moto_main(["-H", HOST, "-p", str(port)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["start", "stop", "reset", "status", "strict", "serve"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "4566")))
    parser.add_argument("--record", action="store_true", help="enable moto's request recorder")
    parser.add_argument("--strict", action="store_true", help="enforce AWS's rules (strict_aws.py)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with `strict`: change a setting (enabled, iam_propagation_seconds, "
        "iam_propagation_refusals, pitr_unavailable_seconds, account_concurrency_limit)",
    )
    args = parser.parse_args(argv)
    if args.action == "start":
        start(args.port, record=args.record, strict=args.strict)
    elif args.action == "strict":
        changes = dict(item.split("=", 1) for item in args.set if "=" in item)
        if len(changes) != len(args.set):
            parser.error(f"--set expects KEY=VALUE, got {args.set}")
        print(json.dumps(strict_settings(args.port, changes), indent=2))
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
