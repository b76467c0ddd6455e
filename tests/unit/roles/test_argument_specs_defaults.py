"""Each role's meta/argument_specs.yml documents the defaults its defaults/main.yml really has.

For every role and every entry point (main, validate, confirm, ...): an option with a value in
defaults/main.yml carries `default:` equal to that value (the literal value: Jinja strings, lists
and dicts as written) and is not `required`, so `ansible-doc -t role` shows what a play gets when
it sets nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
SPECS = sorted((REPO / "roles").glob("*/meta/argument_specs.yml"))
ENTRY_POINTS = [
    (spec.parts[-3], entry_point)
    for spec in SPECS
    for entry_point in sorted(yaml.safe_load(spec.read_text())["argument_specs"])
]
MISSING = object()


def _options(role: str, entry_point: str) -> dict:
    spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return spec["argument_specs"][entry_point].get("options") or {}


def _defaults(role: str) -> dict:
    return yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text()) or {}


def drift(options: dict, defaults: dict) -> list[str]:
    """What differs between the options' documented defaults and defaults/main.yml."""
    problems = []
    for name, option in sorted(options.items()):
        if name not in defaults:
            continue
        documented = option.get("default", MISSING)
        if documented is MISSING:
            problems.append(f"{name}: no default: (defaults/main.yml has {defaults[name]!r})")
        elif documented != defaults[name]:
            problems.append(f"{name}: default: {documented!r}, defaults/main.yml {defaults[name]!r}")
        if option.get("required"):
            problems.append(f"{name}: required although defaults/main.yml gives it a value")
    return problems


def test_every_role_with_defaults_has_a_spec() -> None:
    assert len(SPECS) >= 10
    assert all((spec.parents[1] / "defaults" / "main.yml").is_file() for spec in SPECS)


@pytest.mark.parametrize(("role", "entry_point"), ENTRY_POINTS)
def test_documented_defaults_are_the_role_defaults(role: str, entry_point: str) -> None:
    assert drift(_options(role, entry_point), _defaults(role)) == []


@pytest.mark.parametrize(("role", "entry_point"), ENTRY_POINTS)
def test_an_option_without_a_role_default_documents_none(role: str, entry_point: str) -> None:
    """A `default:` in the spec with no variable in defaults/main.yml would document a value
    the role never gets (the spec's default only applies to role parameters)."""
    defaults = _defaults(role)
    invented = [n for n, o in _options(role, entry_point).items() if "default" in o and n not in defaults]
    assert invented == []


def test_a_drifted_default_is_reported() -> None:
    """The check itself: one changed value, a missing default or a leftover `required` fails it."""
    options = _options("storage", "main")
    defaults = _defaults("storage")
    assert drift(options, defaults) == []
    assert drift(options, {**defaults, "storage_access_log_retention_days": 366}) != []
    assert drift(options, {**defaults, "storage_bucket_prefix": "{{ baseline_project }}"}) != []
    stripped = {
        **options,
        "storage_tags": {k: v for k, v in options["storage_tags"].items() if k != "default"},
    }
    assert drift(stripped, defaults) == [
        "storage_tags: no default: (defaults/main.yml has {})"
    ]
    required = {
        **options,
        "storage_require_vpc_endpoint": {**options["storage_require_vpc_endpoint"], "required": True},
    }
    assert drift(required, defaults) == [
        "storage_require_vpc_endpoint: required although defaults/main.yml gives it a value"
    ]
