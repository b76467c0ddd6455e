"""`make lock`: resolve the top-level requirements into lock files, every transitive package
pinned with its hashes (uv pip compile --generate-hashes).

- requirements-dev.in -> requirements-dev.lock: this checkout's venv (Python 3.11, `make venv`).
- requirements-ee.in -> requirements-ee.lock: the execution environment (Python 3.12, as its
  image), at the dev lock's versions.
- tests/matrix/lanes.yml -> tests/matrix/<lane>.lock: a lane of the version matrix (noxfile.py,
  the lane's Python): requirements-dev.in with that lane's ansible release, the dev lock's
  versions for every package that release does not need otherwise.
- requirements-prowler.in -> requirements-prowler.lock: prowler, verify's outside judge, in its own
  venv (.venv-prowler, Python 3.12, `make prowler`; tests/integration/test_prowler.py). Not at the
  dev lock's versions: prowler pins its own boto3, botocore and pydantic.

A lock keeps its pins when it is regenerated (uv reads the output file first); `--upgrade`
(`make lock UPGRADE=1`) takes the newest versions the top-level requirements allow.
Installing a lock: `pip install --require-hashes --no-deps -r <lock>`, then `pip check`.

    python scripts/lock.py [--upgrade]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_IN = REPO_ROOT / "requirements-dev.in"
DEV_LOCK = REPO_ROOT / "requirements-dev.lock"
EE_IN = REPO_ROOT / "requirements-ee.in"
EE_LOCK = REPO_ROOT / "requirements-ee.lock"
PROWLER_IN = REPO_ROOT / "requirements-prowler.in"
PROWLER_LOCK = REPO_ROOT / "requirements-prowler.lock"
MATRIX = REPO_ROOT / "tests" / "matrix"
LANES_FILE = MATRIX / "lanes.yml"
# Packages a matrix lane takes from its own ansible release rather than from the dev lock.
LANE_OWN = ("ansible", "ansible-core")


@dataclass(frozen=True)
class Lock:
    source: Path  # the top-level requirements
    output: Path
    python: str
    ansible: str | None = None  # a matrix lane's ansible release, instead of requirements-dev.in's
    constrained: bool = False  # at the dev lock's versions


def lanes() -> dict[str, dict[str, Any]]:
    """The version matrix's lanes (tests/matrix/lanes.yml), by name."""
    return yaml.safe_load(LANES_FILE.read_text())["lanes"]


def locks() -> Iterator[Lock]:
    yield Lock(DEV_IN, DEV_LOCK, "3.11")
    yield Lock(EE_IN, EE_LOCK, "3.12", constrained=True)
    yield Lock(PROWLER_IN, PROWLER_LOCK, "3.12")
    for name, lane in lanes().items():
        output = MATRIX / f"{name}.lock"
        yield Lock(DEV_IN, output, str(lane["python"]), ansible=str(lane["ansible"]), constrained=True)


def pins(lock: Path) -> dict[str, str]:
    """name -> version of every `name==version` line of a lock file."""
    found = {}
    for line in lock.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#") and "==" in line:
            name, _, version = line.split(" ", 1)[0].partition("==")
            found[name.lower()] = version
    return found


def dev_constraints(directory: Path) -> Path:
    """The dev lock's versions as a constraints file, without the packages a lane brings."""
    path = directory / "constraints.txt"
    lines = [f"{name}=={version}" for name, version in pins(DEV_LOCK).items() if name not in LANE_OWN]
    path.write_text("\n".join(lines) + "\n")
    return path


def compile_lock(lock: Lock, upgrade: bool, directory: Path) -> None:
    uv = str(Path(sys.executable).parent / "uv")
    cmd = [uv, "pip", "compile", str(lock.source.relative_to(REPO_ROOT)), "--quiet"]
    cmd += ["--python-version", lock.python, "--generate-hashes", "--no-header"]
    cmd += ["-o", str(lock.output.relative_to(REPO_ROOT))]
    if lock.ansible:
        override = directory / "override.txt"
        override.write_text(f"ansible=={lock.ansible}\n")
        cmd += ["--override", str(override)]
    if lock.constrained:
        cmd += ["-c", str(dev_constraints(directory))]
    if upgrade:
        cmd.append("--upgrade")
    subprocess.run(cmd, cwd=REPO_ROOT, check=True)
    # The constraints and override files are temporary: name them by what they hold.
    text = lock.output.read_text().replace(f"-c {directory}/constraints.txt", "-c requirements-dev.lock")
    text = text.replace(f"--override {directory}/override.txt", "tests/matrix/lanes.yml")
    lock.output.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upgrade", action="store_true", help="take the newest versions allowed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for lock in locks():
            compile_lock(lock, args.upgrade, Path(tmp))
            print(f"{lock.output.relative_to(REPO_ROOT)}: {len(pins(lock.output))} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
