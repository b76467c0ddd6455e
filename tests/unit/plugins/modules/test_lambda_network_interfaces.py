"""secureinfra.baseline.lambda_network_interfaces against in-process moto.

moto makes no interface for a Lambda function, so the tests make them as Lambda does (description
"AWS Lambda VPC ENI-...", requester-managed, in-use), and play Lambda releasing them during the
module's waits. The module's clock and sleep are simulated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import lambda_network_interfaces as mod
from moto.ec2.models import ec2_backends

REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture
def ec2(aws: None) -> Any:
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def vpc(ec2: Any) -> dict[str, Any]:
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    groups = {
        name: ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
        for name in ("functions", "others")
    }
    return {"id": vpc_id, "subnet": subnet, "groups": groups}


def interface(vpc: dict[str, Any], status: str, group: str = "functions", lambda_made: bool = True) -> str:
    backend = ec2_backends[ACCOUNT][REGION]
    subnet = backend.get_subnet(vpc["subnet"])
    description = "AWS Lambda VPC ENI-processor-0c9a" if lambda_made else "an instance's interface"
    groups = [vpc["groups"][group]]
    eni = backend.create_network_interface(subnet, None, group_ids=groups, description=description)
    eni.status = status
    eni.requester_managed = lambda_made
    return eni.id


def set_status(eni_id: str, status: str) -> None:
    ec2_backends[ACCOUNT][REGION].get_network_interface(eni_id).status = status


def remaining(ec2: Any, vpc: dict[str, Any]) -> dict[str, str]:
    found = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc["id"]]}])
    return {eni["NetworkInterfaceId"]: eni["Status"] for eni in found["NetworkInterfaces"]}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A simulated clock; `on_sleep` callbacks run at each sleep (Lambda acting meanwhile)."""
    state: dict[str, Any] = {"now": 0.0, "slept": [], "on_sleep": []}

    def sleep(seconds: float) -> None:
        state["slept"].append(seconds)
        state["now"] += seconds
        for action in state["on_sleep"]:
            action()

    monkeypatch.setattr(mod.time, "sleep", sleep)
    monkeypatch.setattr(mod.time, "monotonic", lambda: state["now"])
    return state


def args(vpc: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"vpc_id": vpc["id"], "security_group_names": ["functions"], **extra}


def test_deletes_what_lambda_left_then_changes_nothing(ec2, vpc, run_module, calls, clock):
    left = interface(vpc, "available")
    result = run_module(mod, args(vpc), diff=True)
    assert result["changed"] is True
    assert result["deleted"] == [left] and result["held"] == []
    assert result["diff"] == {"before": {"network_interfaces": [left]}, "after": {"network_interfaces": []}}
    assert remaining(ec2, vpc) == {}
    assert clock["slept"] == []
    calls.clear()
    again = run_module(mod, args(vpc))
    assert again == {"changed": False, "deleted": [], "held": [], "waited_seconds": 0.0}
    assert calls == ["DescribeNetworkInterfaces"]


def test_waits_while_lambda_holds_one_and_deletes_it_once_released(ec2, vpc, run_module, clock):
    held = interface(vpc, "in-use")
    clock["on_sleep"].append(lambda: set_status(held, "available") if clock["now"] >= 20 else None)
    result = run_module(mod, args(vpc, wait_timeout=300))
    assert result["changed"] is True and result["deleted"] == [held]
    assert result["waited_seconds"] >= 20
    assert remaining(ec2, vpc) == {}


def test_lambda_deleting_it_itself_is_no_change(ec2, vpc, run_module, clock):
    held = interface(vpc, "in-use")
    clock["on_sleep"].append(lambda: ec2_backends[ACCOUNT][REGION].delete_network_interface(held))
    result = run_module(mod, args(vpc))
    assert result["changed"] is False and result["deleted"] == []
    assert len(clock["slept"]) == 1


def test_fails_naming_the_interfaces_lambda_still_holds_after_the_timeout(ec2, vpc, run_module, clock):
    held = interface(vpc, "in-use")
    result = run_module(mod, args(vpc, wait_timeout=10), expect_failure=True)
    assert held in result["msg"] and "wait_timeout 10 s" in result["msg"]
    assert result["held"] == [held]
    assert sum(clock["slept"]) == pytest.approx(10)
    assert remaining(ec2, vpc) == {held: "in-use"}


def test_no_wait_with_a_zero_timeout(ec2, vpc, run_module, clock):
    interface(vpc, "in-use")
    run_module(mod, args(vpc, wait_timeout=0), expect_failure=True)
    assert clock["slept"] == []


def test_check_mode_reads_only_and_does_not_wait(ec2, vpc, run_module, calls, clock):
    left, held = interface(vpc, "available"), interface(vpc, "in-use")
    calls.clear()
    result = run_module(mod, args(vpc), check_mode=True, diff=True)
    assert result["changed"] is True
    assert (result["deleted"], result["held"]) == ([left], [held])
    assert result["diff"]["after"] == {"network_interfaces": [held]}
    assert set(calls) == {"DescribeNetworkInterfaces"}
    assert clock["slept"] == []
    assert remaining(ec2, vpc) == {left: "available", held: "in-use"}


def test_leaves_other_interfaces_alone(ec2, vpc, run_module, clock):
    others = {
        interface(vpc, "available", group="others"),
        interface(vpc, "available", lambda_made=False),
    }
    assert run_module(mod, args(vpc))["changed"] is False
    assert set(remaining(ec2, vpc)) == others
    # without a group filter, every Lambda interface of the VPC
    assert len(run_module(mod, {"vpc_id": vpc["id"]})["deleted"]) == 1


def test_negative_timeout_refused(vpc, run_module: Callable[..., dict[str, Any]]):
    result = run_module(mod, args(vpc, wait_timeout=-1), expect_failure=True)
    assert result["msg"] == "wait_timeout must be 0 or more seconds, got -1"
