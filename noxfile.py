"""The version matrix: one nox session (a lane) per supported Ansible release, each runnable alone.

    nox -s ansible-14            # one lane: its venv, sanity, the unit tests, the lifecycle
    nox -s ansible-13 -- units   # some steps only (sanity, units, lifecycle)
    nox -l                       # the lanes
    make matrix                  # every lane, then the table (tests/output/matrix/)

The lanes are tests/matrix/lanes.yml. A lane's venv is its lock, tests/matrix/<lane>.lock
(`make lock`): requirements-dev.in with that ansible release, every package pinned with its
hashes, installed with `pip install --require-hashes --no-deps`, then `pip check`. Its steps:
- sanity: `ansible-test sanity` of that ansible-core, with its own tests/sanity/ignore-2.N.txt;
- units: the unit tests that run Ansible's or the collection's code (UNIT_TESTS: the plugins, the
  roles, the distribution, the drift report, the IAM and monitoring templates); the emulator's,
  the deployer policy generator's, the Lambda handlers' and the acceptance script's tests do not
  depend on the Ansible release and run once, in `make test`;
- lifecycle: on a private strict emulator, the site converged, rerun (changed=0, no write),
  dry-run (changed=0, no write) and verified (every control), tests/integration/matrix/.
Each result goes to tests/output/matrix/<lane>.json; `nox -s matrix-table` prints the table
(lane x sanity, units, converge, rerun, check, verify) and fails unless every cell passed.
"""

from __future__ import annotations

import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import nox

REPO_ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO_ROOT / "tests"))
sys.path.insert(0, str(REPO_ROOT))
from support.pythons import find_python  # noqa: E402

from scripts import lock  # noqa: E402

OUTPUT = REPO_ROOT / "tests" / "output" / "matrix"
STEPS = ("sanity", "units", "lifecycle")
# The unit tests whose code depends on the Ansible release (see the module docstring).
UNIT_TESTS = (
    "tests/unit/plugins",
    "tests/unit/roles",
    "tests/unit/distribution",
    "tests/unit/drift",
    "tests/unit/iam",
    "tests/unit/monitoring",
)
# The lifecycle's tests (tests/integration/matrix/test_lifecycle.py), a column each in the table.
LIFECYCLE = {
    "converge": "test_converge",
    "rerun": "test_rerun_changes_nothing",
    "check": "test_check_mode_writes_nothing",
    "verify": "test_verify_passes_every_control",
}
COLUMNS = ("sanity", "units", *LIFECYCLE)
# lane -> (ansible-core major.minor, Python, the lane's emulator port)
LANES = {
    name: (".".join(str(lane["ansible_core"]).split(".")[:2]), str(lane["python"]), int(lane["port"]))
    for name, lane in lock.lanes().items()
}

nox.options.sessions = list(LANES)
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


def _record(lane: str, step: str, passed: bool, seconds: float) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{lane}.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[step] = {"passed": passed, "seconds": round(seconds, 1)}
    path.write_text(json.dumps(results, indent=2, sort_keys=True))


def _step(session: nox.Session, lane: str, step: str, *commands: list[str]) -> None:
    start = time.monotonic()
    try:
        for cmd in commands:
            session.run(*cmd)
    except nox.command.CommandFailed:
        _record(lane, step, False, time.monotonic() - start)
        raise
    _record(lane, step, True, time.monotonic() - start)


def _install(session: nox.Session, lock: Path) -> None:
    stamp = Path(session.virtualenv.location) / ".installed-lock"
    if stamp.exists() and stamp.read_text() == lock.read_text():
        return
    session.install("--quiet", "--require-hashes", "--no-deps", "-r", str(lock))
    session.run("python", "-m", "pip", "check")
    stamp.write_text(lock.read_text())


def _lane(session: nox.Session, lane: str) -> None:
    core, _python, port = LANES[lane]
    steps = session.posargs or list(STEPS)
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        session.error(f"unknown step(s) {unknown}: the steps are {', '.join(STEPS)}")
    _install(session, REPO_ROOT / "tests" / "matrix" / f"{lane}.lock")
    version = session.run("ansible", "--version", silent=True) or ""
    if f"core {core}." not in version:
        session.error(f"{lane} should run ansible-core {core}, got: {version.splitlines()[0]}")
    # The lane's own HOME: ansible-test's venv cache, ~/.ansible and the functions' build directory
    # (under ~/.cache) are then the lane's alone, so that lanes can run side by side.
    home = Path(session.virtualenv.location) / "home"
    home.mkdir(exist_ok=True)
    session.env["HOME"] = str(home)
    if "sanity" in steps:
        ignore = REPO_ROOT / "tests" / "sanity" / f"ignore-{core}.txt"
        if not ignore.is_file():
            session.error(f"{ignore.relative_to(REPO_ROOT)} is missing: every version has its ignore file")
        # As `make sanity`: every test but pylint on the whole tree, then pylint on plugins/.
        sanity = ["python", "scripts/sanity.py", "sanity"]
        pylint = [*sanity, "--test", "pylint", "plugins/"]
        _step(session, lane, "sanity", [*sanity, "--skip-test", "pylint"], pylint)
    if "units" in steps:
        _step(session, lane, "units", ["pytest", "-q", "-p", "no:cacheprovider", *UNIT_TESTS])
    if "lifecycle" in steps:
        # Its own emulator port.
        env = {"TEST_EMULATOR_PORT": str(port)}
        junit = OUTPUT / f"{lane}-lifecycle.xml"
        junit.unlink(missing_ok=True)
        OUTPUT.mkdir(parents=True, exist_ok=True)
        cmd = ["pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", "tests/integration/matrix"]
        try:
            session.run(*cmd, env=env)
        finally:
            _record_lifecycle(lane, junit)


def _record_lifecycle(lane: str, junit: Path) -> None:
    """converge / rerun / check / verify from the lifecycle's JUnit XML."""
    cases = {}
    if junit.exists():
        for case in ET.parse(junit).iter("testcase"):
            failed = any(child.tag in ("failure", "error", "skipped") for child in case)
            cases[case.get("name")] = (not failed, float(case.get("time", 0)))
    for column, test in LIFECYCLE.items():
        passed, seconds = cases.get(test, (False, 0.0))
        _record(lane, column, passed, seconds)


def _python(version: str) -> str:
    found = find_python(version)
    if found is None:
        raise SystemExit(f"Python {version} is not installed (pyenv install {version})")
    return found


for _name, (_core, _py, _port) in LANES.items():

    def _session(session: nox.Session, lane: str = _name) -> None:
        _lane(session, lane)

    _session.__doc__ = f"ansible-core {_core} on Python {_py}: sanity, units, lifecycle"
    nox.session(name=_name, python=_python(_py))(_session)


@nox.session(name="matrix-table", python=False)
def matrix_table(session: nox.Session) -> None:
    """The lanes' results as a Markdown table (tests/output/matrix/table.md)."""
    lines = ["| lane | ansible-core | Python | " + " | ".join(COLUMNS) + " |"]
    lines.append("|---" * (3 + len(COLUMNS)) + "|")
    failed = False
    for lane, (core, python, _port) in LANES.items():
        path = OUTPUT / f"{lane}.json"
        results = json.loads(path.read_text()) if path.exists() else {}
        cells = []
        for column in COLUMNS:
            result = results.get(column)
            failed |= not (result and result["passed"])
            cells.append(
                "not run"
                if result is None
                else f"{'pass' if result['passed'] else 'FAIL'} ({result['seconds']} s)"
            )
        lines.append(f"| {lane} | {core} | {python} | " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "table.md").write_text(table)
    print(table)
    if failed:
        session.error("a lane's step failed or did not run")
