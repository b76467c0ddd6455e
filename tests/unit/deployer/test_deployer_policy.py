"""Unit tests of scripts/deployer_policy.py: recorded request -> IAM action(s) -> policy."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from scripts import deployer_policy as dp

ACCOUNT = "123456789012"


def entry(
    signing: str,
    method: str,
    url: str,
    body: str | dict[str, Any] = "",
    target: str = "",
    region: str = "us-east-1",
) -> dict[str, Any]:
    """A request as moto's recorder stores it."""
    headers = {
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/{region}/{signing}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )
    }
    if target:
        headers["X-Amz-Target"] = target
    text = json.dumps(body) if isinstance(body, dict) else body
    return {
        "headers": headers,
        "method": method,
        "url": f"http://127.0.0.1:4660{url}",
        "body": base64.b64encode(text.encode()).decode(),
        "body_encoded": True,
    }


def actions(request: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(p.action, p.resource) for p in dp.permissions(request)]


BUCKET = "secureinfra-data-123456789012-us-east-1"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("PUT", f"/{BUCKET}?logging", "s3:PutBucketLogging"),
        ("GET", f"/{BUCKET}?logging", "s3:GetBucketLogging"),
        ("PUT", f"/{BUCKET}?encryption", "s3:PutEncryptionConfiguration"),
        ("GET", f"/{BUCKET}?encryption", "s3:GetEncryptionConfiguration"),
        ("GET", f"/{BUCKET}?versioning", "s3:GetBucketVersioning"),
        ("PUT", f"/{BUCKET}?versioning", "s3:PutBucketVersioning"),
        ("HEAD", f"/{BUCKET}", "s3:ListBucket"),
        ("GET", f"/{BUCKET}?list-type=2&prefix=a", "s3:ListBucket"),
        ("PUT", f"/{BUCKET}", "s3:CreateBucket"),
        ("PUT", f"/{BUCKET}?publicAccessBlock", "s3:PutBucketPublicAccessBlock"),
        ("GET", f"/{BUCKET}?publicAccessBlock", "s3:GetBucketPublicAccessBlock"),
        ("PUT", f"/{BUCKET}?ownershipControls", "s3:PutBucketOwnershipControls"),
        ("PUT", f"/{BUCKET}?lifecycle", "s3:PutLifecycleConfiguration"),
        ("DELETE", f"/{BUCKET}?lifecycle", "s3:PutLifecycleConfiguration"),
        ("GET", f"/{BUCKET}?inventory", "s3:GetInventoryConfiguration"),
        ("GET", f"/{BUCKET}?metrics&id=EntireBucket", "s3:GetMetricsConfiguration"),
        ("PUT", f"/{BUCKET}?metrics&id=EntireBucket", "s3:PutMetricsConfiguration"),
        ("GET", f"/{BUCKET}?object-lock", "s3:GetBucketObjectLockConfiguration"),
        ("GET", f"/{BUCKET}?accelerate", "s3:GetAccelerateConfiguration"),
        ("GET", f"/{BUCKET}?notification", "s3:GetBucketNotification"),
        ("PUT", f"/{BUCKET}?notification", "s3:PutBucketNotification"),
        ("GET", f"/{BUCKET}?acl", "s3:GetBucketAcl"),
        ("PUT", f"/{BUCKET}?policy", "s3:PutBucketPolicy"),
        ("GET", f"/{BUCKET}?cors", "s3:GetBucketCORS"),
    ],
)
def test_s3_rest_calls_map_to_their_iam_action(method: str, path: str, action: str) -> None:
    assert actions(entry("s3", method, path)) == [(action, BUCKET_ARN)]


def test_s3_object_and_account_level_calls() -> None:
    assert actions(entry("s3", "HEAD", f"/{BUCKET}/a/b.json")) == [("s3:GetObject", f"{BUCKET_ARN}/a/b.json")]
    assert actions(entry("s3", "PUT", f"/{BUCKET}/k")) == [("s3:PutObject", f"{BUCKET_ARN}/k")]
    # ListAllMyBuckets has no resource type: no ARN is derived for it.
    assert actions(entry("s3", "GET", "/")) == [("s3:ListAllMyBuckets", None)]


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("GET", "s3:GetAccountPublicAccessBlock"),
        ("PUT", "s3:PutAccountPublicAccessBlock"),
        ("DELETE", "s3:PutAccountPublicAccessBlock"),
    ],
)
def test_s3_control_account_public_access_block(method: str, action: str) -> None:
    # S3 Control signs as "s3"; its GetPublicAccessBlock is the account's, not a bucket's.
    request = entry("s3", method, "/v20180820/configuration/publicAccessBlock")
    assert actions(request) == [(action, None)]
    assert dp.unknown_calls([request]) == []


def test_delete_objects_needs_delete_object_and_for_versions_delete_object_version() -> None:
    body = "<Delete><Object><Key>a</Key><VersionId>v1</VersionId></Object></Delete>"
    assert actions(entry("s3", "POST", f"/{BUCKET}?delete", body)) == [
        ("s3:DeleteObject", f"{BUCKET_ARN}/*"),
        ("s3:DeleteObjectVersion", f"{BUCKET_ARN}/*"),
    ]
    plain = "<Delete><Object><Key>a</Key></Object></Delete>"
    expected = [("s3:DeleteObject", f"{BUCKET_ARN}/*")]
    assert actions(entry("s3", "POST", f"/{BUCKET}?delete", plain)) == expected


def test_create_bucket_with_object_ownership_needs_put_bucket_ownership_controls() -> None:
    plain = entry("s3", "PUT", f"/{BUCKET}")
    assert actions(plain) == [("s3:CreateBucket", BUCKET_ARN)]
    owned = entry("s3", "PUT", f"/{BUCKET}")
    owned["headers"]["x-amz-object-ownership"] = "BucketOwnerEnforced"
    assert actions(owned) == [
        ("s3:CreateBucket", BUCKET_ARN),
        ("s3:PutBucketOwnershipControls", BUCKET_ARN),
    ]


FUNCTION = "secureinfra-us-east-1-processor"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FUNCTION}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{FUNCTION}"


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("PUT", f"/2017-10-31/functions/{FUNCTION}/concurrency", "lambda:PutFunctionConcurrency"),
        ("GET", f"/2019-09-30/functions/{FUNCTION}/concurrency", "lambda:GetFunctionConcurrency"),
        ("GET", f"/2015-03-31/functions/{FUNCTION}", "lambda:GetFunction"),
        ("GET", f"/2015-03-31/functions/{FUNCTION}/configuration", "lambda:GetFunctionConfiguration"),
        ("GET", f"/2015-03-31/functions/{FUNCTION}/policy", "lambda:GetPolicy"),
        ("POST", f"/2015-03-31/functions/{FUNCTION}/policy", "lambda:AddPermission"),
        ("PUT", f"/2015-03-31/functions/{FUNCTION}/code", "lambda:UpdateFunctionCode"),
    ],
)
def test_lambda_rest_calls_map_to_their_iam_action(method: str, path: str, action: str) -> None:
    assert actions(entry("lambda", method, path)) == [(action, FUNCTION_ARN)]


def test_lambda_account_settings_has_no_resource() -> None:
    assert actions(entry("lambda", "GET", "/2016-08-19/account-settings")) == [
        ("lambda:GetAccountSettings", None)
    ]


def test_create_function_needs_pass_role_and_vpc_reads() -> None:
    body = {
        "FunctionName": FUNCTION,
        "Role": ROLE_ARN,
        "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
        "Tags": {"Project": "x"},
    }
    found = actions(entry("lambda", "POST", "/2015-03-31/functions", body))
    assert ("lambda:CreateFunction", FUNCTION_ARN) in found
    assert ("iam:PassRole", ROLE_ARN) in found
    assert {a for a, _ in found} >= {
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "lambda:TagResource",
    }


def test_update_configuration_passes_a_role_only_when_it_sets_one() -> None:
    path = f"/2015-03-31/functions/{FUNCTION}/configuration"
    assert [a for a, _ in actions(entry("lambda", "PUT", path, {"Timeout": 30}))] == [
        "lambda:UpdateFunctionConfiguration"
    ]
    with_role = actions(entry("lambda", "PUT", path, {"Role": ROLE_ARN}))
    assert ("iam:PassRole", ROLE_ARN) in with_role


def test_table_under_our_key_needs_the_kms_actions_dynamodb_uses() -> None:
    target = "DynamoDB_20120810.CreateTable"
    plain = actions(entry("dynamodb", "POST", "/", {"TableName": "secureinfra-data"}, target))
    assert plain == [("dynamodb:CreateTable", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/secureinfra-data")]
    body = {"TableName": "secureinfra-data", "SSESpecification": {"KMSMasterKeyId": "arn:aws:kms:x"}}
    cmk = {a for a, _ in actions(entry("dynamodb", "POST", "/", body, target))}
    assert cmk == {"dynamodb:CreateTable", "kms:CreateGrant", "kms:DescribeKey"}


def test_trail_with_log_delivery_passes_its_role_to_cloudtrail() -> None:
    target = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail"
    body = {
        "Name": "secureinfra-trail",
        "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/secureinfra-ct",
    }
    found = actions(entry("cloudtrail", "POST", "/", body, target))
    assert (
        "cloudtrail:CreateTrail",
        f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/secureinfra-trail",
    ) in found
    assert ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/secureinfra-ct") in found
    assert ("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/secureinfra-ct") in found
    without_logs = actions(entry("cloudtrail", "POST", "/", {"Name": "secureinfra-trail"}, target))
    assert [a for a, _ in without_logs] == ["cloudtrail:CreateTrail"]


def test_query_protocols_and_signing_names() -> None:
    alarm = entry(
        "monitoring", "POST", "/", "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=secureinfra-x"
    )
    assert actions(alarm) == [
        ("cloudwatch:PutMetricAlarm", f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:secureinfra-x")
    ]
    tagged = entry(
        "ec2", "POST", "/", "Action=CreateVpc&CidrBlock=10.0.0.0/16&TagSpecification.1.ResourceType=vpc"
    )
    assert [a for a, _ in actions(tagged)] == ["ec2:CreateVpc", "ec2:CreateTags"]
    role = entry("iam", "POST", "/", "Action=GetRole&RoleName=secureinfra-r")
    assert actions(role) == [("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/secureinfra-r")]


def test_calls_without_permission_or_credentials_need_nothing() -> None:
    assert actions(entry("sts", "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15")) == []
    unsigned = entry("s3", "GET", "/")
    unsigned["headers"] = {}
    assert actions(unsigned) == []


def test_an_unmapped_request_is_reported_not_guessed() -> None:
    odd = entry("s3", "PATCH", f"/{BUCKET}?nothing")
    assert dp.unknown_calls([odd]) == [
        f"s3:UNKNOWN PATCH /{BUCKET}?nothing (from s3:UNKNOWN PATCH /{BUCKET}?nothing)"
    ]
    misspelt = entry("kms", "POST", "/", {}, "TrentService.DescribeKeys")
    assert dp.unknown_calls([misspelt]) == ["kms:DescribeKeys (from kms:DescribeKeys)"]


def test_every_mapped_and_extra_action_exists_in_the_reference() -> None:
    for operation, action in dp.S3_ACTIONS.items():
        assert dp.known_action(f"s3:{action}"), operation
    for extra in dp.EXTRA_ACTIONS:
        assert dp.known_action(extra.api_action), extra
        assert all(dp.known_action(a) for a in extra.actions), extra
        assert extra.source.startswith("https://docs.aws.amazon.com/"), extra
    for action in dp.CONDITIONS:
        assert dp.known_action(action)


def test_scope_follows_the_reference_resource_types() -> None:
    assert dp.scope("s3:PutBucketLogging") == ("arn:{partition}:s3:::{prefix}-*",)
    assert dp.scope("ec2:DescribeVpcs") == ("*",)
    assert dp.scope("ec2:CreateVpc") == ("*",)  # a VPC has no name we control
    assert dp.scope("kms:CreateKey") == ("*",)
    assert dp.scope("kms:CreateAlias") == (
        "arn:{partition}:kms:*:{account}:alias/{prefix}-*",
        "arn:{partition}:kms:*:{account}:key/*",
    )
    assert dp.scope("logs:PutRetentionPolicy") == dp.RESOURCE_PATTERNS[("logs", "log-group")]


def _policy(requests: list[dict[str, Any]]) -> dict[str, Any]:
    return dp.render(dp.policy_from_entries(requests), "secureinfra", "aws", "*")


def _statement(policy: dict[str, Any], action: str) -> dict[str, Any]:
    found = [
        s
        for s in policy["Statement"]
        if action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert len(found) == 1, (action, found)
    return found[0]


def test_policy_scopes_named_resources_and_conditions_pass_role() -> None:
    body = {"FunctionName": FUNCTION, "Role": ROLE_ARN}
    policy = _policy(
        [
            entry("s3", "PUT", f"/{BUCKET}?logging"),
            entry("ec2", "POST", "/", "Action=DescribeVpcs"),
            entry("lambda", "POST", "/2015-03-31/functions", body),
            entry("iam", "POST", "/", f"Action=GetRole&RoleName={FUNCTION}"),
        ]
    )
    # GetRole: the project's roles and the security services' service-linked roles (Config's is read)
    get_role = _statement(policy, "iam:GetRole")["Resource"]
    assert get_role[0] == "arn:aws:iam::*:role/secureinfra-*"
    assert len(get_role) == 5 and all("/aws-service-role/" in arn for arn in get_role[1:])
    assert _statement(policy, "s3:PutBucketLogging")["Resource"] == "arn:aws:s3:::secureinfra-*"
    assert _statement(policy, "ec2:DescribeVpcs")["Resource"] == "*"
    assert (
        _statement(policy, "lambda:CreateFunction")["Resource"] == "arn:aws:lambda:*:*:function:secureinfra-*"
    )
    pass_role = _statement(policy, "iam:PassRole")
    assert pass_role["Resource"] == "arn:aws:iam::*:role/secureinfra-*"
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    assert dp.action_count(policy) == 5


def test_a_request_outside_the_project_names_leaves_the_action_unscoped() -> None:
    policy = _policy(
        [entry("s3", "GET", f"/{BUCKET}?versioning"), entry("s3", "GET", "/someone-else?versioning")]
    )
    assert _statement(policy, "s3:GetBucketVersioning")["Resource"] == "*"
    listing = _policy([entry("monitoring", "POST", "/", "Action=DescribeAlarms")])
    assert _statement(listing, "cloudwatch:DescribeAlarms")["Resource"] == "*"


def test_create_grant_is_limited_to_grants_for_aws_resources() -> None:
    body = {"TableName": "secureinfra-data", "SSESpecification": {"KMSMasterKeyId": "k"}}
    policy = _policy([entry("dynamodb", "POST", "/", body, "DynamoDB_20120810.CreateTable")])
    grant = _statement(policy, "kms:CreateGrant")
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert "kms:DescribeKey" not in grant["Action"]


def test_policy_output_is_deterministic() -> None:
    requests = [
        entry("s3", "PUT", f"/{BUCKET}?logging"),
        entry("s3", "PUT", f"/{BUCKET}?versioning"),
        entry("ec2", "POST", "/", "Action=DescribeVpcs"),
    ]
    assert dp.dump(_policy(requests)) == dp.dump(_policy(list(reversed(requests))))
    policy = _policy(requests)
    assert [s["Sid"] for s in policy["Statement"]] == sorted(s["Sid"] for s in policy["Statement"])
    assert _statement(policy, "s3:PutBucketLogging")["Action"] == [
        "s3:PutBucketLogging",
        "s3:PutBucketVersioning",
    ]


def test_render_and_template_round_trip_the_shipped_file() -> None:
    shipped = json.loads(dp.POLICY_PATH.read_text())
    patterns = dp.template(shipped, "secureinfra", "aws", "*")
    assert dp.render(patterns, "secureinfra", "aws", "*") == shipped
    other = json.dumps(dp.render(patterns, "myco", "aws-cn", "111122223333"))
    assert "secureinfra" not in other
    assert "arn:aws-cn:s3:::myco-*" in other
    assert "arn:aws-cn:iam::111122223333:role/myco-*" in other
    assert "arn:aws:" not in other


def test_shipped_file_is_what_the_generator_writes() -> None:
    text = dp.POLICY_PATH.read_text()
    policy = json.loads(text)
    assert dp.dump(policy) == text
    assert all(
        dp.known_action(a)
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )


def test_tagging_calls_name_their_resource_by_arn() -> None:
    tags = entry("lambda", "GET", f"/2017-03-31/tags/{FUNCTION_ARN.replace(':', '%3A')}")
    assert actions(tags) == [("lambda:ListTags", FUNCTION_ARN)]
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/secureinfra/cloudtrail"
    logs = entry("logs", "POST", "/", {"resourceArn": group}, "Logs_20140328.ListTagsForResource")
    assert actions(logs) == [("logs:ListTagsForResource", group)]
    trail = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListTags"
    listed = entry("cloudtrail", "POST", "/", {"ResourceIdList": ["secureinfra-trail"]}, trail)
    assert actions(listed) == [
        ("cloudtrail:ListTags", f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/secureinfra-trail")
    ]


@pytest.mark.parametrize("operation", ["PutParameter", "GetParameter", "DeleteParameter"])
def test_the_state_lock_is_scoped_to_its_parameter_and_marker(operation: str) -> None:
    lock = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/secureinfra/baseline/lock"
    found = actions(
        entry("ssm", "POST", "/", {"Name": "/secureinfra/baseline/lock"}, f"AmazonSSM.{operation}")
    )
    assert found == [(f"ssm:{operation}", lock)]
    [pattern] = dp.scope(f"ssm:{operation}")
    rendered = dp.render({"p": pattern}, "secureinfra", "aws", "*")["p"]
    assert dp.glob_match(rendered, lock) and dp.glob_match(rendered, lock + "-break")
    assert not dp.glob_match(rendered, f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/other/baseline/lock")


CONFIG_ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
HUB_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/securityhub.amazonaws.com/AWSServiceRoleForSecurityHub"
)


def _security_services_requests() -> list[dict[str, Any]]:
    recorder = {"ConfigurationRecorder": {"name": "secureinfra-us-east-1", "roleARN": CONFIG_ROLE}}
    flow_logs = (
        "Action=CreateFlowLogs&ResourceId.1=vpc-1&ResourceType=VPC&LogGroupName=%2Fsecureinfra%2Fflow-logs"
        f"&DeliverLogsPermissionArn=arn%3Aaws%3Aiam%3A%3A{ACCOUNT}%3Arole%2Fsecureinfra-flow-logs"
        "&TagSpecification.1.ResourceType=vpc-flow-log&TagSpecification.1.Tag.1.Key=Project"
        "&TagSpecification.1.Tag.1.Value=secureinfra"
    )
    return [
        entry("iam", "POST", "/", "Action=GetRole&RoleName=AWSServiceRoleForConfig"),
        entry("iam", "POST", "/", "Action=CreateServiceLinkedRole&AWSServiceName=config.amazonaws.com"),
        entry("config", "POST", "/", recorder, "StarlingDoveService.PutConfigurationRecorder"),
        entry(
            "securityhub", "POST", "/accounts", {"EnableDefaultStandards": False, "Tags": {"Project": "x"}}
        ),
        entry("ec2", "POST", "/", flow_logs),
        entry(
            "access-analyzer", "PUT", "/analyzer", {"analyzerName": "secureinfra-account", "type": "ACCOUNT"}
        ),
        entry("access-analyzer", "DELETE", "/analyzer/secureinfra-account?clientToken=t"),
    ]


def test_service_linked_roles_are_read_created_and_passed_by_name() -> None:
    found = {p for request in _security_services_requests() for p in actions(request)}
    assert ("iam:GetRole", CONFIG_ROLE) in found  # the role's ARN carries its path
    assert ("iam:CreateServiceLinkedRole", CONFIG_ROLE) in found
    # EnableSecurityHub makes the hub's service-linked role on first use, with the caller's permission
    assert ("iam:CreateServiceLinkedRole", HUB_ROLE) in found
    assert ("securityhub:TagResource", None) in {(a, None) for a, _ in found}
    assert ("iam:PassRole", None) in {(a, None) for a, _ in found}
    analyzer = f"arn:aws:access-analyzer:us-east-1:{ACCOUNT}:analyzer/secureinfra-account"
    assert ("access-analyzer:CreateAnalyzer", analyzer) in found
    assert ("access-analyzer:DeleteAnalyzer", analyzer) in found  # named in the path

    policy = _policy(_security_services_requests())
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids)), sids
    create = _statement(policy, "iam:CreateServiceLinkedRole")
    assert create["Action"] == ["iam:CreateServiceLinkedRole"]
    assert CONFIG_ROLE.replace(ACCOUNT, "*") in create["Resource"]
    assert HUB_ROLE.replace(ACCOUNT, "*") in create["Resource"]
    assert create["Condition"]["StringEquals"]["iam:AWSServiceName"] == sorted(
        dp.SERVICE_LINKED_ROLES.values()
    )
    assert _statement(policy, "access-analyzer:DeleteAnalyzer")["Resource"] == (
        "arn:aws:access-analyzer:*:*:analyzer/secureinfra-*"
    )
    passes = [s for s in policy["Statement"] if s["Action"] == "iam:PassRole"]
    by_sid = {s["Sid"]: s for s in passes}
    # the flow logs' delivery role is the project's; the recorder passes Config's service-linked role
    project = by_sid["PassProjectRolesToTheirServices"]
    assert project["Resource"] == "arn:aws:iam::*:role/secureinfra-*"
    assert project["Condition"] == {"StringEquals": {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}}
    linked = by_sid["PassServiceLinkedRolesToTheirServices"]
    assert linked["Resource"] == CONFIG_ROLE.replace(ACCOUNT, "*")
    assert linked["Condition"] == {"StringEquals": {"iam:PassedToService": "config.amazonaws.com"}}


def test_another_service_linked_role_leaves_create_unscoped_but_conditioned() -> None:
    other = entry(
        "iam", "POST", "/", "Action=CreateServiceLinkedRole&AWSServiceName=elasticbeanstalk.amazonaws.com"
    )
    policy = _policy([*_security_services_requests(), other])
    create = _statement(policy, "iam:CreateServiceLinkedRole")
    assert create["Resource"] == "*"
    assert "elasticbeanstalk.amazonaws.com" not in create["Condition"]["StringEquals"]["iam:AWSServiceName"]


def test_the_tagging_api_signs_as_tagging_and_is_authorized_as_tag() -> None:
    """The orphans role's GetResources (Resource Groups Tagging API): signing name `tagging`,
    IAM action `tag:GetResources`, no resource type."""
    request = entry(
        "tagging", "POST", "/", {"ResourcesPerPage": 100}, "ResourceGroupsTaggingAPI_20170126.GetResources"
    )
    assert actions(request) == [("tag:GetResources", None)]
    assert dp.unknown_calls([request]) == []
    assert _statement(_policy([request]), "tag:GetResources")["Resource"] == "*"
