"""secureinfra.baseline.mitogen_linear: mitogen's linear strategy, Ansible's linear without it.

And the playbooks' `strategy` play keyword: every play of the collection's playbooks names the
plugin, unless the user chose a strategy (-e baseline_strategy, ANSIBLE_STRATEGY, ansible.cfg).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import ansible.plugins.strategy.linear
import pytest
import yaml
from ansible.errors import AnsibleError

REPO_ROOT = Path(__file__).resolve().parents[4]
PLUGIN = REPO_ROOT / "plugins" / "strategy" / "mitogen_linear.py"
PLAYBOOKS = REPO_ROOT / "playbooks"
MITOGEN_STRATEGY = "ansible_mitogen.plugins.strategy.mitogen_linear"
# Where secureinfra.baseline resolves: the checkout's collections/ link, or the collection-shaped
# copy of `ansible-test units` (.../ansible_collections/secureinfra/baseline).
COLLECTIONS = (
    REPO_ROOT.parents[2] if REPO_ROOT.parents[1].name == "ansible_collections" else REPO_ROOT / "collections"
)


@pytest.fixture(autouse=True)
def _uncached_template_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with ansible-core's own compile methods, and leaves them so: making a
    strategy (some tests do) installs the plugin's compile cache in the process."""
    from ansible._internal._templating import _engine

    for name in ("_compile_template", "_compile_expression"):
        method = getattr(_engine.TemplateEngine, name)
        while getattr(method, "secureinfra_cached", False):
            method = method.__wrapped__
        monkeypatch.setattr(_engine.TemplateEngine, name, method)


def load_plugin() -> ModuleType:
    """A fresh copy of the plugin module (its import-time choice made again)."""
    spec = importlib.util.spec_from_file_location("_mitogen_linear_under_test", PLUGIN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Refuse(importlib.abc.MetaPathFinder):
    """Imports of mitogen fail with `error`, as without mitogen or on an unsupported ansible-core."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".")[0] in ("mitogen", "ansible_mitogen"):
            raise self.error


@pytest.fixture
def refuse(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Make mitogen's imports raise the given error, for this test only."""

    def install(error: Exception) -> None:
        for name in list(sys.modules):
            if name.split(".")[0] in ("mitogen", "ansible_mitogen"):
                monkeypatch.delitem(sys.modules, name)
        monkeypatch.setattr(sys, "meta_path", [_Refuse(error), *sys.meta_path])

    return install


def fallback_warnings(module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The warnings of making the fallback strategy (Ansible's linear __init__ not run)."""
    warnings: list[str] = []
    linear = ansible.plugins.strategy.linear.StrategyModule
    monkeypatch.setattr(linear, "__init__", lambda self, *a, **k: None)
    monkeypatch.setattr(module.display, "warning", warnings.append)
    module.StrategyModule(object())
    return warnings


def test_with_mitogen_it_is_mitogens_linear_strategy() -> None:
    mitogen_linear = importlib.import_module(MITOGEN_STRATEGY)
    module = load_plugin()
    assert module._MITOGEN is mitogen_linear.StrategyModule
    assert issubclass(module.StrategyModule, mitogen_linear.StrategyModule)


def test_tuning_unpins_and_lists_the_collections_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import ansible_mitogen.affinity
    import ansible_mitogen.planner

    module = load_plugin()
    monkeypatch.setattr(ansible_mitogen.affinity, "policy", ansible_mitogen.affinity.policy)
    planner = ansible_mitogen.planner
    monkeypatch.setattr(planner, "_load_collections", planner._load_collections)
    monkeypatch.delenv("SECUREINFRA_MITOGEN_PIN_CPUS", raising=False)
    module._tune_mitogen()
    assert ansible_mitogen.affinity.policy.__class__ is ansible_mitogen.affinity.Policy  # pins nothing
    assert ansible_mitogen.planner._load_collections is module._load_collections
    listed = module._collection_dirs.cache_info()
    assert listed.currsize == 1

    class Invocation:
        _extra_sys_paths: set[str] = set()

    module._load_collections(Invocation)
    assert module._collection_dirs.cache_info().misses == listed.misses  # not listed again
    assert Invocation._extra_sys_paths == set(module._collection_dirs())


def test_the_pinning_lever_keeps_mitogens_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    import ansible_mitogen.affinity
    import ansible_mitogen.planner

    module = load_plugin()
    pinning = ansible_mitogen.affinity.policy
    monkeypatch.setattr(ansible_mitogen.affinity, "policy", pinning)
    planner = ansible_mitogen.planner
    monkeypatch.setattr(planner, "_load_collections", planner._load_collections)
    monkeypatch.setenv("SECUREINFRA_MITOGEN_PIN_CPUS", "1")
    module._tune_mitogen()
    assert ansible_mitogen.affinity.policy is pinning


def test_without_mitogen_it_is_linear_with_one_warning(refuse, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    refuse(ModuleNotFoundError("No module named 'ansible_mitogen'", name="ansible_mitogen"))
    module = load_plugin()
    assert module._MITOGEN is None
    assert module.StrategyModule.__mro__[1:3] == (
        module._ControllerTasks,
        ansible.plugins.strategy.linear.StrategyModule,
    )
    (warning,) = fallback_warnings(module, monkeypatch)
    assert "mitogen cannot be imported" in warning  # tests/integration/test_awx_runner.py looks for it
    assert "No module named 'ansible_mitogen'" in warning


def test_an_ansible_core_mitogen_refuses_is_linear_too(refuse, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # ansible_mitogen.loaders raises AnsibleError at import for a release outside its range.
    refuse(AnsibleError("Your version of Ansible (2.99) is too recent."))
    module = load_plugin()
    assert module._MITOGEN is None
    (warning,) = fallback_warnings(module, monkeypatch)
    assert "does not support this ansible-core" in warning and "too recent" in warning


def test_any_error_of_mitogens_import_is_linear(refuse) -> None:  # type: ignore[no-untyped-def]
    refuse(AttributeError("module 'ansible.plugins.loader' has no attribute 'get_with_context'"))
    assert load_plugin()._MITOGEN is None


# --- the play keyword ------------------------------------------------------------------------


def _plays() -> list[tuple[str, dict]]:
    plays = []
    for path in sorted(PLAYBOOKS.glob("*.yml")):
        for play in yaml.safe_load(path.read_text()):
            if "hosts" in play:
                plays.append((f"{path.name}: {play['name']}", play))
    return plays


def test_every_play_of_the_collection_names_the_strategy_alike() -> None:
    plays = _plays()
    assert len(plays) >= 8
    strategies = {name: play.get("strategy") for name, play in plays}
    first = strategies[plays[0][0]]
    assert "secureinfra.baseline.mitogen_linear" in first and "baseline_strategy" in first
    assert {name: s for name, s in strategies.items() if s != first} == {}


PROBE = """
- hosts: localhost
  connection: local
  gather_facts: false
  strategy: {strategy}
  tasks:
    - name: The command line of the module's process (mitogen names its interpreters)
      ansible.builtin.shell: tr '\\0' ' ' < /proc/$PPID/cmdline
      register: parent
      changed_when: false
    - name: Which strategy
      ansible.builtin.debug:
        msg: "STRATEGY={{{{ 'mitogen' if 'mitogen:' in parent.stdout else 'other' }}}}"
"""


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({}, "mitogen"),  # Ansible's default strategy: the collection's plugin
        ({"ANSIBLE_STRATEGY": "linear"}, "other"),  # the user's choice, even linear
        ({"extra": "linear"}, "other"),  # -e baseline_strategy=linear
    ],
    ids=["default", "ANSIBLE_STRATEGY=linear", "-e baseline_strategy=linear"],
)
def test_the_play_keyword_respects_the_users_choice(
    setting: dict[str, str], expected: str, tmp_path: Path
) -> None:
    strategy = _plays()[0][1]["strategy"]
    playbook = PROBE.format(strategy=yaml.safe_dump(strategy, default_style='"', width=1000).strip())
    (tmp_path / "probe.yml").write_text(playbook)
    (tmp_path / "ansible.cfg").write_text(f"[defaults]\ncollections_path = {COLLECTIONS}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update({"ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"})
    env.update({k: v for k, v in setting.items() if k.startswith("ANSIBLE_")})
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "probe.yml"]
    if "extra" in setting:
        cmd += ["-e", f"baseline_strategy={setting['extra']}"]
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"STRATEGY={expected}" in proc.stdout, proc.stdout


# Controller-only tasks run in the controller (CONTROLLER_ACTIONS), templates compiled once. Ansible's
# own way, a worker forked per task and each render compiled (SECUREINFRA_CONTROLLER_TASKS=fork,
# SECUREINFRA_TEMPLATE_CACHE=0), is the judge: the same playbook gives the same result
# per host and task, in both modes and in check mode. Two hosts; failures, rescues, loops, skips,
# registers, no_log, run_once, check mode, facts that later tasks and a forked module task read.
INLINE_PROBE = """
- hosts: all
  connection: local
  gather_facts: false
  strategy: secureinfra.baseline.mitogen_linear
  vars:
    base: "{{ inventory_hostname | upper }}"
  tasks:
    - name: A fact from a lazy var
      ansible.builtin.set_fact:
        derived: "{{ base ~ '-' ~ (groups['all'] | length) }}"
        cacheable_one: 1
      register: fact_result
    - name: A loop of facts, registered
      ansible.builtin.set_fact:
        "item_{{ item }}": "{{ derived ~ item }}"
      loop: [a, b]
      register: looped
    - name: Skipped on one host
      ansible.builtin.set_fact:
        only_h1: true
      when: inventory_hostname == 'h1'
    - name: An assert that holds, quietly
      ansible.builtin.assert:
        that: [derived is match('H'), looped.results | length == 2]
        quiet: true
    - name: Included per item (include_tasks)
      ansible.builtin.include_tasks: included.yml
      loop: [x, y]
    - name: Included on h2 only
      ansible.builtin.include_tasks:
        file: included.yml
        apply:
          tags: [always]
      vars:
        item: z
      when: inventory_hostname == 'h2'
    - name: Argument validation that passes
      ansible.builtin.validate_argument_spec:
        argument_spec:
          value: {type: int, required: true}
        provided_arguments:
          value: 3
    - name: Run once
      ansible.builtin.set_fact:
        once: "{{ ansible_play_hosts | join(',') }}"
      run_once: true
    - name: A secret
      ansible.builtin.set_fact:
        secret: "s3cr3t-{{ inventory_hostname }}"
      no_log: true
    - name: Check mode of the task
      ansible.builtin.debug:
        msg: >-
          check={{ ansible_check_mode }} derived={{ derived }} once={{ once }}
          only={{ only_h1 | default(false) }}
    - name: A forked module task reads the facts
      ansible.builtin.command: "echo {{ derived }} {{ item_a }} {{ secret | length }}"
      changed_when: false
      check_mode: false
      register: echoed
    - name: A module task skipped on h2
      ansible.builtin.command: "echo {{ derived }}"
      changed_when: false
      check_mode: false
      when: inventory_hostname == 'h1'
    - name: A block skipped on h1
      when: inventory_hostname != 'h1' and derived is defined
      block:
        - name: A module task in it
          ansible.builtin.command: "echo {{ missing_on_purpose | default('block') }}"
          changed_when: false
          check_mode: false
    - name: A skipped module task with an undefined argument
      ansible.builtin.command: "echo {{ undefined_var }}"
      when: undefined_var is defined
    - name: A condition that fails to evaluate, ignored
      ansible.builtin.command: echo never
      when: undefined_var.attribute
      ignore_errors: true
    - name: A forked module task whose argument does not compile, ignored
      ansible.builtin.command: "echo {{ derived | upper( }}"
      ignore_errors: true
    - name: A forked module task with module defaults from a template
      module_defaults:
        ansible.builtin.command:
          chdir: "{{ '/' ~ 'tmp' }}"
      ansible.builtin.command: pwd
      changed_when: false
      check_mode: false
    - name: A failing assert on one host, ignored
      ansible.builtin.assert:
        that: [inventory_hostname == 'h2']
        fail_msg: "not h2: {{ inventory_hostname }}"
      ignore_errors: true
    - name: A block that fails and rescues
      block:
        - name: Fail on h1
          ansible.builtin.fail:
            msg: "failing {{ inventory_hostname }}"
          when: inventory_hostname == 'h1'
        - name: Argument validation that fails on h2
          ansible.builtin.validate_argument_spec:
            argument_spec:
              value: {type: int, required: true}
            provided_arguments:
              value: not-a-number
          when: inventory_hostname == 'h2'
      rescue:
        - name: Rescued
          ansible.builtin.set_fact:
            rescued_msg: "{{ ansible_failed_result.msg }}"
    - name: The outcome
      ansible.builtin.debug:
        msg: "{{ echoed.stdout }}|{{ rescued_msg }}"
    - name: An assert that fails on h1 and stops it
      ansible.builtin.assert:
        that: [inventory_hostname != 'h1']
        fail_msg: "h1 stops here"
    - name: Only h2 gets here
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }} after the failure"
"""

# The file the probe includes (include_tasks).
INCLUDED = """
- name: A fact from the included file
  ansible.builtin.set_fact:
    "included_{{ item }}": "{{ derived ~ item }}"
- name: A module task of the included file
  ansible.builtin.command: "echo {{ item }}"
  changed_when: false
  check_mode: false
"""

_VOLATILE = ("duration", "start", "end", "delta")


def _play(
    tmp_path: Path, playbook: str, hosts: list[str], *args: str, **env_extra: str
) -> subprocess.CompletedProcess:
    """ansible-playbook with the JSON callback, the plugin's settings from env_extra only."""
    (tmp_path / "probe.yml").write_text(playbook)
    (tmp_path / "included.yml").write_text(INCLUDED)
    inventory = "".join(f"    {host}:\n" for host in hosts)
    (tmp_path / "hosts.yml").write_text(
        f"all:\n  hosts:\n{inventory}  vars:\n    ansible_python_interpreter: {sys.executable}\n"
    )
    (tmp_path / "ansible.cfg").write_text(f"[defaults]\ncollections_path = {COLLECTIONS}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "SECUREINFRA_"))}
    env.update(
        ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        **env_extra,
    )
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "hosts.yml", "probe.yml", *args]
    return subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def _run_probe(tmp_path: Path, mode: str, check: bool) -> tuple[int, list[tuple[str, str, dict]], dict]:
    proc = _play(
        tmp_path,
        INLINE_PROBE,
        ["h1", "h2"],
        *(["--check"] if check else []),
        SECUREINFRA_CONTROLLER_TASKS=mode,
        # Ansible's own way (the judge) compiles each template at each render too.
        SECUREINFRA_TEMPLATE_CACHE="0" if mode == "fork" else "1",
    )
    output = json.loads(proc.stdout)
    results = [
        (task["task"]["name"], host, {k: v for k, v in result.items() if k not in _VOLATILE})
        for play in output["plays"]
        for task in play["tasks"]
        for host, result in sorted(task["hosts"].items())
    ]
    return proc.returncode, results, output["stats"]


@pytest.mark.parametrize("check", [False, True], ids=["run", "check mode"])
def test_controller_tasks_give_what_forked_workers_give(check: bool, tmp_path: Path) -> None:
    plugin = load_plugin()
    assert plugin._WORKER_API, "this ansible-core's worker API is unknown: every task forks"
    inline = _run_probe(tmp_path, "", check)
    forked = _run_probe(tmp_path, "fork", check)
    assert inline == forked
    code, results, stats = inline
    assert code == 2  # h1 failed
    assert stats["h1"]["rescued"] == 1 and stats["h2"]["rescued"] == 1
    by_task = {(name, host): result for name, host, result in results}
    assert by_task[("Check mode of the task", "h2")]["msg"] == (
        f"check={check} derived=H2-2 once=h1,h2 only=False"
    )
    included = [
        (host, result.get("stdout"))
        for name, host, result in results
        if name == "A module task of the included file"
    ]
    assert included == [("h1", "x"), ("h2", "x"), ("h1", "y"), ("h2", "y"), ("h2", "z")]
    assert by_task[("Included on h2 only", "h1")]["skipped"] is True
    assert by_task[("A secret", "h1")]["censored"].startswith("the output has been hidden")
    assert by_task[("Skipped on one host", "h2")]["skipped"] is True
    assert by_task[("A failing assert on one host, ignored", "h1")]["msg"] == "not h2: h1"
    assert by_task[("The outcome", "h1")]["msg"] == "H1-2 H1-2a 9|failing h1"
    assert by_task[("The outcome", "h2")]["msg"].startswith("H2-2 H2-2a 9|")
    assert "not-a-number" in by_task[("The outcome", "h2")]["msg"]
    assert by_task[("An assert that fails on h1 and stops it", "h1")]["msg"] == "h1 stops here"
    assert ("Only h2 gets here", "h1") not in by_task
    assert by_task[("A module task skipped on h2", "h2")]["skipped"] is True
    assert by_task[("A module task skipped on h2", "h1")]["stdout"] == "H1-2"
    assert by_task[("A module task in it", "h1")]["skipped"] is True
    assert by_task[("A module task in it", "h2")]["stdout"] == "block"
    assert by_task[("A skipped module task with an undefined argument", "h1")]["skipped"] is True
    assert "undefined_var" in by_task[("A condition that fails to evaluate, ignored", "h1")]["msg"]


# A condition true in the worker although the controller found it false (here: a lookup whose
# value changes at each evaluation): the task still runs, once, in a worker.
CHANGING_CONDITION = """
- hosts: all
  connection: local
  gather_facts: false
  strategy: secureinfra.baseline.mitogen_linear
  tasks:
    - name: Count the condition's evaluations; true from the second
      ansible.builtin.command: echo ran
      changed_when: false
      when: lookup('ansible.builtin.pipe', 'echo x >> evaluations; wc -l < evaluations') | int > 1
"""


def test_a_condition_that_changes_after_the_controllers_reading_runs_in_a_worker(tmp_path: Path) -> None:
    proc = _play(tmp_path, CHANGING_CONDITION, ["h1"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["h1"]
    assert result["stdout"] == "ran"
    # The controller's reading (false), the executor's in the controller (true: stopped before the
    # connection), the worker's (true).
    assert (tmp_path / "evaluations").read_text().count("x") == 3


def test_which_tasks_run_in_the_controller(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = load_plugin()
    from ansible.playbook.task import Task
    from ansible.template import trust_as_template

    def task(**data: object) -> Task:
        if isinstance(data.get("when"), str):  # as from a playbook, a trusted template
            data["when"] = trust_as_template(data["when"])
        return Task.load(data)

    assert plugin.runs_in_controller(task(action="ansible.builtin.set_fact", args={"a": 1}))
    assert plugin.runs_in_controller(task(action="assert", args={"that": ["true"]}))
    assert plugin.runs_in_controller(task(action="secureinfra.baseline.warn", args={"msg": "m"}))
    assert not plugin.runs_in_controller(task(action="ansible.builtin.command", args={"cmd": "true"}))
    assert not plugin.runs_in_controller(task(action="set_fact", args={"a": 1}, until="a", retries=2))
    assert not plugin.runs_in_controller(task(action="set_fact", args={"a": 1}, delegate_to="h2"))
    command = {"action": "ansible.builtin.command", "args": {"cmd": "true"}}
    assert plugin.skips_in_controller(task(**command, when="h == 1"), {"h": 2})
    assert not plugin.skips_in_controller(task(**command, when="h == 1"), {"h": 1})
    assert not plugin.skips_in_controller(task(**command, when="h.x == 1"), {})  # an error: the worker's
    assert not plugin.skips_in_controller(task(**command, when="h == 1", loop=[1]), {"h": 2})
    assert not plugin.skips_in_controller(task(**command, when="h == 1", delegate_to="h2"), {"h": 2})
    assert not plugin.skips_in_controller(task(**command), {})
    monkeypatch.setenv("SECUREINFRA_CONTROLLER_TASKS", "fork")
    assert not plugin.runs_in_controller(task(action="set_fact", args={"a": 1}))
    assert not plugin.skips_in_controller(task(**command, when="h == 1"), {"h": 2})


@pytest.fixture
def template_engine(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """ansible-core's TemplateEngine with the plugin's compile cache, undone after the test."""
    from ansible._internal._templating import _engine

    monkeypatch.delenv("SECUREINFRA_TEMPLATE_CACHE", raising=False)
    plugin = load_plugin()
    plugin._cache_compiled_templates()
    return plugin, _engine.TemplateEngine


def compiled_sources(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources Jinja compiles from now on, in order (AnsibleEnvironment.from_string counted)."""
    from ansible._internal._templating._jinja_bits import AnsibleEnvironment

    compiled: list[str] = []
    original = AnsibleEnvironment.from_string

    def counting(self, source, *args, **kwargs):  # type: ignore[no-untyped-def]
        compiled.append(str(source))
        return original(self, source, *args, **kwargs)

    monkeypatch.setattr(AnsibleEnvironment, "from_string", counting)
    return compiled


def test_each_template_source_is_compiled_once(template_engine, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import trust_as_template

    plugin, engine = template_engine
    compiled = compiled_sources(monkeypatch)
    source = trust_as_template("{{ a ~ '-' ~ b | upper }}")
    first = engine(loader=DataLoader(), variables={"a": 1, "b": "x"})
    second = engine(loader=DataLoader(), variables={"a": 2, "b": "y"})
    assert first.template(source) == "1-X"
    assert second.template(source) == "2-Y"  # the same compiled template, other vars
    assert compiled == ["{{ a ~ '-' ~ b | upper }}"]
    # Another base directory (the environment's search path): compiled again.
    elsewhere = DataLoader()
    elsewhere.set_basedir("/tmp")
    assert engine(loader=elsewhere, variables={"a": 3, "b": "z"}).template(source) == "3-Z"
    assert len(compiled) == 2
    # Expressions (conditionals) are compiled once too.
    condition = trust_as_template("a > 1")
    assert not first.evaluate_conditional(condition) and second.evaluate_conditional(condition)
    assert sum(1 for key in plugin._COMPILED if key[0] == "_compile_expression") == 1


def test_a_template_that_fails_to_compile_fails_each_time(template_engine) -> None:  # type: ignore[no-untyped-def]
    from ansible.errors import AnsibleTemplateSyntaxError
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import trust_as_template

    plugin, engine = template_engine
    broken = trust_as_template("{{ a ~ }}")
    for _attempt in range(2):
        with pytest.raises(AnsibleTemplateSyntaxError):
            engine(loader=DataLoader(), variables={"a": 1}).template(broken)
    assert not [key for key in plugin._COMPILED if key[2] == "{{ a ~ }}"]


def test_the_template_cache_lever_compiles_each_render(monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible._internal._templating import _engine

    monkeypatch.setenv("SECUREINFRA_TEMPLATE_CACHE", "0")
    load_plugin()._cache_compiled_templates()
    assert not getattr(_engine.TemplateEngine._compile_template, "secureinfra_cached", False)


def _sleeper(seconds: float) -> None:
    import time

    time.sleep(seconds)


def test_a_free_worker_is_awaited_without_polling() -> None:
    import multiprocessing
    import time

    module = load_plugin()
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_sleeper, args=(s,)) for s in (3.0, 0.5)]
    for worker in workers:
        worker.start()
    try:
        started, cpu = time.monotonic(), time.process_time()
        module._await_free_worker(workers)  # both busy: until the shorter one exits
        waited = time.monotonic() - started
        assert 0.3 < waited < 2.5
        workers[1].join(1)  # its sentinel is ready as it exits; waitpid may lag a little
        assert workers[1].exitcode == 0 and workers[0].is_alive()
        assert time.process_time() - cpu < 0.1  # slept, did not spin
        started = time.monotonic()
        module._await_free_worker(workers)  # a slot is free: at once
        module._await_free_worker([None, workers[0]])  # a slot never used: at once
        assert time.monotonic() - started < 0.2
    finally:
        for worker in workers:
            worker.join()


def test_a_forked_tasks_templates_are_compiled_in_the_controller(  # type: ignore[no-untyped-def]
    template_engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.task import Task
    from ansible.template import trust_as_template

    plugin, engine = template_engine
    compiled = compiled_sources(monkeypatch)
    loader = DataLoader()
    task = Task.load({"name": "t", "ansible.builtin.command": {"cmd": "echo x"}}, loader=loader)
    task.args = {"cmd": trust_as_template("echo {{ word | upper }}"), "chdir": "/", "n": 1}
    task.module_defaults = [{"ansible.builtin.command": {"creates": trust_as_template("{{ '/' ~ 'nope' }}")}}]
    task_vars = {"word": trust_as_template("{{ 'w' ~ 'x' }}"), "plain": "no template", "hostvars": object()}
    strategy = type("Strategy", (), {"_loader": loader})()
    plugin._precompile_for_workers(strategy, task, task_vars)
    assert sorted(compiled) == sorted(["echo {{ word | upper }}", "{{ '/' ~ 'nope' }}", "{{ 'w' ~ 'x' }}"])
    # What the worker then renders compiles nothing more, and the next host compiles nothing again.
    assert engine(loader=loader, variables=task_vars).template(task.args["cmd"]) == "echo WX"
    plugin._precompile_for_workers(strategy, task, dict(task_vars))
    assert len(compiled) == 3
    # Without the compile cache (SECUREINFRA_TEMPLATE_CACHE=0) nothing is compiled ahead.
    monkeypatch.setattr(engine, "_compile_template", engine._compile_template.__wrapped__)
    other = Task.load({"name": "u", "ansible.builtin.command": "echo {{ other }}"}, loader=loader)
    plugin._precompile_for_workers(strategy, other, {})
    assert len(compiled) == 3


def test_empty_facts_are_cleaned_as_ansible_cleans_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible.vars import clean, manager

    monkeypatch.setattr(manager, "clean_facts", clean.clean_facts)
    listed: list[bool] = []
    all_plugins = clean.connection_loader.all

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        listed.append(True)
        return all_plugins(*args, **kwargs)

    monkeypatch.setattr(clean.connection_loader, "all", counting)
    facts = {"ansible_ssh_user": "x", "ansible_python_interpreter": "/p", "kept": {"a": 1}, "discovered": 2}
    expected_empty, expected = clean.clean_facts({}), clean.clean_facts(dict(facts))
    load_plugin()._clean_no_facts_for_nothing()
    listed.clear()
    assert manager.clean_facts({}) == expected_empty == {}
    assert not listed  # no plugin listing for no facts
    assert manager.clean_facts(dict(facts)) == expected and "kept" in expected
    assert listed


FREEZE_CHECK = """
import gc, importlib.util, multiprocessing, sys
spec = importlib.util.spec_from_file_location("plugin", sys.argv[1])
plugin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plugin)
before = gc.get_freeze_count()  # an environment's startup may have frozen some already
registered = plugin._freeze_heap()
frozen = gc.get_freeze_count()
heap = [[n] for n in range(1000)]  # tracked (lists), made after the freeze: the parent collects them
reader, writer = multiprocessing.Pipe(duplex=False)
child = multiprocessing.get_context("fork").Process(target=lambda: writer.send(gc.get_freeze_count()))
child.start()
child.join()
print(registered, frozen - before, reader.recv() - frozen, gc.get_freeze_count() - frozen)
"""


@pytest.mark.parametrize(
    ("lever", "expected"), [("", ("True", "frozen", "frozen", "0")), ("collect", ("False", "0", "0", "0"))]
)
def test_the_heap_is_frozen_in_the_controller_and_in_forked_children(lever: str, expected: tuple) -> None:
    """What the controller holds is frozen; a forked child also freezes what the parent made since,
    which the parent still collects; the lever leaves the collector as Ansible does."""
    env = {**os.environ, "SECUREINFRA_GC": lever}
    run = subprocess.run(
        [sys.executable, "-c", FREEZE_CHECK, str(PLUGIN)], env=env, capture_output=True, text=True, check=True
    )
    registered, in_parent, more_in_child, more_in_parent = run.stdout.split()
    seen = (
        registered,
        "frozen" if int(in_parent) > 10000 else in_parent,
        "frozen" if int(more_in_child) >= 1000 else more_in_child,
        more_in_parent,
    )
    assert seen == expected
