"""The site run the way AWX runs it: ansible-runner, the execution environment's packages only.

AWX syncs the project (this repository) into a private data dir, puts the EE's
/usr/share/ansible/collections on the collection path, and runs
`ansible-runner run <private_data_dir> -p site.yml`, which starts ansible-playbook in the
project directory, with the project's root ansible.cfg. Here:
- the EE is a Python 3.12 venv (the image's interpreter) of exactly requirements-ee.lock
  (`pip install --require-hashes --no-deps`, then `pip check`): no dev tool, no `ansible` package;
- its collections are the image's: amazon.aws and community.aws at execution-environment.yml's
  versions, and this collection installed from its tarball, under <ee>/usr/share/ansible/collections;
- the project is a copy of the tracked files (no `collections/` link, no venv);
- ANSIBLE_COLLECTIONS_PATH(S) is what AWX sets: its requirements dir, the project's
  `collections_path`, ~/.ansible/collections, then the EE's /usr/share/ansible/collections;
- the emulator's endpoint and dummy keys come in as environment variables, as AWX's AWS
  credential injects keys.

Four runs on one fresh strict emulator: the converge, a rerun (changed=0, zero writes), a rerun
with mitogen unimportable (an EE built without it): the collection's strategy plugin
(secureinfra.baseline.mitogen_linear, which the playbooks and the root ansible.cfg name) falls
back to Ansible's linear strategy with a warning, and the rerun is still changed=0; and a rerun
from a project of one's own (no ansible.cfg, a playbook importing secureinfra.baseline.site):
the playbooks' strategy keyword still runs the plugin, with mitogen.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PORT, REGIONS, REPO_ROOT, Emulator
from support.collection_source import collection_source
from support.pythons import find_python
from support.recorder import Recorder, mutating

from scripts import lock, sanity

AWX_PORT = PORT + 30  # beyond the slow lane's +0..+19 and the faults lane's base (slow + 20)
EE_FILE = REPO_ROOT / "execution-environment.yml"
FALLBACK_WARNING = "mitogen cannot be imported"
# ansible-core's warning for a strategy plugin outside ansible.builtin: the collection's ran.
PLUGIN_WARNING = "Use of strategy plugins not included in ansible.builtin"
# Makes mitogen unimportable in the EE's interpreters, as in an image built without it.
NO_MITOGEN = """
import importlib.abc
import sys


class _NoMitogen(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("mitogen", "ansible_mitogen"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoMitogen())
"""


@dataclass
class RunnerResult:
    rc: int
    status: str
    stdout: str
    stats: dict[str, dict[str, int]]
    writes: list[str]
    wall: float = 0.0
    cpu: float = 0.0

    def total(self, key: str) -> int:
        return sum(self.stats.get(key, {}).values())


def _run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False, **kwargs)
    assert proc.returncode == 0, f"{cmd}: rc {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _clean_env(home: Path, path: str) -> dict[str, str]:
    """No venv, no ANSIBLE_/AWS_ setting and no PYTHONPATH of this test run."""
    keep = ("LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")
    return {**{k: v for k, v in os.environ.items() if k in keep}, "HOME": str(home), "PATH": path}


def _bundled_collection(fqcn: str) -> Path:
    import ansible

    namespace, name = fqcn.split(".")
    return Path(ansible.__file__).resolve().parents[1] / "ansible_collections" / namespace / name


@pytest.fixture(scope="module")
def ee(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv of requirements-ee.lock with the image's collections under usr/share/ansible."""
    python = find_python("3.12")
    if python is None:
        pytest.fail("Python 3.12 (the EE's interpreter) is not installed: pyenv install 3.12")
    root = tmp_path_factory.mktemp("ee")
    env = _clean_env(root, "/usr/bin:/bin")
    _run([python, "-m", "venv", str(root)], env=env)
    pip = [str(root / "bin" / "python"), "-m", "pip"]
    ee_lock = str(REPO_ROOT / "requirements-ee.lock")
    _run([*pip, "install", "--quiet", "--require-hashes", "--no-deps", "-r", ee_lock])
    _run([*pip, "check"])
    collections = root / "usr/share/ansible/collections"
    definition = yaml.safe_load(EE_FILE.read_text())
    for entry in definition["dependencies"]["galaxy"]["collections"]:
        if entry.get("type") == "file":
            continue
        source = _bundled_collection(entry["name"])
        version = json.loads((source / "MANIFEST.json").read_text())["collection_info"]["version"]
        assert f"=={version}" == entry["version"], f"{entry['name']}: the image pins {entry['version']}"
        namespace, name = entry["name"].split(".")
        shutil.copytree(source, collections / "ansible_collections" / namespace / name, symlinks=True)
    # Built as `make ee` builds it (the dev venv: galaxy.yml's manifest needs distlib), installed
    # by the EE's ansible-galaxy.
    build = root / "build"
    dev_galaxy = str(Path(sys.executable).parent / "ansible-galaxy")
    source = collection_source(root / "source")  # not the checkout: its .nox moves under CI
    _run([dev_galaxy, "collection", "build", str(source), "--output-path", str(build)], cwd=root)
    (tarball,) = build.glob("secureinfra-baseline-*.tar.gz")
    install = ["collection", "install", str(tarball), "-p", str(collections), "--no-deps"]
    _run([str(root / "bin" / "ansible-galaxy"), *install], cwd=root, env=env)
    return root


@pytest.fixture(scope="module")
def awx_emulator() -> Any:
    with Emulator(AWX_PORT, strict=True) as server:
        yield server


@pytest.fixture(scope="module")
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, ee: Path, awx_emulator: Emulator) -> Path:
    pdd = tmp_path_factory.mktemp("awx-job")
    sanity.copy_checkout(pdd / "project", sanity.checkout_files())
    assert not (pdd / "project" / "collections").exists()
    (pdd / "inventory").mkdir()
    hosts = {"regions": {"hosts": dict.fromkeys(REGIONS)}}
    (pdd / "inventory" / "hosts.yml").write_text(yaml.safe_dump(hosts))
    (pdd / "env").mkdir()
    # AWX: its requirements dir, the project's collections_path, then the image's defaults.
    paths = [pdd / "requirements_collections", "./collections", "~/.ansible/collections"]
    paths.append(ee / "usr/share/ansible/collections")
    envvars = {
        # AWX sets both names; ansible-core 2.19 reads only the first.
        "ANSIBLE_COLLECTIONS_PATH": ":".join(map(str, paths)),
        "ANSIBLE_COLLECTIONS_PATHS": ":".join(map(str, paths)),
        "AWS_ENDPOINT_URL": awx_emulator.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    return pdd


@pytest.fixture(scope="module")
def own_project(tmp_path_factory: pytest.TempPathFactory, private_data_dir: Path) -> Path:
    """A job whose project is the user's own: a one-line playbook, no ansible.cfg (docs/awx.md)."""
    pdd = tmp_path_factory.mktemp("awx-own-project")
    (pdd / "project").mkdir()
    playbook = "- ansible.builtin.import_playbook: secureinfra.baseline.site\n"
    (pdd / "project" / "site.yml").write_text(playbook)
    shutil.copytree(private_data_dir / "inventory", pdd / "inventory")
    shutil.copytree(private_data_dir / "env", pdd / "env")
    # The functions' zips built by the earlier jobs (~/.cache/secureinfra-baseline, local files):
    # a user's second run, not a first one that builds them (changed, no AWS call).
    shutil.copytree(private_data_dir / "home", pdd / "home", symlinks=True)
    return pdd


def run_job(
    pdd: Path, ee: Path, emulator: Emulator, ident: str, without_mitogen: bool = False
) -> RunnerResult:
    env = _clean_env(pdd / "home", f"{ee / 'bin'}:/usr/bin:/bin")
    (pdd / "home").mkdir(exist_ok=True)
    if without_mitogen:
        blocker = pdd / "no-mitogen"
        blocker.mkdir(exist_ok=True)
        (blocker / "sitecustomize.py").write_text(NO_MITOGEN)
        env["PYTHONPATH"] = str(blocker)
    recorder = Recorder(emulator.endpoint)
    recorder.start()
    cmd = [str(ee / "bin" / "ansible-runner"), "run", str(pdd), "-p", "site.yml", "--ident", ident]
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, check=False)
    wall, after = time.monotonic() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    calls = recorder.stop()
    artifacts = pdd / "artifacts" / ident
    stats: dict[str, dict[str, int]] = {}
    for event_file in sorted((artifacts / "job_events").glob("*.json")):
        event = json.loads(event_file.read_text())
        if event.get("event") == "playbook_on_stats":
            stats = {k: v for k, v in event["event_data"].items() if isinstance(v, dict)}
    result = RunnerResult(
        rc=proc.returncode,
        status=(artifacts / "status").read_text().strip(),
        stdout=(artifacts / "stdout").read_text(),
        stats=stats,
        writes=[str(call) for call in mutating(calls)],
        wall=wall,
        # The job's process tree, as far as its processes were waited for (bench/README.md).
        cpu=after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
    )
    # The figures of each job (`pytest -rP` shows them): bench/RESULTS.md quotes the reruns'.
    print(f"AWX-style job {ident}: wall {result.wall:.1f} s, CPU {result.cpu:.1f} s, load {os.getloadavg()}")
    return result


@pytest.fixture(scope="module")
def converge(private_data_dir: Path, ee: Path, awx_emulator: Emulator) -> RunnerResult:
    return run_job(private_data_dir, ee, awx_emulator, "converge")


def test_the_ee_holds_only_its_lock(ee: Path) -> None:
    frozen = _run([str(ee / "bin" / "python"), "-m", "pip", "freeze", "--all"]).stdout
    installed = {line.split("==")[0].lower() for line in frozen.splitlines() if "==" in line}
    assert installed - {"pip", "setuptools"} == set(lock.pins(REPO_ROOT / "requirements-ee.lock")) - {
        "pip",
        "setuptools",
    }
    assert "ansible" not in installed and "ansible-lint" not in installed


def test_the_job_converges_both_regions(converge: RunnerResult) -> None:
    assert converge.rc == 0, converge.stdout[-6000:]
    assert converge.status == "successful"
    assert converge.total("failures") == 0
    assert set(converge.stats["ok"]) == set(REGIONS)
    assert converge.total("changed") > 0 and converge.writes
    # The project's ansible.cfg ran mitogen's strategy: the EE carries mitogen.
    assert FALLBACK_WARNING not in converge.stdout


def test_the_rerun_changes_nothing(
    converge: RunnerResult, private_data_dir: Path, ee: Path, awx_emulator: Emulator
) -> None:
    assert converge.rc == 0
    rerun = run_job(private_data_dir, ee, awx_emulator, "rerun")
    assert rerun.rc == 0, rerun.stdout[-6000:]
    assert rerun.total("changed") == 0, rerun.stats
    assert rerun.writes == []
    assert FALLBACK_WARNING not in rerun.stdout


def test_without_mitogen_the_project_config_falls_back_to_linear(
    converge: RunnerResult, private_data_dir: Path, ee: Path, awx_emulator: Emulator
) -> None:
    assert converge.rc == 0
    rerun = run_job(private_data_dir, ee, awx_emulator, "linear", without_mitogen=True)
    assert rerun.rc == 0, rerun.stdout[-6000:]
    assert FALLBACK_WARNING in rerun.stdout
    assert rerun.total("changed") == 0, rerun.stats
    assert rerun.writes == []


def test_a_project_of_ones_own_runs_the_collections_strategy(
    converge: RunnerResult, own_project: Path, ee: Path, awx_emulator: Emulator
) -> None:
    assert converge.rc == 0
    rerun = run_job(own_project, ee, awx_emulator, "own-project")
    assert rerun.rc == 0, rerun.stdout[-6000:]
    assert rerun.total("changed") == 0, rerun.stats
    assert rerun.writes == []
    # No ansible.cfg: the playbooks' strategy keyword named the collection's plugin, with mitogen.
    assert PLUGIN_WARNING in rerun.stdout
    assert FALLBACK_WARNING not in rerun.stdout
