"""Bad account settings stop each host, with a message naming the variable, before any AWS call.

No emulator: AWS_ENDPOINT_URL names a port where nothing listens, so a call would fail with a
connection error instead of the validation message asserted here. One run, every host failing
in the validation play: in its first check (the shared settings, one host at a time), or, for the
rules that involve several hosts (home region, one host per account x region), in the check of
every host at once.
"""

from __future__ import annotations

import os
from pathlib import Path

from conftest import first_failures_offline

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(os.sys.executable).parent / "ansible-playbook")
ROLE = "arn:aws:iam::{}:role/baseline-deployer"

HOSTS = {
    "bad-arn": (
        {"baseline_region": "us-east-1", "baseline_account_role_arn": "arn:aws:iam::123:role/x"},
        'baseline_account_role_arn="arn:aws:iam::123:role/x": an IAM role ARN',
    ),
    "short-external-id": (
        {
            "baseline_region": "us-east-1",
            "baseline_account_role_arn": ROLE.format("111111111111"),
            "baseline_account_external_id": "a",
        },
        "baseline_account_external_id: STS accepts 2-1224 characters",
    ),
    "external-id-alone": (
        {"baseline_region": "us-east-1", "baseline_account_external_id": "secureinfra"},
        "baseline_account_external_id: set without baseline_account_role_arn",
    ),
    "short-session": (
        {
            "baseline_region": "us-east-1",
            "baseline_account_role_arn": ROLE.format("222222222222"),
            "baseline_account_session_duration": 899,
        },
        "baseline_account_session_duration=899: STS accepts 900 to 43200 seconds",
    ),
    "bad-session-name": (
        {
            "baseline_region": "us-east-1",
            "baseline_account_role_arn": ROLE.format("333333333333"),
            "baseline_account_session_name": "a b",
        },
        'baseline_account_session_name="a b": STS accepts 2-64 characters',
    ),
    "no-home-us-west-1": (
        {"baseline_region": "us-west-1", "baseline_account_role_arn": ROLE.format("444444444444")},
        "no host of the inventory group regions in account 444444444444 is in the home region",
    ),
    "twin-a": (
        {"baseline_region": "us-east-1", "baseline_account_name": "sandbox"},
        "Hosts twin-a and twin-b are both account sandbox in region us-east-1",
    ),
    "twin-b": (
        {"baseline_region": "us-east-1", "baseline_account_name": "sandbox"},
        "Hosts twin-a and twin-b are both account sandbox in region us-east-1",
    ),
}

# Checked for every host at once (roles/preflight/tasks/hosts.yml), after each host's own checks.
ACROSS = {"no-home-us-west-1", "twin-a", "twin-b"}


def test_each_bad_account_setting_is_named_before_any_aws_call(tmp_path: Path) -> None:
    failed = first_failures_offline({name: hv for name, (hv, _) in HOSTS.items()}, tmp_path)
    assert sorted(failed) == sorted(HOSTS)
    for host, (_, expected) in HOSTS.items():
        task = "Stop every host when any host is wrong" if host in ACROSS else "Check the shared settings"
        assert task in failed[host], failed[host]
        assert expected in failed[host], failed[host]
