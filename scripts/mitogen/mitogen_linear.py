"""mitogen's linear strategy, from the installed mitogen package, for this checkout's ansible.cfg.

Where mitogen is not installed (an execution environment built without it, a venv of ansible
alone), it is Ansible's own linear strategy, with one warning: the project's ansible.cfg then
still works, only slower (tests/integration/test_awx_runner.py runs both ways).

ansible.cfg names this directory in `strategy_plugins`, so the setting does not depend on where
the venv keeps its site-packages (its Python version). mitogen runs each module in a warm
interpreter instead of starting a new Python (and importing boto3) for every task.

Two fixes on top (bench/README.md, "Levers"):

1. No CPU pinning. mitogen pins its processes to CPUs (ansible_mitogen.affinity): on a machine
   with 2 or 3 CPUs it keeps CPU 0 for its connection multiplexer and pins the controller, every
   forked worker and every module interpreter to the one CPU left, so the hosts of a play take
   turns on one core while the other idles (a no-op rerun of both regions: 28 s of CPU in 28 s).
   Without pinning, the kernel spreads them: the hosts' tasks run side by side.
   SECUREINFRA_MITOGEN_PIN_CPUS=1 keeps mitogen's pinning (a lever of `make bench`).
2. Before it runs a collection's module for the first time in a process, mitogen's planner
   lists every installed collection (`ansible.collections.list.list_collection_dirs`), which
   imports each collection's package and parses its meta/runtime.yml. Ansible runs every task in
   a newly forked worker process, so that "first time" is every module task: with the ~100
   collections of the `ansible` package, about 0.13 s of CPU per module task, a quarter of a no-op
   run. The list cannot change during a run, so it is made once here, in the controller process
   the workers are forked from.
"""

from __future__ import annotations

import functools
import os

import ansible.collections.list
from ansible.utils.display import Display

try:
    import ansible_mitogen.affinity
    import ansible_mitogen.planner
    from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule
except ImportError as missing:
    from ansible.plugins.strategy.linear import StrategyModule as _Linear

    _MISSING = str(missing)

    class StrategyModule(_Linear):  # type: ignore[no-redef]
        """Ansible's linear strategy, when mitogen cannot be imported."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            Display().warning(
                f"ansible.cfg names mitogen's strategy, but mitogen cannot be imported ({_MISSING}): "
                "running with Ansible's linear strategy (same result, more CPU). "
                "`pip install mitogen` (requirements-ee.lock) for the faster runs."
            )

    ansible_mitogen = None

__all__ = ["StrategyModule"]


@functools.cache
def _collection_dirs() -> tuple[str, ...]:
    return tuple(path.decode("utf-8") for path in ansible.collections.list.list_collection_dirs())


def _load_collections(invocation: object) -> None:
    """mitogen's `_load_collections`, from the controller's one listing."""
    invocation._extra_sys_paths.update(_collection_dirs())  # type: ignore[attr-defined]


if ansible_mitogen is not None:
    # The base Policy's assign_* methods pin nothing; mitogen looks the policy up at each call.
    if os.environ.get("SECUREINFRA_MITOGEN_PIN_CPUS") != "1":
        ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()
    _collection_dirs()
    ansible_mitogen.planner._load_collections = _load_collections
