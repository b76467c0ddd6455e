# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""The drift playbook's copy of the callback secureinfra.baseline.drift_report (plugins/callback/).

Ansible loads the callbacks of a callback_plugins/ directory beside a playbook it runs, and runs
those that do not need enabling. So playbooks/drift.yml (secureinfra.baseline.drift) reports
without any configuration, installed or from AWX. Every playbook of this directory loads it too:
it records only the plays whose vars set drift_report_record (drift.yml's), and stands down when
the collection's callback is enabled by name (that one then records every play).
"""

from __future__ import annotations

from typing import Any

from ansible import constants as C
from ansible_collections.secureinfra.baseline.plugins.callback.drift_report import (
    DOCUMENTATION,
)
from ansible_collections.secureinfra.baseline.plugins.callback.drift_report import (
    CallbackModule as CollectionCallback,
)

__all__ = ["DOCUMENTATION", "CallbackModule"]


class CallbackModule(CollectionCallback):
    CALLBACK_NAME = "drift_report"
    CALLBACK_NEEDS_ENABLED = False
    RECORD_MARKED_PLAYS_ONLY = True

    def __init__(self, display: Any = None) -> None:
        super().__init__(display=display)
        if CollectionCallback.CALLBACK_NAME in (C.CALLBACKS_ENABLED or ()):
            self.disabled = True
