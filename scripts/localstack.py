#!/usr/bin/env python
"""LocalStack on the host, for the molecule `localstack` scenario (`make localstack`).

    localstack.py setup                      make .venv-localstack (Python >= 3.13) from
                                             requirements-localstack.txt, unless up to date
    localstack.py start [--port 4726]        start LocalStack on 127.0.0.1:PORT (its own state
                                             under .emulator/localstack-PORT), unless one answers
    localstack.py stop [--port 4726]         stop the one we started (by its pid file)
    localstack.py status [--port 4726]       exit 0 when a LocalStack answers on the port

localstack-core (the LocalStack runtime without its CLI, which wants an account and Docker) runs
as `python -m localstack.runtime.main` with the environment below. It imports
`warnings.deprecated`, so it needs Python 3.13 (LOCALSTACK_PYTHON names the interpreter).
It listens on all interfaces whatever GATEWAY_LISTEN says: use a port nothing else uses.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

if __package__:
    from .emulator import stop_recorded
else:  # run as a script from scripts/
    from emulator import stop_recorded

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV = REPO_ROOT / ".venv-localstack"
REQUIREMENTS = REPO_ROOT / "requirements-localstack.txt"
STATE_DIR = REPO_ROOT / ".emulator"
HOST = "127.0.0.1"
DEFAULT_PORT = 4726
PYTHON_CANDIDATES = ("python3.13", "/root/.pyenv/versions/3.13.0/bin/python3.13", "python3.14")
HEALTH_PATH = "/_localstack/health"


def health(port: int, timeout: float = 1.0) -> dict | None:
    """LocalStack's health answer on the port, or None when no LocalStack answers there."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{HEALTH_PATH}", timeout=timeout) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return body if isinstance(body, dict) and "services" in body else None


def find_python() -> str:
    """The interpreter for the venv: LOCALSTACK_PYTHON, else the first Python 3.13+ found."""
    candidates = [os.environ.get("LOCALSTACK_PYTHON", ""), *PYTHON_CANDIDATES]
    for candidate in filter(None, candidates):
        path = shutil.which(candidate)
        if path and _python_version(path) >= (3, 13):
            return path
    raise SystemExit("localstack: needs Python >= 3.13 (set LOCALSTACK_PYTHON to one)")


def _python_version(path: str) -> tuple[int, int]:
    out = subprocess.run(
        [path, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, check=False
    )
    parts = out.stdout.split()
    return (int(parts[0]), int(parts[1])) if out.returncode == 0 and len(parts) == 2 else (0, 0)


def setup() -> None:
    """Create or update the venv; a stamp holds the hash of the requirements installed."""
    stamp = VENV / ".requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        print(f"localstack: {VENV.name} is up to date")
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([find_python(), "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(wanted)
    print(f"localstack: {VENV.name} ready")


def runtime_env(port: int, root: Path) -> dict[str, str]:
    """The environment localstack-core needs to run on the host, with its state under root."""
    env = dict(os.environ)
    env.update(
        {
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(root / "fs"),
            "CONFIG_DIR": str(root / "config"),
            "DNS_ADDRESS": "0",
            "DISABLE_EVENTS": "1",
            "GATEWAY_LISTEN": f"{HOST}:{port}",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
        }
    )
    return env


def pid_file(port: int) -> Path:
    return STATE_DIR / f"localstack-{port}.pid"


def start(port: int, timeout: float = 120.0) -> None:
    if health(port):
        print(f"localstack: a LocalStack already answers on {HOST}:{port}; using it as is")
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"localstack: no {VENV.name}; run `{Path(__file__).name} setup` first")
    root = STATE_DIR / f"localstack-{port}"
    shutil.rmtree(root, ignore_errors=True)
    for sub in ("fs", "config"):
        (root / sub).mkdir(parents=True)
    log_path = STATE_DIR / f"localstack-{port}.log"
    began = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(python), "-m", "localstack.runtime.main"],
            env=runtime_env(port, root),
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file(port).write_text(str(proc.pid))
    while time.monotonic() - began < timeout:
        answer = health(port, timeout=0.5)
        if answer:
            print(
                f"localstack: {answer.get('version', '?')} pid {proc.pid} on http://{HOST}:{port} "
                f"(ready in {time.monotonic() - began:.1f}s)"
            )
            return
        if proc.poll() is not None:
            pid_file(port).unlink(missing_ok=True)
            raise SystemExit(f"localstack: exited ({proc.returncode}) before answering; see {log_path}")
        time.sleep(0.25)
    stop(port)
    raise SystemExit(f"localstack: no answer on {HOST}:{port} within {timeout:.0f}s; see {log_path}")


def stop(port: int) -> None:
    stop_recorded(pid_file(port), "localstack", port, grace_seconds=10.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["setup", "start", "stop", "status"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCALSTACK_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)
    if args.action == "setup":
        setup()
    elif args.action == "start":
        start(args.port)
    elif args.action == "stop":
        stop(args.port)
    else:
        answer = health(args.port)
        print(f"localstack on {HOST}:{args.port}: " + (f"up ({answer.get('version')})" if answer else "down"))
        return 0 if answer else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
