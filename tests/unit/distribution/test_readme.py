"""The README is for users, and everything it names exists.

Every role, playbook, module or plugin (`secureinfra.baseline.<name>`), make target, file link,
role tag and variable the README names is checked against the tree; it stays short, with no
clock times and no issue numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
README = (REPO_ROOT / "README.md").read_text()
ROLES = {p.name for p in (REPO_ROOT / "roles").iterdir() if (p / "tasks").is_dir()}


def _make_targets() -> set[str]:
    makefile = (REPO_ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.M))


def _collection_names() -> set[str]:
    names = set(ROLES)
    names |= {p.stem for p in (REPO_ROOT / "playbooks").glob("*.yml")}
    for kind in ("modules", "callback", "filter", "action", "doc_fragments", "strategy"):
        names |= {p.stem for p in (REPO_ROOT / "plugins" / kind).glob("*.py") if p.stem != "__init__"}
        names |= {p.stem for p in (REPO_ROOT / "plugins" / kind).glob("*.yml")}
    return names


def _variables() -> set[str]:
    found: set[str] = set()
    for role in ROLES:
        for part in ("defaults/main.yml", "vars/main.yml"):
            path = REPO_ROOT / "roles" / role / part
            if path.exists():
                found |= set(yaml.safe_load(path.read_text()) or {})
        specs = REPO_ROOT / "roles" / role / "meta" / "argument_specs.yml"
        if specs.exists():
            for entry in (yaml.safe_load(specs.read_text())["argument_specs"] or {}).values():
                found |= set(entry.get("options", {}))
    return found


def test_short_and_free_of_clock_times_and_issue_numbers() -> None:
    assert len(README.splitlines()) <= 200
    assert not re.search(r"\bissue #?\d+", README, flags=re.I)
    assert not re.search(r"\b\d{1,2}:\d{2}\s*(UTC|CET|am|pm)\b", README, flags=re.I)


def test_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_every_collection_name_exists() -> None:
    named = set(re.findall(r"secureinfra\.baseline\.([a-z_]+)", README))
    assert named, "the README names no role or playbook"
    assert named - _collection_names() == set()


def test_every_role_of_the_table_exists_and_every_role_is_in_it() -> None:
    table = {m for m in re.findall(r"^\| `([a-z_]+)` \|", README, flags=re.M)}
    assert table - ROLES == set()
    # The roles that build something are all in the table; the others are named in the text.
    for role in ROLES:
        assert f"`{role}`" in README, role


def test_every_make_target_exists() -> None:
    named = set(re.findall(r"\bmake ([a-z][a-z0-9-]*)", README))
    assert named - _make_targets() == set()


def test_every_linked_file_exists() -> None:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    paths = [link for link in links if not link.startswith(("http://", "https://"))]
    assert paths
    assert [p for p in paths if not (REPO_ROOT / p).exists()] == []
    for path in re.findall(r"`((?:files|docs|inventories|roles|playbooks)/[^`*<>]+)`", README):
        assert (REPO_ROOT / path).exists(), path


def _role_tags(node: object) -> set[str]:
    """The tags of every role the site runs: a play's roles, or import_role tasks in any block."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _role_tags(item)
    elif isinstance(node, dict):
        if "ansible.builtin.import_role" in node or "role" in node:
            found |= set(node.get("tags", []))
        for key in ("roles", "tasks", "block", "always", "rescue"):
            found |= _role_tags(node.get(key, []))
    return found


def test_every_role_tag_is_a_tag_of_the_site_playbook() -> None:
    site = yaml.safe_load((REPO_ROOT / "playbooks" / "site.yml").read_text())
    tags = _role_tags(site) - {"always"}
    assert tags, "no role tag found in the site playbook"
    named = set(re.findall(r"--(?:skip-)?tags ([a-z_]+)", README))
    listed = re.search(r"The tags are (.*?)\.", README, flags=re.S)
    assert listed is not None
    named |= set(re.findall(r"`([a-z_]+)`", listed.group(1)))
    assert named == tags


def test_every_variable_exists() -> None:
    named = set(re.findall(r"\b((?:baseline|storage|monitoring|teardown|verify|audit)_[a-z_]+)\b", README))
    named = {n for n in named if not n.endswith("_")}  # a family such as baseline_rollout_*
    assert named - _variables() == set()
