"""Each role's README lists every variable of its defaults/main.yml, with its value, and no other
(but for an optional input without a default, an option of its meta/argument_specs.yml).

The variables are the rows of the table under the README's "Variables" heading (`## Variables`,
`## Role Variables`, ...): the first cell names one variable or several (`a` / `b`), the second
gives the default. A plain value (a number, a boolean, a string without Jinja) must appear there
as written, in backticks; lists, dicts and templates may be described in words. The roles the site
playbook tags also document their tag (`--tags <role>`, `--skip-tags <role>`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLES = sorted(
    p.name
    for p in (REPO / "roles").iterdir()
    if (p / "README.md").is_file() and (p / "defaults" / "main.yml").is_file()
)
SECTION = re.compile(r"^## [^\n]*Variables[^\n]*\n(.*?)(?=^## |\Z)", re.S | re.M)
ROW = re.compile(r"^\|([^|\n]*)\|([^|\n]*)\|", re.M)


def documented(readme: str) -> dict[str, str]:
    """Variable name => the default cell of its row, from the README's Variables table."""
    section = SECTION.search(readme)
    assert section, "no Variables section"
    rows: dict[str, str] = {}
    for names, default in ROW.findall(section.group(1)):
        for name in re.findall(r"`(\w+)`", names):
            rows[name] = default
    return rows


def plain(value: object) -> str | None:
    """How a plain default reads in the README, or None for lists, dicts and templates."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str) and "{{" not in value and "{%" not in value:
        return value
    return None


def problems(readme: str, defaults: dict, optional: frozenset[str] = frozenset()) -> list[str]:
    """What differs; `optional` are inputs the README may document although they have no default."""
    rows = documented(readme)
    found = [f"{name}: not in the README" for name in sorted(set(defaults) - set(rows))]
    unknown = set(rows) - set(defaults) - optional
    found += [f"{name}: in the README, not in defaults/main.yml" for name in sorted(unknown)]
    for name, value in sorted(defaults.items()):
        text = plain(value)
        if (
            name in rows
            and text is not None
            and f"`{text}`" not in rows[name]
            and f'`"{text}"`' not in rows[name]
        ):
            found.append(f"{name}: the README's default is not `{text}`: {rows[name].strip()}")
    return found


def _spec_options(role: str) -> frozenset[str]:
    path = REPO / "roles" / role / "meta" / "argument_specs.yml"
    if not path.is_file():
        return frozenset()
    specs = yaml.safe_load(path.read_text())["argument_specs"]
    return frozenset(name for spec in specs.values() for name in spec.get("options") or {})


def _tasks(tasks: list[dict]) -> list[dict]:
    """Every task of a list, those of blocks (block, rescue, always) included."""
    found = []
    for task in tasks or []:
        found.append(task)
        for section in ("block", "rescue", "always"):
            found += _tasks(task.get(section) or [])
    return found


def _site_tags() -> dict[str, list[str]]:
    """The tag of each role of the site: roles: entries, or import_role tasks (the provisioning play
    imports its roles in a block under the state lock)."""
    plays = yaml.safe_load((REPO / "playbooks" / "site.yml").read_text())
    tagged = {
        entry["role"].rsplit(".", 1)[-1]: entry["tags"]
        for play in plays
        for entry in play.get("roles") or []
        if isinstance(entry, dict) and entry.get("tags")
    }
    for play in plays:
        for task in _tasks(play.get("tasks") or []):
            imported = task.get("ansible.builtin.import_role") or {}
            if imported and "tasks_from" not in imported and task.get("tags"):
                tagged[imported["name"].rsplit(".", 1)[-1]] = task["tags"]
    return tagged


@pytest.mark.parametrize("role", ROLES)
def test_readme_lists_the_defaults_with_their_values(role: str) -> None:
    readme = (REPO / "roles" / role / "README.md").read_text()
    defaults = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    assert problems(readme, defaults, _spec_options(role)) == []


@pytest.mark.parametrize(("role", "tags"), sorted(_site_tags().items()))
def test_readme_documents_the_site_tag(role: str, tags: list[str]) -> None:
    readme = (REPO / "roles" / role / "README.md").read_text()
    assert "## Tags" in readme
    for tag in tags:
        assert f"--tags {tag}" in readme and f"--skip-tags {tag}" in readme, tag


def test_the_site_tags_every_role() -> None:
    assert sorted(_site_tags()) == sorted(
        [
            "encryption",
            "network_endpoints",
            "storage",
            "table",
            "iam",
            "functions",
            "audit",
            "monitoring",
            "security_services",
            "orphans",
        ]
    )


def test_a_drifted_readme_is_reported() -> None:
    readme = (
        "# r\n\n## Variables\n\n| variable | default |\n|---|---|\n"
        "| `r_a` / `r_b` | `1` / `x` |\n| `r_c` | a list |\n\n## Facts\n\n| `r_fact` | set |\n"
    )
    assert problems(readme, {"r_a": 1, "r_b": "x", "r_c": [1, 2]}) == []
    assert problems(readme, {"r_a": 2, "r_b": "x", "r_c": []}) == [
        "r_a: the README's default is not `2`: `1` / `x`"
    ]
    assert problems(readme, {"r_a": 1, "r_b": "x"}) == ["r_c: in the README, not in defaults/main.yml"]
    assert problems(readme, {"r_a": 1, "r_b": "x"}, frozenset({"r_c"})) == []
    assert problems(readme, {"r_a": 1, "r_b": "x", "r_c": [], "r_d": True}) == ["r_d: not in the README"]
