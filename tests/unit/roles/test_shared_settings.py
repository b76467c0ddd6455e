"""The shared settings reach every role from inside the collection, by Ansible's own rules.

The `baseline_*` defaults live in the preflight role; every other role depends on it
(meta/main.yml). Ansible gives a role the defaults of its dependencies (Role.get_default_vars), so
a play that names a single role, with an inventory of hosts only, still has them. Loaded here
with Ansible's playbook, inventory and variable machinery, as ansible-playbook loads them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook import Playbook
from ansible.playbook.play import Play
from ansible.template import Templar
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

REPO = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())
PREFLIGHT_DEFAULTS = yaml.safe_load((REPO / "roles/preflight/defaults/main.yml").read_text())
# Set by the preflight role itself (vars/main.yml: the required tags, which no inventory replaces).
PREFLIGHT_VARS = yaml.safe_load((REPO / "roles/preflight/vars/main.yml").read_text())
# Optional inputs, read with a default where they are used (explicit keys for an emulator).
# baseline_dry_run: set by playbooks/drift.yml, read with default(false) (also by play keywords,
# which do not see role defaults). baseline_remove_orphans, baseline_remove_orphan_data: the orphans
# role's opt-ins, read with default(false) (playbooks/teardown.yml sets them for its run).
OPTIONAL = {
    "baseline_aws_access_key",
    "baseline_aws_secret_key",
    "baseline_dry_run",
    "baseline_remove_orphans",
    "baseline_remove_orphan_data",
}


@pytest.fixture
def ansible_env(tmp_path: Path) -> tuple[DataLoader, InventoryManager, VariableManager]:
    """An inventory of one host, nothing else, outside the checkout (no group_vars)."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("regions:\n  hosts:\n    us-east-1:\n")
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[str(inventory)])
    variables = VariableManager(loader=loader, inventory=manager)
    variables._hostvars = HostVars(inventory=manager, variable_manager=variables, loader=loader)
    return loader, manager, variables


def _task_of(play: Play, role: str) -> object:
    for block in play.compile():
        for task in block.block:
            if task._role is not None and task._role.get_name() == f"secureinfra.baseline.{role}":
                return task
    raise AssertionError(f"no task of {role}")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "preflight"])
def test_every_role_depends_on_preflight(role: str) -> None:
    meta = yaml.safe_load((REPO / "roles" / role / "meta" / "main.yml").read_text())
    assert {"role": "secureinfra.baseline.preflight"} in meta["dependencies"]


def test_every_shared_setting_a_role_reads_has_a_default() -> None:
    # secureinfra.baseline.baseline_controls is a module, not a setting: names after a dot are not.
    used = set()
    for path in (REPO / "roles").rglob("*"):
        if path.is_file() and path.suffix in {".yml", ".j2"}:
            used |= set(re.findall(r"(?<![.\w])baseline_[a-z_]+\b", path.read_text()))
    assert used - set(PREFLIGHT_DEFAULTS) - set(PREFLIGHT_VARS) - OPTIONAL == set()


def test_a_play_with_a_single_role_gets_the_defaults(ansible_env) -> None:
    loader, inventory, variables = ansible_env
    play = Play.load(
        {
            "hosts": "all",
            "connection": "local",
            "gather_facts": False,
            "roles": [{"role": "secureinfra.baseline.storage", "vars": {"baseline_prefix": "acme"}}],
        },
        variable_manager=variables,
        loader=loader,
    )
    host = inventory.get_host("us-east-1")
    task_vars = variables.get_vars(play=play, host=host, task=_task_of(play, "storage"))
    templar = Templar(loader=loader, variables=task_vars)
    assert templar.template(task_vars["storage_bucket_prefix"]) == "acme"
    assert templar.template(task_vars["baseline_region"]) == "us-east-1"
    assert templar.template(task_vars["baseline_resource_tags"])["Project"] == "secure-infrastructure"
    assert templar.template(task_vars["storage_tags"]) == {}
    connection = templar.template(task_vars["baseline_aws_connection"])
    assert connection["region"] == "us-east-1"
    # The preflight role comes first, as the storage role's dependency.
    first = _task_of(play, "preflight")
    assert play.compile().index(first._parent) < play.compile().index(_task_of(play, "storage")._parent)


def test_site_playbook_has_one_preflight_per_play(ansible_env) -> None:
    """Every role's dependency and the site's own preflight entry are one role: it runs once."""
    loader, _, variables = ansible_env
    playbook = Playbook.load(str(REPO / "playbooks" / "site.yml"), variable_manager=variables, loader=loader)
    for play in playbook.get_plays():
        preflights = [
            role
            for roles in play.role_cache.values()
            for role in roles
            if role.get_name() == "secureinfra.baseline.preflight" and not role._from_files
        ]
        assert len(preflights) == 1, play.get_name()


@pytest.mark.parametrize("role", ROLES)
def test_every_argument_spec_default_renders_before_sts(role: str, ansible_env) -> None:
    """Ansible templates a role's argument spec when it validates the role's input: a default such
    as "{{ preflight_account_id }}" there would fail the validation before the account is known.
    The specs document the defaults as written (Jinja included), so each must render in the site's
    validation play, before STS."""
    loader, inventory, variables = ansible_env
    # Loaded as Ansible loads a role's spec: its strings are templates (yaml.safe_load's are not).
    spec = loader.load_from_file(
        str(REPO / "roles" / role / "meta" / "argument_specs.yml"), trusted_as_template=True
    )
    play = Play.load(
        {
            "hosts": "all",
            "gather_facts": False,
            "vars": {"preflight_check_connection": False},
            "roles": [f"secureinfra.baseline.{role}"],
        },
        variable_manager=variables,
        loader=loader,
    )
    task_vars = variables.get_vars(play=play, host=inventory.get_host("us-east-1"), task=_task_of(play, role))
    templar = Templar(loader=loader, variables=task_vars)
    for entry_point in spec["argument_specs"].values():
        for name, option in (entry_point.get("options") or {}).items():
            if "default" in option:
                assert templar.template(option["default"]) is not None, name


def test_the_validation_play_can_read_every_shared_setting(ansible_env) -> None:
    """Before STS (the site's validation play), each input the preflight spec validates renders:
    Ansible renders them all to validate them, so none may need the account."""
    loader, inventory, variables = ansible_env
    spec = yaml.safe_load((REPO / "roles/preflight/meta/argument_specs.yml").read_text())
    play = Play.load(
        {"hosts": "all", "gather_facts": False, "roles": ["secureinfra.baseline.preflight"]},
        variable_manager=variables,
        loader=loader,
    )
    task_vars = variables.get_vars(
        play=play, host=inventory.get_host("us-east-1"), task=_task_of(play, "preflight")
    )
    templar = Templar(loader=loader, variables=task_vars)
    for name in spec["argument_specs"]["main"]["options"]:
        if name in task_vars:
            assert templar.template(task_vars[name]) is not None, name
    assert templar.template(task_vars["baseline_inventory_regions"]) == ["us-east-1"]
