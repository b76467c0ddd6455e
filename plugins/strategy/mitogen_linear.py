# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""Strategy plugin secureinfra.baseline.mitogen_linear: mitogen's linear strategy, or Ansible's.

The collection's playbooks name it with their `strategy` play keyword, so an installed
collection (no ansible.cfg of this checkout, AWX with a project of its own) runs as fast as the
checkout. The logic that was the checkout's shim (scripts/mitogen, before 0.3.0):

- mitogen's linear strategy, from the installed mitogen package: each module runs in a warm
  interpreter instead of a new Python that imports boto3 for every task;
- where mitogen cannot be imported, or refuses this ansible-core (mitogen raises AnsibleError
  from ansible_mitogen.loaders for a release it does not support, or fails on an internal it
  no longer finds), Ansible's own linear strategy with one warning: same result, more CPU;
- two fixes on top (bench/README.md, "Levers"):
  1. no CPU pinning. mitogen pins its processes to CPUs (ansible_mitogen.affinity): with 2 or 3
     CPUs it keeps CPU 0 for its connection multiplexer and pins the controller, every forked
     worker and every module interpreter to the one CPU left, so the hosts of a play take turns
     on one core. SECUREINFRA_MITOGEN_PIN_CPUS=1 keeps mitogen's pinning (a lever of `make bench`);
  2. the collections listed once. Before it runs a collection's module for the first time in a
     process, mitogen's planner lists every installed collection
     (ansible.collections.list.list_collection_dirs), importing each collection's package and
     parsing its meta/runtime.yml. Each task runs in a newly forked worker, so that is every
     module task: about 0.13 s of CPU each with the ~100 collections of the `ansible` package.
     The list cannot change during a run, so it is made once, in the controller process the
     workers are forked from.

And one fix of its own, with or without mitogen:

3. controller-only tasks run in the controller. Ansible forks a worker process for every task of
   every host, also for a set_fact, an assert, a debug, a fail, an argument validation or an
   include_tasks, which only template their arguments: the fork, and the copy-on-write faults of
   the controller's heap in the child, cost more than the task. The actions in CONTROLLER_ACTIONS
   (no connection, no I/O) run here instead, through the same TaskExecutor as a worker, on copies
   of the task, its vars and the play context (what the fork gave the worker), and send their
   result through the same queue. Tasks with `until`, `async` or `delegate_to` still fork. And a
   task whose `when` is false for a host (no loop, not delegated) is skipped here: the controller
   evaluates the condition with the host's vars, then the executor skips it as a worker would,
   stopping before the connection should it find the condition true after all (the task then goes
   to a worker).
   A no-op of both regions: 32 -> 23 CPU-s; 20 hosts: 354 -> 195 CPU-s, 194 -> 148 s
   (bench/README.md, "Levers").
   SECUREINFRA_CONTROLLER_TASKS=fork forks them as Ansible does; an ansible-core whose worker
   API this plugin does not know forks them too.

4. each template source compiled once per run (_cache_compiled_templates): about half of what the
   controller-side tasks cost was Jinja compiling the same sources again for every host and task.
   Before it forks a worker, the controller compiles that task's templates too (its arguments,
   module defaults and variables: _precompile_for_workers), which each worker compiled again.

5. a free worker awaited, not polled (_await_free_worker): with every fork busy, Ansible's loop
   polls the workers every 0.1 ms, on the core the workers need.

6. no facts cleaned for nothing (_clean_no_facts_for_nothing): get_vars cleans the host's facts for
   every task, listing every connection plugin from disk, also when the host has no facts.

7. the controller's heap frozen, in the controller and in each worker (_freeze_heap): Python's
   garbage collector walks every object of a generation it collects, a write to each page it
   visits. In the controller, a full collection walked the whole heap (about 250,000 objects,
   12 of them in a no-op of 20 hosts, 1.4-1.6 s of CPU), each write to a page it still shares
   with a live worker a copy-on-write fault; and a forked worker, which inherits the controller's
   objects in the generations, walked them again in its own collections (8 full and about 150
   middle ones in 631 workers). What the controller holds when each play starts (the playbooks,
   the inventory, the plugins) lives for the run: it is collected once and frozen (gc.freeze)
   there, and each worker freezes what it inherits as it starts. What they make afterwards is
   collected as before. A no-op of 20 hosts, alternated: workers 25.1 / 24.3 -> 22.4 / 21.0 CPU-s
   (the workers' freeze); the controller's full collections 1.4-1.6 -> 0.4-0.6 s, and all
   85.2 / 72.5 -> 76.1 / 66.6 CPU-s (the controller's, on top). SECUREINFRA_GC=collect leaves the
   collector as Ansible does.

The fixes are applied when the strategy is made (in the controller, before any worker forks),
not when the plugin is imported, so `ansible-doc` and the sanity tests import it without side
effects.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: mitogen_linear
short_description: mitogen's linear strategy, falling back to Ansible's linear strategy without mitogen
version_added: 0.3.0
description:
  - Task execution as Ansible's C(linear) strategy (every host runs a task before any host starts
    the next one), through mitogen (U(https://pypi.org/project/mitogen/)) where it is installed.
    Each module runs in a long-lived interpreter per host instead of a new Python process per
    task, about 2.4 times less wall and CPU time for the baseline's site.
  - The collection's playbooks name it with the C(strategy) play keyword, unless the user chose a
    strategy (C(-e baseline_strategy=linear), or C(ANSIBLE_STRATEGY) or C(strategy) in
    C(ansible.cfg) set to anything, C(linear) included).
  - Where mitogen cannot be imported, or raises an error for this ansible-core release, it is
    Ansible's C(linear) strategy, with one warning that says why. The result is the same, the run
    takes more CPU.
  - Unlike mitogen's own C(mitogen_linear), it does not pin the controller, the workers and the
    module interpreters to CPUs (set E(SECUREINFRA_MITOGEN_PIN_CPUS=1) to keep mitogen's pinning),
    and it lists the installed collections once per run instead of once per module task.
  - With or without mitogen, the tasks of the actions C(set_fact), C(assert), C(fail), C(debug),
    C(validate_argument_spec), C(include_tasks) and C(secureinfra.baseline.warn) run in the
    controller process, without forking a worker for them (unless they have C(until), C(async) or
    C(delegate_to)), and so do the tasks whose C(when) is false for the host (no loop, not
    delegated); they are skipped without a worker. The results are those of forked workers.
    Set E(SECUREINFRA_CONTROLLER_TASKS=fork) to fork a worker for every task as Ansible does.
  - It compiles each Jinja template source once per run (ansible-core compiles it at each render),
    in the controller, where the controller-side tasks of every host and the forked workers use
    it; before it forks a worker for a task, it compiles the templates of the task's arguments,
    module defaults and variables. Set E(SECUREINFRA_TEMPLATE_CACHE=0) to compile at each render as
    Ansible does.
  - When every fork is busy, it waits for a worker to exit instead of polling the workers every
    0.1 ms (E(SECUREINFRA_WORKER_WAIT=poll) polls, as Ansible does). It does not clean a host's
    facts when it has none (Ansible lists every connection plugin to do so, for every task).
  - It freezes the controller's heap in Python's garbage collector as each play starts (collected
    once), and each forked worker freezes what it inherits, so that their collections do not walk,
    and copy on write, the controller's heap (E(SECUREINFRA_GC=collect) leaves the collector as
    Ansible does).
author:
  - Secureinfra Platform Team (@secureinfra)
notes:
  - Requires C(mitogen) (the collection's C(requirements.txt)) on the controller for the faster
    runs; the execution environment of the collection carries it.
  - ansible-core prints a deprecation warning for any strategy plugin not in C(ansible.builtin).
"""

import functools  # noqa: E402
import gc  # noqa: E402
import multiprocessing.connection  # noqa: E402
import os  # noqa: E402
from typing import Any  # noqa: E402

import ansible.collections.list  # noqa: E402
from ansible.executor.task_executor import TaskExecutor  # noqa: E402
from ansible.plugins import loader as plugin_loader  # noqa: E402
from ansible.plugins.strategy.linear import StrategyModule as _Linear  # noqa: E402
from ansible.utils.display import Display  # noqa: E402
from ansible.utils.fqcn import add_internal_fqcns  # noqa: E402

display = Display()

FALLBACK_WARNING = (
    "secureinfra.baseline.mitogen_linear: mitogen cannot be imported or does not support this "
    "ansible-core ({reason}): running with Ansible's linear strategy (same result, more CPU). "
    "`pip install mitogen` (the collection's requirements.txt) for the faster runs, or "
    "`-e baseline_strategy=linear` to choose linear without this warning."
)


def _load_mitogen() -> tuple[type | None, str]:
    """mitogen's linear StrategyModule, or None and why not."""
    try:
        # pylint: disable-next=import-outside-toplevel
        from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule as mitogen_linear
    except ImportError as exc:
        return None, str(exc)
    # mitogen raises AnsibleError for an ansible-core it does not support (ansible_mitogen.loaders),
    # and may fail on an ansible internal a newer release has dropped: whatever it raises, linear.
    except Exception as exc:  # noqa: BLE001  # pylint: disable=broad-exception-caught
        return None, f"{type(exc).__name__}: {exc}"
    return mitogen_linear, ""


_LOADED = _load_mitogen()
_MITOGEN = _LOADED[0]
_MISSING = _LOADED[1]


@functools.cache
def _collection_dirs() -> tuple[str, ...]:
    return tuple(path.decode("utf-8") for path in ansible.collections.list.list_collection_dirs())


def _load_collections(invocation: object) -> None:
    """mitogen's planner._load_collections, from the controller's one listing."""
    invocation._extra_sys_paths.update(_collection_dirs())  # type: ignore[attr-defined]  # pylint: disable=protected-access


@functools.cache
def _tune_mitogen() -> None:
    """No CPU pinning, the collections listed once: once per process, before workers fork."""
    # pylint: disable=import-outside-toplevel
    import ansible_mitogen.affinity
    import ansible_mitogen.planner

    if os.environ.get("SECUREINFRA_MITOGEN_PIN_CPUS") != "1":
        # The base Policy's assign_* methods pin nothing; mitogen looks the policy up at each call.
        ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()
    _collection_dirs()
    ansible_mitogen.planner._load_collections = _load_collections  # pylint: disable=protected-access


# Actions that need no connection and do no I/O: they template their arguments and return a result
# (include_tasks returns the file to include, which the strategy loads, as from a worker).
_BUILTINS = ("set_fact", "assert", "fail", "debug", "validate_argument_spec", "include_tasks")
CONTROLLER_ACTIONS = frozenset((*add_internal_fqcns(_BUILTINS), "secureinfra.baseline.warn"))


def _worker_api() -> str:
    """How this ansible-core's WorkerProcess runs a task: '2.19' (2.19, 2.20), '2.21', or '' (unknown)."""
    # pylint: disable=import-outside-toplevel
    import inspect

    try:
        from ansible._internal import _task
    except ImportError:
        return ""
    params = list(inspect.signature(TaskExecutor.__init__).parameters)
    if params[1:4] == ["host", "task", "job_vars"] and hasattr(_task, "TaskContext"):
        return "2.19"
    if params[1:3] == ["host", "play_context"] and hasattr(getattr(_task, "TaskContext", None), "create"):
        return "2.21"
    return ""


_WORKER_API = _worker_api()


def _controller_tasks_on() -> bool:
    """The lever (SECUREINFRA_CONTROLLER_TASKS=fork turns it off), on an ansible-core it knows."""
    return bool(_WORKER_API) and os.environ.get("SECUREINFRA_CONTROLLER_TASKS", "") != "fork"


def runs_in_controller(task: Any) -> bool:
    """Whether this task runs in the controller rather than in a forked worker."""
    if not _controller_tasks_on():
        return False
    return task.action in CONTROLLER_ACTIONS and not (task.until or task.async_val or task.delegate_to)


def skips_in_controller(task: Any, task_vars: dict) -> bool:
    """Whether this task's `when` is false for this host: skipped here, without forking a worker.

    Only a task without a loop (its `when` is evaluated per item) and not delegated (its `when`
    then sees the delegated host's vars); an error evaluating the condition leaves it to the worker.
    """
    if not _controller_tasks_on() or not task.when or task.loop or task.loop_with or task.delegate_to:
        return False
    try:
        return not task._resolve_conditional(task.when, task_vars)  # pylint: disable=protected-access
    except Exception:  # noqa: BLE001  # pylint: disable=broad-exception-caught
        return False


class _NotSkipped(Exception):
    """The executor found the task's condition true after all: the task goes to a worker."""


class _SkipOnlyExecutor(TaskExecutor):
    """A TaskExecutor that stops before the connection: for a task the controller expects to skip.

    The executor evaluates `when` before it makes the task's connection; were it true (the condition
    read something else than the controller's own evaluation saw), no module runs here: the
    executor stops, and the task is handed to a forked worker as any other task.
    """

    not_skipped = False

    def _get_connection(self, *args: Any, **kwargs: Any) -> Any:
        self.not_skipped = True
        raise _NotSkipped


def _execute(  # pylint: disable=too-many-arguments,too-many-positional-arguments
    strategy: Any, host: Any, task: Any, task_vars: dict, play_context: Any, executor: type = TaskExecutor
) -> bool:
    """What WorkerProcess._run does with a task, here: run it and put its result on the queue.

    False, with nothing put on the queue, when a _SkipOnlyExecutor found that the task must run.
    """
    # pylint: disable=import-outside-toplevel,protected-access
    from ansible._internal import _task

    shared = plugin_loader.get_plugin_loader_namespace()
    loader, queue, manager = strategy._loader, strategy._final_q, strategy._variable_manager
    if _WORKER_API == "2.19":
        from ansible.executor.task_result import _RawTaskResult

        with _task.TaskContext(task):  # pylint: disable=missing-kwoa  # 2.19 and 2.20 take the task
            runner = executor(host, task, task_vars, play_context, loader, shared, queue, manager)
            result = runner.run()
            if getattr(runner, "not_skipped", False):
                return False
            raw = _RawTaskResult(host=host, task=task, return_data=result, task_fields=task.dump_attrs())
            queue.send_task_result(raw)
        return True
    with _task.TaskContext.create(task=task, task_vars=task_vars, host_name=host.name):
        task.squash()
        runner = executor(host, play_context, loader, shared, queue, manager)
        outcome = runner.run()
        if getattr(runner, "not_skipped", False):
            return False
        outcome.finalize_registered_values()
        task.ignore_errors = outcome.ignore_errors
        task.ignore_unreachable = outcome.ignore_unreachable
        queue.send_task_result(host, task, outcome)
    return True


_PRECOMPILED: set = set()


def _templates_in(value: Any, depth: int = 0) -> Any:
    """The strings in value (a task's arguments, a variable's value) that look like Jinja templates."""
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            yield value
    elif depth < 8 and isinstance(value, dict):
        for item in value.values():
            yield from _templates_in(item, depth + 1)
    elif depth < 8 and isinstance(value, (list, tuple)):
        for item in value:
            yield from _templates_in(item, depth + 1)


def _precompile_for_workers(strategy: Any, task: Any, task_vars: dict) -> None:
    """Compile, in the controller, the templates the worker about to be forked will render.

    A worker renders the task's arguments, its module defaults and the variables they use, and
    mitogen's connection its ansible_python_interpreter; what a worker compiles dies with it, so
    every worker compiled them again: about half of a worker's CPU. Compiled here (each source
    once per run, _compiled_once), every later worker inherits them compiled.
    """
    # pylint: disable=import-outside-toplevel,protected-access
    from ansible._internal._templating._engine import TemplateEngine, TemplateOptions

    if not getattr(TemplateEngine._compile_template, "secureinfra_cached", False):
        return  # SECUREINFRA_TEMPLATE_CACHE=0: nothing would be kept

    sources = []
    if task._uuid not in _PRECOMPILED:
        _PRECOMPILED.add(task._uuid)
        sources.extend(_templates_in(task.args))
        sources.extend(_templates_in(task.module_defaults))
    for name, value in task_vars.items():
        # `vars` is task_vars itself again (a new dict at each call): its values are scanned here.
        if name != "vars" and (name, id(value)) not in _PRECOMPILED:
            _PRECOMPILED.add((name, id(value)))
            sources.extend(_templates_in(value))
    if not sources:
        return
    engine = TemplateEngine(loader=strategy._loader)
    for source in sources:
        try:
            engine._compile_template(source, TemplateOptions.DEFAULT)
        except ReferenceError:
            # A source that does not compile: ansible-core defers its error into a marker, which
            # needs the context of a render (not active here). The worker compiles it, and reports
            # the error as Ansible does.
            continue


def _await_free_worker(workers: list) -> None:
    """Block until a worker slot is free: none yet, or its worker has exited.

    StrategyBase._queue_task looks for such a slot in a loop that sleeps 0.1 ms between its
    passes over every worker (is_alive: a waitpid each): with every fork busy on a module, as
    with more hosts than forks, that loop kept the controller's core busy, about a fifth of its
    CPU at 20 hosts, on the core the workers and mitogen's interpreters need. Here the controller
    sleeps on the workers' sentinels until one exits; the loop then finds its slot at once.
    A throttled task, and SECUREINFRA_WORKER_WAIT=poll, keep Ansible's loop.
    """
    sentinels = []
    for worker in workers:
        if worker is None or not worker.is_alive():
            return
        sentinels.append(worker.sentinel)
    multiprocessing.connection.wait(sentinels)


class _ControllerTasks:
    """The linear strategies' _queue_task, with the controller-only tasks run without a fork."""

    def _queue_task(self, host: Any, task: Any, task_vars: dict, play_context: Any) -> None:
        # pylint: disable=protected-access
        if runs_in_controller(task):
            executor: type = TaskExecutor
        elif skips_in_controller(task, task_vars):
            executor = _SkipOnlyExecutor
        else:
            _precompile_for_workers(self, task, task_vars)
            if not task.throttle and os.environ.get("SECUREINFRA_WORKER_WAIT") != "poll":
                _await_free_worker(self._workers)  # type: ignore[attr-defined]
            return super()._queue_task(host, task, task_vars, play_context)  # type: ignore[misc]
        # As StrategyBase._queue_task records a task it hands to a worker: the result is matched
        # to it by host and task uuid.
        self._queued_task_cache[(host.name, task._uuid)] = {  # type: ignore[attr-defined]
            "host": host,
            "task": task,
            "task_vars": task_vars,
            "play_context": play_context,
        }
        # The worker gets the task, its vars and the play context as the fork copied them, and the
        # executor writes to them (templated fields, squashed parents, ansible_search_path): copies.
        copies = (task.copy(exclude_tasks=True), dict(task_vars), play_context.copy())
        if not _execute(self, host, *copies, executor=executor):
            return super()._queue_task(host, task, task_vars, play_context)  # type: ignore[misc]
        # The strategy reads the result off the queue after this call: the start still comes first.
        self._tqm.send_callback("v2_runner_on_start", host, task)  # type: ignore[attr-defined]
        self._pending_results += 1  # type: ignore[attr-defined]
        return None


# Compiled Jinja templates and expressions, by the compiling method, the templar's base directory
# (its environment's search path), the source text and the options (overrides, escaping).
_COMPILED: dict[tuple[str, str, str, Any], Any] = {}
_COMPILED_MAX = 20000


def _compiled_once(compile_method: Any, kinds: tuple[type, ...]) -> Any:
    """TemplateEngine._compile_template/_compile_expression, each source compiled once per process."""

    @functools.wraps(compile_method)
    def compile_cached(self: Any, source: str, options: Any) -> Any:
        try:
            key = (compile_method.__name__, self.basedir, str(source), options)
            compiled = _COMPILED.get(key)
        except TypeError:  # options that cannot be a key: not cached
            return compile_method(self, source, options)
        if compiled is None:
            compiled = compile_method(self, source, options)
            # Only what compiled: a compile error is deferred in a closure over its templar.
            if isinstance(compiled, kinds):
                if len(_COMPILED) >= _COMPILED_MAX:
                    _COMPILED.clear()
                _COMPILED[key] = compiled
        return compiled

    compile_cached.secureinfra_cached = True  # type: ignore[attr-defined]
    return compile_cached


def _clean_no_facts_for_nothing() -> None:
    """An empty fact cache cleaned without listing every connection plugin.

    VariableManager.get_vars cleans the host's facts (ansible.vars.clean.clean_facts) for every
    task and host, also when the host has none (the site gathers none), and clean_facts lists the
    connection plugins from disk at each call to find the keys to drop: a fifth of get_vars' CPU.
    Empty facts clean to an empty dict; other facts are cleaned as before.
    """
    # pylint: disable=import-outside-toplevel
    from ansible.vars import manager

    original = manager.clean_facts
    if getattr(original, "secureinfra_empty", False):
        return

    @functools.wraps(original)
    def clean_facts(facts: Any) -> Any:
        return {} if not facts else original(facts)

    clean_facts.secureinfra_empty = True  # type: ignore[attr-defined]
    manager.clean_facts = clean_facts


def _freeze_heap() -> bool:
    """The controller's heap collected once and frozen, and what each forked process inherits frozen.

    Called as each play's strategy is made: what the controller holds then lives for the run. Every
    process forked from here on (os.register_at_fork, once per process: the workers and mitogen's
    multiplexer; not a subprocess that executes another program) freezes what it inherited, which
    is the parent's anyway. Returns False with SECUREINFRA_GC=collect (the collector as Ansible
    has it), True otherwise."""
    if os.environ.get("SECUREINFRA_GC") == "collect":
        return False
    _freeze_in_forked_children()
    gc.collect()
    gc.freeze()
    return True


@functools.cache
def _freeze_in_forked_children() -> None:
    os.register_at_fork(after_in_child=gc.freeze)


@functools.cache
def _cache_compiled_templates() -> None:
    """Each Jinja source compiled once per run, instead of once per task and host.

    ansible-core compiles a template's source each time it renders it: lexing, parsing, code
    generation and Python's compile, about half of what the controller-only tasks cost. A compiled
    template holds no state of its render, and its environment is one of the templar's base
    directory (the filters, tests and lookups come from the plugin loaders). Compiled in the
    controller, the sources are compiled once for every host, and the forked workers inherit them.
    SECUREINFRA_TEMPLATE_CACHE=0 compiles each render again, as Ansible does.
    """
    if os.environ.get("SECUREINFRA_TEMPLATE_CACHE") == "0":
        return
    # pylint: disable=import-outside-toplevel
    try:
        from ansible._internal._templating._engine import TemplateEngine
        from ansible._internal._templating._jinja_bits import AnsibleTemplate, AnsibleTemplateExpression
    except ImportError:
        return
    kinds = (AnsibleTemplate, AnsibleTemplateExpression)
    for name in ("_compile_template", "_compile_expression"):
        method = getattr(TemplateEngine, name, None)
        if method is not None and not getattr(method, "secureinfra_cached", False):
            setattr(TemplateEngine, name, _compiled_once(method, kinds))


if _MITOGEN is not None:

    class StrategyModule(_ControllerTasks, _MITOGEN):  # type: ignore[misc,valid-type]
        """mitogen's linear strategy, without CPU pinning, the collections listed once."""

        def __init__(self, *args, **kwargs):
            _tune_mitogen()
            _cache_compiled_templates()
            _clean_no_facts_for_nothing()
            _freeze_heap()
            super().__init__(*args, **kwargs)

else:

    class StrategyModule(_ControllerTasks, _Linear):  # type: ignore[no-redef]
        """Ansible's linear strategy, when mitogen cannot be used."""

        def __init__(self, *args, **kwargs):
            _cache_compiled_templates()
            _clean_no_facts_for_nothing()
            _freeze_heap()
            super().__init__(*args, **kwargs)
            # Display de-duplicates warnings: one per run, however many plays.
            display.warning(FALLBACK_WARNING.format(reason=_MISSING))
