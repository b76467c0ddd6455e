"""The built tarball holds the collection and nothing else (issue 8, part 2).

Ships: roles, plugins, playbooks, files, meta, docs, the changelog, README, LICENSE, the
collection's Python requirements and the sanity ignores. Leaves out: venvs, caches, bench, CI,
the Makefile, the emulator scripts, molecule, the checkout's inventories and settings.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import PurePosixPath

import pytest
import yaml
from ansible_collections.secureinfra.baseline.tests.unit.distribution.collection_build import (
    PLANTED,
    REPO_ROOT,
    BuiltCollection,
    bundled_version,
    galaxy_metadata,
)
from packaging.specifiers import SpecifierSet
from packaging.version import Version

# Directories shipped whole: every file under them in the checkout is in the tarball.
SHIPPED_TREES = ("roles", "plugins", "playbooks", "files", "meta", "docs", "changelogs")
SHIPPED_FILES = ("README.md", "LICENSE", "requirements.txt")
# What the top level of the tarball may hold, and nothing else.
ALLOWED_TOP = {
    *SHIPPED_TREES,
    *SHIPPED_FILES,
    "CHANGELOG.md",
    "CHANGELOG.rst",
    "tests",  # tests/sanity only (checked below)
    "MANIFEST.json",
    "FILES.json",
}
# Checkout-only paths: none may appear in the tarball (besides the planted ones).
LEFT_OUT = (
    ".ci",
    ".venv",
    "Makefile",
    "scripts",
    "bench",
    "molecule",
    "extensions",
    "collections",
    "inventories",
    "group_vars",
    "site.yml",
    "ansible.cfg",
    "pyproject.toml",
    "requirements-dev.in",
    "requirements-dev.lock",
    "requirements-ee.in",
    "requirements-ee.lock",
    "noxfile.py",
    "CONTRIBUTING.md",
    "requirements.yml",
    "galaxy.yml",
    "execution-environment.yml",
    "tests/unit",
    "tests/integration",
    "tests/support",
    "tests/conftest.py",
    "tests/matrix",
)
URLS = {
    "repository": "https://github.com/secureinfra/baseline",
    "homepage": "https://github.com/secureinfra/baseline",
    "documentation": "https://github.com/secureinfra/baseline/blob/main/README.md",
    "issues": "https://github.com/secureinfra/baseline/issues",
}
# A version section title of CHANGELOG.rst, as antsibull-changelog writes it.
RST_VERSION = re.compile(r"^v\d+\.\d+\.\d+\S*$")
# galaxy.yml `authors`: `Full Name <email>` or `Full Name (@github)` (the form the module docs use).
AUTHOR = re.compile(r"^[A-Z][\w .'-]+ (<[^@\s<>]+@[^@\s<>]+\.[a-z]+>|\(@[A-Za-z0-9-]+\))$")


def checkout_files(top: str) -> set[str]:
    """Files under a shipped tree of the checkout, as the tarball names them (no caches, no dotfiles)."""
    root = REPO_ROOT / top
    found = set()
    for path in root.rglob("*"):
        rel = path.relative_to(REPO_ROOT)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if path.is_file() and path.suffix not in {".pyc", ".pyo"}:
            found.add(rel.as_posix())
    return found


@pytest.fixture(scope="module")
def members(built_collection: BuiltCollection) -> dict:
    return built_collection.members()


@pytest.fixture(scope="module")
def manifest(built_collection: BuiltCollection) -> dict:
    return json.loads(built_collection.read("MANIFEST.json"))


@pytest.mark.parametrize("top", SHIPPED_TREES)
def test_every_file_of_a_shipped_tree_is_in_the_tarball(members: dict, top: str) -> None:
    expected = checkout_files(top)
    assert expected, f"{top}/ is empty in the checkout"
    missing = sorted(expected - set(members))
    assert not missing, f"not shipped: {missing}"


def test_top_level_files_and_changelog_ship(members: dict) -> None:
    for name in SHIPPED_FILES:
        assert name in members, name
    changelogs = [n for n in ("CHANGELOG.md", "CHANGELOG.rst") if (REPO_ROOT / n).exists()]
    assert changelogs, "no CHANGELOG.md or CHANGELOG.rst in the checkout"
    for name in changelogs:
        assert name in members, name
    assert "changelogs/changelog.yaml" in members
    for name in ("meta/runtime.yml", "playbooks/site.yml", "docs/upstream.md"):
        assert name in members, name


def test_every_role_ships_whole(members: dict) -> None:
    roles = sorted(p.name for p in (REPO_ROOT / "roles").iterdir() if p.is_dir())
    assert len(roles) >= 9, roles
    for role in roles:
        for part in ("tasks/main.yml", "meta/argument_specs.yml", "defaults/main.yml", "README.md"):
            if (REPO_ROOT / "roles" / role / part).exists():
                assert f"roles/{role}/{part}" in members, f"roles/{role}/{part}"
        assert f"roles/{role}/tasks/main.yml" in members, role


def test_sanity_ignores_ship_and_no_other_tests(members: dict) -> None:
    tests = sorted(n for n in members if n.startswith("tests/") or n == "tests")
    others = [n for n in tests if n not in {"tests", "tests/sanity"} and not n.startswith("tests/sanity/")]
    assert not others, f"tests outside tests/sanity ship: {others}"
    ignores = {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "tests/sanity").glob("ignore-*.txt")}
    assert ignores <= set(members), sorted(ignores - set(members))


def test_nothing_outside_the_collection_ships(members: dict) -> None:
    stray = sorted(n for n in members if PurePosixPath(n).parts[0] not in ALLOWED_TOP)
    assert not stray, f"unexpected top-level content: {stray}"
    for left_out in LEFT_OUT:
        hits = [n for n in members if n == left_out or n.startswith(left_out + "/")]
        assert not hits, f"{left_out} ships: {hits[:5]}"


def test_planted_junk_is_left_out(built_collection: BuiltCollection, members: dict) -> None:
    for rel in PLANTED:
        assert (built_collection.source / rel).is_file(), rel  # it was there to be picked up
        assert rel not in members, f"{rel} ships"
    hidden = sorted(n for n in members if any(p.startswith(".") for p in PurePosixPath(n).parts))
    assert not hidden, hidden
    caches = sorted(n for n in members if "__pycache__" in n or n.endswith((".pyc", ".pyo", ".tar.gz")))
    assert not caches, caches


def test_only_regular_files_and_directories(members: dict) -> None:
    odd = sorted(name for name, m in members.items() if not (m.isfile() or m.isdir()))
    assert not odd, f"symlinks or special files: {odd}"
    unsafe = sorted(n for n in members if n.startswith("/") or ".." in PurePosixPath(n).parts)
    assert not unsafe, unsafe


def test_manifest_metadata(manifest: dict) -> None:
    info = manifest["collection_info"]
    meta = galaxy_metadata()
    assert (info["namespace"], info["name"]) == ("secureinfra", "baseline")
    assert info["version"] == meta["version"]
    # license_file and license are mutually exclusive: the Apache-2.0 text travels as LICENSE.
    assert info["license_file"] == "LICENSE"
    assert info["license"] == []
    for key, url in URLS.items():
        assert info[key] == url, key
    assert info["authors"]
    for author in info["authors"]:
        assert AUTHOR.match(author), f"author {author!r}: use 'Name <email>' or 'Name (@github)'"
    assert info["readme"] == "README.md"


def test_dependencies_match_requirements_yml(manifest: dict) -> None:
    deps = manifest["collection_info"]["dependencies"]
    required = yaml.safe_load((REPO_ROOT / "requirements.yml").read_text())["collections"]
    assert {c["name"]: c["version"] for c in required} == deps
    # ...and the versions `make test` runs against (the `ansible` package) satisfy them.
    for name, spec in deps.items():
        version = Version(bundled_version(name))
        assert version in SpecifierSet(spec), f"{name} {version} is outside {spec}"


def rst_release_versions(text: str) -> list[str]:
    """The version sections of an antsibull-changelog CHANGELOG.rst (``v0.2.0`` over ``======``), in order."""
    lines = text.splitlines()
    return [
        line[1:]
        for line, under in itertools.pairwise(lines)
        if RST_VERSION.match(line) and under and set(under) == {"="} and len(under) >= len(line)
    ]


def latest_release(changelog_yaml: str) -> str | None:
    """The newest release of an antsibull-changelog changelog.yaml."""
    releases = (yaml.safe_load(changelog_yaml) or {}).get("releases") or {}
    return max(releases, key=Version) if releases else None


def test_version_is_the_changelogs_latest_release(built_collection: BuiltCollection, manifest: dict) -> None:
    # What users install is a release: galaxy.yml's version is the newest one in changelog.yaml,
    # neither ahead of it (its changes still fragments) nor behind it.
    version = galaxy_metadata()["version"]
    assert manifest["collection_info"]["version"] == version
    checkout = latest_release((REPO_ROOT / "changelogs/changelog.yaml").read_text())
    assert checkout == version, (
        f"galaxy.yml says {version}, changelogs/changelog.yaml's latest release is {checkout}"
    )
    shipped = latest_release(built_collection.read("changelogs/changelog.yaml").decode())
    assert shipped == version, (
        f"galaxy.yml says {version}, the tarball's changelog.yaml's latest release is {shipped}"
    )


def test_tarball_changelog_starts_with_this_version(built_collection: BuiltCollection) -> None:
    # The CHANGELOG.rst users read in the installed collection has this version's section on top.
    version = galaxy_metadata()["version"]
    shipped = built_collection.read("CHANGELOG.rst").decode()
    assert shipped == (REPO_ROOT / "CHANGELOG.rst").read_text()
    sections = rst_release_versions(shipped)
    assert sections, "no version section (vX.Y.Z) in the tarball's CHANGELOG.rst"
    assert sections[0] == version, (
        f"the tarball's CHANGELOG.rst starts with v{sections[0]}, galaxy.yml says {version}"
    )
    assert sections == sorted(sections, key=Version, reverse=True), sections


def test_files_json_matches_the_members(built_collection: BuiltCollection, members: dict) -> None:
    files = json.loads(built_collection.read("FILES.json"))["files"]
    listed = {f["name"]: f for f in files if f["name"] != "."}
    regular = {n for n, m in members.items() if m.isfile() and n not in {"MANIFEST.json", "FILES.json"}}
    assert {n for n, f in listed.items() if f["ftype"] == "file"} == regular
    contents = built_collection.contents()
    for name in regular:
        digest = hashlib.sha256(contents[name]).hexdigest()
        assert listed[name]["chksum_sha256"] == digest, name


def test_license_is_the_full_apache_2_text(built_collection: BuiltCollection) -> None:
    text = built_collection.read("LICENSE").decode()
    assert text == (REPO_ROOT / "LICENSE").read_text()
    for phrase in (
        "Apache License",
        "Version 2.0, January 2004",
        "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
        "9. Accepting Warranty or Additional Liability.",
        "END OF TERMS AND CONDITIONS",
    ):
        assert phrase in text, phrase
    assert len(text) > 11000


def test_tarball_stays_small(built_collection: BuiltCollection) -> None:
    # About 150 KB today; a venv or a cache would be tens of MB.
    assert built_collection.tarball.stat().st_size < 1_000_000
