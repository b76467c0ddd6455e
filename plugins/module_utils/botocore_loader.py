# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""One botocore data loader per interpreter, shared by every session the interpreter creates.

amazon.aws's module_utils create a new boto3 session for every client, and each session builds a
new botocore data loader: it parses endpoints.json, the service model, its paginators and its
endpoint rule set again (0.05-0.2 s of CPU per client, more than the AWS calls of a no-op run).
Under mitogen (this checkout's strategy) every module of a host runs in one long-lived
interpreter, so a loader shared through botocore's public session initializer hook
(`botocore.register_initializer`) parses each file once per host and run. The loader holds only
botocore's read-only data files, keyed by the data path setting (AWS_DATA_PATH), never
credentials or clients. In a fresh interpreter per module (Ansible's own strategies) the call
costs nothing and changes nothing.
"""

from __future__ import annotations

from typing import Any

# Kept on the botocore.loaders module: mitogen imports module_utils anew for every task, while
# botocore stays loaded, so this registry (and the one initializer) outlive a task.
_REGISTRY = "_secureinfra_baseline_shared_loaders"


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
