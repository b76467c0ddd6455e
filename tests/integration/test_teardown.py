"""playbooks/teardown.yml on a private strict emulator (TEST_EMULATOR_PORT + 3), both regions
(the trail and the account-wide function live in the home region only), in order:

converge; teardown with a wrong confirmation (refused, zero mutating calls); teardown in check mode
(zero mutating calls, reports what it would remove); teardown (only the kept data stores stay
tagged); teardown again (changed=0, zero mutating calls); converge again (succeeds on the kept data
stores); teardown with teardown_destroy_data=true (versioned buckets emptied and deleted, tables
deleted, keys pending deletion for 30 days, aliases gone); and that run again (changed=0).

The VPC functions hold network interfaces in the subnets (strict rule 13): Lambda deletes them,
some seconds after DeleteFunction, with the function's execution role, so the roles go after the
network; interfaces Lambda could not delete (their roles removed first, as by an older teardown)
are deleted by the teardown itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import PORT, REGIONS, Emulator, PlaybookRun
from support.recorder import mutating

TEARDOWN_PORT = PORT + 3
ACCOUNT = "123456789012"  # moto's default account
PREFIX = "secureinfra"
PLAYBOOK = "playbooks/teardown.yml"
HOME = "us-east-1"
# Seconds the teardown waits for Lambda to release the network interfaces (the emulator's Lambda
# releases them 5 s after DeleteFunction): a teardown that can never delete the network fails in
# minutes rather than after the default 45.
RELEASE_TIMEOUT = 120
LAMBDA_ENI = "AWS Lambda VPC ENI*"


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(TEARDOWN_PORT, strict=True) as emulator:
        yield emulator


def client(server: Emulator, service: str, region: str = HOME) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def teardown(server: Emulator, check: bool = False, **extra: Any) -> PlaybookRun:
    return server.run_playbook(
        check=check,
        playbook=PLAYBOOK,
        extra_vars={
            "teardown_confirm": ACCOUNT,
            "teardown_network_release_timeout": RELEASE_TIMEOUT,
            **extra,
        },
    )


def lambda_enis(server: Emulator, region: str) -> list[dict[str, Any]]:
    """The network interfaces Lambda holds (or left) in the region."""
    pages = client(server, "ec2", region).get_paginator("describe_network_interfaces")
    return [
        eni
        for page in pages.paginate(Filters=[{"Name": "description", "Values": [LAMBDA_ENI]}])
        for eni in page["NetworkInterfaces"]
    ]


def remove_functions_and_roles_by_hand(server: Emulator, region: str) -> None:
    """What the teardown did before it deleted the roles after the network: functions, then roles."""
    lam, iam = client(server, "lambda", region), client(server, "iam")
    for fn in lam.list_functions()["Functions"]:
        lam.delete_function(FunctionName=fn["FunctionName"])
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if role["RoleName"].startswith(f"{PREFIX}-{region}-"):
                for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
                    iam.delete_role_policy(RoleName=role["RoleName"], PolicyName=name)
                iam.delete_role(RoleName=role["RoleName"])


def tagged(server: Emulator, region: str) -> list[str]:
    """ARNs of every resource tagged ManagedBy=ansible (Resource Groups Tagging API)."""
    pages = client(server, "resourcegroupstaggingapi", region).get_paginator("get_resources")
    return sorted(
        m["ResourceARN"]
        for page in pages.paginate(TagFilters=[{"Key": "ManagedBy", "Values": ["ansible"]}])
        for m in page["ResourceTagMappingList"]
    )


def kept_stores(region: str) -> set[str]:
    """The data stores a teardown without teardown_destroy_data keeps (key ARNs vary: prefix)."""
    # The buckets (S3 lists them in every region): data, logs, Config's delivery bucket, the trail's.
    stores = {
        f"arn:aws:s3:::{PREFIX}-{purpose}-{ACCOUNT}-{r}"
        for r in REGIONS
        for purpose in ("data", "logs", "config")
    }
    stores.add(f"arn:aws:s3:::{PREFIX}-trail-{ACCOUNT}-{HOME}")
    stores.add(f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{PREFIX}-data")
    # The flow logs' records (the flow log and its delivery role go).
    stores.add(f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/{PREFIX}/vpc-flow-logs/{PREFIX}-{region}")
    return stores


def leftovers(server: Emulator, region: str, data_kept: bool = True) -> dict[str, list[str]]:
    """What the site makes, other than the data stores (data_kept), that still exists in the region."""
    kept_groups = {f"/{PREFIX}/vpc-flow-logs/{PREFIX}-{region}"} if data_kept else set()

    def c(service: str) -> Any:
        return client(server, service, region)

    roles = [
        r["RoleName"]
        for page in c("iam").get_paginator("list_roles").paginate()
        for r in page["Roles"]
        if r["RoleName"].startswith(PREFIX)
    ]
    vpcs = c("ec2").describe_vpcs(Filters=[{"Name": "tag:ManagedBy", "Values": ["ansible"]}])["Vpcs"]
    found = {
        "iam roles": roles,
        "functions": [f["FunctionName"] for f in c("lambda").list_functions()["Functions"]],
        "log groups": [
            g["logGroupName"]
            for g in c("logs").describe_log_groups()["logGroups"]
            if PREFIX in g["logGroupName"] and g["logGroupName"] not in kept_groups
        ],
        "metric filters": [f["filterName"] for f in c("logs").describe_metric_filters()["metricFilters"]],
        "queues": c("sqs").list_queues().get("QueueUrls", []),
        "topics": [t["TopicArn"] for t in c("sns").list_topics()["Topics"]],
        "alarms": [a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"]],
        "rules": [r["Name"] for r in c("events").list_rules()["Rules"]],
        "trails": [t["Name"] for t in c("cloudtrail").describe_trails(includeShadowTrails=True)["trailList"]],
        "vpcs": [v["VpcId"] for v in vpcs],
        "network interfaces": [e["NetworkInterfaceId"] for e in lambda_enis(server, region)],
        "subnets": [
            s["SubnetId"]
            for s in c("ec2").describe_subnets(Filters=[{"Name": "tag:ManagedBy", "Values": ["ansible"]}])[
                "Subnets"
            ]
        ],
        "security groups": [
            g["GroupId"]
            for g in c("ec2").describe_security_groups(
                Filters=[{"Name": "tag:ManagedBy", "Values": ["ansible"]}]
            )["SecurityGroups"]
        ],
        # A deleted endpoint stays listed for a while in state "deleted", as on AWS.
        "endpoints": [
            e["VpcEndpointId"]
            for e in c("ec2").describe_vpc_endpoints()["VpcEndpoints"]
            if e["State"].lower() != "deleted"
        ],
    }
    return {kind: names for kind, names in found.items() if names}


@pytest.fixture(scope="module")
def runs(server: Emulator) -> dict[str, Any]:
    """Converge, then the refused, dry and real teardowns and the rerun; state read in between."""
    converge = server.run_playbook()
    assert converge.rc == 0, converge.stderr
    result: dict[str, Any] = {"tagged_before": {r: tagged(server, r) for r in REGIONS}}
    result["lambda_enis"] = {r: lambda_enis(server, r) for r in REGIONS}
    result["wrong"] = server.run_playbook(playbook=PLAYBOOK, extra_vars={"teardown_confirm": "111111111111"})
    result["unconfirmed"] = server.run_playbook(playbook=PLAYBOOK)
    result["check"] = teardown(server, check=True)
    result["teardown"] = teardown(server)
    result["tagged_after"] = {r: tagged(server, r) for r in REGIONS}
    result["leftovers"] = {r: leftovers(server, r) for r in REGIONS}
    result["again"] = teardown(server)
    return result


@pytest.mark.parametrize("run_name", ["wrong", "unconfirmed"])
def test_unconfirmed_teardown_is_refused_before_any_change(runs: dict[str, Any], run_name: str) -> None:
    run = runs[run_name]
    assert run.rc != 0
    assert mutating(run.calls) == []
    messages = " ".join(run.failed_messages())
    assert f"it is account {ACCOUNT}" in messages
    assert f"-e teardown_confirm={ACCOUNT}" in messages
    assert all(run.changed(region) == 0 for region in REGIONS)


def test_check_mode_reports_removals_and_changes_nothing(runs: dict[str, Any]) -> None:
    run = runs["check"]
    assert run.rc == 0, run.stderr
    assert mutating(run.calls) == []
    changed = run.changed_tasks()
    for region in REGIONS:
        for task in ("Functions", "VPC", "Execution roles of the functions", "Alarm topic"):
            assert any(name.startswith(f"{region}: ") and task in name for name in changed), (task, changed)
    assert any("Multi-region trail" in name for name in changed if name.startswith(f"{HOME}: "))


def test_teardown_leaves_only_the_kept_data_stores(runs: dict[str, Any]) -> None:
    run = runs["teardown"]
    assert run.rc == 0, run.stderr
    for region in REGIONS:
        before = runs["tagged_before"][region]
        # The tagging API sees these kinds the site tags (IAM and CloudTrail it does not list: they
        # are checked one by one in leftovers), so an empty answer below means something.
        for kind in (":lambda:", ":logs:", ":sqs:", ":sns:", ":ec2:"):
            assert any(kind in arn for arn in before), (kind, before)
        after = runs["tagged_after"][region]
        keys = [arn for arn in after if f":kms:{region}:" in arn]
        assert len(keys) == 1, after
        assert set(after) - set(keys) == kept_stores(region)
        assert runs["leftovers"][region] == {}


def test_roles_go_after_the_network_lambda_deletes_its_interfaces_with(runs: dict[str, Any]) -> None:
    # The VPC functions (processor, analytics) share one interface per private subnet.
    for region in REGIONS:
        enis = runs["lambda_enis"][region]
        assert len(enis) == 2, enis
        assert {e["Status"] for e in enis} == {"in-use"}
    calls = [f"{c.service}:{c.operation}" for c in runs["teardown"].calls]
    functions = [i for i, c in enumerate(calls) if c == "lambda:Delete"]
    deletes = ("ec2:DeleteSecurityGroup", "ec2:DeleteSubnet", "ec2:DeleteVpc")
    network = [i for i, c in enumerate(calls) if c in deletes]
    # the execution roles: processor and analytics in both regions, key_rotation in the home region
    # (the trail's delivery role goes earlier, with the trail)
    roles = [i for i, c in enumerate(calls) if c == "iam:DeleteRole" and functions and i > min(functions)]
    assert functions and network and len(roles) == 5, calls
    assert max(functions) < min(network)
    assert max(network) < min(roles), "an execution role was deleted before the network it must release"
    # Lambda deleted the interfaces itself: the teardown had none to delete
    assert "ec2:DeleteNetworkInterface" not in calls


def test_second_teardown_changes_nothing(runs: dict[str, Any]) -> None:
    run = runs["again"]
    assert run.rc == 0, run.stderr
    assert all(run.changed(region) == 0 for region in REGIONS), run.changed_tasks()
    assert mutating(run.calls) == []


def test_multi_account_confirmation(server: Emulator, runs: dict[str, Any]) -> None:
    """inventories/organization: two accounts (AssumeRole) x two regions. Naming one account refuses
    the whole run before any change; naming both, comma-separated, lets the dry run through."""
    org = ("-i", "inventories/organization")
    one = server.run_playbook(*org, playbook=PLAYBOOK, extra_vars={"teardown_confirm": "111111111111"})
    assert one.rc != 0
    assert "it is account 222222222222" in " ".join(one.failed_messages())
    assert [c for c in mutating(one.calls) if not c.startswith("sts:AssumeRole")] == []
    assert all(counts.get("changed", 0) == 0 for counts in one.stats.values())
    both = server.run_playbook(
        *org, check=True, playbook=PLAYBOOK, extra_vars={"teardown_confirm": "111111111111, 222222222222"}
    )
    assert both.rc == 0, both.stderr
    assert sorted(both.stats) == ["dev-us-east-1", "dev-us-west-1", "prod-us-east-1", "prod-us-west-1"]
    assert [c for c in mutating(both.calls) if not c.startswith("sts:AssumeRole")] == []


def test_converge_again_then_destroy_data(server: Emulator, runs: dict[str, Any]) -> None:
    converge = server.run_playbook()
    assert converge.rc == 0, converge.stderr
    s3 = client(server, "s3")
    data_bucket = f"{PREFIX}-data-{ACCOUNT}-{HOME}"
    # Versions and a delete marker: the bucket is only deletable once all of them are gone.
    s3.put_object(Bucket=data_bucket, Key="incoming/a.jsonl", Body=b'{"id": "1"}\n')
    s3.put_object(Bucket=data_bucket, Key="incoming/a.jsonl", Body=b'{"id": "2"}\n')
    s3.delete_object(Bucket=data_bucket, Key="incoming/a.jsonl")
    versions = s3.list_object_versions(Bucket=data_bucket)
    assert len(versions["Versions"]) >= 2 and versions["DeleteMarkers"]
    client(server, "dynamodb").put_item(
        TableName=f"{PREFIX}-data", Item={"id": {"S": "1"}, "timestamp": {"N": "1"}}
    )
    keys = {
        region: client(server, "kms", region).describe_key(KeyId=f"alias/{PREFIX}-baseline")["KeyMetadata"][
            "KeyId"
        ]
        for region in REGIONS
    }

    # An account left by the teardown's earlier order in the home region: functions and roles gone,
    # the network kept. Lambda cannot delete the interfaces without the roles; the teardown does.
    remove_functions_and_roles_by_hand(server, HOME)
    destroy = teardown(server, teardown_destroy_data=True)
    assert destroy.rc == 0, destroy.failed_messages() or destroy.stderr
    deleted = [c for c in destroy.calls if f"{c.service}:{c.operation}" == "ec2:DeleteNetworkInterface"]
    assert len(deleted) == 2, destroy.calls
    assert [t for t in destroy.changed_tasks() if "Network interfaces Lambda left" in t] == [
        f"{HOME}: secureinfra.baseline.teardown : Network interfaces Lambda left in the VPC"
    ]
    assert client(server, "s3").list_buckets()["Buckets"] == []
    for region in REGIONS:
        assert client(server, "dynamodb", region).list_tables()["TableNames"] == []
        kms = client(server, "kms", region)
        metadata = kms.describe_key(KeyId=keys[region])["KeyMetadata"]
        assert metadata["KeyState"] == "PendingDeletion"
        assert (metadata["DeletionDate"] - metadata["CreationDate"]).days >= 29
        assert [
            a for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith(f"alias/{PREFIX}")
        ] == []
        assert tagged(server, region) == [f"arn:aws:kms:{region}:{ACCOUNT}:key/{keys[region]}"]
        assert leftovers(server, region, data_kept=False) == {}

    again = teardown(server, teardown_destroy_data=True)
    assert again.rc == 0, again.stderr
    assert all(again.changed(region) == 0 for region in REGIONS), again.changed_tasks()
    assert mutating(again.calls) == []
