"""Every version claim says exactly what the version matrix (tests/matrix/lanes.yml) proves.

The claims: meta/runtime.yml's requires_ansible, galaxy.yml's and requirements.yml's dependency
ranges, and the README's compatibility table. Each lane of the matrix runs sanity, the unit
tests and the lifecycle with its ansible release (noxfile.py) and checks that its ansible bundles
the amazon.aws and community.aws versions lanes.yml names (tests/integration/matrix/).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from scripts import lock

REPO_ROOT = Path(__file__).resolve().parents[3]
LANES = lock.lanes()
AWS_COLLECTIONS = ("amazon.aws", "community.aws")


def minor(version: str) -> tuple[int, int]:
    release = Version(version).release
    return release[0], release[1]


def admitted_minors(spec: SpecifierSet, major: int, minors: range) -> set[tuple[int, int]]:
    """The major.minor series of which some release satisfies the specifier."""
    return {
        (major, m)
        for m in minors
        if any(Version(f"{major}.{m}.{patch}") in spec for patch in (0, 1, 5, 20, 99))
    }


def test_requires_ansible_admits_exactly_the_tested_ansible_core_series() -> None:
    runtime = yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text())
    spec = SpecifierSet(runtime["requires_ansible"])
    tested = {str(lane["ansible_core"]) for lane in LANES.values()}
    assert all(Version(core) in spec for core in tested), (spec, tested)
    assert admitted_minors(spec, 2, range(9, 40)) == {minor(core) for core in tested}


@pytest.mark.parametrize("fqcn", AWS_COLLECTIONS)
def test_galaxy_dependencies_admit_exactly_the_tested_series(fqcn: str) -> None:
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
    spec = SpecifierSet(galaxy["dependencies"][fqcn])
    tested = sorted((str(lane[fqcn]) for lane in LANES.values()), key=Version)
    assert all(Version(version) in spec for version in tested), (spec, tested)
    # No older release than the oldest tested one, and only the tested major series.
    oldest = Version(tested[0])
    assert oldest.micro == 0 or Version(f"{oldest.major}.{oldest.minor}.{oldest.micro - 1}") not in spec
    assert oldest.minor == 0 or Version(f"{oldest.major}.{oldest.minor - 1}.99") not in spec
    assert Version(f"{oldest.major - 1}.99.99") not in spec
    majors = {Version(version).major for version in tested}
    admitted = {m for m in range(1, 30) if any(Version(f"{m}.{n}.0") in spec for n in range(0, 20))}
    assert admitted == majors, (spec, tested)


def test_requirements_yml_has_galaxy_ymls_ranges() -> None:
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["dependencies"]
    required = yaml.safe_load((REPO_ROOT / "requirements.yml").read_text())["collections"]
    assert {entry["name"]: entry["version"] for entry in required} == galaxy


def compatibility_rows() -> list[list[str]]:
    """The cells of the README's compatibility table (the table after '## Compatibility')."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("\n## Compatibility", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip(" `") for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_the_readme_compatibility_table_is_the_matrix() -> None:
    """One row per lane: ansible, ansible-core, amazon.aws, community.aws, the Pythons tested."""
    expected = []
    for lane in LANES.values():
        pythons = ", ".join(sorted({str(lane["python"]), *map(str, lane.get("also", []))}))
        expected.append(
            [
                str(lane["ansible"]),
                str(lane["ansible_core"]),
                str(lane["amazon.aws"]),
                str(lane["community.aws"]),
                pythons,
            ]
        )
    assert [row[:5] for row in compatibility_rows()] == expected


def test_the_readme_states_the_claims_it_makes() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    runtime = yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text())
    assert runtime["requires_ansible"] in readme
    assert not re.search(r"ansible-core 2\.1[0-8]\b", readme), "an untested ansible-core is named"
