"""Strict mode for the embedded emulator: AWS rules that moto 5.2.5 does not enforce.

moto accepts calls a real account refuses: it has no IAM propagation delay, no "backups are
being enabled" window, no account concurrency quota, it ignores Object Ownership when ACLs are
set, and it answers 404 to a caller who could not tell a missing key from a denied one. With
strict mode on, the emulator refuses those calls as AWS does, in AWS's wire format for each
protocol, so boto3 raises a ClientError with AWS's code and the playbooks meet on the emulator
the errors they will meet on a real account. With strict mode off (the default) every patched
call goes straight to moto, unchanged; only GetAccountSettings is always answered.

Rules (each block: the calls refused, the AWS document under https://docs.aws.amazon.com/, the
error answered, the tunable with its default; env = variable read when the emulator starts,
setting = key of POST /secureinfra/strict):

 1  ACLs on a BucketOwnerEnforced bucket (the default for a bucket without ownership controls)
    calls   PutBucketAcl, PutObjectAcl; PutObject / CopyObject / CreateMultipartUpload carrying an
            ACL other than bucket owner full control
    source  AmazonS3/latest/userguide/object-ownership-error-responses.html,
            AmazonS3/latest/API/API_PutObject.html
    error   400 AccessControlListNotSupported "The bucket does not allow ACLs"
 2  CreateBucket with an ACL that grants anyone but the owner, ownership BucketOwnerEnforced
    source  AmazonS3/latest/API/API_CreateBucket.html
    error   400 InvalidBucketAclWithObjectOwnership
 3  IAM propagation: Lambda CreateFunction / UpdateFunctionConfiguration naming a role created
    less than N seconds ago
    source  IAM/latest/UserGuide/troubleshoot_general.html (eventual consistency)
    error   400 InvalidParameterValueException
            "The role defined for the function cannot be assumed by Lambda."
    knob    setting iam_propagation_seconds (4), env SECUREINFRA_STRICT_IAM_PROPAGATION_SECONDS;
            and iam_propagation_refusals (0), env SECUREINFRA_STRICT_IAM_PROPAGATION_REFUSALS:
            the first N uses of each role by each service are refused whatever its age, so a
            test proves the retries however slowly the machine reaches the call
 4  Lambda execution role whose trust policy does not let lambda.amazonaws.com assume it
    (refused forever; aws:SourceAccount / aws:SourceArn conditions are given the function's)
    source  lambda/latest/dg/lambda-intro-execution-role.html
    error   as rule 3
 5  CloudTrail CreateTrail / UpdateTrail whose CloudWatchLogsRoleArn is younger than N seconds,
    or not assumable by cloudtrail.amazonaws.com (conditions given the trail's ARN and account)
    source  IAM troubleshoot_general.html;
            awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html
    error   400 InvalidCloudWatchLogsRoleArnException
            "Access denied. Verify in IAM that the role has adequate permissions."
    knob    settings iam_propagation_seconds and iam_propagation_refusals (shared with rule 3)
 6  CloudTrail CreateTrail / UpdateTrail naming a bucket whose policy does not allow
    cloudtrail.amazonaws.com s3:GetBucketAcl and s3:PutObject on [prefix/]AWSLogs/<account>/*
    source  awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
    error   400 InsufficientS3BucketPolicyException
            "Incorrect S3 bucket policy is detected for bucket: <name>"
 7  DynamoDB UpdateContinuousBackups less than N seconds after CreateTable of that table
    source  amazondynamodb/latest/APIReference/API_UpdateContinuousBackups.html
    error   400 ContinuousBackupsUnavailableException
            "Backups are being enabled for the table: <name>. Please retry later"
    knob    setting pitr_unavailable_seconds (3), env SECUREINFRA_STRICT_PITR_SECONDS
 8  Lambda PutFunctionConcurrency leaving the account's unreserved concurrency below
    min(100, account limit)
    source  lambda/latest/dg/configuration-concurrency.html
    error   400 InvalidParameterValueException "Specified ReservedConcurrentExecutions for function
            decreases account's UnreservedConcurrentExecution below its minimum value of [100]."
    knob    setting account_concurrency_limit (1000), env SECUREINFRA_ACCOUNT_CONCURRENCY
 9  GetObject / HeadObject of a missing key by an IAM role or user without s3:ListBucket
    source  AmazonS3/latest/API/API_GetObject.html, AmazonS3/latest/API/API_HeadObject.html
    error   403 AccessDenied (HEAD: 403, no body) instead of 404 NoSuchKey
10  CloudTrail CreateTrail / UpdateTrail with a KmsKeyId whose key policy does not let
    cloudtrail.amazonaws.com kms:GenerateDataKey* with the trail's encryption context
    source  awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
    error   400 InsufficientEncryptionPolicyException
            "Insufficient permissions to access S3 bucket <bucket> or KMS key <key>."
11  S3 PutBucketNotificationConfiguration naming a Lambda function, SNS topic or SQS queue whose
    resource policy does not let s3.amazonaws.com invoke / publish / send for this bucket
    source  AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
    error   400 InvalidArgument "Unable to validate the following destination configurations"
13  Lambda's network interfaces of VPC functions (Hyperplane ENIs), which moto 5.2.5 never makes.
    CreateFunction (and UpdateFunctionConfiguration with a VpcConfig) gives the function one
    interface per subnet with its security groups ("AWS Lambda VPC ENI-<name>-<uuid>",
    requester-managed, type lambda, in-use), shared by the functions of the same subnet and
    groups. N seconds after the last function using it is deleted (or moved), Lambda releases it
    with the execution role of the function that created it: if that role still exists and may
    ec2:DeleteNetworkInterface, the interface is deleted; if not, it is detached and stays
    `available` until someone deletes it. While an interface exists, DeleteSubnet of its subnet
    and DeleteSecurityGroup of its groups are refused (moto checks neither); an in-use interface
    cannot be deleted.
    source  lambda/latest/dg/foundation-networking.html#foundation-nw-eni-delete ("Lambda relies
            on permissions in the function execution role to delete the Hyperplane ENI. If you
            delete the execution role before Lambda deletes the Hyperplane ENI, Lambda won't be
            able to delete the Hyperplane ENI. You can manually perform the deletion.");
            lambda/latest/dg/configuration-vpc.html (one interface per subnet and security-group
            combination); repost.aws/knowledge-center/lambda-eni-find-delete ("Why can't I detach
            or delete an elastic network interface that Lambda created?": Lambda deletes an unused
            interface with the execution role of the function that created it; with that role
            gone it must be deleted by hand); AWSEC2/latest/APIReference/errors-overview.html
            (DependencyViolation; InvalidNetworkInterface.InUse)
    error   400 DependencyViolation "The subnet '<id>' has dependencies and cannot be deleted." or
            "resource <sg-id> has a dependent object"; 400 InvalidNetworkInterface.InUse
            "Interface: [<eni-id>] in use."
    knob    setting lambda_eni_release_seconds (5; AWS: up to 20 minutes), env
            SECUREINFRA_STRICT_LAMBDA_ENI_RELEASE_SECONDS
14  Lambda CreateFunction / UpdateFunctionConfiguration whose execution role may not do what the
    function's settings need: with a VpcConfig ec2:CreateNetworkInterface (on the interface, the
    subnets and the groups), ec2:DescribeNetworkInterfaces, ec2:DeleteNetworkInterface; with a
    DeadLetterConfig sqs:SendMessage (sns:Publish) on the target; with TracingConfig Active
    xray:PutTraceSegments and xray:PutTelemetryRecords. Refused for good when the role's identity
    policies (inline and attached, judged by scripts/policy_eval.py) do not allow one; refused
    naming the first one while the role's inline policy was put (PutRolePolicy) less than N
    seconds ago, or for the first N uses of the role by this check. An update is checked with the
    role and settings it leaves the function with, when it sets the role or one of the settings.
    source  lambda/latest/dg/configuration-vpc.html ("Execution role permissions"),
            lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq,
            lambda/latest/dg/services-xray.html (AWSXRayDaemonWriteAccess),
            IAM/latest/UserGuide/troubleshoot_general.html (eventual consistency); AWS documents no
            wording: the message is the one the Terraform AWS provider retries for both calls
            ("The provided execution role does not have permissions", retryFunctionOp in
            internal/service/lambda/function.go), completed as users report it ("... to call
            CreateNetworkInterface on EC2", "SendMessage on SQS", "PutTraceSegments on XRAY")
    error   400 InvalidParameterValueException
            "The provided execution role does not have permissions to call <Action> on <SERVICE>"
    knob    settings iam_propagation_seconds and iam_propagation_refusals (shared with rules 3-5)
15  Rule 11 with the age of the function's permission: S3 PutBucketNotificationConfiguration naming
    a Lambda function judges the function's resource policy without the statements for
    s3.amazonaws.com added (AddPermission) less than N seconds ago, or on their first N uses
    source  AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html ("In the case of AWS
            Lambda destinations, Amazon S3 verifies that the Lambda function permissions grant
            Amazon S3 permission to invoke the function from the Amazon S3 bucket"),
            AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html,
            lambda/latest/dg/API_AddPermission.html; AWS documents the check, not the delay: the
            window models the error users meet on a first deployment right after AddPermission
            (github.com/milliHQ/terraform-aws-next-js/issues/235, "typically happens on the first
            deployment of a new environment")
    error   as rule 11: 400 InvalidArgument "Unable to validate the following destination
            configurations"
    knob    settings iam_propagation_seconds and iam_propagation_refusals (shared with rules 3-5)
17  Any call signed with the access key of an STS AssumeRole session past the session's
    Expiration (the key of the SigV4 Authorization header, or of a presigned URL)
    source  STS/latest/APIReference/API_Credentials.html (Expiration: "The date on which the
            current credentials expire"), STS/latest/APIReference/API_AssumeRole.html
            (DurationSeconds), IAM/latest/UserGuide/id_credentials_temp.html (temporary
            credentials "expire after a specified interval"; calls made with them then fail)
    error   each protocol's answer to expired credentials: query (IAM, STS, SNS) 403 ExpiredToken
            "The security token included in the request is expired"
            (repost.aws/knowledge-center/ec2-expired-token: "Status Code: 403; Error Code:
            ExpiredToken"); JSON (DynamoDB, KMS, Logs, CloudTrail, EventBridge, SQS, CloudWatch)
            400 com.amazon.coral.service#ExpiredTokenException, same message (DynamoDB's answer);
            REST-JSON (Lambda, Scheduler) 403 ExpiredTokenException
            (lambda/latest/api/CommonErrors.html); REST-XML (S3, S3 Control) 400 ExpiredToken "The
            provided token has expired." (AmazonS3/latest/API/ErrorResponses.html); EC2 400
            RequestExpired "Request has expired." (AWSEC2/latest/APIReference/errors-overview.html:
            "this error can also occur if the credentials have expired")
    knob    setting session_seconds (0: each session lasts its DurationSeconds), env
            SECUREINFRA_STRICT_SESSION_SECONDS: a session AssumeRole issues ends after at most N
            seconds, and the Expiration it answers says so (a test's stand-in for the hour)
18  AssumeRole signed with an assumed-role session's key (role chaining) and DurationSeconds
    above 3600
    source  IAM/latest/UserGuide/id_roles_terms-and-concepts.html ("role chaining limits your
            AWS CLI or AWS API role session to a maximum of one hour"),
            STS/latest/APIReference/API_AssumeRole.html (DurationSeconds: with role chaining, "a
            DurationSeconds parameter value greater than one hour, the operation fails")
    error   400 ValidationError "The requested DurationSeconds exceeds the 1 hour session limit
            for roles assumed by role chaining." (repost.aws/knowledge-center/iam-role-chaining-limit)
21  Config PutDeliveryChannel naming a bucket that does not exist, or whose policy does not let
    config.amazonaws.com s3:GetBucketAcl and s3:ListBucket on the bucket and s3:PutObject on
    [prefix/]AWSLogs/<account>/Config/* (s3:x-amz-acl bucket-owner-full-control, aws:SourceAccount)
    source  config/latest/developerguide/s3-bucket-policy.html ("Required Permissions for the Amazon
            S3 Bucket When Using Service-Linked Roles"),
            config/latest/APIReference/API_PutDeliveryChannel.html
    error   400 NoSuchBucketException; 400 InsufficientDeliveryPolicyException "Insufficient delivery
            policy to s3 bucket: <bucket>, unable to write to bucket, provided s3 key prefix is '<prefix>'."
            (the wording users report, github.com/hashicorp/terraform-provider-aws/issues/8655)
    code    scripts/moto_security_services.py
22  Config PutDeliveryChannel while the recorder's role does not exist, or is younger than N seconds
    (or on its first N uses by Config): Config checks the bucket with that role, and a service-linked
    role made on first use (AWSServiceRoleForConfig) takes time to be usable
    source  IAM/latest/UserGuide/troubleshoot_general.html (eventual consistency),
            config/latest/developerguide/using-service-linked-roles.html; the failure of a setup that
            did not wait for the new role: github.com/awslabs/aws-securityhub-multiaccount-scripts/issues/53
    error   400 InsufficientDeliveryPolicyException "Insufficient delivery policy to s3 bucket:
            <bucket>, unable to assume role: <role ARN>" (github.com/aws/aws-cli/issues/3516)
    knob    settings iam_propagation_seconds and iam_propagation_refusals (shared with rule 3)
23  Security Hub GetEnabledStandards answers each subscription INCOMPLETE, StatusReasonCode
    NO_AVAILABLE_CONFIGURATION_RECORDER, while no Config recorder of the region is recording (AWS
    enables a standard without Config, and its controls produce no findings)
    source  securityhub/1.0/APIReference/API_StandardsStatusReason.html,
            securityhub/latest/userguide/securityhub-setup-prereqs.html ("To receive control findings
            in Security Hub CSPM, you must enable AWS Config for your account")
    answer  200, StandardsStatus INCOMPLETE (READY once a recorder records)
24  DescribeFlowLogs answers DeliverLogsStatus FAILED, DeliverLogsErrorMessage "Access error", for a
    flow log to CloudWatch Logs whose role vpc-flow-logs.amazonaws.com may not assume (conditions given
    the flow log's ARN and account) or whose identity policies do not allow logs:CreateLogStream and
    logs:PutLogEvents on its log group's streams; AWS accepts CreateFlowLogs and fails delivery
    source  vpc/latest/userguide/flow-logs-iam-role.html, AWSEC2/latest/APIReference/API_FlowLog.html
            ("Access error indicates that the IAM role associated with the flow log does not have
            sufficient permissions to publish to CloudWatch Logs")
    answer  200, DeliverLogsStatus FAILED
25  GuardDuty CreateDetector in a region that has a detector (one per account and region)
    source  guardduty/latest/APIReference/API_CreateDetector.html, guardduty/latest/ug/guardduty_regions.html
    error   400 BadRequestException "The request is rejected because a detector already exists for the
            current account."
 -  Lambda GetAccountSettings: always answered, strict or not (moto 5.2.5 lacks it)
    source  lambda/latest/api/API_GetAccountSettings.html
    knob    account_concurrency_limit (ConcurrentExecutions; Unreserved = limit - reserved)

Strict mode is on when the serving process has SECUREINFRA_STRICT=1 in its environment
(`scripts/emulator.py start --strict`), or at runtime with `POST /secureinfra/strict` and a JSON
object of the settings to change, e.g. {"enabled": true, "iam_propagation_seconds": 4,
"iam_propagation_refusals": 1, "pitr_unavailable_seconds": 3, "account_concurrency_limit": 10};
`GET /secureinfra/strict` returns the current settings. The clocks are moto's own creation
times (the role's CreateDate, the table's CreationDateTime), so a moto reset
(`POST /moto-api/reset`) clears them with the resources; the settings survive a reset.

The caller of an S3 request is found from the request's access key: a key issued by moto's STS
AssumeRole maps to the assumed role, a key of an IAM user to that user. Any other key (the
default test credentials "testing", say) is the account root, which may list every bucket, so
it keeps moto's 404. The ListBucket decision uses the project's policy evaluator
(scripts/policy_eval.py) on the identity policies (inline and attached) and the bucket
policy, with s3:prefix set to the requested key (AWS does not document the prefix it
evaluates; a ListBucket limited to a prefix then covers the keys under that prefix).
A policy the evaluator cannot judge leaves moto's answer unchanged.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from moto.awslambda import urls as lambda_urls
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.responses import LambdaResponse
from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError
from moto.core.utils import utcnow
from moto.dynamodb.responses import DynamoHandler
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.exceptions import MissingKey, S3ClientError
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.sts.models import sts_backends

if __package__:
    from . import policy_eval
else:  # run as a script from scripts/ (emulator.py serve)
    import policy_eval

CONTROL_PATH = "/secureinfra/strict"
PARTITION = "aws"

ENV_ENABLED = "SECUREINFRA_STRICT"
ENV_IAM_PROPAGATION = "SECUREINFRA_STRICT_IAM_PROPAGATION_SECONDS"
ENV_IAM_REFUSALS = "SECUREINFRA_STRICT_IAM_PROPAGATION_REFUSALS"
ENV_PITR = "SECUREINFRA_STRICT_PITR_SECONDS"
ENV_SESSION = "SECUREINFRA_STRICT_SESSION_SECONDS"
ENV_CONCURRENCY = "SECUREINFRA_ACCOUNT_CONCURRENCY"
ENV_ENI_RELEASE = "SECUREINFRA_STRICT_LAMBDA_ENI_RELEASE_SECONDS"

ROLE_CANNOT_BE_ASSUMED = "The role defined for the function cannot be assumed by Lambda."
CLOUDWATCH_ROLE_DENIED = "Access denied. Verify in IAM that the role has adequate permissions."
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: code storage 75 GB,
# deployment package 50 MB zipped (direct upload) and 250 MB unzipped.
TOTAL_CODE_SIZE_LIMIT = 80_530_636_800
CODE_SIZE_UNZIPPED_LIMIT = 262_144_000
CODE_SIZE_ZIPPED_LIMIT = 52_428_800
MINIMUM_UNRESERVED = 100


INTEGER_SETTINGS = ("account_concurrency_limit", "iam_propagation_refusals")


@dataclass
class StrictConfig:
    enabled: bool = False
    iam_propagation_seconds: float = 4.0
    iam_propagation_refusals: int = 0
    pitr_unavailable_seconds: float = 3.0
    session_seconds: float = 0.0
    account_concurrency_limit: int = 1000
    lambda_eni_release_seconds: float = 5.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | os._Environ[str] = os.environ) -> StrictConfig:
        config = cls()
        config.update(
            {
                key: environ[name]
                for key, name in (
                    ("enabled", ENV_ENABLED),
                    ("iam_propagation_seconds", ENV_IAM_PROPAGATION),
                    ("iam_propagation_refusals", ENV_IAM_REFUSALS),
                    ("pitr_unavailable_seconds", ENV_PITR),
                    ("session_seconds", ENV_SESSION),
                    ("account_concurrency_limit", ENV_CONCURRENCY),
                    ("lambda_eni_release_seconds", ENV_ENI_RELEASE),
                )
                if environ.get(name, "") != ""
            }
        )
        return config

    def update(self, changes: dict[str, Any]) -> None:
        """Apply changes (values may be strings, as in the environment); ValueError on bad input."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown strict setting(s) {unknown}; known: {sorted(known)}")
        parsed = {name: _parse(name, value) for name, value in changes.items()}
        for name, value in parsed.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parse(name: str, value: Any) -> Any:
    if name == "enabled":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"enabled={value!r}: expected a boolean (true/false, 1/0)")
    try:
        number = int(str(value).strip()) if name in INTEGER_SETTINGS else float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r}: expected a number") from None
    if isinstance(value, bool) or number < 0:
        raise ValueError(f"{name}={value!r}: expected a number >= 0")
    return number


CONFIG = StrictConfig.from_env()
_LOCK = threading.Lock()
# (role ARN, role CreateDate, service) -> uses refused so far (iam_propagation_refusals)
_REFUSED_USES: dict[tuple[str, str, str], int] = {}


def strict() -> bool:
    return CONFIG.enabled


def _log(detail: str) -> None:
    """One line in the emulator's log per refusal: which strict rule answered, and how."""
    print(f"strict_aws: refused: {detail}", file=sys.stderr, flush=True)


def refused(error: JsonRESTError) -> JsonRESTError:
    _log(f"{error.code} {error.relative_error_type}: {error.message}")
    return error


def _younger_than(created: Any, seconds: float) -> bool:
    return created is not None and utcnow() - created < timedelta(seconds=seconds)


# --- policy evaluation (the project's evaluator) -------------------------------------------------


def _decision(policy: Any, action: str, resource: str, principal: str | None, context: dict[str, str]) -> str:
    """'Allow', 'Deny', 'Neutral', or 'Unsupported' for one policy document."""
    evaluator = policy_eval
    request = evaluator.Request(action=action, resource=resource, principal=principal, context=context)
    try:
        return evaluator.evaluate(policy, request).value
    except (evaluator.Unsupported, KeyError, TypeError, ValueError) as exc:
        print(f"strict_aws: policy not evaluated ({exc}); moto's answer stands", file=sys.stderr)
        return "Unsupported"


def _allowed(decisions: list[str]) -> bool | None:
    """None when a policy could not be evaluated; else AWS's same-account combination."""
    if "Unsupported" in decisions:
        return None
    return "Deny" not in decisions and "Allow" in decisions


# --- IAM roles ------------------------------------------------------------------------------------


def _role(arn: str) -> Any | None:
    account = arn.split(":")[4] if arn.count(":") >= 5 else ""
    if account not in iam_backends:
        return None
    for role in iam_backends[account][PARTITION].roles.values():
        if role.arn == arn:
            return role
    return None


def _trusts(role: Any, service: str, context: dict[str, str]) -> bool:
    """Whether the role's trust policy lets the service assume it (unjudgeable: yes)."""
    document = unquote(role.assume_role_policy_document or "{}")
    decision = _decision(document, "sts:AssumeRole", role.arn, service, context)
    return decision in ("Allow", "Unsupported")


def _role_unusable(role_arn: str, service: str, context: dict[str, str]) -> bool:
    # IAM is eventually consistent: "changes that I make are not always immediately visible ...
    # we recommend that you verify that your changes have been propagated before production
    # workflows depend on them" - https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html
    role = _role(role_arn)
    if role is None:
        return False  # moto's own check answers for a missing role
    if _younger_than(role.create_date, CONFIG.iam_propagation_seconds) or _first_use_refused(role, service):
        return True
    return not _trusts(role, service, context)


def _first_use_refused(role: Any, service: str) -> bool:
    """The first iam_propagation_refusals uses of this role by this service are refused.

    A role re-created under the same name has a new CreateDate, so it is new again.
    """
    key = (role.arn, str(role.create_date), service)
    with _LOCK:
        used = _REFUSED_USES.get(key, 0)
        if used >= CONFIG.iam_propagation_refusals:
            return False
        _REFUSED_USES[key] = used + 1
        return True


# --- Lambda ------------------------------------------------------------------------------------------


def _function_arn(self: LambdaResponse, name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:lambda:{self.region}:{self.current_account}:function:{name}"


def _check_function_role(self: LambdaResponse, role_arn: str | None, function_name: str) -> None:
    # The execution role must be assumable by lambda.amazonaws.com
    # (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html); until IAM has
    # propagated a new role, CreateFunction answers this same error.
    context = {"aws:SourceAccount": self.current_account, "aws:SourceArn": _function_arn(self, function_name)}
    if role_arn and _role_unusable(role_arn, "lambda.amazonaws.com", context):
        raise refused(InvalidParameterValueException(ROLE_CANNOT_BE_ASSUMED))


def _lambda_create(original: Any) -> Any:
    def create_function(self: LambdaResponse) -> Any:
        if not strict():
            return original(self)
        body = self.json_body
        _check_function_role(self, body.get("Role"), str(body.get("FunctionName", "")))
        check_execution_permissions(self, body.get("Role"), body)  # rule 14
        answer = original(self)
        # rule 13: a VPC function gets its network interfaces when it is created
        function = self.backend.get_function(str(body.get("FunctionName", "")).rsplit(":", 1)[-1])
        attach_function(self.current_account, self.region, function)
        return answer

    return create_function


def _lambda_update_configuration(original: Any) -> Any:
    def update_function_configuration(self: LambdaResponse) -> Any:
        if not strict():
            return original(self)
        name = unquote(self.path.rsplit("/", 2)[-2])
        _check_function_role(self, self.json_body.get("Role"), name)
        check_execution_permissions(self, *update_settings(self, name))  # rule 14
        answer = original(self)
        attach_after_update(self, name)  # rule 13: a new VpcConfig moves it to other interfaces
        return answer

    return update_function_configuration


def _reserved_elsewhere(self: LambdaResponse, function_name: str) -> int:
    return sum(
        int(fn.reserved_concurrency)
        for fn in self.backend.list_functions()
        if fn.reserved_concurrency and fn.function_name != function_name
    )


def _lambda_put_concurrency(original: Any) -> Any:
    def put_function_concurrency(self: LambdaResponse) -> Any:
        if strict():
            name = unquote(self.path.rsplit("/", 2)[-2]).split(":")[-1]
            fn = self.backend.get_function(name)
            wanted = int(self._get_param("ReservedConcurrentExecutions", 0) or 0)
            limit = CONFIG.account_concurrency_limit
            minimum = min(MINIMUM_UNRESERVED, limit)
            # "You can reserve up to the Unreserved account concurrency value that is shown, minus
            # 100 for functions that don't have reserved concurrency"
            # - https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
            # (the message AWS answers names the minimum: [100], or the whole limit when smaller).
            if limit - _reserved_elsewhere(self, fn.function_name) - wanted < minimum:
                raise refused(
                    InvalidParameterValueException(
                        "Specified ReservedConcurrentExecutions for function decreases account's "
                        f"UnreservedConcurrentExecution below its minimum value of [{minimum}]."
                    )
                )
        return original(self)

    return put_function_concurrency


def get_account_settings(self: LambdaResponse) -> Any:
    """GetAccountSettings (https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html)."""
    functions = list(self.backend.list_functions())
    limit = CONFIG.account_concurrency_limit
    settings = {
        "AccountLimit": {
            "TotalCodeSize": TOTAL_CODE_SIZE_LIMIT,
            "CodeSizeUnzipped": CODE_SIZE_UNZIPPED_LIMIT,
            "CodeSizeZipped": CODE_SIZE_ZIPPED_LIMIT,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": limit - _reserved_elsewhere(self, ""),
        },
        "AccountUsage": {
            "TotalCodeSize": sum(int(fn.code_size or 0) for fn in functions),
            "FunctionCount": len(functions),
        },
    }
    return 200, {"content-type": "application/json"}, json.dumps(settings)


ACCOUNT_SETTINGS_PATH = r"{0}/(?P<api_version>[^/]+)/account-settings/?$"


# --- CloudTrail --------------------------------------------------------------------------------------


def _trail_arn(self: CloudTrailResponse, name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:cloudtrail:{self.region}:{self.current_account}:trail/{name}"


def _check_trail(self: CloudTrailResponse) -> None:
    name = str(self._get_param("Name") or "")
    trail_arn = _trail_arn(self, name)
    context = {"aws:SourceAccount": self.current_account, "aws:SourceArn": trail_arn}
    role_arn = self._get_param("CloudWatchLogsRoleArn")
    # CloudTrail assumes this role to deliver to CloudWatch Logs
    # (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html);
    # a role IAM has not propagated yet is refused like one it may not assume.
    if role_arn and _role_unusable(role_arn, "cloudtrail.amazonaws.com", context):
        raise refused(JsonRESTError("InvalidCloudWatchLogsRoleArnException", CLOUDWATCH_ROLE_DENIED))
    key_id = self._get_param("KmsKeyId")
    if key_id and not _key_admits_cloudtrail(self, key_id, trail_arn):
        bucket = self._get_param("S3BucketName") or ""
        raise refused(
            JsonRESTError(
                "InsufficientEncryptionPolicyException",
                f"Insufficient permissions to access S3 bucket {bucket} or KMS key {key_id}.",
            )
        )
    bucket_name = self._get_param("S3BucketName")
    prefix = self._get_param("S3KeyPrefix")
    if bucket_name and not _bucket_admits_cloudtrail(self, bucket_name, prefix, context):
        raise refused(
            JsonRESTError(
                "InsufficientS3BucketPolicyException",
                f"Incorrect S3 bucket policy is detected for bucket: {bucket_name}",
            )
        )


def _key_admits_cloudtrail(self: CloudTrailResponse, key_id: str, trail_arn: str) -> bool:
    # The key policy must let cloudtrail.amazonaws.com kms:GenerateDataKey* with the trail's
    # encryption context - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
    region = key_id.split(":")[3] if key_id.startswith("arn:") else self.region
    try:
        key = kms_backends[self.current_account][region].describe_key(key_id)
    except Exception:  # noqa: BLE001 - moto raises its own NotFound types; it answers for a bad key
        return True
    context = {
        "kms:EncryptionContext:aws:cloudtrail:arn": trail_arn,
        "aws:SourceArn": trail_arn,
        "aws:SourceAccount": self.current_account,
    }
    decision = _decision(key.policy, "kms:GenerateDataKey", key.arn, "cloudtrail.amazonaws.com", context)
    return decision in ("Allow", "Unsupported")


def _bucket_admits_cloudtrail(
    self: CloudTrailResponse, bucket_name: str, prefix: str | None, context: dict[str, str]
) -> bool:
    # The bucket policy must allow cloudtrail.amazonaws.com s3:GetBucketAcl on the bucket and
    # s3:PutObject on <bucket>/[prefix/]AWSLogs/<account>/* (acl bucket-owner-full-control)
    # - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
    try:
        bucket = s3_backends[self.current_account][PARTITION].get_bucket(bucket_name)
    except S3ClientError:
        return True  # moto answers S3BucketDoesNotExistException itself
    if not bucket.policy:
        return False
    policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
    folder = f"{prefix.strip('/')}/" if prefix else ""
    key = f"{folder}AWSLogs/{self.current_account}/CloudTrail/{self.region}/probe.json.gz"
    context = {**context, "s3:x-amz-acl": "bucket-owner-full-control", "aws:SecureTransport": "true"}
    checks = (
        ("s3:GetBucketAcl", f"arn:aws:s3:::{bucket_name}"),
        ("s3:PutObject", f"arn:aws:s3:::{bucket_name}/{key}"),
    )
    for action, resource in checks:
        if _allowed([_decision(policy, action, resource, "cloudtrail.amazonaws.com", context)]) is False:
            return False
    return True


def _trail_call(original: Any) -> Any:
    def call(self: CloudTrailResponse) -> Any:
        if strict():
            _check_trail(self)
        return original(self)

    return call


# --- DynamoDB ----------------------------------------------------------------------------------------


def _dynamodb_continuous_backups(original: Any) -> Any:
    def update_continuous_backups(self: DynamoHandler) -> Any:
        if strict():
            name = str(self.body.get("TableName", "")).split("table/")[-1]
            table = self.dynamodb_backend.tables.get(name)
            # "ContinuousBackupsUnavailableException: Backups have not yet been enabled for this
            # table" - https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateContinuousBackups.html
            # AWS answers it for a while after CreateTable.
            if table is not None and _younger_than(table.created_at, CONFIG.pitr_unavailable_seconds):
                raise refused(
                    JsonRESTError(
                        "com.amazonaws.dynamodb.v20120810#ContinuousBackupsUnavailableException",
                        f"Backups are being enabled for the table: {name}. Please retry later",
                    )
                )
        return original(self)

    return update_continuous_backups


# --- S3: ACLs on BucketOwnerEnforced buckets ---------------------------------------------------------

ACL_NOT_SUPPORTED = ("AccessControlListNotSupported", "The bucket does not allow ACLs")
BUCKET_ACL_WITH_OWNERSHIP = (
    "InvalidBucketAclWithObjectOwnership",
    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
)
OWNER_ONLY_CANNED = {
    "object": {"bucket-owner-full-control"},
    "bucket": {"private", "bucket-owner-full-control"},
}


def s3_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    _log(f"{status} {code}: {message}")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>strict</RequestId></Error>"
    )
    return status, {"content-type": "application/xml"}, body.encode()


def _enforced(bucket: Any) -> bool:
    # Buckets without ownership controls are BucketOwnerEnforced: "By default, Object Ownership
    # is set to the Bucket owner enforced setting and all ACLs are disabled"
    # - https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
    return (bucket.ownership_rule or "BucketOwnerEnforced") == "BucketOwnerEnforced"


def _header_acl_allowed(headers: Any, kind: str) -> bool:
    """No ACL, or the canned ACL that gives the bucket owner full control (and nobody else)."""
    names = [item[0] if isinstance(item, tuple) else item for item in headers]  # werkzeug: (name, value)
    if any(str(name).lower().startswith("x-amz-grant-") for name in names):
        return False
    canned = headers.get("x-amz-acl")
    return canned is None or canned in OWNER_ONLY_CANNED[kind]


def _body_acl_allowed(body: bytes | str | None) -> bool:
    """An AccessControlPolicy document is accepted when its only grant is the owner's FULL_CONTROL."""
    if not body:
        return True
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return True  # moto answers MalformedXML
    owner = root.findtext("{*}Owner/{*}ID")
    for grant in root.iter():
        if not grant.tag.endswith("}Grant") and grant.tag != "Grant":
            continue
        grantee_id = grant.findtext("{*}Grantee/{*}ID") or grant.findtext("Grantee/ID")
        permission = grant.findtext("{*}Permission") or grant.findtext("Permission")
        if grantee_id != owner or permission != "FULL_CONTROL":
            return False
    return True


def _bucket_or_none(self: S3Response, bucket_name: str) -> Any | None:
    try:
        return self.backend.get_bucket(bucket_name)
    except S3ClientError:
        return None


def _bucket_put(original: Any) -> Any:
    def bucket_put(self: S3Response, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if strict():
            refused = _bucket_put_refusal(self, request, bucket_name, querystring)
            if refused:
                return refused
        return original(self, request, bucket_name, querystring)

    return bucket_put


def _bucket_put_refusal(
    self: S3Response, request: Any, bucket_name: str, querystring: dict[str, Any]
) -> tuple[int, dict[str, str], bytes] | None:
    headers = request.headers
    if "acl" in querystring:
        # PutBucketAcl: "Requests to set ACLs or update ACLs fail with a 400 error and return the
        # AccessControlListNotSupported error code"
        # - https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
        bucket = _bucket_or_none(self, bucket_name)
        if bucket is not None and _enforced(bucket):
            acl_allowed = _header_acl_allowed(headers, "bucket") and _body_acl_allowed(self.body)
            if not acl_allowed:
                return s3_error(400, *ACL_NOT_SUPPORTED)
        return None
    if "notification" in querystring:
        return _notification_refusal(self, bucket_name)
    if not querystring:
        # CreateBucket: "If your CreateBucket request sets BucketOwnerEnforced for Amazon S3 Object
        # Ownership and specifies a bucket ACL that provides access to an external AWS account, your
        # request fails with a 400 error and returns the InvalidBucketAclWithObjectOwnership error
        # code" - https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
        ownership = headers.get("x-amz-object-ownership") or "BucketOwnerEnforced"
        if ownership == "BucketOwnerEnforced" and not _header_acl_allowed(headers, "bucket"):
            return s3_error(400, *BUCKET_ACL_WITH_OWNERSHIP)
    return None


NOTIFICATION_DESTINATIONS = {
    # XML element: (action the destination's resource policy must allow to s3.amazonaws.com)
    "CloudFunction": "lambda:InvokeFunction",
    "Topic": "sns:Publish",
    "Queue": "sqs:SendMessage",
}


def _destination_policy(arn: str) -> str | None:
    """The resource policy of a Lambda function, SNS topic or SQS queue (None: none, or unknown)."""
    parts = arn.split(":")
    if len(parts) < 6:
        return None
    service, region, account = parts[2], parts[3], parts[4]
    try:
        if service == "lambda":
            # the backend LambdaResponse uses (moto's "simple" Lambda when Docker is off)
            return json.loads(get_lambda_backend(account, region).get_policy(arn))["Policy"]
        if service == "sns":
            return sns_backends[account][region].get_topic(arn).policy
        if service == "sqs":
            policy = sqs_backends[account][region].get_queue(parts[5]).policy
            return policy if isinstance(policy, str) or policy is None else json.dumps(policy)
    except Exception:  # noqa: BLE001 - moto raises its own NotFound types
        return None
    return None


def _notification_refusal(self: S3Response, bucket_name: str) -> tuple[int, dict[str, str], bytes] | None:
    # "Unable to validate the following destination configurations": S3 checks, when the
    # notification configuration is put, that each destination's resource policy lets
    # s3.amazonaws.com deliver to it (for this bucket and account)
    # - https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
    try:
        root = ET.fromstring(self.body or b"")
    except ET.ParseError:
        return None  # moto answers MalformedXML
    context = {
        "aws:SourceArn": f"arn:aws:s3:::{bucket_name}",
        "aws:SourceAccount": self.get_current_account(),
    }
    for element, action in NOTIFICATION_DESTINATIONS.items():
        for destination in root.iter():
            if destination.tag.rsplit("}", 1)[-1] != element or not (destination.text or "").strip():
                continue
            arn = destination.text.strip()
            # rule 15: a function's permission for S3 added seconds ago is not seen yet
            is_function = arn.split(":")[2:3] == ["lambda"]
            policy = propagated_function_policy(arn) if is_function else _destination_policy(arn)
            decision = _decision(policy, action, arn, "s3.amazonaws.com", context) if policy else "Neutral"
            if decision not in ("Allow", "Unsupported"):
                return s3_error(
                    400, "InvalidArgument", "Unable to validate the following destination configurations"
                )
    return None


def _object_acl_refusal(self: S3Response, method: str, query: dict[str, Any], bucket_name: str) -> Any:
    # "Buckets that use this setting only accept PUT requests that don't specify an ACL or PUT
    # requests that specify bucket owner full control ACLs, such as the bucket-owner-full-control
    # canned ACL or an equivalent form of this ACL expressed in the XML format. PUT requests that
    # contain other ACLs ... fail and return a 400 error with the error code
    # AccessControlListNotSupported" - https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
    writes_acl = (method == "PUT" and "uploadId" not in query) or (method == "POST" and "uploads" in query)
    if not writes_acl:
        return None
    bucket = _bucket_or_none(self, bucket_name)
    if bucket is None or not _enforced(bucket):
        return None
    allowed = _header_acl_allowed(self.headers, "object")
    if method == "PUT" and "acl" in query:
        allowed = allowed and _body_acl_allowed(self.body)
    return None if allowed else s3_error(400, *ACL_NOT_SUPPORTED)


# --- S3: a missing key without s3:ListBucket -----------------------------------------------------------


def _caller_policies(access_key_id: str) -> tuple[str, list[Any]] | None:
    """(principal ARN, identity policy documents) of an assumed role or IAM user; None for root."""
    for account in list(sts_backends.keys()):
        assumed = sts_backends[account][PARTITION].get_assumed_role_from_access_key(access_key_id)
        if assumed is not None:
            role_name = assumed.role_arn.split("/")[-1]
            iam = iam_backends[account][PARTITION]
            try:
                role = iam.get_role(role_name)
            except Exception:  # noqa: BLE001 - moto raises its own NotFound types
                return assumed.role_arn, []
            documents = [unquote(doc) for doc in role.policies.values()]
            documents += [_managed_document(policy) for policy in role.managed_policies.values()]
            return role.arn, documents
    for account in list(iam_backends.keys()):
        iam = iam_backends[account][PARTITION]
        user = iam.get_user_from_access_key_id(access_key_id)
        if user is not None:
            documents = [unquote(doc) for doc in user.policies.values()]
            documents += [_managed_document(policy) for policy in user.managed_policies.values()]
            return user.arn, documents
    return None


def _managed_document(policy: Any) -> str:
    version = next(v for v in policy.versions if v.is_default)
    return unquote(version.document)


def may_list(self: S3Response, bucket_name: str, key_name: str) -> bool:
    """Whether the request's caller holds s3:ListBucket on the bucket (root and unknown keys: yes)."""
    caller = _caller_policies(self.get_access_key())
    if caller is None:
        return True
    principal, documents = caller
    resource = f"arn:aws:s3:::{bucket_name}"
    context = {"s3:prefix": key_name, "aws:PrincipalArn": principal, "aws:SecureTransport": "true"}
    decisions = [_decision(doc, "s3:ListBucket", resource, principal, context) for doc in documents]
    bucket = _bucket_or_none(self, bucket_name)
    if bucket is not None and bucket.policy:
        policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
        decisions.append(_decision(policy, "s3:ListBucket", resource, principal, context))
    allowed = _allowed(decisions)
    return True if allowed is None else allowed


def _key_response(original: Any) -> Any:
    def key_response(self: S3Response, request: Any, full_url: str) -> Any:
        if not strict():
            return original(self, request, full_url)
        query = self._get_querystring(request, full_url)
        bucket_name = self.parse_bucket_name_from_url(request, full_url)
        refused = _object_acl_refusal(self, request.method, query, bucket_name)
        if refused:
            return refused
        reading = request.method in ("GET", "HEAD") and not set(query) & {"uploadId", "acl", "tagging"}
        try:
            response = original(self, request, full_url)
        except MissingKey:
            # "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status
            # code 403 Access Denied error" - https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
            if reading and not may_list(self, bucket_name, self.parse_key_name()):
                return s3_error(403, "AccessDenied", "Access Denied")
            raise
        if (
            reading
            and request.method == "HEAD"
            and isinstance(response, tuple)
            and response[0] == 404
            and _bucket_or_none(self, bucket_name) is not None
            and not may_list(self, bucket_name, self.parse_key_name())
        ):
            # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html: 403 Forbidden
            # without s3:ListBucket (a HEAD answer has no body).
            _log(f"403 (HEAD {bucket_name}/{self.parse_key_name()}, no s3:ListBucket)")
            return 403, {}, b""
        return response

    return key_response


# --- runtime control: /secureinfra/strict -------------------------------------------------------------


def _control_app(original: Any) -> Any:
    def call(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != CONTROL_PATH:
            return original(self, environ, start_response)
        status, body = control(environ.get("REQUEST_METHOD", "GET"), _read_body(environ))
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    return call


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def control(method: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """GET: the settings. POST: change them (JSON object), answer the new settings."""
    if method == "GET":
        return "200 OK", CONFIG.as_dict()
    if method != "POST":
        return "405 Method Not Allowed", {"error": "use GET or POST"}
    try:
        changes = json.loads(body or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("expected a JSON object of settings")
        with _LOCK:
            candidate = StrictConfig(**CONFIG.as_dict())
            candidate.update(changes)
            CONFIG.update(candidate.as_dict())
    except ValueError as exc:
        return "400 Bad Request", {"error": str(exc), "settings": CONFIG.as_dict()}
    print(f"strict_aws: settings now {CONFIG.as_dict()}", file=sys.stderr)
    return "200 OK", CONFIG.as_dict()


PATCHES: list[tuple[Any, str, Any]] = [
    (LambdaResponse, "create_function", _lambda_create),
    (LambdaResponse, "update_function_configuration", _lambda_update_configuration),
    (LambdaResponse, "put_function_concurrency", _lambda_put_concurrency),
    (CloudTrailResponse, "create_trail", _trail_call),
    (CloudTrailResponse, "update_trail", _trail_call),
    (DynamoHandler, "update_continuous_backups", _dynamodb_continuous_backups),
    (S3Response, "_bucket_response_put", _bucket_put),
    (S3Response, "_key_response", _key_response),
    (DomainDispatcherApplication, "__call__", _control_app),
]


def install_additions() -> None:
    """What moto lacks whether or not strict mode is on: Lambda GetAccountSettings."""
    lambda_urls.url_paths.setdefault(ACCOUNT_SETTINGS_PATH, LambdaResponse.dispatch)
    if not hasattr(LambdaResponse, "get_account_settings"):
        LambdaResponse.get_account_settings = get_account_settings  # type: ignore[attr-defined]


from moto.cloudwatch.exceptions import ValidationError as CloudWatchValidationError  # noqa: E402
from moto.cloudwatch.responses import CloudWatchResponse  # noqa: E402

# --- rule 12: CloudWatch alarm periods (found where LocalStack refuses and moto accepts) -------------
#
# 12  PutMetricAlarm whose Period (or a metric query's MetricStat Period) is not 10, 20, 30 or a
#     multiple of 60, or whose Period x EvaluationPeriods exceeds seven days (one day when the
#     period is under an hour)
#     source  AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html (Period: "Valid values
#             are 10, 20, 30, and any multiple of 60"; "Period multiplied by EvaluationPeriods
#             can't be more than 604,800 seconds. For alarms with a period of less than one hour
#             (3,600 seconds), the total evaluation period can't be longer than one day")
#     error   400 ValidationError (the message is ours: AWS documents the rule, not its wording)
#     LocalStack 2026.3.0 refuses a period of 45 ("Period must be 10, 30 or a multiple of 60");
#     moto 5.2.5 stores any period.

HIGH_RESOLUTION_PERIODS = (10, 20, 30)
MAX_EVALUATION_SECONDS = 604_800
MAX_EVALUATION_SECONDS_SHORT_PERIOD = 86_400


def alarm_period_problem(period: int | None, evaluation_periods: int | None) -> str | None:
    """Why AWS refuses this alarm period and evaluation range, or None when it accepts them."""
    if period is None:
        return None
    if period <= 0 or (period not in HIGH_RESOLUTION_PERIODS and period % 60):
        return f"Period must be 10, 20, 30 or a multiple of 60 (got {period})"
    limit = MAX_EVALUATION_SECONDS_SHORT_PERIOD if period < 3600 else MAX_EVALUATION_SECONDS
    if evaluation_periods is not None and period * evaluation_periods > limit:
        return f"Period x EvaluationPeriods ({period} x {evaluation_periods}) must not exceed {limit} seconds"
    return None


def _alarm_periods(self: CloudWatchResponse) -> list[int | None]:
    periods = [self._get_int_param("Period")]
    for query in self._get_param("Metrics", []) or []:
        stat_period = (query.get("MetricStat") or {}).get("Period")
        periods.append(int(stat_period) if stat_period is not None else None)
    return periods


def _cloudwatch_put_metric_alarm(original: Any) -> Any:
    def put_metric_alarm(self: CloudWatchResponse) -> Any:
        if strict():
            evaluation_periods = self._get_int_param("EvaluationPeriods")
            for period in _alarm_periods(self):
                problem = alarm_period_problem(period, evaluation_periods)
                if problem:
                    _log(f"ValidationError 400: {problem}")
                    raise CloudWatchValidationError(problem)
        return original(self)

    return put_metric_alarm


PATCHES.append((CloudWatchResponse, "put_metric_alarm", _cloudwatch_put_metric_alarm))


import re  # noqa: E402
from http import HTTPStatus  # noqa: E402
from urllib.parse import parse_qs  # noqa: E402

from moto.iam.models import get_account_id_from  # noqa: E402
from moto.sts.exceptions import STSValidationError  # noqa: E402
from moto.sts.models import STSBackend  # noqa: E402
from moto.sts.responses import TokenResponse  # noqa: E402

# --- rules 17 and 18: STS sessions end; role chaining caps them at one hour (module docstring) ----

ROLE_CHAINING_MAX_SECONDS = 3600
ROLE_CHAINING_EXCEEDED = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)
EXPIRED_MESSAGE = "The security token included in the request is expired"
_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/\d{8}/[^/]*/([^/]+)/")

Answer = tuple[int, dict[str, str], bytes]


def request_key(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(access key id, signing service) of a signed request: its SigV4 Authorization header, or a
    presigned URL's X-Amz-Credential (SigV4) or AWSAccessKeyId (SigV2, S3); None when unsigned."""
    match = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    if match:
        return match.group(1), match.group(2)
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    parts = (query.get("X-Amz-Credential") or [""])[0].split("/")
    if len(parts) >= 5:
        return parts[0], parts[3]
    if query.get("AWSAccessKeyId"):  # a SigV2 presigned URL: S3's only
        return query["AWSAccessKeyId"][0], "s3"
    return None


def session_of(access_key_id: str) -> Any | None:
    """The AssumeRole session whose key this is (moto keeps it in the role's account), or None."""
    account = get_account_id_from(access_key_id)
    return sts_backends[account][PARTITION].get_assumed_role_from_access_key(access_key_id)


def expired(session: Any) -> bool:
    return session is not None and utcnow() >= session.expiration


def expired_token_answer(service: str, content_type: str) -> Answer:
    """What AWS answers a call signed with expired credentials, in the call's protocol (rule 17)."""
    if service == "s3":  # REST-XML: S3 and S3 Control
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ExpiredToken</Code>'
            "<Message>The provided token has expired.</Message><RequestId>strict</RequestId></Error>"
        )
        return 400, {"Content-Type": "application/xml"}, body.encode()
    if service == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestExpired</Code>'
            "<Message>Request has expired.</Message></Error></Errors><RequestID>strict</RequestID></Response>"
        )
        return 400, {"Content-Type": "text/xml"}, body.encode()
    if content_type.startswith("application/x-amz-json"):
        document = {"__type": "com.amazon.coral.service#ExpiredTokenException", "message": EXPIRED_MESSAGE}
        return 400, {"Content-Type": content_type.split(";")[0]}, json.dumps(document).encode()
    if content_type.startswith("application/x-www-form-urlencoded"):  # query: IAM, STS, SNS
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
            f"<Code>ExpiredToken</Code><Message>{EXPIRED_MESSAGE}</Message></Error>"
            "<RequestId>strict</RequestId></ErrorResponse>"
        )
        return 403, {"Content-Type": "text/xml"}, body.encode()
    # REST-JSON (Lambda, EventBridge Scheduler): the code in x-amzn-ErrorType
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "ExpiredTokenException"}
    return 403, headers, json.dumps({"Type": "User", "message": EXPIRED_MESSAGE}).encode()


def _wsgi(answer: Answer) -> Any:
    status, headers, body = answer

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(
            f"{status} {HTTPStatus(status).phrase}", [*headers.items(), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app


def _expired_sessions(original: Any) -> Any:
    def get_application(self: DomainDispatcherApplication, environ: dict[str, Any]) -> Any:
        if strict():
            signed = request_key(environ)
            session = session_of(signed[0]) if signed else None
            if signed and expired(session):
                answer = expired_token_answer(signed[1], str(environ.get("CONTENT_TYPE", "")))
                _log(
                    f"{answer[0]} expired session {session.arn} (expired {session.expiration:%H:%M:%S} UTC): "
                    f"{environ.get('REQUEST_METHOD')} {signed[1]} {environ.get('PATH_INFO', '')}"
                )
                return _wsgi(answer)
        return original(self, environ)

    return get_application


def _session_lifetime(original: Any) -> Any:
    def assume_role(self: STSBackend, **kwargs: Any) -> Any:
        session = original(self, **kwargs)
        if strict() and CONFIG.session_seconds > 0:
            session.expiration = min(session.expiration, utcnow() + timedelta(seconds=CONFIG.session_seconds))
        return session

    return assume_role


def _role_chaining(original: Any) -> Any:
    def assume_role(self: TokenResponse) -> Any:
        if strict():
            duration = self._get_int_param("DurationSeconds", ROLE_CHAINING_MAX_SECONDS)
            caller = session_of(self.get_access_key())
            if duration > ROLE_CHAINING_MAX_SECONDS and caller is not None:
                _log(
                    f"ValidationError 400: {ROLE_CHAINING_EXCEEDED} "
                    f"(DurationSeconds={duration}, caller {caller.arn})"
                )
                raise STSValidationError(ROLE_CHAINING_EXCEEDED)
        return original(self)

    return assume_role


PATCHES.extend(
    [
        (DomainDispatcherApplication, "get_application", _expired_sessions),
        (STSBackend, "assume_role", _session_lifetime),
        (TokenResponse, "assume_role", _role_chaining),
    ]
)


import contextlib  # noqa: E402
import uuid  # noqa: E402

from moto.ec2.exceptions import DependencyViolationError, EC2ClientError  # noqa: E402
from moto.ec2.models import ec2_backends  # noqa: E402
from moto.ec2.responses import EC2Response  # noqa: E402
from moto.iam.models import Role as IAMRole  # noqa: E402
from moto.iam.responses import IamResponse  # noqa: E402

# --- rule 13: the network interfaces of VPC functions (Lambda Hyperplane ENIs) ---------------------
#
# moto 5.2.5 creates no network interface for a function with a VpcConfig, and deletes subnets and
# security groups that network interfaces still use. The emulator's Lambda keeps one interface per
# subnet and security-group combination, shared by the functions that use it, and releases it as
# the module docstring (rule 13) says. The release is settled lazily: whenever a call could observe
# it (DescribeNetworkInterfaces, DeleteNetworkInterface/Subnet/SecurityGroup/Vpc, IAM
# DeleteRole/DeleteRolePolicy), every interface whose release is due is released first, with the
# execution role as it is at that moment.

LAMBDA_ENI_DESCRIPTION = "AWS Lambda VPC ENI-{name}-{suffix}"
LAMBDA_ENI_ATTR = "_secureinfra_lambda_eni"
ENI_IN_USE = "in-use"
ENI_AVAILABLE = "available"


@dataclass
class LambdaEni:
    """What the emulator's Lambda knows of one of its network interfaces."""

    role_arn: str  # execution role of the function that created it (Lambda deletes with it)
    functions: set[str]  # ARNs of the functions that use it
    released_at: Any = None  # when the last function stopped using it


def _ec2_backend(account: str, region: str) -> Any:
    return ec2_backends[account][region]


def _lambda_enis(backend: Any) -> list[tuple[Any, LambdaEni]]:
    return [
        (eni, getattr(eni, LAMBDA_ENI_ATTR))
        for eni in list(backend.enis.values())
        if isinstance(getattr(eni, LAMBDA_ENI_ATTR, None), LambdaEni)
    ]


def _vpc_pairs(vpc_config: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    """(subnet ids, sorted security group ids) of a VpcConfig; empty when the function has no VPC."""
    config = vpc_config or {}
    subnets = [str(s) for s in config.get("SubnetIds") or []]
    groups = sorted(str(g) for g in config.get("SecurityGroupIds") or [])
    return (subnets, groups) if subnets and groups else ([], [])


def _shared_eni(backend: Any, subnet_id: str, groups: list[str]) -> Any | None:
    # "Functions in the account that share the same security group and subnet combination use the
    # same network interfaces" - lambda/latest/dg/foundation-networking.html#foundation-nw-eni
    for eni, _state in _lambda_enis(backend):
        same_groups = sorted(g.id for g in eni.group_set) == groups
        if eni.subnet.id == subnet_id and same_groups and eni.status == ENI_IN_USE:
            return eni
    return None


def _create_eni(backend: Any, subnet_id: str, groups: list[str], function_name: str, role_arn: str) -> Any:
    subnet = next((s for s in backend.describe_subnets() if s.id == subnet_id), None)
    if subnet is None or any(backend.get_security_group_from_id(g) is None for g in groups):
        return None  # moto does not validate the VpcConfig; nothing to attach to
    suffix = str(uuid.uuid4())
    description = LAMBDA_ENI_DESCRIPTION.format(name=function_name, suffix=suffix)
    eni = backend.create_network_interface(subnet, None, group_ids=groups, description=description)
    role = _role(role_arn)
    eni.status = ENI_IN_USE
    eni.requester_managed = True
    eni.interface_type = "lambda"
    eni.requester_id = f"{role.id if role else 'AROA'}:{function_name}"
    setattr(eni, LAMBDA_ENI_ATTR, LambdaEni(role_arn=role_arn, functions=set()))
    return eni


def attach_function(account: str, region: str, function: Any) -> None:
    """Give a VPC function its network interfaces (one per subnet, shared per security-group set)."""
    subnets, groups = _vpc_pairs(getattr(function, "_vpc_config", None))
    backend = _ec2_backend(account, region)
    for subnet_id in subnets:
        eni = _shared_eni(backend, subnet_id, groups) or _create_eni(
            backend, subnet_id, groups, function.function_name, function.role
        )
        if eni is not None:
            state = getattr(eni, LAMBDA_ENI_ATTR)
            state.functions.add(function.function_arn)
            state.released_at = None


def detach_function(account: str, region: str, function_arn: str) -> None:
    """The function no longer uses its interfaces; an interface nobody uses is due for release."""
    for _eni, state in _lambda_enis(_ec2_backend(account, region)):
        if function_arn in state.functions:
            state.functions.discard(function_arn)
            if not state.functions:
                state.released_at = utcnow()


def _role_may_delete(role_arn: str, eni: Any, account: str, region: str) -> bool:
    """Whether the execution role still exists and may ec2:DeleteNetworkInterface this interface."""
    role = _role(role_arn)
    if role is None:
        return False
    resource = f"arn:{PARTITION}:ec2:{region}:{account}:network-interface/{eni.id}"
    return _role_allows(role, "ec2:DeleteNetworkInterface", resource)


def _role_allows(role: Any, action: str, resource: str) -> bool:
    """Whether the role's identity policies (inline and attached) allow it (unjudgeable: yes)."""
    documents = [unquote(doc) for doc in role.policies.values()]
    documents += [_managed_document(policy) for policy in role.managed_policies.values()]
    return _allowed([_decision(doc, action, resource, role.arn, {}) for doc in documents]) is not False


def settle(account: str, region: str) -> None:
    """Release every interface of this region whose release is due (see rule 13)."""
    if account not in ec2_backends or region not in list(ec2_backends[account]):  # created ones only
        return
    backend = _ec2_backend(account, region)
    for eni, state in _lambda_enis(backend):
        due = state.released_at is not None and not _younger_than(
            state.released_at, CONFIG.lambda_eni_release_seconds
        )
        if state.functions or not due or eni.status != ENI_IN_USE:
            continue
        if _role_may_delete(state.role_arn, eni, account, region):
            backend.delete_network_interface(eni.id)
            print(f"strict_aws: Lambda deleted its network interface {eni.id}", file=sys.stderr, flush=True)
        else:
            eni.status = ENI_AVAILABLE
            print(
                f"strict_aws: Lambda released {eni.id} but could not delete it: its execution role "
                f"{state.role_arn} is gone or may not ec2:DeleteNetworkInterface",
                file=sys.stderr,
                flush=True,
            )


def settle_account(account: str) -> None:
    if account in ec2_backends:
        for region in list(ec2_backends[account].keys()):
            settle(account, region)


def _ec2_refused(error: EC2ClientError) -> EC2ClientError:
    _log(f"{error.code}: {error.message}")
    return error


def _subnet_in_use(self: EC2Response) -> None:
    subnet_id = str(self._get_param("SubnetId") or "")
    if any(eni.subnet.id == subnet_id for eni in self.ec2_backend.enis.values()):
        # A subnet with network interfaces cannot be deleted
        # - AWSEC2/latest/APIReference/errors-overview.html (DependencyViolation)
        message = f"The subnet '{subnet_id}' has dependencies and cannot be deleted."
        raise _ec2_refused(DependencyViolationError(message))


def _group_in_use(self: EC2Response) -> None:
    group_id = self._get_param("GroupId")
    if not group_id and self._get_param("GroupName"):
        group = self.ec2_backend.get_security_group_by_name_or_id(self._get_param("GroupName"))
        group_id = group.id if group else None
    if group_id and any(group_id in {g.id for g in eni.group_set} for eni in self.ec2_backend.enis.values()):
        raise _ec2_refused(DependencyViolationError(f"resource {group_id} has a dependent object"))


def _interface_in_use(self: EC2Response) -> None:
    eni_id = str(self._get_param("NetworkInterfaceId") or "")
    eni = self.ec2_backend.enis.get(eni_id)
    if eni is not None and eni.status == ENI_IN_USE:
        # "InvalidNetworkInterface.InUse: The specified interface is currently in use and cannot be
        # deleted" - AWSEC2/latest/APIReference/errors-overview.html
        raise _ec2_refused(EC2ClientError("InvalidNetworkInterface.InUse", f"Interface: [{eni_id}] in use."))


EC2_CHECKS: dict[str, Any] = {
    "delete_subnet": _subnet_in_use,
    "delete_security_group": _group_in_use,
    "delete_network_interface": _interface_in_use,
    "describe_network_interfaces": None,
    "delete_vpc": None,
}


def _ec2_call(name: str) -> Any:
    check = EC2_CHECKS[name]

    def wrap(original: Any) -> Any:
        def call(self: EC2Response) -> Any:
            if strict():
                settle(self.current_account, self.region)
                if check is not None:
                    check(self)
            return original(self)

        return call

    return wrap


def _iam_role_change(original: Any) -> Any:
    def call(self: IamResponse) -> Any:
        if strict():
            settle_account(self.current_account)  # a release that is due happens before the change
        return original(self)

    return call


def _lambda_delete(original: Any) -> Any:
    def delete_function(self: LambdaResponse) -> Any:
        name = unquote(self.path.rsplit("/", 1)[-1])
        arn = None
        if strict() and not self._get_param("Qualifier", None):
            with contextlib.suppress(Exception):  # moto answers for an unknown function
                arn = self.backend.get_function(name).function_arn
        answer = original(self)
        if arn:
            detach_function(self.current_account, self.region, arn)
        return answer

    return delete_function


def attach_after_update(self: LambdaResponse, function_name: str) -> None:
    """UpdateFunctionConfiguration with a VpcConfig moves the function to the new interfaces."""
    if "VpcConfig" not in self.json_body:
        return
    function = self.backend.get_function(function_name)
    detach_function(self.current_account, self.region, function.function_arn)
    attach_function(self.current_account, self.region, function)


PATCHES.extend(
    [
        *((EC2Response, name, _ec2_call(name)) for name in EC2_CHECKS),
        (IamResponse, "delete_role", _iam_role_change),
        (IamResponse, "delete_role_policy", _iam_role_change),
        (LambdaResponse, "delete_function", _lambda_delete),
    ]
)


# --- rule 14: the execution role's permissions, checked by CreateFunction / UpdateFunctionConfiguration --

EXECUTION_ROLE_LACKS = "The provided execution role does not have permissions to call {action} on {service}"
SERVICE_LABELS = {"ec2": "EC2", "sqs": "SQS", "sns": "SNS", "xray": "XRAY"}
# iam_propagation_refusals counts the uses of a role by this check apart from rule 3's
PERMISSION_CHECK = "lambda.amazonaws.com/execution-role-permissions"
POLICY_PUT_ATTR = "_secureinfra_policy_put_at"
CHECKED_SETTINGS = ("VpcConfig", "DeadLetterConfig", "TracingConfig")


def _role_put_policy(original: Any) -> Any:
    """Remember when a role's inline policy was last put (PutRolePolicy): rule 14's clock."""

    def put_policy(self: Any, policy_name: str, policy_json: str) -> None:
        original(self, policy_name, policy_json)
        setattr(self, POLICY_PUT_ATTR, utcnow())

    return put_policy


def execution_permissions(account: str, region: str, settings: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, resource) the execution role needs for these function settings, in checking order."""
    needed: list[tuple[str, str]] = []
    subnets, groups = _vpc_pairs(settings.get("VpcConfig"))
    if subnets:
        # lambda/latest/dg/configuration-vpc.html, "Execution role permissions"
        ec2 = f"arn:{PARTITION}:ec2:{region}:{account}"
        created = [f"{ec2}:network-interface/*"]
        created += [f"{ec2}:subnet/{s}" for s in subnets] + [f"{ec2}:security-group/{g}" for g in groups]
        needed += [("ec2:CreateNetworkInterface", resource) for resource in created]
        needed.append(("ec2:DescribeNetworkInterfaces", "*"))
        needed.append(("ec2:DeleteNetworkInterface", f"{ec2}:network-interface/*"))
    target = str((settings.get("DeadLetterConfig") or {}).get("TargetArn") or "")
    if target:
        # lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq: sqs:SendMessage / sns:Publish
        needed.append(("sns:Publish" if target.split(":")[2:3] == ["sns"] else "sqs:SendMessage", target))
    if (settings.get("TracingConfig") or {}).get("Mode") == "Active":
        # lambda/latest/dg/services-xray.html: AWSXRayDaemonWriteAccess
        needed += [("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*")]
    return needed


def _permission_refusal(role: Any, needed: list[tuple[str, str]]) -> str | None:
    """The action Lambda names when it refuses, or None."""
    lacking = next((action for action, resource in needed if not _role_allows(role, action, resource)), None)
    if lacking is None and needed:
        young = _younger_than(getattr(role, POLICY_PUT_ATTR, None), CONFIG.iam_propagation_seconds)
        if young or _first_use_refused(role, PERMISSION_CHECK):
            lacking = needed[0][0]  # not propagated yet: Lambda's first check fails
    return lacking


def check_execution_permissions(self: LambdaResponse, role_arn: str | None, settings: dict[str, Any]) -> None:
    role = _role(role_arn) if role_arn else None
    if role is None:
        return  # rule 3 and moto answer for a missing role
    lacking = _permission_refusal(role, execution_permissions(self.current_account, self.region, settings))
    if lacking:
        prefix, action = lacking.split(":", 1)
        message = EXECUTION_ROLE_LACKS.format(action=action, service=SERVICE_LABELS[prefix])
        raise refused(InvalidParameterValueException(message))


def update_settings(self: LambdaResponse, name: str) -> tuple[str | None, dict[str, Any]]:
    """The role and the checked settings an UpdateFunctionConfiguration leaves the function with."""
    body = self.json_body
    if not any(key in body for key in ("Role", *CHECKED_SETTINGS)):
        return None, {}
    try:
        function = self.backend.get_function(name)
    except Exception:  # noqa: BLE001 - moto raises its own NotFound types; it answers for them
        return None, {}
    current = function.get_configuration()
    return body.get("Role") or function.role, {k: body.get(k, current.get(k)) for k in CHECKED_SETTINGS}


PATCHES.append((IAMRole, "put_policy", _role_put_policy))


# --- rule 15: a function's permission for S3, added seconds ago, is not seen by S3 yet ------------------

STATEMENT_TIMES_ATTR = "_secureinfra_statements_added_at"
S3_PRINCIPAL = "s3.amazonaws.com"
# (function ARN, Sid, when added) -> uses refused so far (iam_propagation_refusals)
_REFUSED_STATEMENT_USES: dict[tuple[str, str, str], int] = {}


def _lambda_add_permission(original: Any) -> Any:
    """Remember when each statement of a function's resource policy was added (AddPermission)."""

    def add_permission(self: LambdaResponse) -> Any:
        answer = original(self)
        function = self.backend.get_function(
            unquote(self.path.split("/")[-2]), self.querystring.get("Qualifier", [None])[0]
        )
        statement = json.loads(json.loads(answer)["Statement"])
        times = function.policy.__dict__.setdefault(STATEMENT_TIMES_ATTR, {})
        times[str(statement.get("Sid"))] = utcnow()
        return answer

    return add_permission


def _admits_s3(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    services = principal.get("Service") if isinstance(principal, dict) else principal
    return S3_PRINCIPAL in (services if isinstance(services, list) else [services])


def _statement_seen(function: Any, statement: dict[str, Any]) -> bool:
    """Whether S3 sees this statement yet: older than N seconds, past its first N uses."""
    added = function.policy.__dict__.get(STATEMENT_TIMES_ATTR, {}).get(str(statement.get("Sid")))
    if added is None or not _admits_s3(statement):
        return True  # added before it was timed (or not for S3): propagated long ago
    if _younger_than(added, CONFIG.iam_propagation_seconds):
        return False
    key = (function.function_arn, str(statement.get("Sid")), str(added))
    with _LOCK:
        used = _REFUSED_STATEMENT_USES.get(key, 0)
        if used >= CONFIG.iam_propagation_refusals:
            return True
        _REFUSED_STATEMENT_USES[key] = used + 1
        return False


def propagated_function_policy(arn: str) -> str | None:
    """The function's resource policy as S3 sees it: without the statements not propagated yet."""
    parts = arn.split(":")
    try:
        function = get_lambda_backend(parts[4], parts[3]).get_function(arn)
    except Exception:  # noqa: BLE001 - moto raises its own NotFound types; a bad ARN is refused below
        return None
    seen = [statement for statement in function.policy.statements if _statement_seen(function, statement)]
    if len(seen) < len(function.policy.statements):
        print(f"strict_aws: {arn}: a permission for S3 is not seen yet", file=sys.stderr, flush=True)
    return json.dumps({"Version": "2012-10-17", "Statement": seen}) if seen else None


PATCHES.append((LambdaResponse, "add_permission", _lambda_add_permission))
