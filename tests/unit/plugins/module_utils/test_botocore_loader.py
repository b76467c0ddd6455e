"""share_data_loader: one botocore data loader per data path for every later session."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import botocore
import botocore.loaders
import pytest
from ansible_collections.secureinfra.baseline.plugins.module_utils import botocore_loader


def loader_of(session: boto3.session.Session) -> botocore.loaders.Loader:
    return session._session.get_component("data_loader")


def unshare() -> None:
    """Take the initializer and its registry away (a module test may have registered them)."""
    for initializer in list(botocore._INITIALIZERS):
        if initializer.__name__ == "use_shared_loader":
            botocore.unregister_initializer(initializer)
    if hasattr(botocore.loaders, botocore_loader._REGISTRY):
        delattr(botocore.loaders, botocore_loader._REGISTRY)


@pytest.fixture
def shared() -> Iterator[dict]:
    """Register the initializer for one test, then take it away again."""
    unshare()
    assert botocore_loader.share_data_loader() is True
    yield getattr(botocore.loaders, botocore_loader._REGISTRY)
    unshare()


def test_sessions_have_their_own_loader_without_it() -> None:
    unshare()
    assert loader_of(boto3.session.Session()) is not loader_of(boto3.session.Session())


def test_later_sessions_share_one_loader(shared: dict) -> None:
    first, second = boto3.session.Session(), boto3.session.Session(profile_name=None)
    assert loader_of(first) is loader_of(second)
    assert list(shared.values()) == [loader_of(first)]


def test_a_model_is_parsed_once_for_every_session(shared: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    load_file = botocore.loaders.JSONFileLoader.load_file

    def counting(self: botocore.loaders.JSONFileLoader, file_path: str) -> object:
        reads.append(file_path)
        return load_file(self, file_path)

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", counting)
    for _ in range(3):
        boto3.session.Session(region_name="eu-west-1").client(
            "sqs", aws_access_key_id="a", aws_secret_access_key="b"
        )
    service_models = [path for path in reads if path.endswith("/sqs/2012-11-05/service-2")]
    assert len(service_models) == 1
    assert sum(path.endswith("/endpoints") for path in reads) == 1


def test_a_second_call_registers_nothing(shared: dict) -> None:
    before = list(botocore._INITIALIZERS)
    assert botocore_loader.share_data_loader() is False
    assert before == botocore._INITIALIZERS


def test_each_data_path_gets_its_own_loader(shared: dict, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    default = loader_of(boto3.session.Session())
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    custom = loader_of(boto3.session.Session())
    assert custom is not default
    assert str(tmp_path) in custom.search_paths
    assert loader_of(boto3.session.Session()) is custom
