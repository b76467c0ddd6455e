# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Action plugin secureinfra.baseline.baseline_lock (documentation: plugins/modules/baseline_lock.py).

Fills the module's `holder` with who runs it, read here on the controller: the user, the pid of
ansible-playbook (this action runs in a worker process ansible-playbook forked, whatever the
connection or strategy) and the controller's host name; then runs the module with the task's
arguments (module_defaults included). A `holder` given in the task wins, key by key.
"""

from __future__ import annotations

import getpass
import os
import socket
from typing import Any

from ansible.plugins.action import ActionBase


def controller_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return str(os.getuid())


def holder_of(given: dict[str, Any] | None) -> dict[str, Any]:
    """Who takes the lock: what the task gave, completed from this process."""
    found = {"user": controller_user(), "pid": os.getppid(), "controller": socket.gethostname()}
    return {**found, **{key: value for key, value in (given or {}).items() if value not in (None, "")}}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        module_args = dict(self._task.args)
        module_args["holder"] = holder_of(module_args.get("holder"))
        outcome = self._execute_module(
            module_name="secureinfra.baseline.baseline_lock", module_args=module_args, task_vars=task_vars
        )
        return {**result, **outcome}
