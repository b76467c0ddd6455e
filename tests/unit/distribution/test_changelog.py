"""The changelog's fragments and released entries, as users read them in CHANGELOG.rst.

Every fragment in changelogs/fragments/ uses only the sections of changelogs/config.yaml (and
its release summary) plus ``trivial``, the section for test, CI and tooling changes that
antsibull-changelog accepts and never renders. Neither a fragment (its name, entries and
comments) nor an entry of a release in changelogs/changelog.yaml refers to an issue number or
carries a clock time: they say what changed for users, not where or when the work was done.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
CHANGELOGS = REPO_ROOT / "changelogs"
FRAGMENTS = CHANGELOGS / "fragments"
TRIVIAL = "trivial"

# "issue 9", "Issue 10, 2a", "issues 7 and 8", "issue9", "issue #12", and bare "#12" references.
ISSUE_REFERENCE = re.compile(r"\bissues?[\s_-]*#?\s*\d+|(?<![\w&`])#\d+\b", re.IGNORECASE)
# "17:47", "9:05", "16:10:33" (not port numbers such as 127.0.0.1:4566, nor ARNs).
CLOCK_TIME = re.compile(r"(?<![\d:])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?![\d:])")


def config() -> dict:
    return yaml.safe_load((CHANGELOGS / "config.yaml").read_text())


def allowed_sections() -> set[str]:
    cfg = config()
    return {name for name, _title in cfg["sections"]} | {cfg["prelude_section_name"], TRIVIAL}


def fragment_files() -> list[Path]:
    # Dotfiles (.keep) are not fragments; with ignore_other_fragment_extensions, only .yml/.yaml are.
    return sorted(p for p in FRAGMENTS.iterdir() if p.is_file() and not p.name.startswith("."))


def strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def released_entries() -> list[tuple[str, str]]:
    changelog = yaml.safe_load((CHANGELOGS / "changelog.yaml").read_text()) or {}
    found = []
    for version, release in (changelog.get("releases") or {}).items():
        for text in strings((release or {}).get("changes") or {}):
            found.append((version, text))
        for name in (release or {}).get("fragments") or []:
            found.append((version, name))
    return found


def problems(text: str) -> list[str]:
    return [m.group(0) for pattern in (ISSUE_REFERENCE, CLOCK_TIME) for m in pattern.finditer(text)]


def test_config_names_trivial_as_the_unrendered_section() -> None:
    cfg = config()
    assert cfg["trivial_section_name"] == TRIVIAL
    assert TRIVIAL not in {name for name, _title in cfg["sections"]}


def test_every_fragment_is_yaml() -> None:
    odd = [p.name for p in fragment_files() if p.suffix not in {".yml", ".yaml"}]
    assert not odd, f"antsibull-changelog ignores these fragments (not .yml/.yaml): {odd}"


@pytest.mark.parametrize("fragment", fragment_files(), ids=lambda p: p.name)
def test_fragment_uses_configured_sections_only(fragment: Path) -> None:
    content = yaml.safe_load(fragment.read_text())
    assert isinstance(content, dict) and content, f"{fragment.name}: not a mapping of sections"
    unknown = sorted(set(content) - allowed_sections())
    assert not unknown, f"{fragment.name}: {unknown} are neither config.yaml sections nor {TRIVIAL}"
    prelude = config()["prelude_section_name"]
    for section, entries in content.items():
        if section == prelude:
            assert isinstance(entries, str) and entries.strip(), f"{fragment.name}: {section} is one text"
            continue
        assert isinstance(entries, list) and entries, f"{fragment.name}: {section} is a list of entries"
        for entry in entries:
            assert isinstance(entry, str) and entry.strip(), f"{fragment.name}: {section} has an empty entry"


@pytest.mark.parametrize("fragment", fragment_files(), ids=lambda p: p.name)
def test_fragment_has_no_issue_reference_or_clock_time(fragment: Path) -> None:
    found = problems(fragment.name) + problems(fragment.read_text())
    assert not found, f"{fragment.name}: {found}"


def test_released_entries_have_no_issue_reference_or_clock_time() -> None:
    entries = released_entries()
    assert entries, "changelogs/changelog.yaml has no released entry"
    found = [(version, hit, text[:80]) for version, text in entries for hit in problems(text)]
    assert not found, found


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("tests - fault tolerance (issue 10, 2a)", ["issue 10"]),
        ("goals of Issue 9 met", ["Issue 9"]),
        ("integration-issue9.yml", ["issue9"]),
        ("fixes #12", ["#12"]),
        ("RESULTS.md on an idle machine (17:47)", ["17:47"]),
        ("at 9:05:30 today", ["9:05:30"]),
        ("http://127.0.0.1:4566 and arn:aws:iam::123456789012:role/x", []),
        ("the ``issues`` URL; CIS 4.1-4.15; 28 s to about 14 s", []),
    ],
)
def test_the_patterns(text: str, hits: list[str]) -> None:
    assert problems(text) == hits
