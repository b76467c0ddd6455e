"""Tags and settings from an inventory's group_vars, where Ansible reads them.

- Every inventory of the checkout has real group_vars files (no links) with the tag values; there
  is no group_vars/ at the root, which Ansible never reads for playbooks/site.yml.
- A copy of inventories/local whose group_vars/all.yml sets another owner and an extra tag: the
  key and the buckets carry the new Owner, the extra tag, and every required tag.
- An extra tag that would replace a required one is refused before any AWS call.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO_ROOT, Emulator

ACCOUNT = "123456789012"
REGION = "us-east-1"
INVENTORIES = sorted(p for p in (REPO_ROOT / "inventories").iterdir() if p.is_dir())
REQUIRED = ("Environment", "Owner", "Project", "ManagedBy")


def test_no_group_vars_at_the_root() -> None:
    assert not (REPO_ROOT / "group_vars").exists()


@pytest.mark.parametrize("inventory", INVENTORIES, ids=lambda p: p.name)
def test_every_inventory_has_real_group_vars_with_the_tag_values(inventory: Path) -> None:
    files = sorted((inventory / "group_vars").glob("*.yml"))
    assert files, f"{inventory.name} has no group_vars/"
    assert not any(f.is_symlink() for f in [inventory / "group_vars", *files])
    settings: dict[str, Any] = {}
    for path in files:
        settings |= yaml.safe_load(path.read_text()) or {}
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    groups = hosts["regions"].get("children", {}).values()
    # Environment may differ per environment group (inventories/organization).
    per_group = [group.get("vars", {}) for group in groups]
    for name in ("baseline_owner", "baseline_project", "baseline_tags"):
        assert name in settings, f"{inventory.name}/group_vars lacks {name}"
    assert "baseline_environment" in settings or all("baseline_environment" in v for v in per_group)


def _inventory_copy(tmp_path: Path, **settings: Any) -> Path:
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO_ROOT / "inventories" / "local", inventory)
    group_vars = inventory / "group_vars" / "all.yml"
    values = yaml.safe_load(group_vars.read_text()) | settings
    group_vars.write_text(yaml.safe_dump(values))
    return inventory / "hosts.yml"


def _tags(pairs: list[dict[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {pair[key]: pair[value] for pair in pairs}


def test_owner_and_an_extra_tag_from_group_vars_reach_the_resources(
    fresh_run_playbook: Callable[..., Any], fresh_aws: Callable[..., Any], tmp_path: Path
) -> None:
    hosts = _inventory_copy(
        tmp_path,
        baseline_owner="cloud-team",
        baseline_tags={"CostCenter": "cc-4242"},
        storage_tags={"DataClassification": "internal"},
    )
    run = fresh_run_playbook("-i", str(hosts), "--tags", "encryption,storage", limit=REGION)
    assert run.rc == 0, run.stderr
    expected = {
        "Environment": "dev",
        "Owner": "cloud-team",
        "Project": "secure-infrastructure",
        "ManagedBy": "ansible",
        "CostCenter": "cc-4242",
    }
    kms = fresh_aws("kms", REGION)
    (alias,) = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/secureinfra")]
    key_tags = _tags(kms.list_resource_tags(KeyId=alias["TargetKeyId"])["Tags"], "TagKey", "TagValue")
    assert key_tags == expected
    s3 = fresh_aws("s3", REGION)
    for purpose in ("data", "logs"):
        bucket = f"secureinfra-{purpose}-{ACCOUNT}-{REGION}"
        bucket_tags = _tags(s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
        assert bucket_tags == expected | {"DataClassification": "internal", "Purpose": purpose}


@pytest.mark.parametrize(
    ("variable", "value"),
    [("baseline_tags", {"Owner": "someone-else"}), ("storage_tags", {"Project": "other"})],
)
def test_an_extra_tag_cannot_replace_a_required_one(
    fresh_run_playbook: Callable[..., Any], fresh_emulator: Emulator, variable: str, value: dict[str, str]
) -> None:
    run = fresh_run_playbook(extra_vars={variable: value}, limit=REGION)
    assert run.rc != 0
    (key,) = value
    messages = " ".join(run.failed_messages())
    assert f"{variable}.{key}=" in messages and "is a required tag" in messages, messages
    assert run.calls == [], [str(call) for call in run.calls]
