"""Helpers of the tarball and execution-environment tests: one `ansible-galaxy collection build`.

The build runs on a copy of the checkout into which every kind of path the tarball must leave
out has been planted (venvs, caches, emulator state, bench results, a stale tarball, ...), so the
tests see what galaxy.yml's `manifest:` does with them even on a clean clone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import ansible
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
BIN_DIR = Path(sys.executable).parent
# The `ansible` package's collections (amazon.aws, community.aws, ...), beside ansible-core.
BUNDLED_COLLECTIONS = Path(ansible.__file__).resolve().parents[1] / "ansible_collections"

# Large or machine-local trees not worth copying; each is planted again below, small.
_NOT_COPIED = {".git", ".pytest_cache", ".ruff_cache", ".emulator", ".ansible", "__pycache__"}

# Paths (relative to the collection root) planted into the copy; none may ship.
PLANTED = (
    ".venv/bin/python3",
    ".env",
    ".venv-localstack/lib/python3.12/site-packages/localstack/__init__.py",
    ".pytest_cache/v/cache/lastfailed",
    ".ruff_cache/0.17.6/123",
    ".emulator/4566.pid",
    ".ansible/collections/ansible_collections/x/y/README.md",
    "tests/output/junit/python3.12-sanity.xml",
    "bench/results/latest.json",
    "molecule/default/.molecule/state.yml",
    "extensions/molecule/default/molecule.yml",
    "plugins/modules/__pycache__/dynamodb_table.cpython-311.pyc",
    "roles/storage/tasks/__pycache__/junk.cpython-311.pyc",
    "roles/storage/tasks/.main.yml.swp",
    "files/lambda/processor/__pycache__/handler.cpython-311.pyc",
    "secureinfra-baseline-0.1.0.tar.gz",
    "build/secureinfra-baseline-0.1.0.tar.gz",
    "context/Containerfile",
)


def tool(name: str) -> str:
    """An executable of the venv running the tests (falls back to PATH)."""
    candidate = BIN_DIR / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (pip install -r requirements-dev.lock)")
    return found


def bundled_version(fqcn: str) -> str:
    """Version of a collection the `ansible` package of this venv bundles (what the tests run)."""
    namespace, name = fqcn.split(".")
    manifest = BUNDLED_COLLECTIONS / namespace / name / "MANIFEST.json"
    return json.loads(manifest.read_text())["collection_info"]["version"]


def galaxy_metadata() -> dict:
    return yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())


def _copy_ignore(directory: str, names: list[str]) -> set[str]:
    rel = Path(directory).resolve().relative_to(REPO_ROOT)
    ignored = {n for n in names if n in _NOT_COPIED or n.startswith(".venv")}
    if rel == Path("tests"):
        ignored.add("output")
    if rel == Path("bench"):
        ignored.add("results")
    if rel == Path("."):
        # Dot-entries never ship (planted below instead), nor earlier build output.
        ignored.update(n for n in names if n.startswith(".") or n.endswith(".tar.gz"))
        ignored.update({"build", "context"} & set(names))
    return ignored


@dataclass(frozen=True)
class BuiltCollection:
    source: Path  # the copy the tarball was built from
    tarball: Path

    def members(self) -> dict[str, tarfile.TarInfo]:
        with tarfile.open(self.tarball) as tar:
            return {m.name.rstrip("/"): m for m in tar.getmembers()}

    def contents(self) -> dict[str, bytes]:
        """Every regular file of the tarball, read in one pass."""
        found = {}
        with tarfile.open(self.tarball) as tar:
            for member in tar:
                extracted = tar.extractfile(member) if member.isfile() else None
                if extracted is not None:
                    found[member.name] = extracted.read()
        return found

    def read(self, name: str) -> bytes:
        contents = self.contents()
        assert name in contents, f"{name} is not a regular file in the tarball"
        return contents[name]


def build_collection(tmp_path_factory: pytest.TempPathFactory) -> BuiltCollection:
    base = tmp_path_factory.mktemp("collection-build")
    source = base / "src"
    shutil.copytree(REPO_ROOT, source, symlinks=True, ignore=_copy_ignore)
    for rel in PLANTED:
        path = source / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"planted: {rel}\n")
    out = base / "out"
    result = subprocess.run(
        [tool("ansible-galaxy"), "collection", "build", "--output-path", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    meta = galaxy_metadata()
    tarball = out / f"{meta['namespace']}-{meta['name']}-{meta['version']}.tar.gz"
    assert tarball.is_file(), f"no {tarball.name} in {sorted(os.listdir(out))}: {result.stdout}"
    return BuiltCollection(source=source, tarball=tarball)
