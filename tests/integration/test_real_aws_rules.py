"""What a real account refuses, on the strict emulator (scripts/strict_aws.py), one region.

One private strict emulator (TEST_EMULATOR_PORT + 2), converged in order:

1. a new account with IAM propagation and point-in-time-recovery delays and a concurrency quota
   of 10 (a new account's): the run succeeds because the Lambda, CloudTrail and PITR calls are
   retried on exactly their documented errors (CreateFunction refused first because the role, then
   because its inline policy, has not propagated: "cannot be assumed by Lambda", then "The
   provided execution role does not have permissions to call ..." for the network interfaces, the
   dead-letter queue or X-Ray); no S3 ACL call is made (server access logging on
   the BucketOwnerEnforced log bucket); the reservations are skipped with a warning naming the
   ConcurrentExecutions quota and the numbers; subnets sit in the first zones by zone ID; and the
   alarm topic without subscribers is reported at the end of the run;
2. the same account with strict reservations: the run fails with that message;
3. a quota of 1000 and a subscriber: the reservations are made and no subscriber warning shows;
4. a rerun and a dry run change nothing and make no mutating call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import PORT, Emulator, PlaybookRun, _clients
from support.recorder import mutating

from scripts import emulator

REGION = "us-east-1"  # also the audit home region: the trail and its delivery role are created here
STRICT_PORT = PORT + 2
# IAM propagation: every role's first use by Lambda and by CloudTrail is refused as "not yet
# propagated" whatever its age (the functions role runs long after the iam role made them), plus
# the usual few-second window; the retries wait it out.
DELAYS = {"iam_propagation_seconds": 4, "iam_propagation_refusals": 1, "pitr_unavailable_seconds": 3}
FUNCTIONS = ("processor", "analytics", "key_rotation")
PREFIX = "secureinfra"


@pytest.fixture(scope="module")
def strict_server() -> Iterator[Emulator]:
    with Emulator(STRICT_PORT, strict=True) as server:
        emulator.strict_settings(server.port, {"enabled": True, **DELAYS, "account_concurrency_limit": 10})
        yield server


@pytest.fixture(scope="module")
def client(strict_server: Emulator) -> Callable[..., Any]:
    return _clients(strict_server.endpoint)


@pytest.fixture(scope="module")
def new_account(strict_server: Emulator) -> PlaybookRun:
    # No subscriber (the checkout's inventory has one): the run must say so.
    return strict_server.run_playbook(limit=REGION, extra_vars={"monitoring_subscriptions": []})


def _warnings(run: PlaybookRun) -> list[str]:
    found = []
    for play in run.output.get("plays", []):
        for task in play.get("tasks", []):
            for result in task.get("hosts", {}).values():
                for item in [result, *result.get("results", [])]:
                    found += [str(w) for w in item.get("warnings", [])]
    return found


def _task_results(run: PlaybookRun, name_part: str) -> list[dict[str, Any]]:
    results = []
    for play in run.output.get("plays", []):
        for task in play.get("tasks", []):
            if name_part in task["task"]["name"]:
                for result in task.get("hosts", {}).values():
                    results += result.get("results", [result])
    return results


def _count(run: PlaybookRun, service: str, operation: str, target_end: str = "") -> int:
    return sum(
        1
        for c in run.calls
        if c.service == service and c.operation == operation and c.target.rstrip("/").endswith(target_end)
    )


def _reserved(client: Callable[..., Any]) -> dict[str, int | None]:
    lam = client("lambda", REGION)
    return {
        name: lam.get_function_concurrency(FunctionName=f"{PREFIX}-{REGION}-{name}").get(
            "ReservedConcurrentExecutions"
        )
        for name in FUNCTIONS
    }


def _topic_arn(client: Callable[..., Any]) -> str:
    topics = [t["TopicArn"] for t in client("sns", REGION).list_topics()["Topics"]]
    return next(arn for arn in topics if arn.endswith(f":{PREFIX}-alarms"))


def test_new_account_converges_with_retries(new_account: PlaybookRun) -> None:
    assert new_account.rc == 0, new_account.failed_messages() or new_account.stderr
    # each retried call answered the documented error first, then succeeded
    function_runs = _task_results(new_account, "Function with 128 MB")
    assert {r["item"][0]["name"] for r in function_runs} == set(FUNCTIONS)
    retried = [e for r in function_runs for e in r["retries"]["retried"]]
    assert retried, "no Lambda call was retried: the propagation delay was not exercised"
    assert {e["code"] for e in retried} == {"InvalidParameterValueException"}
    # each function: the role first (rule 3), then its inline policy (rule 14), naming the first
    # permission the function's settings need
    lacks = "The provided execution role does not have permissions to call"
    for run in function_runs:
        messages = [e["message"] for e in run["retries"]["retried"]]
        assert any("cannot be assumed by Lambda" in m for m in messages), (run["item"][0]["name"], messages)
        assert any(lacks in m for m in messages), (run["item"][0]["name"], messages)
    by_function = {
        r["item"][0]["name"]: [e["message"] for e in r["retries"]["retried"] if lacks in e["message"]]
        for r in function_runs
    }
    assert all(f"{lacks} CreateNetworkInterface on EC2" in m for m in by_function["processor"])  # in the VPC
    assert all(f"{lacks} SendMessage on SQS" in m for m in by_function["key_rotation"])  # its queue
    assert _count(new_account, "lambda", "Post", "/functions") >= 3 * len(FUNCTIONS)
    # S3 does not see the processor's invoke permission added just before (rule 15): retried
    (notification,) = _task_results(new_account, "New objects under the incoming prefix invoke the processor")
    assert notification["retries"]["attempts"] > 1
    assert {
        (e["code"], "Unable to validate the following destination configurations" in e["message"])
        for e in notification["retries"]["retried"]
    } == {("InvalidArgument", True)}
    (trail,) = _task_results(new_account, "Multi-region trail")
    assert trail["retries"]["attempts"] > 1
    assert {e["code"] for e in trail["retries"]["retried"]} == {"InvalidCloudWatchLogsRoleArnException"}
    assert _count(new_account, "dynamodb", "UpdateContinuousBackups") > 1


def test_access_logging_without_any_acl_call(new_account: PlaybookRun, client) -> None:
    # Reading an ACL (GetBucketAcl, as amazon.aws.s3_bucket does) is allowed with ACLs disabled;
    # setting one is refused with AccessControlListNotSupported, and community.aws.s3_logging did.
    acl_writes = [
        str(c)
        for c in new_account.calls
        if c.service == "s3" and "acl" in c.target.lower() and not c.read_only
    ]
    assert acl_writes == []
    s3 = client("s3", REGION)
    data_bucket = next(
        b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(f"{PREFIX}-data-")
    )
    logging = s3.get_bucket_logging(Bucket=data_bucket)["LoggingEnabled"]
    assert logging["TargetBucket"].startswith(f"{PREFIX}-logs-")
    assert s3.get_bucket_ownership_controls(Bucket=logging["TargetBucket"])["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    rule = s3.get_bucket_encryption(Bucket=data_bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert not rule.get("BucketKeyEnabled")  # a Bucket Key has no effect with SSE-S3


def test_reservations_skipped_with_the_quota_named(new_account: PlaybookRun, client) -> None:
    warnings = [w for w in _warnings(new_account) if "Reserved concurrency" in w]
    assert len(warnings) == len(FUNCTIONS), _warnings(new_account)
    processor = next(w for w in warnings if f"{PREFIX}-{REGION}-processor" in w)
    assert "ConcurrentExecutions" in processor
    assert "is 10 in this region, 10 unreserved" in processor
    assert "would leave 0 unreserved, below AWS's minimum of 10" in processor
    assert _reserved(client) == dict.fromkeys(FUNCTIONS)


def test_subnets_in_the_first_zones_by_zone_id(new_account: PlaybookRun, client) -> None:
    ec2 = client("ec2", REGION)
    zones = ec2.describe_availability_zones(
        Filters=[
            {"Name": "zone-type", "Values": ["availability-zone"]},
            {"Name": "state", "Values": ["available"]},
        ]
    )["AvailabilityZones"]
    first_two = sorted(z["ZoneId"] for z in zones)[:2]
    subnets = ec2.describe_subnets(Filters=[{"Name": "tag:Tier", "Values": ["private"]}])["Subnets"]
    by_cidr = {s["CidrBlock"]: s["AvailabilityZoneId"] for s in subnets}
    assert by_cidr == {"10.0.1.0/24": first_two[0], "10.0.2.0/24": first_two[1]}


def test_topic_without_subscriber_is_reported(new_account: PlaybookRun, client) -> None:
    topic = _topic_arn(client)
    warnings = [w for w in _warnings(new_account) if "no confirmed subscriber" in w]
    assert len(warnings) == 1, _warnings(new_account)
    assert topic in warnings[0]
    assert "monitoring_subscriptions" in warnings[0]
    # it is the monitoring role's last task (the security services, the orphans, which read the
    # monitoring role's CIS names, and the lock's release come after the role)
    names = [task["task"]["name"] for task in new_account.output["plays"][-1]["tasks"]]
    services = "secureinfra.baseline.security_services : "
    after = next(i for i, name in enumerate(names) if name.startswith(services))
    monitoring = [name for name in names[:after] if name.startswith("secureinfra.baseline.monitoring : ")]
    assert monitoring[-1].endswith("Warn when the alarm topic has no confirmed subscriber"), monitoring


def test_strict_reservations_fail_with_the_same_message(new_account, strict_server: Emulator, client) -> None:
    run = strict_server.run_playbook(limit=REGION, extra_vars={"functions_reserved_concurrency_strict": True})
    assert run.rc != 0
    messages = " ".join(run.failed_messages())
    assert "ConcurrentExecutions" in messages
    assert "below AWS's minimum of 10" in messages
    assert _reserved(client) == dict.fromkeys(FUNCTIONS)


@pytest.fixture(scope="module")
def subscribed_vars(client) -> dict[str, Any]:
    queue = client("sqs", REGION).create_queue(QueueName="alarm-inbox")["QueueUrl"]
    arn = client("sqs", REGION).get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return {"monitoring_subscriptions": [{"protocol": "sqs", "endpoint": arn}]}


@pytest.fixture(scope="module")
def raised_quota(new_account, strict_server: Emulator, subscribed_vars) -> PlaybookRun:
    emulator.strict_settings(strict_server.port, {"account_concurrency_limit": 1000})
    return strict_server.run_playbook(limit=REGION, extra_vars=subscribed_vars)


def test_higher_quota_reserves_and_subscriber_silences_the_warning(raised_quota, client) -> None:
    assert raised_quota.rc == 0, raised_quota.failed_messages() or raised_quota.stderr
    assert _reserved(client) == {"processor": 10, "analytics": 1, "key_rotation": 1}
    assert not [w for w in _warnings(raised_quota) if "no confirmed subscriber" in w]
    assert not [w for w in _warnings(raised_quota) if "Reserved concurrency" in w]
    subs = client("sns", REGION).list_subscriptions_by_topic(TopicArn=_topic_arn(client))["Subscriptions"]
    assert [s["Protocol"] for s in subs] == ["sqs"]


@pytest.mark.parametrize("check", [False, True], ids=["rerun", "check"])
def test_rerun_and_dry_run_change_nothing(
    raised_quota, strict_server: Emulator, subscribed_vars, check
) -> None:
    run = strict_server.run_playbook(limit=REGION, extra_vars=subscribed_vars, check=check)
    assert run.rc == 0, run.failed_messages() or run.stderr
    assert run.changed(REGION) == 0, run.changed_tasks()
    assert mutating(run.calls) == [], json.dumps(mutating(run.calls))
    assert not [w for w in _warnings(run) if "no confirmed subscriber" in w or "Reserved concurrency" in w]
