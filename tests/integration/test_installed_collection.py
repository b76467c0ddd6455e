"""The collection as a user gets it: built, installed, and used from outside this checkout.

`ansible-galaxy collection build` makes the tarball, `ansible-galaxy collection install` puts it
into an empty collections path, and every run happens in a directory outside the checkout with
an ansible.cfg that sets only that path (amazon.aws and community.aws come from the `ansible`
package, as they do for a user of it). The inventories name hosts and nothing else; the endpoint
and the emulator's dummy credentials are environment variables, as boto3 reads them.

- `ansible-playbook secureinfra.baseline.site`, on the account the session converged from this
  checkout (home region, to stay lean): the installed copy, with the collection's defaults, finds
  every resource as the checkout made it: no mutating call, nothing changed but its own local
  build of the functions' zips.
- A user's playbook with the single role `secureinfra.baseline.storage` and one documented input
  (`baseline_prefix`), on the second (emptied) emulator, creates the two buckets and nothing of
  the other roles.
- `ansible-playbook secureinfra.baseline.drift`, with nothing configured, on the second emulator
  after the installed site made the buckets: in line, it exits 0; after versioning is suspended
  outside Ansible, it exits non-zero, prints the report and writes reports/drift.json and the JUnit
  reports/drift.xml into the current directory, and it wrote nothing to the account.
"""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REGIONS, REPO_ROOT, Emulator, PlaybookRun
from support.collection_source import collection_source
from support.recorder import Recorder, mutating

from scripts import emulator

BIN = Path(os.sys.executable).parent
GALAXY = str(BIN / "ansible-galaxy")
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"  # the default home region: the site deploys everything there
LOCAL_BUILD = "secureinfra.baseline.functions"
BUILD_TASKS = ("Deterministic zip per function (same code, same hash)",)


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory outside the checkout with the built collection installed under it."""
    root = tmp_path_factory.mktemp("user")
    collections = root / "collections"
    (root / "ansible.cfg").write_text(f"[defaults]\ncollections_path = {collections}\n")
    # With this checkout's settings, install would find the checkout (collections/) installed.
    env = _user_env(root, "")
    source = collection_source(root / "source")  # not the checkout: its .nox moves under CI
    _run([GALAXY, "collection", "build", str(source), "--output-path", str(root / "build")], root, env)
    (tarball,) = (root / "build").glob("secureinfra-baseline-*.tar.gz")
    _run([GALAXY, "collection", "install", str(tarball), "-p", str(collections), "--no-deps"], root, env)
    return root


def _run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200, check=False)
    assert proc.returncode == 0, f"{cmd}: rc {proc.returncode}\n{proc.stderr}\n{proc.stdout[-6000:]}"
    return proc.stdout


def _user_env(user_dir: Path, endpoint: str) -> dict[str, str]:
    """The environment of a user with an emulator: no setting of this checkout's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_", "MOLECULE_"))}
    return {
        **env,
        "ANSIBLE_CONFIG": str(user_dir / "ansible.cfg"),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
    }


def _playbook(user_dir: Path, endpoint: str, *args: str) -> str:
    return _run([str(BIN / "ansible-playbook"), *args], cwd=user_dir, env=_user_env(user_dir, endpoint))


def test_the_installed_copy_is_the_one_used(user_dir: Path) -> None:
    listing = _run(
        [GALAXY, "collection", "list", "secureinfra.baseline", "--format", "json"],
        cwd=user_dir,
        env=_user_env(user_dir, ""),
    )
    assert list(json.loads(listing)) == [str(user_dir / "collections" / "ansible_collections")]
    installed = user_dir / "collections" / "ansible_collections" / "secureinfra" / "baseline"
    assert (installed / "playbooks" / "site.yml").is_file()
    assert not any(p.is_symlink() for p in installed.rglob("*"))


def test_site_playbook_with_an_inventory_of_hosts_only(
    user_dir: Path, converged: PlaybookRun, main_emulator: Emulator, aws: Callable[..., Any]
) -> None:
    """On the account this checkout converged, the installed site playbook finds every resource as
    its defaults define it: it reads them all, changes nothing and writes nothing. The inventory
    sets only the alarm subscriber the checkout's inventory sets (the defaults have none, and the
    topic would lose it)."""
    settings = yaml.safe_load((REPO_ROOT / "inventories" / "local" / "group_vars" / "all.yml").read_text())
    inventory = user_dir / "site-inventory.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "regions": {
                    "hosts": dict.fromkeys(REGIONS),
                    "vars": {"monitoring_subscriptions": settings["monitoring_subscriptions"]},
                }
            }
        )
    )
    recorder = Recorder(main_emulator.endpoint)
    recorder.start()
    output = _playbook(
        user_dir, main_emulator.endpoint, "secureinfra.baseline.site", "-i", str(inventory), "-l", REGION
    )
    calls = recorder.stop()
    result = json.loads(output[output.index("{") :])
    run = PlaybookRun(0, result["stats"], result, "")
    assert run.stats[REGION]["failures"] == 0
    # Changed: only the functions' local build (an install has its own build directory), never AWS.
    assert set(run.changed_tasks()) <= {f"{REGION}: {LOCAL_BUILD} : {task}" for task in BUILD_TASKS}
    assert mutating(calls) == []
    read = {f"{c.service}:{c.operation}" for c in calls}
    # Every role looked at its resources (the same names as the checkout's, from the defaults).
    expected = {"sts:GetCallerIdentity", "kms:DescribeKey", "ec2:DescribeVpcs", "dynamodb:DescribeTable"}
    expected |= {"iam:GetRole", "cloudtrail:GetTrailStatus", "sns:GetTopicAttributes"}
    assert expected <= read, expected - read
    # REST calls (S3, Lambda) name their resource in the path.
    for service, name in (
        ("s3", f"secureinfra-data-{ACCOUNT}-{REGION}"),
        ("lambda", f"secureinfra-{REGION}-processor"),
    ):
        assert any(c.service == service and name in c.target for c in calls), name
    s3 = aws("s3", REGION)
    assert s3.get_bucket_versioning(Bucket=f"secureinfra-data-{ACCOUNT}-{REGION}")["Status"] == "Enabled"


def test_a_user_playbook_with_one_role(
    user_dir: Path, fresh_emulator: Emulator, fresh_aws: Callable[..., Any]
) -> None:
    emulator.reset(fresh_emulator.port)
    playbook = user_dir / "storage.yml"
    playbook.write_text(
        "- name: Buckets only\n"
        "  hosts: all\n"
        "  connection: local\n"
        "  gather_facts: false\n"
        "  roles:\n"
        "    - role: secureinfra.baseline.storage\n"
        "      vars:\n"
        "        baseline_prefix: acme\n"
    )
    _playbook(user_dir, fresh_emulator.endpoint, str(playbook), "-i", f"{REGION},")

    s3 = fresh_aws("s3", REGION)
    names = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    assert names == [f"acme-data-{ACCOUNT}-{REGION}", f"acme-logs-{ACCOUNT}-{REGION}"]
    rule = s3.get_bucket_encryption(Bucket=names[0])["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    logging = s3.get_bucket_logging(Bucket=names[0])["LoggingEnabled"]
    assert logging["TargetBucket"] == names[1]
    # Only the one role ran: no key, no table of the others.
    assert not [a for a in fresh_aws("kms", REGION).list_aliases()["Aliases"] if "acme" in a["AliasName"]]
    assert fresh_aws("dynamodb", REGION).list_tables()["TableNames"] == []


def test_drift_playbook_of_the_installed_collection(
    user_dir: Path, fresh_emulator: Emulator, fresh_aws: Callable[..., Any]
) -> None:
    installed = user_dir / "collections" / "ansible_collections" / "secureinfra" / "baseline"
    assert (installed / "playbooks" / "drift.yml").is_file()
    # The callback Ansible loads from beside the playbook: galaxy.yml's manifest must ship it
    # (`recursive-include playbooks/callback_plugins **.py`).
    assert (installed / "playbooks" / "callback_plugins" / "drift_report.py").is_file(), "not shipped"
    assert (installed / "plugins" / "callback" / "drift_report.py").is_file()

    emulator.reset(fresh_emulator.port)
    inventory = user_dir / "drift-inventory.yml"
    inventory.write_text(f"regions:\n  hosts:\n    {REGION}:\n")
    tags = ("--tags", "storage")
    _playbook(user_dir, fresh_emulator.endpoint, "secureinfra.baseline.site", "-i", str(inventory), *tags)

    def drift() -> tuple[subprocess.CompletedProcess[str], list[str]]:
        env = _user_env(user_dir, fresh_emulator.endpoint)
        del env["ANSIBLE_STDOUT_CALLBACK"]  # Ansible's own text output, as a user gets it
        recorder = Recorder(fresh_emulator.endpoint)
        recorder.start()
        cmd = [str(BIN / "ansible-playbook"), "secureinfra.baseline.drift", "-i", str(inventory), *tags]
        proc = subprocess.run(
            cmd, cwd=user_dir, env=env, capture_output=True, text=True, timeout=1200, check=False
        )
        return proc, mutating(recorder.stop())

    reports = user_dir / "reports"
    in_line, writes = drift()
    assert in_line.returncode == 0, in_line.stdout[-6000:] + in_line.stderr
    assert writes == []
    assert f"  {REGION}: in line with the definition" in in_line.stdout
    assert json.loads((reports / "drift.json").read_text())["status"] == "in_line"

    bucket = f"secureinfra-data-{ACCOUNT}-{REGION}"
    fresh_aws("s3", REGION).put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
    )
    drifted, writes = drift()
    assert drifted.returncode == 2, drifted.stdout[-6000:] + drifted.stderr
    assert writes == [], "the dry run wrote"
    assert f"1 account x region(s) drift: {REGION} in account {ACCOUNT}" in drifted.stdout
    assert f"  {REGION}: 1 drift(s)" in drifted.stdout
    assert f"{bucket}: would update versioning" in drifted.stdout
    data = json.loads((reports / "drift.json").read_text())
    assert data["status"] == "drift"
    (entry,) = data["account_regions"]
    assert (entry["account"], entry["region"], entry["status"]) == (ACCOUNT, REGION, "drift")
    case = ET.parse(reports / "drift.xml").getroot().find(f"testsuite[@name='account {ACCOUNT}']/testcase")
    assert case is not None and case.get("name") == REGION
    failure = case.find("failure")
    assert failure is not None and f"{bucket}: would update versioning" in (failure.text or "")

    # As AWX runs it: ansible-runner, a project whose one-line playbook imports the collection's
    # (a job template runs a playbook file of its project), the runner's own stdout callback.
    private = user_dir / "runner"
    (private / "project").mkdir(parents=True)
    (private / "project" / "drift.yml").write_text(
        "- name: Drift report\n  ansible.builtin.import_playbook: secureinfra.baseline.drift\n"
    )
    env = _user_env(user_dir, fresh_emulator.endpoint)
    del env["ANSIBLE_STDOUT_CALLBACK"]
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # the runner starts ansible-playbook by name
    recorder = Recorder(fresh_emulator.endpoint)
    recorder.start()
    run_args = ["-p", "drift.yml", "--ident", "drift", "--inventory", str(inventory)]
    run_args += ["--cmdline", " ".join(tags)]
    runner = subprocess.run(
        [str(BIN / "ansible-runner"), "run", str(private), *run_args],
        cwd=user_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert mutating(recorder.stop()) == [], "the dry run wrote"
    artifacts = private / "artifacts" / "drift"
    assert (artifacts / "status").read_text() == "failed", runner.stdout[-6000:] + runner.stderr
    assert (artifacts / "rc").read_text() == "2"
    stdout = (artifacts / "stdout").read_text()
    assert f"  {REGION}: 1 drift(s)" in stdout and f"{bucket}: would update versioning" in stdout
    # The job's artifacts (set_stats): what AWX keeps of the run, and hands to a workflow's next node.
    stats_events = [
        json.loads(path.read_text())
        for path in (artifacts / "job_events").glob("*.json")
        if '"playbook_on_stats"' in path.read_text()
    ]
    (stats_event,) = stats_events
    handed = stats_event["event_data"]["artifact_data"]["drift_report"]
    assert handed["status"] == "drift" and handed["drifting"] == [f"{REGION} in account {ACCOUNT}"]
    project_report = json.loads((private / "project" / "reports" / "drift.json").read_text())
    assert project_report["status"] == "drift"
