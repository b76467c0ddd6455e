"""The data-path authorizer (scripts/authorizer.py) without an emulator: the request -> action /
resource mapping, the decision over identity, resource, endpoint and key policies, and the
botocore hook on a session (in-process moto)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from scripts import authorizer
from scripts.authorizer import Check, Endpoint, Principal, Protected, checks_for, decide, implied_kms_checks

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-{REGION}-processor"
BUCKET = "app-data"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/app-data"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:app-alarms"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(sid: str, action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource, **extra}


# A table writer: DynamoDB uses the key for it with Decrypt and GenerateDataKey (real-aws.md #5).
TABLE_KEY_WRITES = ["kms:Decrypt", "kms:GenerateDataKey"]
VIA_DYNAMODB = {
    "StringEquals": {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com", "kms:CallerAccount": ACCOUNT}
}
IDENTITY = _policy(
    _allow("ReadIncoming", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/incoming/*"),
    _allow("WriteItems", ["dynamodb:BatchWriteItem", "dynamodb:PutItem"], TABLE),
    _allow("UseKeyThroughDynamoDB", TABLE_KEY_WRITES, KEY, Condition=VIA_DYNAMODB),
)
KEY_POLICY = _policy(
    {
        "Sid": "AccountAdministersKeyThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
)
ENDPOINT_POLICY = _policy(
    {
        "Sid": "ProjectTablesOnly",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:Scan"],
        "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/app-*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
    }
)


def principal(identity: dict[str, Any] | None = None) -> Principal:
    return Principal(ROLE, ACCOUNT, REGION, {"inline policy p of role r": identity or IDENTITY})


# --- mapping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        (
            "s3",
            "GetObject",
            {"Bucket": "b", "Key": "in/x.jsonl"},
            [("s3:GetObject", "arn:aws:s3:::b/in/x.jsonl")],
        ),
        ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, [("s3:GetObject", "arn:aws:s3:::b/k")]),
        (
            "s3",
            "GetObject",
            {"Bucket": "b", "Key": "k", "VersionId": "v1"},
            [("s3:GetObjectVersion", "arn:aws:s3:::b/k")],
        ),
        (
            "s3",
            "PutObject",
            {"Bucket": "b", "Key": "q/r.jsonl"},
            [("s3:PutObject", "arn:aws:s3:::b/q/r.jsonl")],
        ),
        ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "in/"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        (
            "dynamodb",
            "Scan",
            {"TableName": "t"},
            [("dynamodb:Scan", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t")],
        ),
        (
            "dynamodb",
            "BatchWriteItem",
            {"RequestItems": {"t2": [], "t1": []}},
            [
                ("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t1"),
                ("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t2"),
            ],
        ),
        ("sns", "Publish", {"TopicArn": TOPIC, "Message": "m"}, [("sns:Publish", TOPIC)]),
        (
            "sqs",
            "SendMessage",
            {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q-dlq", "MessageBody": "m"},
            [("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q-dlq")],
        ),
        ("iam", "ListUsers", {}, [("iam:ListUsers", "*")]),
        (
            "iam",
            "UpdateAccessKey",
            {"UserName": "alice"},
            [("iam:UpdateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/alice")],
        ),
        ("sts", "GetCallerIdentity", {}, []),
    ],
)
def test_request_maps_to_action_and_resource(service, operation, params, expected) -> None:
    checks = checks_for(service, operation, params, REGION, ACCOUNT)
    assert [(c.action, c.resource) for c in checks] == expected


def test_list_bucket_carries_the_prefix() -> None:
    (check,) = checks_for("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "incoming/"}, REGION, ACCOUNT)
    assert dict(check.context) == {"s3:prefix": "incoming/"}


def test_unmapped_call_is_refused_not_passed() -> None:
    with pytest.raises(authorizer.Unmapped, match="s3:GetBucketAcl has no authorization rule"):
        checks_for("s3", "GetBucketAcl", {"Bucket": "b"}, REGION, ACCOUNT)


@pytest.mark.parametrize(
    ("service", "operation", "actions"),
    [
        ("dynamodb", "Scan", ["kms:Decrypt"]),
        ("dynamodb", "BatchWriteItem", ["kms:GenerateDataKey", "kms:Decrypt"]),
        ("sns", "Publish", ["kms:GenerateDataKey", "kms:Decrypt"]),
        ("sqs", "SendMessage", ["kms:GenerateDataKey", "kms:Decrypt"]),
        ("s3", "PutObject", ["kms:GenerateDataKey"]),
    ],
)
def test_implied_kms_requests(service, operation, actions) -> None:
    primary = Check(f"{service}:{operation}", TABLE, service)
    checks = implied_kms_checks(service, operation, primary, KEY, principal(), {})
    assert [c.action for c in checks] == actions
    assert all(c.resource == KEY and c.service == "kms" for c in checks)
    context = dict(checks[0].context)
    assert context["kms:ViaService"] == f"{service}.{REGION}.amazonaws.com"
    assert context["kms:CallerAccount"] == ACCOUNT
    assert checks[0].via == f"{service}:{operation} on {TABLE}"


def test_no_implied_kms_request_without_a_customer_key() -> None:
    assert (
        implied_kms_checks(
            "dynamodb", "Scan", Check("dynamodb:Scan", TABLE, "dynamodb"), None, principal(), {}
        )
        == []
    )


# --- decisions -------------------------------------------------------------------------------


def test_request_context() -> None:
    endpoint = Endpoint("vpce-1", "s3", {})
    p = principal()
    p.vpc_id = "vpc-1"
    context = authorizer.context_for(Check("s3:GetObject", f"arn:aws:s3:::{BUCKET}/k", "s3"), p, endpoint)
    assert context["aws:SecureTransport"] == "true"
    assert context["aws:PrincipalArn"] == ROLE
    assert context["aws:SourceVpce"] == "vpce-1"
    assert context["aws:SourceVpc"] == "vpc-1"
    assert context["aws:ResourceAccount"] == ACCOUNT


def test_identity_policy_allows() -> None:
    verdict = decide(
        Check("s3:GetObject", f"arn:aws:s3:::{BUCKET}/incoming/a", "s3"), principal(), None, None
    )
    assert verdict.allowed and "ReadIncoming" in verdict.reason


def test_identity_policy_lacking_is_named() -> None:
    verdict = decide(
        Check("s3:PutObject", f"arn:aws:s3:::{BUCKET}/quarantine/a", "s3"), principal(), None, None
    )
    assert not verdict.allowed
    assert "no statement of the identity policies (inline policy p of role r) allows it" in verdict.reason


def test_bucket_policy_explicit_deny_wins() -> None:
    bucket_policy = _policy(
        {
            "Sid": "DenyObjectAccessToAllButListedPrincipals",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/someone-else"}},
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
    protected = Protected(f"bucket policy of {BUCKET}", bucket_policy)
    verdict = decide(
        Check("s3:GetObject", f"arn:aws:s3:::{BUCKET}/incoming/a", "s3"), principal(), protected, None
    )
    assert not verdict.allowed
    assert verdict.reason == (
        "explicitly denied by statement DenyObjectAccessToAllButListedPrincipals"
        f" of the bucket policy of {BUCKET}"
    )


def test_resource_policy_naming_the_role_allows_without_identity_grant() -> None:
    topic_policy = _policy(_allow("RolePublishes", "sns:Publish", TOPIC, Principal={"AWS": ROLE}))
    verdict = decide(
        Check("sns:Publish", TOPIC, "sns"), principal(), Protected("topic policy", topic_policy), None
    )
    assert verdict.allowed and "RolePublishes" in verdict.reason


def test_resource_policy_granting_the_account_only_delegates_to_iam() -> None:
    topic_policy = _policy(
        _allow("AccountManagesTopic", "sns:Publish", TOPIC, Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    )
    verdict = decide(
        Check("sns:Publish", TOPIC, "sns"), principal(), Protected("topic policy", topic_policy), None
    )
    assert not verdict.allowed
    assert verdict.reason.endswith("nor of the topic policy allows it")


def test_endpoint_policy_must_allow_too() -> None:
    endpoint = Endpoint("vpce-ddb", "dynamodb", ENDPOINT_POLICY)
    allowed = decide(Check("dynamodb:BatchWriteItem", TABLE, "dynamodb"), principal(), None, endpoint)
    assert (
        allowed.allowed and "VPC endpoint policy of vpce-ddb allows it (ProjectTablesOnly)" in allowed.reason
    )
    other = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other"
    identity = _policy(_allow("Any", "dynamodb:PutItem", "*"))
    verdict = decide(Check("dynamodb:PutItem", other, "dynamodb"), principal(identity), None, endpoint)
    assert not verdict.allowed
    assert verdict.reason == "no statement of the VPC endpoint policy of vpce-ddb (dynamodb) allows it"


def _kms_check(service: str = "dynamodb") -> Check:
    primary = Check("dynamodb:BatchWriteItem", TABLE, "dynamodb")
    return implied_kms_checks(service, "BatchWriteItem", primary, KEY, principal(), {})[0]


def test_kms_request_needs_identity_grant_when_the_key_policy_delegates() -> None:
    key = Protected(f"key policy of {KEY}", KEY_POLICY)
    verdict = decide(_kms_check(), principal(), key, None)
    assert verdict.allowed and "UseKeyThroughDynamoDB" in verdict.reason
    without = _policy(*[s for s in IDENTITY["Statement"] if s["Sid"] != "UseKeyThroughDynamoDB"])
    verdict = decide(_kms_check(), principal(without), key, None)
    assert not verdict.allowed
    assert verdict.reason.startswith(f"the key policy of {KEY} delegates to IAM, and no statement")


def test_kms_grant_through_another_service_does_not_count() -> None:
    identity = _policy(
        _allow(
            "UseKeyThroughSqs",
            "kms:Decrypt",
            KEY,
            Condition={"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}},
        )
    )
    verdict = decide(_kms_check(), principal(identity), Protected("key policy", KEY_POLICY), None)
    assert not verdict.allowed


def test_kms_request_needs_the_key_policy() -> None:
    key_policy = _policy(
        {
            "Sid": "Admins",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    verdict = decide(_kms_check(), principal(), Protected(f"key policy of {KEY}", key_policy), None)
    assert not verdict.allowed
    assert verdict.reason == f"no statement of the key policy of {KEY} allows it"


# --- the hook on a session (in-process moto) ------------------------------------------------


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        trust = _policy(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        )
        iam.create_role(RoleName="app-processor", AssumeRolePolicyDocument=json.dumps(trust))
        kms = boto3.client("kms", region_name=REGION)
        key = kms.create_key(Policy=json.dumps(KEY_POLICY))["KeyMetadata"]["Arn"]
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(
            TableName="app-data",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
        )
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield iam, key


def _session(
    iam: Any, key: str, statements: list[dict[str, Any]]
) -> tuple[boto3.session.Session, authorizer.Authorizer]:
    iam.put_role_policy(
        RoleName="app-processor", PolicyName="handler", PolicyDocument=json.dumps(_policy(*statements))
    )
    role = iam.get_role(RoleName="app-processor")["Role"]["Arn"]
    auth = authorizer.Authorizer(
        authorizer.Deployment(lambda service, region: boto3.client(service, region_name=region))
    )
    session = boto3.session.Session(region_name=REGION)
    p = authorizer.read_principal(lambda s, r: boto3.client(s, region_name=r), {"Role": role}, REGION)
    auth.attach(session, p, "app-processor")
    return session, auth


def test_hook_counts_authorized_calls_and_their_kms_requests(deployed) -> None:
    iam, key = deployed
    statements = [
        _allow("WriteItems", "dynamodb:PutItem", TABLE),
        _allow("UseKeyThroughDynamoDB", TABLE_KEY_WRITES, key, Condition=VIA_DYNAMODB),
        _allow("WriteQuarantine", "s3:PutObject", f"arn:aws:s3:::{BUCKET}/quarantine/*"),
    ]
    session, auth = _session(iam, key, statements)
    session.client("dynamodb").put_item(TableName="app-data", Item={"id": {"S": "a"}})
    session.client("s3").put_object(Bucket=BUCKET, Key="quarantine/x", Body=b"x")
    assert auth.calls == {REGION: 2}
    assert [o.check.action for o in auth.authorized] == [
        "dynamodb:PutItem",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "s3:PutObject",
    ]
    assert auth.report([REGION]) == [
        f"{REGION}: 2 calls authorized (plus 2 KMS requests made on their behalf; 0 also enforced by moto)"
    ]


def test_hook_refuses_before_sending_and_names_the_missing_permission(deployed) -> None:
    iam, key = deployed
    session, auth = _session(iam, key, [_allow("WriteItems", "dynamodb:PutItem", TABLE)])
    with pytest.raises(authorizer.AccessDenied) as denied:
        session.client("dynamodb").put_item(TableName="app-data", Item={"id": {"S": "a"}})
    message = denied.value.response["Error"]["Message"]
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert f"kms:GenerateDataKey on {key} (made by dynamodb:PutItem on {TABLE})" in message
    assert "delegates to IAM" in message
    assert boto3.client("dynamodb", region_name=REGION).scan(TableName="app-data")["Count"] == 0  # never sent
    with pytest.raises(authorizer.AccessDenied, match=f"s3:PutObject on arn:aws:s3:::{BUCKET}/reports/x"):
        session.client("s3").put_object(Bucket=BUCKET, Key="reports/x", Body=b"x")
    assert [o.check.action for o in auth.denied] == ["kms:GenerateDataKey", "s3:PutObject"]
    assert auth.calls == {}


def test_moto_enforcement_is_on_for_exactly_the_calls_it_covers(deployed, monkeypatch) -> None:
    iam, key = deployed
    switched: list[str] = []
    monkeypatch.setattr(authorizer, "_reset_auth", lambda endpoint, value: switched.append(value) or "inf")
    statements = [
        _allow("WriteQuarantine", "s3:PutObject", f"arn:aws:s3:::{BUCKET}/quarantine/*"),
        _allow("WriteItems", "dynamodb:PutItem", TABLE),
        _allow("UseKeyThroughDynamoDB", TABLE_KEY_WRITES, key, Condition=VIA_DYNAMODB),
    ]
    session, auth = _session(iam, key, statements)
    auth.moto_endpoint = "http://127.0.0.1:1"
    session.client("s3").put_object(Bucket=BUCKET, Key="quarantine/x", Body=b"x")
    assert switched == ["0", "inf"]  # on for the S3 object call, then back to what it was
    session.client("dynamodb").put_item(TableName="app-data", Item={"id": {"S": "a"}})
    assert switched == ["0", "inf"]  # moto checks DynamoDB against "*": not switched on
    with pytest.raises(botocore.exceptions.ParamValidationError):
        session.client("s3").put_object(Bucket=BUCKET, Key="quarantine/y", Body=b"x", ContentLength="x")
    auth.close()
    assert switched == ["0", "inf"]  # a call that is never sent never turns it on
    assert auth.moto_checked == {REGION: 1}
