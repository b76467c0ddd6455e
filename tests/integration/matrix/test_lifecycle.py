"""One lane of the version matrix (noxfile.py): the whole lifecycle under that lane's ansible.

Runs with the ansible-playbook of the Python running pytest (the lane's venv), on a private
strict emulator (TEST_EMULATOR_PORT, one per lane), both regions, with the project's ansible.cfg:
- converge: every host ok, no failure;
- rerun: changed=0 and no mutating AWS call;
- check mode (--check --diff): changed=0 and no mutating AWS call;
- verify: playbooks/verify.yml passes, no control fails (the inventory's alarm subscriber is what
  CIS 4.x asks for).
`make test`'s integration tests prove the same, and much more, on the dev venv (ansible-core 2.19,
Python 3.11); this file is what each other supported release must pass too.
"""

from __future__ import annotations

import json
from pathlib import Path

import ansible
from ansible.release import __version__ as ansible_core
from conftest import REGIONS, Emulator, PlaybookRun
from support.recorder import mutating

from scripts import lock


def test_this_lane_runs_what_lanes_yml_says() -> None:
    """The ansible-core and the AWS collections of tests/matrix/lanes.yml, really installed."""
    (lane,) = [lane for lane in lock.lanes().values() if str(lane["ansible_core"]) == ansible_core]
    bundled = Path(ansible.__file__).resolve().parents[1] / "ansible_collections"
    for fqcn in ("amazon.aws", "community.aws"):
        manifest = bundled.joinpath(*fqcn.split("."), "MANIFEST.json")
        assert json.loads(manifest.read_text())["collection_info"]["version"] == str(lane[fqcn])


def test_converge(converged: PlaybookRun) -> None:
    assert converged.rc == 0, converged.stderr
    assert set(converged.stats) == set(REGIONS)
    assert all(converged.stats[host]["failures"] == 0 for host in REGIONS)
    assert all(converged.changed(host) > 0 for host in REGIONS)


def test_rerun_changes_nothing(converged: PlaybookRun, main_emulator: Emulator) -> None:
    assert converged.rc == 0
    rerun = main_emulator.run_playbook()
    assert rerun.rc == 0, rerun.stderr
    assert {host: rerun.changed(host) for host in REGIONS} == dict.fromkeys(REGIONS, 0), rerun.changed_tasks()
    assert [str(call) for call in mutating(rerun.calls)] == []


def test_check_mode_writes_nothing(converged: PlaybookRun, main_emulator: Emulator) -> None:
    assert converged.rc == 0
    check = main_emulator.run_playbook(check=True)
    assert check.rc == 0, check.stderr
    assert {host: check.changed(host) for host in REGIONS} == dict.fromkeys(REGIONS, 0), check.changed_tasks()
    assert [str(call) for call in mutating(check.calls)] == []


def test_verify_passes_every_control(converged: PlaybookRun, main_emulator: Emulator, tmp_path: Path) -> None:
    assert converged.rc == 0
    run = main_emulator.run_playbook(
        playbook="playbooks/verify.yml", extra_vars={"verify_report_dir": str(tmp_path)}
    )
    assert run.rc == 0, run.stderr
    report = json.loads((tmp_path / "verify.json").read_text())
    assert {r["region"] for r in report["records"]} == set(REGIONS)
    assert [r["control_id"] for r in report["records"] if r["status"] == "fail"] == []
    print(f"ansible-core {ansible.__version__}: {report['summary']['line']}")
