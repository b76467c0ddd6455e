"""Issue 10, 2d: out-of-band changes made with boto3 are named in the drift report, and one site
run repairs each of them.

A private strict emulator (TEST_EMULATOR_PORT + 3) is converged in the home region, then seven
independent changes are made outside Ansible: versioning suspended, a bucket public-access block
off, an alarm threshold changed, a tag removed, a statement added to a role's inline policy, key
rotation off, and a route table taken from a gateway endpoint. The drift playbook
(playbooks/drift.yml) must name each (the task and the resource) and exit non-zero, the site run
that follows must put each back (read back with boto3), and a rerun and the drift playbook must then
find nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PORT, Emulator, _clients
from support.drift import run_drift
from support.recorder import mutating
from test_verify import ACCOUNT, HOME, PREFIX

FAULT_PORT = PORT + 3  # beside the shared fixtures (port, +1, +2)
DATA = f"{PREFIX}-data-{ACCOUNT}-{HOME}"
LOGS = f"{PREFIX}-logs-{ACCOUNT}-{HOME}"
TABLE = f"{PREFIX}-data"
TABLE_ARN = f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/{TABLE}"
FUNCTION = f"{PREFIX}-{HOME}-processor"
ROLE = f"{PREFIX}-{HOME}-analytics"
ALARM = f"{PREFIX}-lambda-errors-{FUNCTION}"
KEY_ALIAS = f"alias/{PREFIX}-baseline"
ALARM_FIELDS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
    "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "Dimensions", "Period",
    "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
)  # fmt: skip


@pytest.fixture(scope="module")
def fault_emulator() -> Iterator[Emulator]:
    with Emulator(FAULT_PORT, strict=True) as server:
        yield server


def _endpoint(ec2: Any) -> dict[str, Any]:
    found = ec2.describe_vpc_endpoints(
        Filters=[
            {"Name": "service-name", "Values": [f"com.amazonaws.{HOME}.s3"]},
            {"Name": "vpc-endpoint-state", "Values": ["available"]},
        ]
    )["VpcEndpoints"]
    assert len(found) == 1, found
    return found[0]


def _inline_policy(iam: Any) -> dict[str, Any]:
    return iam.get_role_policy(RoleName=ROLE, PolicyName=ROLE)["PolicyDocument"]


def _state(aws: Callable[..., Any]) -> dict[str, Any]:
    """What the seven changes touch, read back."""
    s3, ec2, kms = aws("s3"), aws("ec2"), aws("kms")
    alarm = aws("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    key_id = kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyId"]
    tags = aws("dynamodb").list_tags_of_resource(ResourceArn=TABLE_ARN)["Tags"]
    return {
        "versioning": s3.get_bucket_versioning(Bucket=LOGS).get("Status"),
        "public_access_block": s3.get_public_access_block(Bucket=DATA)["PublicAccessBlockConfiguration"],
        "threshold": alarm["Threshold"],
        "tags": {tag["Key"]: tag["Value"] for tag in tags},
        "inline_policy": _inline_policy(aws("iam")),
        "rotation": kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"],
        "route_tables": sorted(_endpoint(ec2)["RouteTableIds"]),
    }


def change_out_of_band(aws: Callable[..., Any], before: dict[str, Any]) -> dict[str, list[str]]:
    """The seven changes; per change, what its drift-report line must hold: the task that puts it
    back and, where the task loops or its module says, the resource."""
    s3, ec2, kms, iam = aws("s3"), aws("ec2"), aws("kms"), aws("iam")
    s3.put_bucket_versioning(Bucket=LOGS, VersioningConfiguration={"Status": "Suspended"})
    s3.put_public_access_block(
        Bucket=DATA,
        PublicAccessBlockConfiguration={**before["public_access_block"], "BlockPublicPolicy": False},
    )
    cloudwatch = aws("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    cloudwatch.put_metric_alarm(
        **{name: alarm[name] for name in ALARM_FIELDS if name in alarm}
        | {"Threshold": alarm["Threshold"] + 5}
    )
    aws("dynamodb").untag_resource(ResourceArn=TABLE_ARN, TagKeys=["Owner"])
    policy = _inline_policy(iam)
    policy["Statement"].append(
        {"Sid": "AddedOutOfBand", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    )
    iam.put_role_policy(RoleName=ROLE, PolicyName=ROLE, PolicyDocument=json.dumps(policy))
    kms.disable_key_rotation(KeyId=kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyId"])
    endpoint = _endpoint(ec2)
    ec2.modify_vpc_endpoint(
        VpcEndpointId=endpoint["VpcEndpointId"], RemoveRouteTableIds=[endpoint["RouteTableIds"][0]]
    )
    return {
        # one module run converges both buckets: one drift line names both changes
        "versioning suspended, public-access block off": [
            "storage : Buckets, log bucket first",
            f"{LOGS}: would update versioning",
            f"{DATA}: would update public_access_block",
        ],
        "alarm threshold changed": ["monitoring : Every alarm of the region in one call"],
        "tag removed": ["table : Tables on demand, encrypted with the baseline key"],
        "statement added to a role policy": [
            "iam : Execution roles, each with its one inline policy",
            f"{ROLE}: would update inline policy",
        ],
        "key rotation off": ["encryption : Customer-managed key with rotation"],
        "endpoint route removed": [
            "network_endpoints : VPC, private subnets",
            "would update gateway endpoint s3 (route tables)",
        ],
    }


def _named(lines: list[str], words: list[str]) -> list[str]:
    return [line for line in lines if all(word in line for word in words)]


def test_drift_is_named_and_repaired(fault_emulator: Emulator, tmp_path: Path) -> None:
    aws = _clients(fault_emulator.endpoint)
    converge = fault_emulator.run_playbook(limit=HOME)
    assert converge.rc == 0, converge.stderr
    before = _state(aws)
    assert before["versioning"] == "Enabled" and before["rotation"] is True
    assert len(before["route_tables"]) >= 1

    in_line = run_drift(fault_emulator.endpoint, tmp_path / "before", "-l", HOME)
    assert (in_line.rc, in_line.status) == (0, "in_line"), in_line

    expected = change_out_of_band(aws, before)
    changed_state = _state(aws)
    unchanged = [key for key in before if changed_state[key] == before[key]]
    assert not unchanged, unchanged

    drifted = run_drift(fault_emulator.endpoint, tmp_path / "drifted", "-l", HOME)
    assert (drifted.rc, drifted.status) == (2, "drift"), drifted
    assert mutating(drifted.calls) == [], "the dry run wrote"
    lines = drifted.drift_lines()
    report = "\n".join(drifted.report)
    missing = {change: words for change, words in expected.items() if not _named(lines, words)}
    assert not missing, (missing, report)
    assert f"{HOME}: {len(expected)} drift(s)" in report, report  # nothing else drifts

    repair = fault_emulator.run_playbook(limit=HOME)
    assert repair.rc == 0, repair.stderr
    after = _state(aws)
    not_repaired = {key: (after[key], before[key]) for key in before if after[key] != before[key]}
    assert not not_repaired, not_repaired

    rerun = fault_emulator.run_playbook(limit=HOME)
    assert rerun.rc == 0, rerun.stderr
    assert rerun.changed(HOME) == 0, rerun.changed_tasks()
    after_repair = run_drift(fault_emulator.endpoint, tmp_path / "after", "-l", HOME)
    assert (after_repair.rc, after_repair.status) == (0, "in_line"), after_repair
