# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Action plugin secureinfra.baseline.warn (documentation: plugins/modules/warn.py)."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec={"msg": {"type": "str", "required": True}})[1]
        # Ansible prints each entry of `warnings` as "[WARNING]: ..." and repeats none of it.
        return {**result, "changed": False, "msg": args["msg"], "warnings": [args["msg"]]}
