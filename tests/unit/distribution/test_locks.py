"""The lock files: complete, hashed, and what the venv running the tests holds.

`make venv` installs requirements-dev.lock with `pip install --require-hashes --no-deps` and then
runs `pip check`, so a package missing from the lock fails the install itself; these tests say
why, and guard what the install cannot see: a top-level requirement edited without `make lock`,
a lock line without a hash, a venv that holds something else, an EE or matrix lock whose
versions drift from the dev lock's.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts import lock

REPO_ROOT = Path(__file__).resolve().parents[3]
LOCKS = [entry.output for entry in lock.locks()]
ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(?P<version>\S+)(?P<rest>.*)$")


def entries(path: Path) -> dict[str, list[str]]:
    """name -> the hashes of each requirement of a lock file (continuation lines joined)."""
    joined = path.read_text().replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in joined.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = ENTRY.match(line.strip())
        assert match, f"{path.name}: not a pinned requirement: {line.strip()[:120]}"
        found[canonicalize_name(match["name"])] = re.findall(r"--hash=sha256:([0-9a-f]{64})", match["rest"])
    return found


def top_level(path: Path) -> dict[str, str]:
    """name -> version of the `==` pins of a top-level requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{path.name}: {line} is not pinned"
            pins[canonicalize_name(req.name)] = spec.version
    return pins


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_package_is_pinned_with_hashes(path: Path) -> None:
    found = entries(path)
    assert len(found) > 10
    assert not [name for name, hashes in found.items() if not hashes]


@pytest.mark.parametrize("entry", list(lock.locks()), ids=lambda e: str(e.output.relative_to(REPO_ROOT)))
def test_every_top_level_pin_is_locked_at_its_version(entry: lock.Lock) -> None:
    locked = lock.pins(entry.output)
    wanted = top_level(entry.source) | ({"ansible": entry.ansible} if entry.ansible else {})
    stale = {n: (v, locked.get(n)) for n, v in wanted.items() if locked.get(n) != v}
    assert not stale, f"run `make lock`: (top-level, locked) {stale}"


def test_the_ee_and_the_matrix_lanes_take_the_dev_locks_versions() -> None:
    dev = lock.pins(lock.DEV_LOCK)
    for entry in lock.locks():
        if not entry.constrained:
            continue
        own = set(lock.LANE_OWN)
        differ = {
            name: (version, dev[name])
            for name, version in lock.pins(entry.output).items()
            if name in dev and name not in own and version != dev[name]
        }
        assert not differ, f"{entry.output.name}: (locked, dev) {differ}"


def test_the_matrix_has_a_lock_per_lane() -> None:
    lanes = lock.lanes()
    assert sorted(lanes) == sorted(p.stem for p in lock.MATRIX.glob("*.lock"))
    for name, lane in lanes.items():
        pins = lock.pins(lock.MATRIX / f"{name}.lock")
        assert (pins["ansible"], pins["ansible-core"]) == (str(lane["ansible"]), str(lane["ansible_core"]))


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the dev lock is for Python 3.11")
def test_this_venv_holds_exactly_the_dev_lock() -> None:
    """What `make venv` installed: every locked version, and nothing else."""
    locked = lock.pins(lock.DEV_LOCK)
    # This venv's site-packages only: setuptools puts its vendored packages on sys.path too.
    site = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions(path=site)}
    # pip and setuptools are in the lock; the venv's own copies are the lock's too.
    assert {n: v for n, v in installed.items() if locked.get(n) != v} == {}
    assert sorted(set(locked) - set(installed)) == []
    check = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_ansible_test_units_requirements_are_the_dev_locks() -> None:
    """tests/unit/requirements.txt (`ansible-test units --requirements`) names the lock's versions."""
    locked = lock.pins(lock.DEV_LOCK)
    wanted = top_level(REPO_ROOT / "tests" / "unit" / "requirements.txt")
    assert {n: (v, locked.get(n)) for n, v in wanted.items() if locked.get(n) != v} == {}
