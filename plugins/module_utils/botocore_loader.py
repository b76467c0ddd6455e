# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""One botocore data loader per interpreter, and in a long-lived one, one client per connection.

amazon.aws's module_utils create a new boto3 session for every client, and each session builds a
new botocore data loader: it parses endpoints.json, the service model, its paginators and its
endpoint rule set again (0.05-0.2 s of CPU per client, more than the AWS calls of a no-op run).
Under mitogen (this checkout's strategy) every module of a host runs in one long-lived
interpreter, so a loader shared through botocore's public session initializer hook
(`botocore.register_initializer`) parses each file once per host and run. The loader holds only
botocore's read-only data files, keyed by the data path setting (AWS_DATA_PATH), never
credentials or clients. In a fresh interpreter per module (Ansible's own strategies) the call
costs nothing and changes nothing.

In a long-lived interpreter (a mitogen context, which runs every module of its hosts), creating
the session and the client was still most of a module run's CPU in a no-op: a botocore session
registers its few hundred event handlers, and each client builds a class with a method per API
operation. share_botocore() also keeps the clients boto3 sessions create, by every argument of
the call and what the session adds when an argument is left out (profile, region, credentials,
the AWS_* environment), so the next module with the same connection gets the same client (its
connection pool included). A client is AWS's thread-safe handle, with no state of a request.
Only there: in the controller, a test process or a fresh interpreter per module, it is off.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections import OrderedDict
from typing import Any

# Kept on the botocore.loaders module: mitogen imports module_utils anew for every task, while
# botocore stays loaded, so this registry (and the one initializer) outlive a task.
_REGISTRY = "_secureinfra_baseline_shared_loaders"
# At most this many shared sessions per interpreter, and clients per session (least recently used out):
# a host of the site uses about 20 clients, and a mitogen context runs the modules of several hosts.
CLIENTS_MAX = 256
# The attribute of a shared session's event emitter that holds its client classes.
CLIENT_CLASSES = "secureinfra_client_classes"
SECRETS = ("aws_secret_access_key", "aws_session_token")


def share_botocore() -> None:
    """share_data_loader(), and in a mitogen context share_clients(); every module calls it first."""
    share_data_loader()
    share_clients()
    amazon_aws_user_agent()


def amazon_aws_user_agent() -> bool:
    """Name amazon.aws in the user agent again, as a module in a fresh interpreter does.

    community.aws's modules (one runs under retry_module) set amazon.aws's collection info, a
    module global, to community.aws, and in a long-lived interpreter it stayed so for every module
    after them: their clients sent community.aws's user agent, and as a client is shared by its
    arguments (the botocore Config's user agent among them), each service got a second client
    (584 clients made for 20 hosts, 31 per host for 20 services). In a fresh interpreter it is
    amazon.aws's already. Returns True when it was reset.
    """
    try:
        from ansible_collections.amazon.aws.plugins.module_utils import common
    except ImportError:
        return False
    if common.get_collection_info() == {
        "name": common.AMAZON_AWS_COLLECTION_NAME,
        "version": common.AMAZON_AWS_COLLECTION_VERSION,
    }:
        return False
    common.set_collection_info(common.AMAZON_AWS_COLLECTION_NAME, common.AMAZON_AWS_COLLECTION_VERSION)
    return True


def share_data_loader() -> bool:
    """Give every botocore session of this interpreter one data loader per data path.

    Returns True when this call registered the session initializer, False when it was registered
    before (by an earlier module in the same interpreter) or botocore is missing (AnsibleAWSModule
    reports that)."""
    try:
        import botocore
        import botocore.loaders
    except ImportError:
        return False
    if hasattr(botocore.loaders, _REGISTRY):
        return False
    loaders: dict[Any, botocore.loaders.Loader] = {}
    setattr(botocore.loaders, _REGISTRY, loaders)

    def use_shared_loader(session: Any) -> None:
        data_path = session.get_config_variable("data_path")
        if data_path not in loaders:
            loaders[data_path] = botocore.loaders.create_loader(data_path)
        session.register_component("data_loader", loaders[data_path])

    botocore.register_initializer(use_shared_loader)
    return True


def _in_long_lived_interpreter() -> bool:
    """A mitogen context (not its master, the controller): it runs every module of its hosts."""
    mitogen = sys.modules.get("mitogen")
    return mitogen is not None and getattr(mitogen, "is_master", True) is False


def _digest(value: Any) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


def retries(value: Any) -> Any:
    """A Config's retries as botocore reads them: max_attempts (retries) as total_max_attempts (+1).

    botocore rewrites the retries dict of the Config it is given in place (ClientArgsCreator.
    _compute_retry_max_attempts), so the same Config asked for max_attempts 10 before a client was
    made and total_max_attempts 11 after: one key for both."""
    if not isinstance(value, dict) or "max_attempts" not in value:
        return value
    normalized = {k: v for k, v in value.items() if k != "max_attempts"}
    if "total_max_attempts" not in value and isinstance(value["max_attempts"], int):
        normalized["total_max_attempts"] = value["max_attempts"] + 1
    elif "total_max_attempts" not in value:
        return value
    return dict(sorted(normalized.items()))


def call_key(args: tuple, kwargs: dict) -> tuple:
    """A session's or a client's arguments as a key: secrets digested, a botocore Config by its options."""
    call = []
    for name, value in sorted(kwargs.items()):
        if name == "config" and value is not None:
            options = value._user_provided_options.items()
            value = sorted((k, repr(retries(v) if k == "retries" else v)) for k, v in options)
        elif name in SECRETS and value is not None:
            value = _digest(value)
        call.append((name, repr(value)))
    return (repr(args), tuple(call))


def environment_key() -> tuple | None:
    """What a session reads from the environment (AWS_*, BOTO*), digested; None under amazon.aws's placebo."""
    if any(name.startswith("_ANSIBLE_PLACEBO") for name in os.environ):
        return None  # amazon.aws's recording of responses hooks each session
    return tuple(
        sorted(
            (name, _digest(value)) for name, value in os.environ.items() if name.startswith(("AWS_", "BOTO"))
        )
    )


def shared_session_class(base: type) -> type:
    """boto3's Session, one instance per arguments and environment, one client per client arguments."""
    sessions: OrderedDict[tuple, Any] = OrderedDict()
    # boto3 sessions are not thread-safe: a shared one makes its clients one thread at a time.
    lock = threading.RLock()

    class SharedSession(base):  # type: ignore[valid-type,misc]
        """A boto3 session made once per arguments and AWS_* environment in this interpreter."""

        secureinfra_sessions = sessions

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            environment = environment_key()
            if environment is None:
                return base(*args, **kwargs)  # not shared, and not one of this class: no __init__ again
            key = (call_key(args, kwargs), environment)
            with lock:
                if key in sessions:
                    sessions.move_to_end(key)
                    return sessions[key]
                session = super().__new__(cls)
                sessions[key] = session
                if len(sessions) > CLIENTS_MAX:
                    sessions.popitem(last=False)
                return session

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            with lock:
                if getattr(self, "secureinfra_clients", None) is not None:
                    return  # a shared session, made before
                super().__init__(*args, **kwargs)
                self.secureinfra_clients: OrderedDict[tuple, Any] = OrderedDict()
                # The client classes of this session, one per service (share_client_classes()).
                emitter = self._session.get_component("event_emitter")
                setattr(emitter, CLIENT_CLASSES, {})

        def client(self, *args: Any, **kwargs: Any) -> Any:
            key = call_key(args, kwargs)
            with lock:
                clients = self.secureinfra_clients
                if key in clients:
                    clients.move_to_end(key)
                    return clients[key]
                client = super().client(*args, **kwargs)
                clients[key] = client
                if len(clients) > CLIENTS_MAX:
                    clients.popitem(last=False)
                return client

    return SharedSession


def share_clients() -> bool:
    """In a mitogen context, boto3.session.Session shares its sessions and their clients.

    amazon.aws makes a new boto3 session for every client (boto3.session.Session(...).client(...)),
    and the modules of a host, a module after another, make the same ones again and again: the
    session's few hundred event handlers registered, a client class built with a method per API
    operation. A session is made once per arguments and AWS_* environment instead (credentials
    the session resolves itself are the environment's or the profile's), and each of its clients
    once per arguments (service, region, endpoint, credentials, config): what one boto3 session
    with many clients is, the way boto3 documents it. A client keeps its connection pool and no
    state of a request. Returns True when this call installed it, False when it was installed
    before, boto3 is missing, this is not a long-lived interpreter (the controller, a test
    process, Ansible's fresh interpreter per module), or SECUREINFRA_SHARED_CLIENTS=0 (a lever
    of `make bench`)."""
    if not _in_long_lived_interpreter() or os.environ.get("SECUREINFRA_SHARED_CLIENTS") == "0":
        return False
    try:
        import boto3.session
    except ImportError:
        return False
    if hasattr(boto3.session.Session, "secureinfra_sessions"):
        return False
    share_client_classes()
    boto3.session.Session = shared_session_class(boto3.session.Session)  # type: ignore[misc]
    return True


def share_client_classes() -> bool:
    """A shared session builds each service's client class once, not for every client.

    A client with other credentials (each account's assumed role) is another client, but botocore
    also builds its class again: a method per API operation, and the session's creating-client-class
    handlers (boto3's) run again; 20 ms of CPU for EC2's. The class depends only on the service
    model and those handlers, which are the session's own: it is kept on the session's event
    emitter (marked by SharedSession, so no other session's), keyed by the service and its model.
    Returns True when this call installed it."""
    try:
        import botocore.client
    except ImportError:
        return False
    creator = botocore.client.ClientCreator
    if getattr(creator._create_client_class, "secureinfra_shared", False):
        return False
    build = creator._create_client_class

    def shared_client_class(self: Any, service_name: str, service_model: Any) -> Any:
        classes = getattr(self._event_emitter, CLIENT_CLASSES, None)
        if classes is None:
            return build(self, service_name, service_model)
        key = (service_name, service_model.api_version, id(service_model._service_description))
        if key not in classes:
            classes[key] = (build(self, service_name, service_model), service_model._service_description)
        return classes[key][0]

    shared_client_class.secureinfra_shared = True  # type: ignore[attr-defined]
    creator._create_client_class = shared_client_class
    return True
