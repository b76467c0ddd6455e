"""scripts/localstack.py: how it tells a LocalStack from anything else, and its venv stamp."""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts import localstack

LOCALSTACK_HEALTH = {"services": {"s3": "available", "kms": "available"}, "version": "2026.3.0"}


def _server(status: int, body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def answering() -> Iterator[Callable[[int, bytes], int]]:
    servers: list[ThreadingHTTPServer] = []

    def make(status: int, body: bytes) -> int:
        servers.append(_server(status, body))
        return servers[-1].server_address[1]

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def test_health_reads_a_localstack_answer(answering) -> None:
    port = answering(200, json.dumps(LOCALSTACK_HEALTH).encode())
    assert localstack.health(port) == LOCALSTACK_HEALTH


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, b"<?xml version='1.0'?><Error><Code>NotFound</Code></Error>"),  # moto server
        (200, b"<html>not json</html>"),
        (200, json.dumps({"status": "ok"}).encode()),  # JSON, but no services
        (200, json.dumps(["services"]).encode()),
    ],
)
def test_health_is_none_for_anything_but_localstack(answering, status: int, body: bytes) -> None:
    assert localstack.health(answering(status, body)) is None


def test_health_is_none_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert localstack.health(port, timeout=0.5) is None


def test_runtime_env_binds_the_port_and_keeps_state_under_root(tmp_path: Path) -> None:
    env = localstack.runtime_env(4799, tmp_path)
    assert env["GATEWAY_LISTEN"] == "127.0.0.1:4799"
    assert env["FILESYSTEM_ROOT"] == str(tmp_path / "fs")
    assert env["CONFIG_DIR"] == str(tmp_path / "config")
    assert env["OVERRIDE_IN_DOCKER"] == "0"
    assert env["DNS_ADDRESS"] == "0"


def test_setup_skips_a_venv_whose_stamp_matches(tmp_path: Path, monkeypatch, capsys) -> None:
    requirements = tmp_path / "requirements-localstack.txt"
    requirements.write_text("localstack-core==2026.3.0\n")
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".requirements.sha256").write_text(hashlib.sha256(requirements.read_bytes()).hexdigest())
    monkeypatch.setattr(localstack, "REQUIREMENTS", requirements)
    monkeypatch.setattr(localstack, "VENV", venv)

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"setup ran {args}")

    monkeypatch.setattr(localstack.subprocess, "run", no_run)
    localstack.setup()
    assert "up to date" in capsys.readouterr().out


def test_setup_installs_when_the_requirements_changed(tmp_path: Path, monkeypatch) -> None:
    requirements = tmp_path / "requirements-localstack.txt"
    requirements.write_text("localstack-core==2026.3.0\n")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    (venv / ".requirements.sha256").write_text("stale")
    monkeypatch.setattr(localstack, "REQUIREMENTS", requirements)
    monkeypatch.setattr(localstack, "VENV", venv)
    calls: list[list[str]] = []
    monkeypatch.setattr(localstack.subprocess, "run", lambda argv, **kwargs: calls.append(argv))
    localstack.setup()
    assert calls == [
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", str(requirements)]
    ]
    wanted = hashlib.sha256(requirements.read_bytes()).hexdigest()
    assert (venv / ".requirements.sha256").read_text() == wanted


def test_python_version_of_an_interpreter() -> None:
    assert localstack._python_version(sys.executable) == tuple(sys.version_info[:2])


def test_stop_without_pid_file_stops_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(localstack, "STATE_DIR", tmp_path)
    localstack.stop(4799)
    assert "nothing of ours to stop" in capsys.readouterr().out
