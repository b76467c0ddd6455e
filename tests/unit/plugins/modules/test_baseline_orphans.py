"""secureinfra.baseline.baseline_orphans against in-process moto (with the emulator's tagging
additions, scripts/moto_tagging.py): what carries the baseline's tags and is not managed is found,
kind by kind; reports and check mode write nothing; removal takes everything but the data stores,
which go only with remove_data_stores; a rerun finds nothing more to do."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from unittest import mock

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import baseline_orphans as mod
from moto.ec2.models import ec2_backends

from scripts import moto_tagging

REGION = "us-east-1"
OTHER = "us-west-1"
ACCOUNT = "123456789012"
TAGS = {"ManagedBy": "ansible", "Project": "p"}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
}
# Reads only: the module's report and its check mode may make no other call.
READS = ("Get", "List", "Describe")


def _tag_list(tags: dict[str, str] | None = None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in (TAGS if tags is None else tags).items()]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture
def tagging() -> Iterator[None]:
    """The emulator's GetResources additions (rules, VPC endpoints, trails), undone after the test."""
    with ExitStack() as stack:
        for owner, name, wrapper in moto_tagging._PATCHES:
            stack.enter_context(mock.patch.object(owner, name, wrapper(getattr(owner, name))))
        yield


def _c(service: str, region: str = REGION) -> Any:
    return boto3.client(service, region_name=region)


def _role(name: str, tags: dict[str, str] | None = None) -> str:
    iam = _c("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=_tag_list(tags))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(POLICY))
    return arn


def _function(
    name: str, role: str, tags: dict[str, str] | None = None, vpc: dict[str, Any] | None = None
) -> None:
    extra = {"VpcConfig": vpc} if vpc else {}
    _c("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        Tags=TAGS if tags is None else tags,
        **extra,
    )


@pytest.fixture
def account(aws: None, tagging: None) -> dict[str, Any]:
    """A region the definition manages (names in `managed`), and what an earlier release, a renamed
    setting or a crashed run left with the same tags, plus look-alikes that are not the baseline's."""
    ids: dict[str, Any] = {}
    # -- managed
    role = _role("b-us-east-1-processor")
    _function("b-us-east-1-processor", role)
    _c("sqs").create_queue(QueueName="b-us-east-1-processor-dlq", tags=TAGS)
    logs = _c("logs")
    logs.create_log_group(logGroupName="/aws/lambda/b-us-east-1-processor", tags=TAGS)
    logs.create_log_group(logGroupName="/b/cloudtrail", tags=TAGS)
    for name in ("b-cis-root", "b-cis-old"):  # b-cis-old: a filter the definition no longer has
        logs.put_metric_filter(
            logGroupName="/b/cloudtrail",
            filterName=name,
            filterPattern='{ $.userIdentity.type = "Root" }',
            metricTransformations=[{"metricName": name, "metricNamespace": "CIS", "metricValue": "1"}],
        )
    _c("sns").create_topic(Name="b-alarms", Tags=_tag_list())
    cloudwatch = _c("cloudwatch")
    for name in ("b-lambda-errors-processor", "old-lambda-errors-processor"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="Errors",
            Namespace="AWS/Lambda",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            Tags=_tag_list(),
        )
    events = _c("events")
    events.put_rule(Name="b-us-east-1-analytics", ScheduleExpression="rate(1 hour)", Tags=_tag_list())
    kms = _c("kms")
    key = kms.create_key(Tags=[{"TagKey": k, "TagValue": v} for k, v in TAGS.items()])["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/b-baseline", TargetKeyId=key)
    kms.create_alias(AliasName="alias/b-renamed", TargetKeyId=key)  # an alias setting renamed since
    ids["key"] = key
    ec2 = _c("ec2")

    def tagged(kind: str, name: str) -> list[dict[str, Any]]:
        return [{"ResourceType": kind, "Tags": _tag_list({**TAGS, "Name": name})}]

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tagged("vpc", "b"))["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(
        VpcId=vpc,
        CidrBlock="10.0.1.0/24",
        AvailabilityZone="us-east-1a",
        TagSpecifications=tagged("subnet", "b-0"),
    )["Subnet"]["SubnetId"]
    group = ec2.create_security_group(
        GroupName="b-functions",
        Description="f",
        VpcId=vpc,
        TagSpecifications=tagged("security-group", "b-functions"),
    )["GroupId"]
    table_id = ec2.create_route_table(VpcId=vpc, TagSpecifications=tagged("route-table", "b-0"))[
        "RouteTable"
    ]["RouteTableId"]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[table_id],
        TagSpecifications=tagged("vpc-endpoint", "b-s3"),
    )["VpcEndpoint"]["VpcEndpointId"]
    ids["ec2"] = [vpc, subnet, group, table_id, endpoint]
    s3 = _c("s3")
    s3.create_bucket(Bucket="b-data")
    s3.put_bucket_tagging(Bucket="b-data", Tagging={"TagSet": _tag_list()})
    ddb = _c("dynamodb")
    ddb.create_table(
        TableName="b-data",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=_tag_list(),
    )
    s3.create_bucket(Bucket="b-trail")
    _c("cloudtrail").create_trail(
        Name="b-trail", S3BucketName="b-trail", IsMultiRegionTrail=True, TagsList=_tag_list()
    )
    _role("b-cloudtrail-to-logs")

    # -- orphans: 0.1.0's key rotation in this (non-home) region, a renamed prefix, a crashed run
    old_role = _role("b-us-east-1-key_rotation")
    _function("b-us-east-1-key_rotation", old_role)
    _c("sqs").create_queue(QueueName="b-us-east-1-key_rotation-dlq", tags=TAGS)
    logs.create_log_group(logGroupName="/aws/lambda/b-us-east-1-key_rotation", tags=TAGS)
    events.put_rule(Name="b-us-east-1-key_rotation", ScheduleExpression="rate(1 day)", Tags=_tag_list())
    events.put_targets(
        Rule="b-us-east-1-key_rotation",
        Targets=[{"Id": "f", "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:b-us-east-1-key_rotation"}],
    )
    _c("sns").create_topic(Name="old-alarms", Tags=_tag_list())
    lost = kms.create_key(Tags=[{"TagKey": k, "TagValue": v} for k, v in TAGS.items()])["KeyMetadata"][
        "KeyId"
    ]
    ids["lost_key"] = lost  # a crashed run: CreateKey answered, CreateAlias never sent
    old_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=tagged("vpc", "b"))["Vpc"]["VpcId"]
    old_subnet = ec2.create_subnet(
        VpcId=old_vpc,
        CidrBlock="10.1.1.0/24",
        AvailabilityZone="us-east-1a",
        TagSpecifications=tagged("subnet", "b-0"),
    )["Subnet"]["SubnetId"]
    old_table = ec2.create_route_table(VpcId=old_vpc, TagSpecifications=tagged("route-table", "b-0"))[
        "RouteTable"
    ]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=old_table, SubnetId=old_subnet)
    ids["old_ec2"] = [old_vpc, old_subnet, old_table]
    s3.create_bucket(Bucket="old-data")
    s3.put_bucket_tagging(Bucket="old-data", Tagging={"TagSet": _tag_list()})
    s3.put_bucket_versioning(Bucket="old-data", VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket="old-data", Key="incoming/x.json", Body=body)
    s3.delete_object(Bucket="old-data", Key="incoming/x.json")  # a delete marker too
    ddb.create_table(
        TableName="old-data",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=True,
        Tags=_tag_list(),
    )
    _role("old-cloudtrail-to-logs")  # named for no region: the home region's host answers for it

    # -- not the baseline's, or not this host's
    _role("b-us-west-1-processor")  # another region's host answers for it
    _role("someone-else", tags={"ManagedBy": "terraform"})
    _c("sqs").create_queue(QueueName="other-project-dlq", tags={"ManagedBy": "ansible", "Project": "other"})
    west = _c("s3", OTHER)
    west.create_bucket(Bucket="b-data-west", CreateBucketConfiguration={"LocationConstraint": OTHER})
    west.put_bucket_tagging(Bucket="b-data-west", Tagging={"TagSet": _tag_list()})
    _c("sqs", OTHER).create_queue(QueueName="b-us-west-1-key_rotation-dlq", tags=TAGS)
    return ids


def _args(account: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "tags": TAGS,
        "managed": {
            "functions": ["b-us-east-1-processor"],
            "queues": ["b-us-east-1-processor-dlq"],
            "topics": ["b-alarms"],
            "log_groups": ["/aws/lambda/b-us-east-1-processor", "/b/cloudtrail"],
            "metric_filters": [{"log_group": "/b/cloudtrail", "names": ["b-cis-root"]}],
            "alarms": ["b-lambda-errors-processor"],
            "rules": ["b-us-east-1-analytics"],
            "key_aliases": ["alias/b-baseline"],
            "buckets": ["b-data", "b-trail"],
            "tables": ["b-data"],
            "trails": ["b-trail"],
            "ec2_ids": account["ec2"],
        },
        "iam": {
            "roles": ["b-us-east-1-processor", "b-cloudtrail-to-logs"],
            "regions": [REGION, OTHER],
            "home": True,
        },
    }
    args.update(overrides)
    return args


def _found(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(o["kind"], o["name"], o["action"]) for o in result["orphans"]]


def _writes(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.startswith(READS)]


def expected(account: dict[str, Any], action: str, data_action: str) -> list[tuple[str, str, str]]:
    """Every orphan of the account fixture, in removal order."""
    old_vpc, old_subnet, old_table = account["old_ec2"]
    return [
        ("EventBridge rule", "b-us-east-1-key_rotation", action),
        ("CloudWatch alarm", "old-lambda-errors-processor", action),
        ("metric filter", "/b/cloudtrail:b-cis-old", action),
        ("lambda function", "b-us-east-1-key_rotation", action),
        ("SQS queue", "b-us-east-1-key_rotation-dlq", action),
        ("SNS topic", "old-alarms", action),
        ("log group", "/aws/lambda/b-us-east-1-key_rotation", action),
        ("KMS alias", "alias/b-renamed", action),
        ("subnet", old_subnet, action),
        ("route table", old_table, action),
        ("VPC", old_vpc, action),
        ("IAM role", "b-us-east-1-key_rotation", action),
        ("IAM role", "old-cloudtrail-to-logs", action),
        ("DynamoDB table", "old-data", data_action),
        ("S3 bucket", "old-data", data_action),
        ("KMS key", account["lost_key"], data_action),
    ]


def test_a_report_lists_every_orphan_and_writes_nothing(account, calls, run_module) -> None:
    result = run_module(mod, _args(account))
    assert result["changed"] is False
    assert _found(result) == expected(account, "reported", "reported")
    assert _writes(calls) == []
    by_name = {(o["kind"], o["name"]): o for o in result["orphans"]}
    function = by_name["lambda function", "b-us-east-1-key_rotation"]
    assert function["region"] == REGION and function["arn"].endswith(":function:b-us-east-1-key_rotation")
    assert function["why"] == (
        "carries ManagedBy=ansible, Project=p; "
        "not one of the lambda functions the definition manages in us-east-1"
    )
    assert by_name["IAM role", "old-cloudtrail-to-logs"]["region"] == "global"
    assert "none of the account's regions" in by_name["IAM role", "old-cloudtrail-to-logs"]["why"]
    assert "it has no alias" in by_name["KMS key", account["lost_key"]]["why"]
    assert [o["data_store"] for o in result["orphans"]][-3:] == [True, True, True]
    assert result["msg"].startswith("16 orphan(s): EventBridge rule b-us-east-1-key_rotation (reported)")


def test_check_mode_predicts_the_removal_and_writes_nothing(account, calls, run_module) -> None:
    result = run_module(mod, _args(account, remove=True), check_mode=True, diff=True)
    assert result["changed"] is True
    assert _found(result) == expected(account, "would remove", "kept, a data store")
    assert _writes(calls) == []
    assert "SQS queue b-us-east-1-key_rotation-dlq" in result["diff"]["before"]["orphans"]
    assert result["diff"]["after"]["orphans"] == [
        "DynamoDB table old-data",
        "S3 bucket old-data",
        f"KMS key {account['lost_key']}",
    ]


def test_removal_takes_the_orphans_and_keeps_the_data_stores_and_what_is_managed(
    account, calls, run_module
) -> None:
    result = run_module(mod, _args(account, remove=True))
    assert result["changed"] is True
    assert _found(result) == expected(account, "removed", "kept, a data store")
    assert [f["FunctionName"] for f in _c("lambda").list_functions()["Functions"]] == [
        "b-us-east-1-processor"
    ]
    queues = sorted(url.rsplit("/", 1)[1] for url in _c("sqs").list_queues()["QueueUrls"])
    assert queues == ["b-us-east-1-processor-dlq", "other-project-dlq"]
    assert [r["Name"] for r in _c("events").list_rules()["Rules"]] == ["b-us-east-1-analytics"]
    filters = _c("logs").describe_metric_filters(logGroupName="/b/cloudtrail")["metricFilters"]
    assert [f["filterName"] for f in filters] == ["b-cis-root"]
    aliases = [
        a["AliasName"]
        for a in _c("kms").list_aliases()["Aliases"]
        if not a["AliasName"].startswith("alias/aws/")
    ]
    assert aliases == ["alias/b-baseline"]
    vpcs = [v["VpcId"] for v in _c("ec2").describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    assert vpcs == [account["ec2"][0]]
    roles = sorted(r["RoleName"] for r in _c("iam").list_roles()["Roles"])
    assert roles == ["b-cloudtrail-to-logs", "b-us-east-1-processor", "b-us-west-1-processor", "someone-else"]
    # data stores stay, with their data
    assert _c("dynamodb").describe_table(TableName="old-data")["Table"]["TableStatus"] == "ACTIVE"
    assert len(_c("s3").list_object_versions(Bucket="old-data")["Versions"]) == 2
    assert _c("kms").describe_key(KeyId=account["lost_key"])["KeyMetadata"]["KeyState"] == "Enabled"
    # the other region's queue and bucket are that region's host's business
    assert _c("sqs", OTHER).list_queues()["QueueUrls"][0].endswith("b-us-west-1-key_rotation-dlq")
    calls.clear()

    again = run_module(mod, _args(account, remove=True))
    assert again["changed"] is False
    assert _found(again) == [
        o for o in expected(account, "removed", "kept, a data store") if o[2] != "removed"
    ]
    assert _writes(calls) == []


def test_removal_of_data_stores_is_a_second_opt_in(account, calls, run_module) -> None:
    run_module(mod, _args(account, remove=True, remove_data_stores=True))
    tables = _c("dynamodb").list_tables()["TableNames"]
    assert tables == ["b-data"]
    assert sorted(b["Name"] for b in _c("s3").list_buckets()["Buckets"]) == [
        "b-data",
        "b-data-west",
        "b-trail",
    ]
    key = _c("kms").describe_key(KeyId=account["lost_key"])["KeyMetadata"]
    assert key["KeyState"] == "PendingDeletion"
    assert _c("kms").describe_key(KeyId=account["key"])["KeyMetadata"]["KeyState"] == "Enabled"
    calls.clear()
    again = run_module(mod, _args(account, remove=True, remove_data_stores=True))
    assert again["changed"] is False and again["orphans"] == [] and "msg" not in again
    assert _writes(calls) == []


def test_a_region_host_answers_only_for_the_roles_named_for_its_region(account, run_module) -> None:
    args = _args(
        account,
        managed=None,
        iam={"roles": ["b-us-west-1-processor"], "regions": [REGION, OTHER], "home": False},
    )
    west = run_module(mod, {**args, "region": OTHER})
    assert _found(west) == []
    args["iam"]["roles"] = []
    west = run_module(mod, {**args, "region": OTHER})
    assert _found(west) == [("IAM role", "b-us-west-1-processor", "reported")]
    home = run_module(mod, _args(account, managed=None))
    assert [o["name"] for o in home["orphans"]] == ["b-us-east-1-key_rotation", "old-cloudtrail-to-logs"]


def test_a_managed_resource_is_never_an_orphan_whatever_its_tags(account, run_module) -> None:
    args = _args(account)
    args["managed"]["functions"].append("b-us-east-1-key_rotation")
    args["managed"]["ec2_ids"] += account["old_ec2"]
    args["managed"]["key_aliases"].append("alias/b-renamed")
    names = [o["name"] for o in run_module(mod, args)["orphans"]]
    assert "b-us-east-1-key_rotation" in names  # the IAM role and rule of that name are still orphans
    assert [o["kind"] for o in run_module(mod, args)["orphans"]].count("lambda function") == 0
    assert not set(account["old_ec2"]) & set(names) and "alias/b-renamed" not in names


def test_alarms_another_module_purges_by_prefix_are_left_to_it(account, run_module) -> None:
    args = _args(account)
    args["managed"]["alarm_prefixes"] = ["old-"]
    kinds = [o["kind"] for o in run_module(mod, args)["orphans"]]
    assert "CloudWatch alarm" not in kinds and len(kinds) == 15


def test_other_tags_are_not_the_baselines(account, run_module) -> None:
    result = run_module(mod, _args(account, tags={"ManagedBy": "ansible", "Project": "other"}))
    assert _found(result) == [("SQS queue", "other-project-dlq", "reported")]


def test_a_removed_vpc_function_releases_its_interfaces_before_its_role_goes(aws, tagging, calls, run_module):
    ec2 = _c("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="f", Description="f", VpcId=vpc)["GroupId"]
    role = _role("b-us-east-1-old")
    _function("b-us-east-1-old", role, vpc={"SubnetIds": [subnet], "SecurityGroupIds": [group]})
    backend = ec2_backends[ACCOUNT][REGION]
    eni = backend.create_network_interface(
        backend.get_subnet(subnet),
        None,
        group_ids=[group],
        description="AWS Lambda VPC ENI-b-us-east-1-old-1",
    )
    eni.requester_managed, eni.status = True, "available"  # released, not deleted (Lambda lacked the role)
    result = run_module(
        mod, {"tags": TAGS, "managed": {}, "iam": {"regions": [REGION], "home": True}, "remove": True}
    )
    assert _found(result) == [
        ("lambda function", "b-us-east-1-old", "removed"),
        ("IAM role", "b-us-east-1-old", "removed"),
    ]
    assert (
        ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet]}])[
            "NetworkInterfaces"
        ]
        == []
    )
    order = [c for c in calls if c in ("DeleteFunction", "DeleteNetworkInterface", "DeleteRole")]
    assert order == ["DeleteFunction", "DeleteNetworkInterface", "DeleteRole"]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"tags": {}}, "tags: at least one tag"),
        ({"tags": {"Project": ""}}, "tags.Project: a tag value must be a non-empty string"),
        ({"managed": None, "iam": None}, "managed or iam: give at least one"),
        ({"remove_data_stores": True}, "remove_data_stores: needs remove as well"),
        ({"network_release_timeout": -1}, "network_release_timeout: 0 or more seconds"),
        (
            {"managed": {"key_aliases": ["b-baseline"]}},
            "managed.key_aliases[0]: b-baseline must start with alias/",
        ),
    ],
)
def test_bad_input_fails_before_any_call(calls, run_module, overrides: dict[str, Any], words: str) -> None:
    args = {"tags": TAGS, "managed": {}, "iam": None, **overrides}
    result = run_module(mod, args, expect_failure=True)
    assert words in result["msg"]
    assert calls == []


@pytest.mark.parametrize(
    ("name", "region", "named"),
    [
        ("b-us-west-1-processor", "us-west-1", True),
        ("b-us-west-1", "us-west-1", True),
        ("us-west-1-x", "us-west-1", True),
        ("b-us-west-10-x", "us-west-1", False),
        ("b-cloudtrail-to-logs", "us-east-1", False),
    ],
)
def test_a_role_names_a_region_as_a_whole_part(name: str, region: str, named: bool) -> None:
    assert mod.names_region(name, region) is named


def test_roles_are_listed_without_the_account_details_and_tags_read_for_candidates_only(
    account, calls_with_params, run_module
) -> None:
    """ListRoles (names, paths, ARNs), not GetAccountAuthorizationDetails (throttled, every policy of
    the account); ListRoleTags only for the roles not managed that this host answers for (not the
    managed ones, not another region's, not a service-linked one); at removal the role's policies and
    instance profiles are read (ListRolePolicies, ListAttachedRolePolicies,
    ListInstanceProfilesForRole) and removed before the role."""
    iam = _c("iam")
    iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")
    managed = iam.create_policy(PolicyName="b-old", PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="old-cloudtrail-to-logs", PolicyArn=managed)
    iam.create_instance_profile(InstanceProfileName="b-old")
    iam.add_role_to_instance_profile(InstanceProfileName="b-old", RoleName="old-cloudtrail-to-logs")
    calls_with_params.clear()
    args = _args(account, managed=None, remove=True)
    result = run_module(mod, args)
    assert _found(result) == [
        ("IAM role", "b-us-east-1-key_rotation", "removed"),
        ("IAM role", "old-cloudtrail-to-logs", "removed"),
    ]
    operations = [operation for operation, _ in calls_with_params]
    assert "GetAccountAuthorizationDetails" not in operations
    assert "ListRoles" in operations
    tagged = sorted(params["RoleName"] for op, params in calls_with_params if op == "ListRoleTags")
    assert tagged == ["b-us-east-1-key_rotation", "old-cloudtrail-to-logs", "someone-else"]
    mine = [op for op, params in calls_with_params if params.get("RoleName") == "old-cloudtrail-to-logs"]
    assert mine == [
        "ListRoleTags",
        "ListRolePolicies",
        "ListAttachedRolePolicies",
        "ListInstanceProfilesForRole",
        "DeleteRolePolicy",
        "DetachRolePolicy",
        "RemoveRoleFromInstanceProfile",
        "DeleteRole",
    ]
    roles = sorted(
        r["RoleName"] for r in iam.list_roles()["Roles"] if not r["Path"].startswith("/aws-service-role/")
    )
    assert len(iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]) == 1  # never a candidate
    assert roles == [
        "b-cloudtrail-to-logs",
        "b-us-east-1-processor",
        "b-us-west-1-processor",
        "someone-else",
    ]
    assert iam.get_instance_profile(InstanceProfileName="b-old")["InstanceProfile"]["Roles"] == []

    calls_with_params.clear()
    check = run_module(mod, args, check_mode=True, diff=True)
    assert check["changed"] is False and check["orphans"] == []
    assert [op for op, _ in calls_with_params if not op.startswith(READS)] == []
