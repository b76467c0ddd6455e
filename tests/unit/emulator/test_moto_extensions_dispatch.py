"""scripts/moto_extensions.py: the server's service lookup made once per host, not per request."""

from __future__ import annotations

import os
from typing import Any

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from scripts import moto_extensions


def test_the_packages_are_listed_from_disk_once(monkeypatch: pytest.MonkeyPatch) -> None:
    original = getattr(backends.list_of_moto_modules, "__wrapped__", backends.list_of_moto_modules)
    expected = list(original())
    listed: list[str] = []
    real_listdir = os.listdir

    def counting(path: Any) -> list[str]:
        listed.append(str(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", counting)
    once = moto_extensions._listed_once(original)
    assert list(once()) == expected and "s3" in expected and "sts" in expected
    assert list(once()) == expected
    assert len(listed) == 1


def test_a_hosts_service_is_found_once_as_moto_finds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    app = DomainDispatcherApplication(lambda *args: None)
    original = getattr(
        DomainDispatcherApplication.get_backend_for_host,
        "__wrapped__",
        DomainDispatcherApplication.get_backend_for_host,
    )
    hosts = ["127.0.0.1", "s3.amazonaws.com", "sts.us-east-1.amazonaws.com", "moto_api", None]
    expected = [original(app, host) for host in hosts]
    assert expected[1] == "s3" and expected[0] is None
    asked: list[Any] = []

    def counting(self: Any, host: Any) -> Any:
        asked.append(host)
        return original(self, host)

    once = moto_extensions._backend_per_host(counting)
    assert [once(app, host) for host in hosts] == expected
    assert [once(app, host) for host in hosts] == expected
    assert asked == hosts  # each host looked up once
