"""Authorize every AWS call a Lambda handler makes, as AWS would, before it reaches the emulator.

moto enforces no resource, endpoint or key policy, and checks identity policies only for some
calls (see MOTO_ENFORCED). So the demo's data path runs each handler under its deployed role
(STS AssumeRole, as Lambda does) with a botocore hook that, for every call:

1. maps the request to its IAM action(s) and resource ARN(s) (`checks_for`), with the request
   context AWS would give: aws:PrincipalArn (the role), aws:PrincipalAccount,
   aws:ResourceAccount, aws:RequestedRegion, aws:SecureTransport, s3:prefix, and, for a function
   in a VPC calling S3 or DynamoDB through a gateway endpoint on its subnets' route tables,
   aws:SourceVpce and aws:SourceVpc;
2. evaluates, with the project's evaluator (scripts/policy_eval.py), the role's identity
   policies (inline and attached), the resource's policy (bucket, table, topic, queue, key) and
   the VPC endpoint policy, and combines them as AWS does for a request inside one account
   (IAM User Guide, "Policy evaluation logic",
   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
   an explicit deny in any policy denies; a VPC endpoint policy must also allow
   (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html); otherwise
   the identity policy or a resource policy that names the role itself must allow. A resource
   policy that grants the account (`arn:aws:iam::<account>:root`) only delegates to IAM;
3. adds the KMS requests the service makes with the caller's permissions on a resource
   encrypted with a customer managed key (`implied_kms_checks`), evaluated with
   kms:ViaService=<service>.<region>.amazonaws.com and kms:CallerAccount against the identity
   policies AND the key policy: a key policy is required for every KMS request, and one that
   allows the account only makes the IAM policy count
   (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html);
4. refuses the call (a botocore ClientError AccessDenied, before anything is sent) naming the
   action, the resource and the policy that denied it or lacked it; else counts it and lets it
   through. For the calls in MOTO_ENFORCED the emulator's own IAM enforcement is switched on
   for that one request (`/moto-api/reset-auth`, moto's INITIAL_NO_AUTH_ACTION_COUNT), so moto
   checks the role's session credentials and identity policy as well.

aws:SecureTransport is "true": the emulator's endpoint is plain http, but in Lambda the AWS SDK
always calls over TLS, so the requests are judged as the deployed code would make them.

What is deployed is read from the emulator with the caller's (administrator) credentials:
nothing is assumed about names beyond what the function's configuration and the request say.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from scripts.policy_eval import Decision, Request, evaluate, evaluate_statement

# --- request -> IAM action(s) and resource(s) -----------------------------------------------
# IAM action names come from the Service Authorization Reference
# (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).

# HeadObject is authorized as s3:GetObject, ListObjects(V2) as s3:ListBucket
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html, ...API_ListObjectsV2.html).
S3_OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
}
S3_BUCKET_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
}
DYNAMODB_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem"})
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
DYNAMODB_TABLE_ACTIONS = DYNAMODB_READS | DYNAMODB_WRITES | {"DescribeTable"}
SNS_TOPIC_ACTIONS = {"Publish": "sns:Publish"}
SQS_QUEUE_ACTIONS = {"SendMessage": "sqs:SendMessage", "SendMessageBatch": "sqs:SendMessage"}
IAM_USER_ACTIONS = frozenset(
    {"ListAccessKeys", "ListUserTags", "UpdateAccessKey", "DeleteAccessKey", "GetUser"}
)
# iam:ListUsers has no resource type in the Service Authorization Reference: "*" only.
IAM_ACCOUNT_ACTIONS = frozenset({"ListUsers"})
KMS_KEY_ACTIONS = frozenset({"Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"})
# sts:GetCallerIdentity needs no permission ("No permissions are required to perform this
# operation", https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
NO_PERMISSION_NEEDED = frozenset({("sts", "GetCallerIdentity")})

# The KMS requests a service makes with the caller's permissions, per call, on a resource
# encrypted with a customer managed key:
# - DynamoDB: the KMS key is used "on behalf of the principal who is accessing the table":
#   reads need kms:Decrypt, writes also kms:GenerateDataKey (AWS KMS developer guide, "How
#   Amazon DynamoDB uses AWS KMS",
#   https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html, as our review
#   ../shared/reference/real-aws.md finding 5 reads it; modelled strictly, so a writer without
#   GenerateDataKey is refused).
# - SNS Publish: the publisher needs kms:GenerateDataKey* and kms:Decrypt
#   (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
# - SQS SendMessage: the producer needs kms:GenerateDataKey and kms:Decrypt
#   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
# - S3 with SSE-KMS: PutObject needs kms:GenerateDataKey, GetObject kms:Decrypt
#   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
IMPLIED_KMS: dict[tuple[str, str], tuple[str, ...]] = {
    **{("dynamodb", op): ("kms:Decrypt",) for op in DYNAMODB_READS},
    **{("dynamodb", op): ("kms:GenerateDataKey", "kms:Decrypt") for op in DYNAMODB_WRITES},
    ("sns", "Publish"): ("kms:GenerateDataKey", "kms:Decrypt"),
    ("sqs", "SendMessage"): ("kms:GenerateDataKey", "kms:Decrypt"),
    ("sqs", "SendMessageBatch"): ("kms:GenerateDataKey", "kms:Decrypt"),
    ("s3", "PutObject"): ("kms:GenerateDataKey",),
    ("s3", "GetObject"): ("kms:Decrypt",),
    ("s3", "HeadObject"): ("kms:Decrypt",),
}

# Calls whose IAM check moto 5.2.5 performs against the right resource: S3 object requests
# (moto passes the object ARN) and iam:ListUsers ("*"). For DynamoDB, SNS, SQS and IAM user
# actions moto checks the identity policy against the resource "*", which no statement scoped
# to a table, topic, queue or user matches, so its enforcement would refuse what AWS allows;
# it evaluates no resource, endpoint or key policy at all (moto/iam/access_control.py).
MOTO_ENFORCED = frozenset(
    {("s3", "GetObject"), ("s3", "HeadObject"), ("s3", "PutObject"), ("iam", "ListUsers")}
)

# Error codes of a resource that does not exist (S3, DynamoDB, SNS, SQS, KMS).
NOT_FOUND = frozenset(
    {
        "NoSuchBucket",
        "ResourceNotFoundException",
        "NotFound",
        "NotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    }
)

# Services whose same-region traffic from a VPC goes through a gateway endpoint.
GATEWAY_SERVICES = frozenset({"s3", "dynamodb"})


class Unmapped(ValueError):
    """A call the authorizer has no rule for: it is refused, never passed unchecked."""


@dataclass(frozen=True)
class Check:
    """One authorization question: may the role do `action` on `resource`?"""

    action: str
    resource: str
    service: str  # the service that receives the request (s3, dynamodb, kms, ...)
    context: tuple[tuple[str, str], ...] = ()
    via: str | None = None  # for a KMS request a service makes: "dynamodb:BatchWriteItem on <arn>"

    def describe(self) -> str:
        via = f" (made by {self.via})" if self.via else ""
        return f"{self.action} on {self.resource}{via}"


def _queue_arn(url: str, region: str) -> str:
    path = urllib.parse.urlparse(url).path.strip("/").split("/")
    return f"arn:aws:sqs:{region}:{path[0]}:{path[1]}"


def checks_for(
    service: str, operation: str, params: Mapping[str, Any], region: str, account: str
) -> list[Check]:
    """The IAM actions and resources of one API call (without the request context)."""
    if (service, operation) in NO_PERMISSION_NEEDED:
        return []
    if service == "s3" and operation in S3_OBJECT_ACTIONS:
        action = S3_OBJECT_ACTIONS[operation]
        if operation == "GetObject" and params.get("VersionId"):
            action = "s3:GetObjectVersion"
        return [Check(action, f"arn:aws:s3:::{params['Bucket']}/{params['Key']}", "s3")]
    if service == "s3" and operation in S3_BUCKET_ACTIONS:
        context = (("s3:prefix", params.get("Prefix", "")),) if operation.startswith("ListObjects") else ()
        return [Check(S3_BUCKET_ACTIONS[operation], f"arn:aws:s3:::{params['Bucket']}", "s3", context)]
    if service == "dynamodb" and operation in DYNAMODB_TABLE_ACTIONS:
        table_arn = f"arn:aws:dynamodb:{region}:{account}:table/"
        tables = sorted(params["RequestItems"]) if operation.startswith("Batch") else [params["TableName"]]
        return [Check(f"dynamodb:{operation}", table_arn + name, "dynamodb") for name in tables]
    if service == "sns" and operation in SNS_TOPIC_ACTIONS:
        return [Check(SNS_TOPIC_ACTIONS[operation], params.get("TopicArn") or params["TargetArn"], "sns")]
    if service == "sqs" and operation in SQS_QUEUE_ACTIONS:
        return [Check(SQS_QUEUE_ACTIONS[operation], _queue_arn(params["QueueUrl"], region), "sqs")]
    if service == "iam" and operation in IAM_USER_ACTIONS:
        return [Check(f"iam:{operation}", f"arn:aws:iam::{account}:user/{params['UserName']}", "iam")]
    if service == "iam" and operation in IAM_ACCOUNT_ACTIONS:
        return [Check(f"iam:{operation}", "*", "iam")]
    if service == "kms" and operation in KMS_KEY_ACTIONS:
        return [Check(f"kms:{operation}", params["KeyId"], "kms")]
    raise Unmapped(
        f"{service}:{operation} has no authorization rule in scripts/authorizer.py (checks_for): "
        "the call is refused rather than passed unchecked"
    )


# --- what is deployed ----------------------------------------------------------------------


@dataclass
class Endpoint:
    id: str
    service: str
    policy: dict[str, Any]


@dataclass
class Principal:
    """The role a function runs as, its identity policies and its network path."""

    role_arn: str
    account: str
    region: str
    identity: dict[str, dict[str, Any]]  # policy label -> document
    vpc_id: str | None = None
    endpoints: dict[str, Endpoint] = field(default_factory=dict)  # service -> gateway endpoint

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]


@dataclass
class Protected:
    """A resource's policy (if any) and the customer managed key it is encrypted with (if any)."""

    label: str
    policy: dict[str, Any] | None = None
    key_arn: str | None = None


def resource_owner(arn: str) -> str:
    """The ARN that carries the resource policy: the bucket of an object, the table of an index."""
    if arn.startswith("arn:aws:s3:::"):
        return arn.split("/", 1)[0]
    if ":dynamodb:" in arn:
        return "/".join(arn.split("/")[:2])
    return arn


class Deployment:
    """Resource policies and encryption, read lazily from the emulator with reader clients."""

    def __init__(self, client: Callable[[str, str], Any]) -> None:
        self._client = client  # (service, region) -> boto3 client with the reader's credentials
        self._cache: dict[str, Protected] = {}

    def protected(self, arn: str) -> Protected:
        owner = resource_owner(arn)
        if owner not in self._cache:
            try:
                self._cache[owner] = self._read(owner)
            except ClientError as err:
                if err.response["Error"]["Code"] not in NOT_FOUND:
                    raise
                # Nothing to protect: the identity policy decides, the service answers "not found".
                self._cache[owner] = Protected(f"{owner} (does not exist)")
        return self._cache[owner]

    def forget(self) -> None:
        """Drop what was read (after a policy changed)."""
        self._cache.clear()

    def key_arn(self, key_id: str, region: str) -> str:
        return self._client("kms", region).describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]

    def _read(self, arn: str) -> Protected:
        parts = arn.split(":")
        service, region = parts[2], parts[3]
        if service == "s3":
            return self._bucket(arn.removeprefix("arn:aws:s3:::"))
        if service == "dynamodb":
            return self._table(arn, region)
        if service == "sns":
            attributes = self._client("sns", region).get_topic_attributes(TopicArn=arn)["Attributes"]
            return self._attributes(f"topic policy of {arn}", attributes, region)
        if service == "sqs":
            sqs = self._client("sqs", region)
            url = sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "KmsMasterKeyId"])
            return self._attributes(f"queue policy of {arn}", attributes["Attributes"], region)
        if service == "kms":
            policy = self._client("kms", region).get_key_policy(KeyId=arn, PolicyName="default")["Policy"]
            return Protected(f"key policy of {arn}", json.loads(policy))
        return Protected(f"{arn} (no resource policy)")

    def _attributes(self, label: str, attributes: Mapping[str, str], region: str) -> Protected:
        policy = json.loads(attributes["Policy"]) if attributes.get("Policy") else None
        key_id = attributes.get("KmsMasterKeyId")
        return Protected(label, policy, self._customer_key(key_id, region) if key_id else None)

    def _customer_key(self, key_id: str, region: str) -> str | None:
        metadata = self._client("kms", region).describe_key(KeyId=key_id)["KeyMetadata"]
        return metadata["Arn"] if metadata.get("KeyManager", "CUSTOMER") == "CUSTOMER" else None

    def _bucket(self, bucket: str) -> Protected:
        s3 = self._client("s3", "us-east-1")
        region = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
        s3 = self._client("s3", region)
        try:
            policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except ClientError as err:
            if err.response["Error"]["Code"] != "NoSuchBucketPolicy":
                raise
            policy = None
        key = None
        try:
            rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        except ClientError as err:
            if err.response["Error"]["Code"] != "ServerSideEncryptionConfigurationNotFoundError":
                raise
            rules = []
        for rule in rules:
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            if default.get("SSEAlgorithm", "").startswith("aws:kms") and default.get("KMSMasterKeyID"):
                key = self._customer_key(default["KMSMasterKeyID"], region)
        return Protected(f"bucket policy of {bucket}", policy, key)

    def _table(self, arn: str, region: str) -> Protected:
        ddb = self._client("dynamodb", region)
        table = ddb.describe_table(TableName=arn.rsplit("/", 1)[-1])["Table"]
        sse = table.get("SSEDescription") or {}
        key = self._customer_key(sse["KMSMasterKeyArn"], region) if sse.get("KMSMasterKeyArn") else None
        try:
            policy = json.loads(ddb.get_resource_policy(ResourceArn=arn)["Policy"])
        except ClientError as err:
            if err.response["Error"]["Code"] != "PolicyNotFoundException":
                raise
            policy = None
        return Protected(f"resource policy of {arn}", policy, key)


def read_principal(
    client: Callable[[str, str], Any], configuration: Mapping[str, Any], region: str
) -> Principal:
    """The function's role, identity policies, VPC and the gateway endpoints on its route tables."""
    role_arn = configuration["Role"]
    account = role_arn.split(":")[4]
    name = role_arn.rsplit("/", 1)[-1]
    iam = client("iam", region)
    identity = {
        f"inline policy {policy} of role {name}": iam.get_role_policy(RoleName=name, PolicyName=policy)[
            "PolicyDocument"
        ]
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
        for policy in page["PolicyNames"]
    }
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for attached in page["AttachedPolicies"]:
            version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)
            identity[f"managed policy {attached['PolicyArn']}"] = document["PolicyVersion"]["Document"]
    identity = {label: json.loads(doc) if isinstance(doc, str) else doc for label, doc in identity.items()}
    principal = Principal(role_arn, account, region, identity)
    vpc = configuration.get("VpcConfig") or {}
    if vpc.get("SubnetIds"):
        ec2 = client("ec2", region)
        # The subnets' VPC (moto 5.2.5 answers a made-up VpcId in the function's VpcConfig).
        principal.vpc_id = ec2.describe_subnets(SubnetIds=vpc["SubnetIds"][:1])["Subnets"][0]["VpcId"]
        principal.endpoints = _gateway_endpoints(ec2, vpc["SubnetIds"], region)
    return principal


def _gateway_endpoints(ec2: Any, subnets: list[str], region: str) -> dict[str, Endpoint]:
    """Gateway endpoints routed from every one of the subnets (traffic of the function uses them)."""
    tables: list[set[str]] = []
    for subnet in subnets:
        vpc_id = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
        found = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])
        if not found["RouteTables"]:  # no explicit association: the VPC's main route table
            found = ec2.describe_route_tables(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "association.main", "Values": ["true"]},
                ]
            )
        tables.append({table["RouteTableId"] for table in found["RouteTables"]})
    endpoints = {}
    paginator = ec2.get_paginator("describe_vpc_endpoints")
    filters = [{"Name": "vpc-endpoint-type", "Values": ["Gateway"]}]
    for page in paginator.paginate(Filters=filters):
        for endpoint in page["VpcEndpoints"]:
            service = endpoint["ServiceName"].rsplit(".", 1)[-1]
            routed = set(endpoint.get("RouteTableIds", []))
            if endpoint["ServiceName"] == f"com.amazonaws.{region}.{service}" and all(
                t & routed for t in tables
            ):
                endpoints[service] = Endpoint(
                    endpoint["VpcEndpointId"], service, json.loads(endpoint["PolicyDocument"])
                )
    return endpoints


# --- decisions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _sids(policy: Mapping[str, Any], request: Request, decision: Decision) -> list[str]:
    return [
        str(s.get("Sid", f"#{i}"))
        for i, s in enumerate(_statements(policy))
        if evaluate_statement(s, request) is decision
    ]


def _is_account_entry(entry: str) -> bool:
    return entry.endswith(":root") or (len(entry) == 12 and entry.isdigit())


def direct_grants(policy: Mapping[str, Any]) -> dict[str, Any]:
    """The policy without its grants to whole accounts (those only delegate to IAM)."""
    kept = []
    for statement in _statements(policy):
        principal = statement.get("Principal")
        if statement["Effect"] == "Allow" and isinstance(principal, Mapping) and "AWS" in principal:
            entries = principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]
            direct = [e for e in entries if not _is_account_entry(e)]
            if not direct and len(principal) == 1:
                continue
            statement = {**statement, "Principal": {**principal, "AWS": direct}}
        kept.append(statement)
    return {"Statement": kept}


def context_for(check: Check, principal: Principal, endpoint: Endpoint | None) -> dict[str, str]:
    """The request context AWS would evaluate (see the module docstring)."""
    context = {
        "aws:PrincipalArn": principal.role_arn,
        "aws:PrincipalAccount": principal.account,
        "aws:PrincipalType": "AssumedRole",
        "aws:RequestedRegion": principal.region,
        "aws:SecureTransport": "true",  # Lambda's SDK calls over TLS (the emulator is http)
    }
    if check.resource != "*":
        resource_account = check.resource.split(":")[4] or principal.account  # S3 ARNs have none
        context["aws:ResourceAccount"] = resource_account
    if endpoint is not None:
        context["aws:SourceVpce"] = endpoint.id
        if principal.vpc_id:
            context["aws:SourceVpc"] = principal.vpc_id
    context.update(dict(check.context))
    return context


def decide(
    check: Check, principal: Principal, protected: Protected | None, endpoint: Endpoint | None
) -> Verdict:
    """AWS's decision for one request inside one account (see the module docstring)."""
    request = Request(
        check.action, check.resource, principal.role_arn, context_for(check, principal, endpoint)
    )
    policies: list[tuple[str, Mapping[str, Any]]] = list(principal.identity.items())
    resource_policy = protected.policy if protected else None
    if resource_policy is not None:
        policies.append((protected.label, resource_policy))  # type: ignore[union-attr]
    if endpoint is not None:
        policies.append((f"VPC endpoint policy of {endpoint.id} ({endpoint.service})", endpoint.policy))
    for label, policy in policies:
        denied_by = _sids(policy, request, Decision.DENY)
        if denied_by:
            return Verdict(False, f"explicitly denied by statement {', '.join(denied_by)} of the {label}")
    if endpoint is not None and evaluate(endpoint.policy, request) is not Decision.ALLOW:
        return Verdict(
            False, f"no statement of the VPC endpoint policy of {endpoint.id} ({endpoint.service}) allows it"
        )
    identity_sids = [
        f"{sid} ({label})"
        for label, doc in principal.identity.items()
        for sid in _sids(doc, request, Decision.ALLOW)
    ]
    identity_names = ", ".join(principal.identity) or f"role {principal.role_name} has none"
    if check.service == "kms":
        return _decide_kms(request, principal, protected, identity_sids, identity_names)
    also = ""
    if endpoint is not None:
        allowing = ", ".join(_sids(endpoint.policy, request, Decision.ALLOW))
        also = f"; VPC endpoint policy of {endpoint.id} allows it ({allowing})"
    if identity_sids:
        return Verdict(True, f"allowed by {', '.join(identity_sids)}{also}")
    if resource_policy is not None:
        direct = _sids(direct_grants(resource_policy), request, Decision.ALLOW)
        if direct:
            return Verdict(True, f"allowed by statement {', '.join(direct)} of the {protected.label}{also}")  # type: ignore[union-attr]
    lacking = f"no statement of the identity policies ({identity_names})"
    if resource_policy is not None:
        lacking += f" nor of the {protected.label}"  # type: ignore[union-attr]
    return Verdict(False, f"{lacking} allows it")


def _decide_kms(
    request: Request,
    principal: Principal,
    protected: Protected | None,
    identity_sids: list[str],
    identity_names: str,
) -> Verdict:
    if protected is None or protected.policy is None:
        return Verdict(False, f"no key policy found for {request.resource}")
    if _sids(direct_grants(protected.policy), request, Decision.ALLOW):
        return Verdict(True, f"allowed by the {protected.label}")
    if not _sids(protected.policy, request, Decision.ALLOW):
        return Verdict(False, f"no statement of the {protected.label} allows it")
    if identity_sids:
        return Verdict(True, f"allowed by {', '.join(identity_sids)} (the key policy delegates to IAM)")
    return Verdict(
        False,
        f"the {protected.label} delegates to IAM, and no statement of the identity policies "
        f"({identity_names}) allows it",
    )


def implied_kms_checks(
    service: str,
    operation: str,
    primary: Check,
    key_arn: str | None,
    principal: Principal,
    params: Mapping[str, Any],
) -> list[Check]:
    """The KMS requests `service` makes with the caller's permissions for this call."""
    if key_arn is None:
        return []
    context = [
        ("kms:ViaService", f"{service}.{principal.region}.amazonaws.com"),
        ("kms:CallerAccount", principal.account),
    ]
    if service == "dynamodb":  # encryption context of DynamoDB's KMS requests (same guide)
        context += [
            ("kms:EncryptionContext:aws:dynamodb:tableName", primary.resource.rsplit("/", 1)[-1]),
            ("kms:EncryptionContext:aws:dynamodb:subscriberId", principal.account),
        ]
    via = f"{primary.action} on {primary.resource}"
    return [
        Check(action, key_arn, "kms", tuple(context), via)
        for action in IMPLIED_KMS.get((service, operation), ())
    ]


# --- the botocore hook ---------------------------------------------------------------------


@dataclass
class Outcome:
    function: str
    call: str
    check: Check
    verdict: Verdict


class AccessDenied(ClientError):
    """What the authorizer raises: a ClientError with AWS's AccessDenied code."""


class Authorizer:
    """Checks every call of the clients of a session it is attached to (`attach`)."""

    def __init__(self, deployment: Deployment, moto_endpoint: str | None = None) -> None:
        self.deployment = deployment
        self.moto_endpoint = moto_endpoint  # where to switch moto's own enforcement on (or None)
        self.authorized: list[Outcome] = []  # every check that passed, implied KMS ones included
        self.denied: list[Outcome] = []
        self.calls: dict[str, int] = {}  # region -> API calls authorized
        self.moto_checked: dict[str, int] = {}  # region -> of which moto enforced too
        self._moto_previous: str | None = None
        self._moto_pending: str | None = None  # region of an authorized call moto enforces too

    def attach(self, session: Any, principal: Principal, function: str) -> None:
        """Register the hooks on a boto3 session whose clients the handler will use."""
        events = session.events

        def before(model: Any, params: Mapping[str, Any], **_: Any) -> None:
            self.authorize(principal, function, model.service_model.service_name, model.name, params)

        def sending(model: Any, **_: Any) -> None:
            if self._moto_pending is not None:  # after parameter validation, just before sending
                self._moto_on(self._moto_pending)
                self._moto_pending = None

        def after(model: Any, **_: Any) -> None:
            self._moto_off()

        events.register("before-parameter-build.*.*", before, unique_id=f"authorizer-before-{id(self)}")
        events.register("before-call.*.*", sending, unique_id=f"authorizer-sending-{id(self)}")
        events.register("after-call.*.*", after, unique_id=f"authorizer-after-{id(self)}")
        events.register("after-call-error.*.*", after, unique_id=f"authorizer-error-{id(self)}")

    def authorize(
        self, principal: Principal, function: str, service: str, operation: str, params: Mapping[str, Any]
    ) -> list[Check]:
        """Authorize one call; raise AccessDenied (and record it) when AWS would refuse it."""
        call = f"{service}:{operation}"
        try:
            primary = checks_for(service, operation, params, principal.region, principal.account)
        except Unmapped as err:
            check = Check(call, "?", service)
            self._refuse(Outcome(function, call, check, Verdict(False, str(err))), principal)
        checks: list[Check] = []
        for check in primary:
            if service == "kms":
                check = Check(check.action, self.deployment.key_arn(check.resource, principal.region), "kms")
            protected = self.deployment.protected(check.resource) if check.resource != "*" else None
            checks.append(check)
            endpoint = principal.endpoints.get(service) if service in GATEWAY_SERVICES else None
            self._judge(function, call, check, principal, protected, endpoint)
            key = protected.key_arn if protected else None
            for kms_check in implied_kms_checks(service, operation, check, key, principal, params):
                checks.append(kms_check)
                self._judge(
                    function, call, kms_check, principal, self.deployment.protected(kms_check.resource), None
                )
        self.calls[principal.region] = self.calls.get(principal.region, 0) + 1
        self._moto_pending = principal.region if (service, operation) in MOTO_ENFORCED else None
        return checks

    def _judge(
        self,
        function: str,
        call: str,
        check: Check,
        principal: Principal,
        protected: Protected | None,
        endpoint: Endpoint | None,
    ) -> None:
        outcome = Outcome(function, call, check, decide(check, principal, protected, endpoint))
        if not outcome.verdict.allowed:
            self._refuse(outcome, principal)
        self.authorized.append(outcome)

    def _refuse(self, outcome: Outcome, principal: Principal) -> None:
        self.denied.append(outcome)
        message = (
            f"{outcome.function}: {principal.role_arn} is not authorized to perform "
            f"{outcome.check.describe()}: {outcome.verdict.reason}"
        )
        raise AccessDenied(
            {
                "Error": {"Code": "AccessDenied", "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            },
            outcome.call.split(":", 1)[1],
        )

    # moto's own enforcement, for the one request that follows (MOTO_ENFORCED).
    def _moto_on(self, region: str) -> None:
        if self.moto_endpoint is None:
            return
        self._moto_previous = _reset_auth(self.moto_endpoint, "0")
        self.moto_checked[region] = self.moto_checked.get(region, 0) + 1

    def close(self) -> None:
        """Make sure moto's enforcement is off again (after a handler ended, however it ended)."""
        self._moto_pending = None
        self._moto_off()

    def _moto_off(self) -> None:
        if self.moto_endpoint is not None and self._moto_previous is not None:
            _reset_auth(self.moto_endpoint, self._moto_previous)
            self._moto_previous = None

    def report(self, regions: Iterable[str]) -> list[str]:
        lines = []
        for region in regions:
            implied = sum(
                1 for o in self.authorized if o.check.via and o.check.resource.split(":")[3] == region
            )
            moto = self.moto_checked.get(region, 0)
            lines.append(
                f"{region}: {self.calls.get(region, 0)} calls authorized "
                f"(plus {implied} KMS requests made on their behalf; {moto} also enforced by moto)"
            )
        return lines


def _reset_auth(endpoint: str, value: str) -> str:
    """Set moto's INITIAL_NO_AUTH_ACTION_COUNT (0: enforce now); return the previous value."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=value.encode(),
        headers={"Content-Type": "text/plain"},  # not a form: moto reads the raw body
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"])
