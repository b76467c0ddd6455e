"""execution-environment.yml: `ansible-builder create` produces the build context, pinned to what
the tests run against (issue 8, part 6). No container engine is needed for any of this.

Beyond the files ansible-builder writes, two steps of the image build are replayed here, offline:
the galaxy stage's `ansible-galaxy collection install -r requirements.yml` (from the context's
_build/, against the collections this venv holds) and the builder stage's dependency introspection.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from ansible_collections.secureinfra.baseline.tests.unit.distribution.collection_build import (
    BUNDLED_COLLECTIONS,
    REPO_ROOT,
    BuiltCollection,
    tool,
)
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from scripts import lock

EE_FILE = REPO_ROOT / "execution-environment.yml"
BASE_IMAGE = "quay.io/centos/centos:stream9"


@dataclass(frozen=True)
class Context:
    root: Path  # the build context ansible-builder wrote
    definition: dict  # execution-environment.yml

    @property
    def containerfile(self) -> str:
        return (self.root / "Containerfile").read_text()

    def build_file(self, name: str) -> Path:
        return self.root / "_build" / name


# The image's steps replayed below need the dev lock's own collections (a matrix lane runs
# another ansible, with other bundled versions).
RUNS_THE_DEV_ANSIBLE = pytest.mark.skipif(
    metadata.version("ansible") != lock.pins(REPO_ROOT / "requirements-dev.lock")["ansible"],
    reason="replays the image with the collections of requirements-dev.lock's ansible (make test)",
)


def dev_lane() -> dict:
    """The matrix lane (tests/matrix/lanes.yml) of requirements-dev.lock's ansible."""
    (lane,) = [lane for lane in lock.lanes().values() if str(lane["ansible"]) == dev_pins()["ansible"]]
    return lane


def dev_pins() -> dict[str, str]:
    """name -> version of every package of requirements-dev.lock (what the tests run)."""
    return lock.pins(REPO_ROOT / "requirements-dev.lock")


def requirement_of_python(dist: str) -> SpecifierSet:
    """Requires-Python of an installed distribution (the first copy that declares one)."""
    for found in metadata.distributions(name=dist):
        declared = found.metadata.get("Requires-Python")
        if declared:
            return SpecifierSet(declared)
    pytest.fail(f"no installed {dist} declares Requires-Python")


def pinned(requirement: str) -> tuple[str, str]:
    """(name, version) of a `name==version` requirement; fails on anything looser."""
    req = Requirement(requirement)
    specs = list(req.specifier)
    assert len(specs) == 1 and specs[0].operator == "==", f"{requirement} is not pinned with =="
    return req.name.lower(), specs[0].version


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def with_bundled_dependencies(collections: Path) -> Path:
    """A collections path holding (links to) this venv's amazon.aws and community.aws."""
    for fqcn in ("amazon.aws", "community.aws"):
        namespace, name = fqcn.split(".")
        (collections / "ansible_collections" / namespace).mkdir(parents=True, exist_ok=True)
        source = BUNDLED_COLLECTIONS / namespace / name
        (collections / "ansible_collections" / namespace / name).symlink_to(source)
    return collections


@pytest.fixture(scope="module")
def context(built_collection: BuiltCollection, tmp_path_factory: pytest.TempPathFactory) -> Context:
    """`ansible-builder create` from a copy of the definition beside the tarball `make ee` builds."""
    definition = yaml.safe_load(EE_FILE.read_text())
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(EE_FILE, work / EE_FILE.name)
    for entry in definition.get("additional_build_files", []):
        target = work / entry["src"]
        target.parent.mkdir(parents=True, exist_ok=True)
        tarball = entry["src"].endswith(".tar.gz")
        shutil.copy(built_collection.tarball if tarball else REPO_ROOT / entry["src"], target)
    run(
        [
            tool("ansible-builder"),
            "create",
            "--file",
            EE_FILE.name,
            "--context",
            "context",
            "--output-filename",
            "Containerfile",
        ],
        cwd=work,
    )
    return Context(root=work / "context", definition=definition)


def test_schema_3_and_the_base_image(context: Context) -> None:
    assert context.definition["version"] == 3
    assert context.definition["images"]["base_image"]["name"] == BASE_IMAGE
    assert f'ARG EE_BASE_IMAGE="{BASE_IMAGE}"' in context.containerfile
    assert "FROM $EE_BASE_IMAGE AS base" in context.containerfile


def test_python_interpreter_meets_ansible_core(context: Context) -> None:
    interpreter = context.definition["dependencies"]["python_interpreter"]
    assert f'ARG PYCMD="{interpreter["python_path"]}"' in context.containerfile
    assert f'ARG PYPKG="{interpreter["package_system"]}"' in context.containerfile
    found = re.fullmatch(r"/usr/bin/python(\d+)\.(\d+)", interpreter["python_path"])
    assert found, interpreter["python_path"]
    requires_python = requirement_of_python("ansible-core")
    assert Version(f"{found[1]}.{found[2]}.0") in requires_python, requires_python


def test_ansible_core_and_runner_are_the_pinned_ones(context: Context) -> None:
    deps = context.definition["dependencies"]
    core_name, core = pinned(deps["ansible_core"]["package_pip"])
    assert core_name == "ansible-core"
    # The ansible-core of requirements-dev.lock's ansible: what `make test` runs.
    assert core == dev_pins()["ansible-core"] == dev_lane()["ansible_core"]
    runner_name, _runner = pinned(deps["ansible_runner"]["package_pip"])
    assert runner_name == "ansible-runner"
    refs = f"{deps['ansible_core']['package_pip']} {deps['ansible_runner']['package_pip']}"
    assert f'ARG ANSIBLE_INSTALL_REFS="{refs}"' in context.containerfile


def test_python_requirements_are_pinned_to_the_dev_pins(context: Context) -> None:
    lines = [
        line.strip()
        for line in context.build_file("requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    pins = dict(pinned(line) for line in lines)
    assert set(pins) == {"boto3", "botocore", "mitogen"}
    for name in pins:
        assert pins[name] == dev_pins()[name], name


def test_collections_are_the_tested_versions(context: Context) -> None:
    collections = yaml.safe_load(context.build_file("requirements.yml").read_text())["collections"]
    by_name = {c["name"]: c for c in collections}
    required = yaml.safe_load((REPO_ROOT / "requirements.yml").read_text())["collections"]
    for entry in required:
        name = entry["name"]
        assert name in by_name, f"{name} (requirements.yml) is not in the image"
        version = by_name[name]["version"]
        tested = str(dev_lane()[name])
        assert version == f"=={tested}", f"{name} {version}: `make test` runs {tested}"
        assert Version(tested) in SpecifierSet(entry["version"])


def test_this_collection_is_in_the_context(context: Context, built_collection: BuiltCollection) -> None:
    version = json.loads(built_collection.read("MANIFEST.json"))["collection_info"]["version"]
    collections = yaml.safe_load(context.build_file("requirements.yml").read_text())["collections"]
    files = [c for c in collections if c.get("type") == "file"]
    assert [c["name"] for c in files] == [f"collections/secureinfra-baseline-{version}.tar.gz"]
    tarball = context.build_file(files[0]["name"])
    assert tarball.is_file(), f"{tarball} missing: the galaxy stage installs it from /build"
    with tarfile.open(tarball) as tar:
        manifest = tar.extractfile("MANIFEST.json")
        assert manifest is not None
        assert json.load(manifest)["collection_info"]["version"] == version
    tags = context.definition["options"]["tags"]
    assert tags == [f"secureinfra/baseline-ee:{version}"]


@RUNS_THE_DEV_ANSIBLE
def test_galaxy_stage_installs_offline(context: Context, tmp_path: Path) -> None:
    """The galaxy stage's command, run from _build/ (the image's /build) with this venv's
    amazon.aws and community.aws already in place: every pin resolves and our tarball installs."""
    collections = with_bundled_dependencies(tmp_path / "collections")
    step = r"ansible-galaxy collection install \S+ -r requirements\.yml"
    assert re.search(step, context.containerfile), "no galaxy install step in the Containerfile"
    # As in the image: no ansible.cfg and nothing else installed, so nothing counts as installed
    # but what is in `collections` (a runner such as ansible-test sets ANSIBLE_COLLECTIONS_PATH).
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env |= {"ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_GALAXY_DISABLE_GPG_VERIFY": "1"}
    galaxy = tool("ansible-galaxy")
    run(
        [galaxy, "collection", "install", "-r", "requirements.yml", "--offline", "-p", str(collections)],
        cwd=context.root / "_build",
        env=env,
    )
    installed = collections / "ansible_collections/secureinfra/baseline"
    assert (installed / "roles/storage/tasks/main.yml").is_file()
    assert (installed / "requirements.txt").is_file()


@RUNS_THE_DEV_ANSIBLE
def test_builder_stage_introspection_resolves(context: Context, tmp_path: Path) -> None:
    """The builder stage merges every collection's requirements.txt with ours: our pins must
    satisfy all of them, and this collection must declare its own (boto3, botocore, and mitogen for
    its strategy plugin, at the lock's version)."""
    collections = with_bundled_dependencies(tmp_path / "collections")
    ours = collections / "ansible_collections/secureinfra/baseline"
    ours.mkdir(parents=True)
    tarball = next((context.root / "_build/collections").glob("*.tar.gz"))
    with tarfile.open(tarball) as tar:
        tar.extractall(ours, filter="data")
    merged = tmp_path / "requirements.txt"
    run(
        [
            sys.executable,
            str(context.build_file("scripts/introspect.py")),
            "introspect",
            str(collections),
            "--user-pip=requirements.txt",
            f"--write-pip={merged}",
        ],
        cwd=context.root / "_build",
    )
    lines = [line for line in merged.read_text().splitlines() if line.strip()]
    sources: dict[str, set[str]] = {}
    pins: dict[str, Version] = {}
    for line in lines:
        requirement, _, origin = line.partition("# from collection ")
        req = Requirement(requirement.strip())
        sources.setdefault(origin.strip(), set()).add(req.name.lower())
        if origin.strip() == "user":
            pins[req.name.lower()] = Version(pinned(requirement.strip())[1])
    assert sources.get("secureinfra.baseline") == {"boto3", "botocore", "mitogen"}, sources
    for line in lines:
        req = Requirement(line.partition("#")[0].strip())
        assert pins[req.name.lower()] in req.specifier, f"pin {pins[req.name.lower()]} breaks {line}"


def test_the_image_installs_the_ee_lock_with_hashes(context: Context) -> None:
    """Every Python package of the image is requirements-ee.lock's, hash-checked, and complete."""
    assert context.build_file("configs/requirements-ee.lock").read_text() == (
        REPO_ROOT / "requirements-ee.lock"
    ).read_text()
    steps = context.containerfile[context.containerfile.index("FROM $EE_BASE_IMAGE AS base") :]
    steps = steps[: steps.index("# Galaxy build stage")]
    install = "--require-hashes --no-deps -r /output/requirements-ee.lock"
    # After the base stage's ansible-core and ansible-runner, so the lock's versions win.
    assert steps.index("$ANSIBLE_INSTALL_REFS") < steps.index(install) < steps.index("pip check")
    ee = lock.pins(REPO_ROOT / "requirements-ee.lock")
    deps = context.definition["dependencies"]
    for requirement in (
        deps["ansible_core"]["package_pip"],
        deps["ansible_runner"]["package_pip"],
        *deps["python"],
    ):
        name, version = pinned(requirement)
        assert ee[name] == version, f"{requirement}: requirements-ee.lock has {ee.get(name)}"
    assert "mitogen" in ee, "the collection's playbooks name its mitogen strategy plugin"
