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


# --- share_clients: in a mitogen context, one session per arguments, one client per arguments ---


@pytest.fixture
def mitogen_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[type]:
    """This process as a mitogen context (not the master) with share_clients() installed; undone after."""
    import sys
    import types

    import boto3.session

    original = boto3.session.Session
    monkeypatch.setitem(sys.modules, "mitogen", types.SimpleNamespace(is_master=False))
    monkeypatch.delenv("SECUREINFRA_SHARED_CLIENTS", raising=False)
    for name in [name for name in __import__("os").environ if name.startswith("_ANSIBLE_PLACEBO")]:
        monkeypatch.delenv(name)
    assert botocore_loader.share_clients() is True
    yield boto3.session.Session
    boto3.session.Session = original


CLIENT = dict(region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="secret-1")


def test_outside_a_mitogen_context_nothing_is_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    import boto3.session

    monkeypatch.delitem(sys.modules, "mitogen", raising=False)
    assert botocore_loader.share_clients() is False
    monkeypatch.setitem(sys.modules, "mitogen", types.SimpleNamespace(is_master=True))  # the controller
    assert botocore_loader.share_clients() is False
    monkeypatch.setitem(sys.modules, "mitogen", types.SimpleNamespace(is_master=False))
    monkeypatch.setenv("SECUREINFRA_SHARED_CLIENTS", "0")  # the lever
    assert botocore_loader.share_clients() is False
    assert not hasattr(boto3.session.Session, "secureinfra_sessions")
    assert boto3.session.Session() is not boto3.session.Session()


def test_sessions_and_clients_are_made_once_per_arguments(mitogen_context: type) -> None:
    import boto3.session

    assert botocore_loader.share_clients() is False  # installed once
    first, second = boto3.session.Session(), boto3.session.Session()
    assert first is second and isinstance(first, mitogen_context)
    assert boto3.session.Session(profile_name=None) is not first  # other arguments, another session
    client = first.client("sqs", **CLIENT)
    assert second.client("sqs", **CLIENT) is client
    assert first.client("sqs", **{**CLIENT, "region_name": "us-west-1"}) is not client
    assert first.client("sqs", **{**CLIENT, "aws_secret_access_key": "secret-2"}) is not client
    assert first.client("sns", **CLIENT) is not client
    retries = botocore.config.Config(retries={"mode": "standard", "max_attempts": 10})
    with_retries = first.client("sqs", config=retries, **CLIENT)
    assert with_retries is not client
    again = botocore.config.Config(retries={"mode": "standard", "max_attempts": 10})
    assert first.client("sqs", config=again, **CLIENT) is with_retries
    other = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3})
    assert first.client("sqs", config=other, **CLIENT) is not with_retries
    assert with_retries.meta.config.retries["total_max_attempts"] == 11  # botocore counts the first call


def test_a_session_is_not_shared_across_environments(
    mitogen_context: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3.session

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFIRST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "first")
    first = boto3.session.Session()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "second")
    second = boto3.session.Session()
    assert second is not first
    assert second.client("sqs", region_name="us-east-1")._request_signer._credentials.secret_key == "second"
    monkeypatch.setenv("_ANSIBLE_PLACEBO_RECORD", "/tmp/x")  # amazon.aws's recording hooks each session
    unshared = boto3.session.Session()
    assert unshared is not boto3.session.Session()
    assert not isinstance(unshared, mitogen_context)


def test_the_keys_hold_no_secret(mitogen_context: type) -> None:
    import boto3.session

    boto3.session.Session(aws_session_token="token-value").client("sqs", **CLIENT)
    sessions = mitogen_context.secureinfra_sessions
    assert "token-value" not in repr(list(sessions))
    assert all("secret-1" not in repr(list(s.secureinfra_clients)) for s in sessions.values())


def test_least_recently_used_clients_go_first(mitogen_context: type, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3.session

    monkeypatch.setattr(botocore_loader, "CLIENTS_MAX", 2)
    session = boto3.session.Session()
    sqs = session.client("sqs", **CLIENT)
    sns = session.client("sns", **CLIENT)
    assert session.client("sqs", **CLIENT) is sqs  # used again: sns is now the oldest
    session.client("kms", **CLIENT)
    assert session.client("sqs", **CLIENT) is sqs
    assert session.client("sns", **CLIENT) is not sns


def test_a_config_botocore_rewrote_gets_the_same_client(mitogen_context: type) -> None:
    """botocore turns the retries of the Config it is given into total_max_attempts, in place."""
    import boto3.session

    session = boto3.session.Session()
    shared = {"mode": "standard", "max_attempts": 10}  # one dict, as a module global would be
    first = session.client("sqs", config=botocore.config.Config(retries=shared), **CLIENT)
    assert shared == {"mode": "standard", "total_max_attempts": 11}  # what botocore did to it
    assert session.client("sqs", config=botocore.config.Config(retries=shared), **CLIENT) is first
    total = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 4})
    assert session.client("sqs", config=total, **CLIENT) is not first


@pytest.mark.parametrize(
    ("retries", "key"),
    [
        ({"mode": "standard", "max_attempts": 10}, {"mode": "standard", "total_max_attempts": 11}),
        ({"max_attempts": 2, "total_max_attempts": 5}, {"total_max_attempts": 5}),  # botocore keeps the total
        ({"mode": "adaptive"}, {"mode": "adaptive"}),
        ({"max_attempts": "x"}, {"max_attempts": "x"}),  # not botocore's to rewrite: kept as given
        (None, None),
    ],
)
def test_retries_are_keyed_as_botocore_reads_them(retries: object, key: object) -> None:
    assert botocore_loader.retries(retries) == key


def test_amazon_aws_is_named_again_after_a_community_module() -> None:
    from ansible_collections.amazon.aws.plugins.module_utils import botocore as aws_botocore
    from ansible_collections.amazon.aws.plugins.module_utils import common

    default = dict(common.get_collection_info())
    try:
        common.set_collection_info("community.aws", "10.0.0")  # what AnsibleCommunityAWSModule leaves
        assert "community.aws/10.0.0" in aws_botocore._get_user_agent_string()
        assert botocore_loader.amazon_aws_user_agent() is True
        assert common.get_collection_info() == default
        assert f"amazon.aws/{common.AMAZON_AWS_COLLECTION_VERSION}" in aws_botocore._get_user_agent_string()
        assert botocore_loader.amazon_aws_user_agent() is False  # already amazon.aws's
    finally:
        common.set_collection_info(default["name"], default["version"])


def test_a_shared_session_builds_a_service_class_once(mitogen_context: type) -> None:
    import boto3.session
    from botocore.stub import Stubber

    session = boto3.session.Session()
    first = session.client("sqs", **CLIENT)
    second = session.client("sqs", **{**CLIENT, "aws_secret_access_key": "secret-2"})
    assert second is not first and type(second) is type(first)
    assert second._request_signer._credentials.secret_key == "secret-2"
    assert type(session.client("sns", **CLIENT)) is not type(first)
    assert botocore_loader.share_client_classes() is False  # installed once, by share_clients()
    unshared = boto3.session.Session.__mro__[1]()  # boto3's own Session: its own classes
    assert type(unshared.client("sqs", **CLIENT)) is not type(first)
    with Stubber(second) as stub:  # a client of a shared class still calls its own service
        stub.add_response("list_queues", {"QueueUrls": ["https://sqs/q"]})
        assert second.list_queues()["QueueUrls"] == ["https://sqs/q"]
