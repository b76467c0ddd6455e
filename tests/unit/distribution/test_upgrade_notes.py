"""Every release tells its users how to upgrade, and the upgrade test knows every release.

- Each release after the first in changelogs/changelog.yaml has at least one Breaking Changes /
  Porting Guide entry (``breaking_changes``: what a user of the release before must do), or says
  in its release summary that no action is needed ("no action needed").
- Each release of changelogs/changelog.yaml has its line in tests/upgrade/releases.yml (the
  releases tests/integration/test_upgrade.py upgrades from), with a commit of this repository
  whose galaxy.yml has that version, and nothing else is listed there.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
CHANGELOG = yaml.safe_load((REPO_ROOT / "changelogs" / "changelog.yaml").read_text())
RELEASES = yaml.safe_load((REPO_ROOT / "tests" / "upgrade" / "releases.yml").read_text())["releases"]
NO_ACTION = re.compile(r"\bno action (is )?needed\b", re.IGNORECASE)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def released() -> list[str]:
    return sorted(CHANGELOG["releases"], key=_version_key)


def upgrade_notes(version: str) -> list[str]:
    """Why a user of the release before knows what to do: porting entries, or 'no action needed'."""
    changes = CHANGELOG["releases"][version].get("changes") or {}
    notes = [entry for entry in changes.get("breaking_changes") or [] if entry.strip()]
    summary = changes.get("release_summary") or ""
    return notes or ([summary] if NO_ACTION.search(summary) else [])


@pytest.mark.parametrize("version", released()[1:])
def test_every_release_after_the_first_tells_how_to_upgrade(version: str) -> None:
    assert upgrade_notes(version), (
        f"{version}: no breaking_changes entry and no 'no action needed' in its release_summary: "
        "tell the users of the release before what to do when they upgrade"
    )


def test_a_release_without_notes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    release = {"changes": {"release_summary": "Faster runs.", "minor_changes": ["x - y."]}}
    monkeypatch.setitem(CHANGELOG["releases"], "9.9.9", release)
    assert upgrade_notes("9.9.9") == []
    release["changes"]["release_summary"] = "Faster runs; no action needed to upgrade."
    assert upgrade_notes("9.9.9") == ["Faster runs; no action needed to upgrade."]
    release["changes"] = {"breaking_changes": ["storage - set x before upgrading."]}
    assert upgrade_notes("9.9.9") == ["storage - set x before upgrading."]


def test_the_upgrade_test_knows_every_release() -> None:
    listed = [release["version"] for release in RELEASES]
    assert sorted(listed, key=_version_key) == released(), (
        "tests/upgrade/releases.yml must list every release of changelogs/changelog.yaml, once"
    )


@pytest.mark.parametrize("release", RELEASES, ids=[r["version"] for r in RELEASES])
def test_each_listed_commit_is_that_release(release: dict[str, object]) -> None:
    assert isinstance(release["strict"], bool)
    assert isinstance(release["adopted"], int) and isinstance(release["orphans"], list)
    assert isinstance(release["commit"], str), "quote the commit: YAML reads digits as a number"
    galaxy = subprocess.run(
        ["git", "show", f"{release['commit']}:galaxy.yml"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert galaxy.returncode == 0, f"{release['commit']} is not a commit of this repository: {galaxy.stderr}"
    assert yaml.safe_load(galaxy.stdout)["version"] == release["version"]
