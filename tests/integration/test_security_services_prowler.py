"""prowler's CIS v3.0 checks of the security services and the hardened network pass on the converged baseline.

A private strict emulator (TEST_SECURITY_PROWLER_PORT, or TEST_EMULATOR_PORT + 32) is converged in
both regions, then judged by prowler 5.46.0 (`make prowler`: .venv-prowler, requirements-prowler.lock)
with exactly these checks and `--scan-unused-services` (the emulator makes no network interface for
the VPC functions, so prowler would otherwise skip the baseline VPC and its groups as unused):

    vpc_flow_logs_enabled (CIS 3.7)             ec2_ebs_default_encryption (CIS 2.2.1)
    ec2_securitygroup_default_restrict_traffic  config_recorder_all_regions_enabled (CIS 3.3)
      (CIS 5.4)                                 securityhub_enabled
    ec2_networkacl_allow_ingress_any_port,      guardduty_is_enabled
      _tcp_port_22, _tcp_port_3389 (CIS 5.1)    accessanalyzer_enabled (CIS 1.20)

Each check passes on the baseline's resources (its VPC, the VPC's default security group and
network ACLs) and on the account's services, in both regions. The regions' default VPCs, which the
baseline neither uses nor hardens (docs/security-services.md, "Not covered"), are reported apart.
prowler takes minutes: the test is in the long lane.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import PORT, REPO_ROOT, Emulator

PROWLER = REPO_ROOT / ".venv-prowler" / "bin" / "prowler"
SITECUSTOMIZE = REPO_ROOT / "tests" / "support" / "prowler"
PROWLER_PORT = int(os.environ.get("TEST_SECURITY_PROWLER_PORT", str(PORT + 32)))
REGIONS = ("us-east-1", "us-west-1")
PREFIX = "secureinfra"
# check -> what it judges: the baseline VPC, its default security group, its network ACLs, or the account
CHECKS = {
    "vpc_flow_logs_enabled": "vpc",
    "ec2_securitygroup_default_restrict_traffic": "default_group",
    "ec2_networkacl_allow_ingress_any_port": "acls",
    "ec2_networkacl_allow_ingress_tcp_port_22": "acls",
    "ec2_networkacl_allow_ingress_tcp_port_3389": "acls",
    "ec2_ebs_default_encryption": "account",
    "config_recorder_all_regions_enabled": "account",
    "securityhub_enabled": "account",
    "guardduty_is_enabled": "account",
    "accessanalyzer_enabled": "account",
}


def baseline_ids(endpoint: str, region: str) -> dict[str, set[str]]:
    """The ids prowler's findings name for the baseline VPC, its default security group and its ACLs."""
    ec2 = boto3.client(
        "ec2",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"{PREFIX}-{region}"]}])["Vpcs"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    groups = ec2.describe_security_groups(Filters=[*in_vpc, {"Name": "group-name", "Values": ["default"]}])
    acls = ec2.describe_network_acls(Filters=in_vpc)["NetworkAcls"]
    return {
        "vpc": {vpc["VpcId"]},
        "default_group": {g["GroupId"] for g in groups["SecurityGroups"]},
        "acls": {a["NetworkAclId"] for a in acls},
    }


def run_prowler(endpoint: str, output: Path) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGIONS[0],
        "PYTHONPATH": str(SITECUSTOMIZE),
    }
    env.pop("AWS_PROFILE", None)
    cmd = [str(PROWLER), "aws", "--region", *REGIONS, "--check", *CHECKS, "--scan-unused-services"]
    cmd += ["--output-formats", "json-ocsf", "-o", str(output), "-z", "--no-banner"]
    proc = subprocess.run(cmd, cwd=output, env=env, capture_output=True, text=True, timeout=1500, check=False)
    files = sorted(output.glob("*.ocsf.json"))
    # prowler exits 3 when a finding fails (the default VPCs'): a result, not an error.
    assert proc.returncode in (0, 3) and files, (proc.returncode, proc.stderr[-3000:], proc.stdout[-3000:])
    return json.loads(files[-1].read_text())


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    assert PROWLER.exists(), f"{PROWLER} is missing: run `make prowler`"
    work = tmp_path_factory.mktemp("security-prowler")
    with Emulator(PROWLER_PORT, strict=True) as server:
        converge = server.run_playbook()
        assert converge.rc == 0, converge.stderr
        ids = {region: baseline_ids(server.endpoint, region) for region in REGIONS}
        yield run_prowler(server.endpoint, work), ids


def about(finding: dict[str, Any], ids: set[str]) -> bool:
    resource = finding["resources"][0]
    return any(str(resource.get("uid", "")).endswith(i) or resource.get("name") == i for i in ids)


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("region", REGIONS)
def test_the_check_passes_on_the_baseline(
    judged: tuple[list[dict[str, Any]], dict[str, Any]], check: str, region: str
) -> None:
    findings, ids = judged
    in_region = [
        f
        for f in findings
        if f["metadata"]["event_code"] == check and f["resources"][0].get("region") == region
    ]
    target = CHECKS[check]
    mine = in_region if target == "account" else [f for f in in_region if about(f, ids[region][target])]
    statuses = sorted({f["status_code"] for f in mine})
    print(
        f"{check} {region}: {statuses} ({len(mine)} on the baseline, {len(in_region)} in the region)"
    )
    assert statuses == ["PASS"], [
        (f["resources"][0].get("uid"), f["status_code"], f.get("status_detail")) for f in mine
    ]


def test_the_default_vpcs_are_judged_apart(judged: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    """What prowler fails is the regions' default VPCs only (out of the baseline's scope)."""
    findings, ids = judged
    ours = {i for region in REGIONS for kind in ("vpc", "default_group", "acls") for i in ids[region][kind]}
    failed = [f for f in findings if f["status_code"] == "FAIL"]
    for finding in failed:
        print("default VPC:", finding["metadata"]["event_code"], finding["resources"][0].get("uid"))
    assert failed, "moto's default VPCs are open: prowler should fail them"
    assert not [f for f in failed if about(f, ours) or CHECKS[f["metadata"]["event_code"]] == "account"]
