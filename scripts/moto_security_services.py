"""The account's security services in the embedded emulator: what moto 5.2.5 lacks, and strict rules 21-25.

Installed by moto_extensions.py (its docstring lists each addition with the reason); the strict
rules are numbered in strict_aws.py's table and answer only in strict mode.

What moto 5.2.5 lacks, and the emulator adds as AWS documents it:

- IAM Access Analyzer (no backend at all): CreateAnalyzer, GetAnalyzer, ListAnalyzers,
  DeleteAnalyzer, TagResource, UntagResource, ListTagsForResource, ListFindings (no findings) and
  GetFinding (ResourceNotFoundException), per account and region
  (access-analyzer/latest/APIReference). A name is unique per region (ConflictException); an
  account has at most one account-level analyzer of each type per region
  (IAM/latest/UserGuide/access-analyzer-quotas.html: "Maximum account-level analyzers per analyzer
  type per AWS account per Region: 1"), beyond which CreateAnalyzer answers
  ServiceQuotaExceededException.
- Security Hub standards: BatchEnableStandards, BatchDisableStandards, GetEnabledStandards,
  DescribeStandards, ListEnabledProductsForImport, and the hub's tags (TagResource, UntagResource,
  ListTagsForResource). EnableSecurityHub with EnableDefaultStandards (true unless false)
  subscribes the default standards (FSBP and CIS v1.2.0, API_EnableSecurityHub); DisableSecurityHub
  drops the subscriptions and the tags with the hub; GetFindings and BatchImportFindings answer
  InvalidAccessException while Security Hub is not enabled, as AWS does (moto answers them).
- GuardDuty: the detector's tags (TagResource, UntagResource, ListTagsForResource) and
  ListFindings (no findings).
- EC2: GetEbsDefaultKmsKeyId and ResetEbsDefaultKmsKeyId (moto has ModifyEbsDefaultKmsKeyId only);
  without a customer key the answer is the AWS managed key's alias ARN, alias/aws/ebs
  (AWSEC2/latest/APIReference/API_GetEbsDefaultKmsKeyId.html).
- EC2: a VPC's default security group with AWS's inbound rule (all traffic from the group itself)
  next to its outbound rule (vpc/latest/userguide/default-security-group.html); moto makes the
  outbound rule only.
- IAM: CreateServiceLinkedRole for config.amazonaws.com names the role AWSServiceRoleForConfig
  (config/latest/developerguide/using-service-linked-roles.html); moto names it after the lower-case
  service prefix (AWSServiceRoleForconfig).

Strict rules (strict_aws.py's table has the AWS documents):

21  Config PutDeliveryChannel to a bucket that does not exist (NoSuchBucketException), or whose
    policy does not let config.amazonaws.com s3:GetBucketAcl, s3:ListBucket and s3:PutObject on
    [prefix/]AWSLogs/<account>/Config/* (InsufficientDeliveryPolicyException).
22  Config PutDeliveryChannel while the recorder's role does not exist or is younger than
    iam_propagation_seconds (a service-linked role is made on first use and takes time):
    InsufficientDeliveryPolicyException "... unable to assume role".
23  Security Hub GetEnabledStandards answers INCOMPLETE (NO_AVAILABLE_CONFIGURATION_RECORDER) for
    every subscription while no Config recorder of the region is recording.
24  DescribeFlowLogs answers DeliverLogsStatus FAILED, "Access error", for a CloudWatch Logs flow
    log whose role vpc-flow-logs.amazonaws.com may not assume (for this flow log), or whose
    identity policies do not allow logs:CreateLogStream and logs:PutLogEvents on its log group.
25  GuardDuty CreateDetector while the region has a detector: 400 BadRequestException.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from moto import backend_index, backends
from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.core.responses import ActionResult, BaseResponse, EmptyResult
from moto.ec2.models.flow_logs import FlowLogsBackend
from moto.ec2.models.vpcs import VPCBackend
from moto.ec2.responses import EC2Response
from moto.guardduty import urls as guardduty_urls
from moto.guardduty.models import guardduty_backends
from moto.guardduty.responses import GuardDutyResponse
from moto.iam import models as iam_models
from moto.s3.exceptions import S3ClientError
from moto.s3.models import s3_backends
from moto.securityhub import urls as securityhub_urls
from moto.securityhub.exceptions import SecurityHubClientError
from moto.securityhub.responses import SecurityHubResponse

if __package__:
    from . import strict_aws
else:  # run as a script from scripts/ (emulator.py serve)
    import strict_aws

PARTITION = "aws"

# --- IAM Access Analyzer ------------------------------------------------------------------------------------

ACCESS_ANALYZER = "accessanalyzer"
ACCESS_ANALYZER_URL = re.compile(r"https?://access-analyzer\.(.+)\.amazonaws\.com")
ANALYZER_TYPES = ("ACCOUNT", "ORGANIZATION", "ACCOUNT_UNUSED_ACCESS", "ORGANIZATION_UNUSED_ACCESS")


class ConflictException(ServiceException):
    code = "ConflictException"


class ResourceNotFoundException(ServiceException):
    code = "ResourceNotFoundException"


class ValidationException(ServiceException):
    code = "ValidationException"


class ServiceQuotaExceededException(ServiceException):
    code = "ServiceQuotaExceededException"


class AccessAnalyzerBackend(BaseBackend):
    """Analyzers of one account and region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.analyzers: dict[str, dict[str, Any]] = {}

    @property
    def _url_module(self) -> Any:  # this module holds url_bases and url_paths
        return sys.modules[__name__]

    def arn(self, name: str) -> str:
        return f"arn:{PARTITION}:access-analyzer:{self.region_name}:{self.account_id}:analyzer/{name}"

    def create_analyzer(self, name: str, analyzer_type: str, tags: dict[str, str] | None) -> str:
        if not name or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,254}", name):
            raise ValidationException(f"analyzerName '{name}' is not valid")
        if analyzer_type not in ANALYZER_TYPES:
            raise ValidationException(f"type '{analyzer_type}' must be one of {', '.join(ANALYZER_TYPES)}")
        if name in self.analyzers:
            raise ConflictException(f"An analyzer named {name} already exists")
        if analyzer_type.startswith("ACCOUNT") and any(
            a["type"] == analyzer_type for a in self.analyzers.values()
        ):
            raise ServiceQuotaExceededException(
                f"You can create only one account-level analyzer of type {analyzer_type} per Region"
            )
        self.analyzers[name] = {
            "arn": self.arn(name),
            "name": name,
            "type": analyzer_type,
            "createdAt": datetime.now(UTC),
            "status": "ACTIVE",
            "tags": dict(tags or {}),
        }
        return self.arn(name)

    def get_analyzer(self, name: str) -> dict[str, Any]:
        if name not in self.analyzers:
            raise ResourceNotFoundException(f"Analyzer {name} not found")
        return self.analyzers[name]

    def by_arn(self, arn: str) -> dict[str, Any]:
        for analyzer in self.analyzers.values():
            if analyzer["arn"] == arn:
                return analyzer
        raise ResourceNotFoundException(f"Resource {arn} not found")

    def list_analyzers(self, analyzer_type: str | None) -> list[dict[str, Any]]:
        return [a for a in self.analyzers.values() if analyzer_type in (None, a["type"])]

    def delete_analyzer(self, name: str) -> None:
        self.get_analyzer(name)
        del self.analyzers[name]


accessanalyzer_backends = BackendDict(AccessAnalyzerBackend, ACCESS_ANALYZER)


class AccessAnalyzerResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name=ACCESS_ANALYZER)
        self.automated_parameter_parsing = True

    @property
    def backend(self) -> AccessAnalyzerBackend:
        return accessanalyzer_backends[self.current_account][self.region]

    def create_analyzer(self) -> ActionResult:
        arn = self.backend.create_analyzer(
            self._get_param("analyzerName"), self._get_param("type"), self._get_param("tags")
        )
        return ActionResult({"arn": arn})

    def get_analyzer(self) -> ActionResult:
        return ActionResult({"analyzer": self.backend.get_analyzer(self._get_param("analyzerName"))})

    def list_analyzers(self) -> ActionResult:
        return ActionResult({"analyzers": self.backend.list_analyzers(self._get_param("type"))})

    def delete_analyzer(self) -> EmptyResult:
        self.backend.delete_analyzer(self._get_param("analyzerName"))
        return EmptyResult()

    def tag_resource(self) -> EmptyResult:
        self.backend.by_arn(unquote(self._get_param("resourceArn")))["tags"].update(
            self._get_param("tags") or {}
        )
        return EmptyResult()

    def untag_resource(self) -> EmptyResult:
        tags = self.backend.by_arn(unquote(self._get_param("resourceArn")))["tags"]
        for key in self._get_param("tagKeys") or []:
            tags.pop(key, None)
        return EmptyResult()

    def list_tags_for_resource(self) -> ActionResult:
        return ActionResult({"tags": self.backend.by_arn(unquote(self._get_param("resourceArn")))["tags"]})

    def list_findings(self) -> ActionResult:
        self.backend.by_arn(self._get_param("analyzerArn"))
        return ActionResult({"findings": []})

    def get_finding(self) -> ActionResult:
        raise ResourceNotFoundException(f"Finding {self._get_param('id')} not found")


url_bases = [ACCESS_ANALYZER_URL.pattern]
url_paths = {
    "{0}/analyzer$": AccessAnalyzerResponse.dispatch,
    "{0}/analyzer/(?P<analyzerName>[^/]+)$": AccessAnalyzerResponse.dispatch,
    "{0}/tags/(?P<resourceArn>.+)$": AccessAnalyzerResponse.dispatch,
    "{0}/finding$": AccessAnalyzerResponse.dispatch,
    "{0}/finding/(?P<id>[^/]+)$": AccessAnalyzerResponse.dispatch,
}


def _get_backend(original: Any) -> Any:
    def get_backend(name: str) -> Any:
        if name.replace("-", "") == ACCESS_ANALYZER:
            return accessanalyzer_backends
        return original(name)

    return get_backend


# --- Security Hub standards and tags ------------------------------------------------------------------------

STANDARDS_ATTR = "_secureinfra_standards"
FSBP = "aws-foundational-security-best-practices/v/1.0.0"
CIS_1_2 = "cis-aws-foundations-benchmark/v/1.2.0"
# (path after standards/, name) -- SecurityHub DescribeStandards; CIS v1.2.0's ARN is a global ruleset
STANDARDS = (
    (FSBP, "AWS Foundational Security Best Practices v1.0.0"),
    (CIS_1_2, "CIS AWS Foundations Benchmark v1.2.0"),
    ("cis-aws-foundations-benchmark/v/1.4.0", "CIS AWS Foundations Benchmark v1.4.0"),
    ("cis-aws-foundations-benchmark/v/3.0.0", "CIS AWS Foundations Benchmark v3.0.0"),
    ("nist-800-53/v/5.0.0", "NIST Special Publication 800-53 Revision 5"),
    ("pci-dss/v/3.2.1", "PCI DSS v3.2.1"),
    ("aws-resource-tagging-standard/v/1.0.0", "AWS Resource Tagging Standard"),
)
NOT_SUBSCRIBED = "Account is not subscribed to AWS Security Hub"


def standards_arn(region: str, path: str) -> str:
    if path == CIS_1_2:
        return f"arn:{PARTITION}:securityhub:::ruleset/{path}"
    return f"arn:{PARTITION}:securityhub:{region}::standards/{path}"


def _standards_path(arn: str) -> str | None:
    for path, _name in STANDARDS:
        if arn.endswith(f"/{path}") and arn.startswith(f"arn:{PARTITION}:securityhub:"):
            return path
    return None


def _hub(self: SecurityHubResponse) -> Any:
    backend = self.securityhub_backend
    if not backend.enabled:
        raise SecurityHubClientError("InvalidAccessException", NOT_SUBSCRIBED)
    return backend


def _subscriptions(backend: Any) -> dict[str, dict[str, Any]]:
    return backend.__dict__.setdefault(STANDARDS_ATTR, {})


def _subscribe(backend: Any, path: str) -> dict[str, Any]:
    region, account = backend.region_name, backend.account_id
    subscription = {
        "StandardsSubscriptionArn": f"arn:{PARTITION}:securityhub:{region}:{account}:subscription/{path}",
        "StandardsArn": standards_arn(region, path),
        "StandardsInput": {},
        "StandardsStatus": "READY",
    }
    _subscriptions(backend)[subscription["StandardsSubscriptionArn"]] = subscription
    return subscription


def _body(self: BaseResponse) -> dict[str, Any]:
    raw = self.body.decode() if isinstance(self.body, bytes) else (self.body or "")
    return json.loads(raw) if raw.strip() else {}


def batch_enable_standards(self: SecurityHubResponse) -> str:
    backend = _hub(self)
    answered = []
    for request in _body(self).get("StandardsSubscriptionRequests") or []:
        path = _standards_path(str(request.get("StandardsArn", "")))
        if path is None:
            raise SecurityHubClientError(
                "InvalidInputException", f"Invalid StandardsArn: {request.get('StandardsArn')}"
            )
        subscription = {**_subscribe(backend, path), "StandardsStatus": "PENDING"}
        answered.append(subscription)
    return json.dumps({"StandardsSubscriptions": answered})


def batch_disable_standards(self: SecurityHubResponse) -> str:
    backend = _hub(self)
    answered = []
    for arn in _body(self).get("StandardsSubscriptionArns") or []:
        subscription = _subscriptions(backend).pop(arn, None)
        if subscription is None:
            raise SecurityHubClientError("InvalidInputException", f"No subscription {arn}")
        answered.append({**subscription, "StandardsStatus": "DELETING"})
    return json.dumps({"StandardsSubscriptions": answered})


def get_enabled_standards(self: SecurityHubResponse) -> str:
    backend = _hub(self)
    wanted = _body(self).get("StandardsSubscriptionArns") or []
    found = [s for arn, s in _subscriptions(backend).items() if not wanted or arn in wanted]
    if strict_aws.strict() and not config_recording(backend.account_id, backend.region_name):
        # rule 23 (securityhub/1.0/APIReference/API_StandardsStatusReason.html)
        found = [
            {
                **s,
                "StandardsStatus": "INCOMPLETE",
                "StandardsStatusReason": {"StatusReasonCode": "NO_AVAILABLE_CONFIGURATION_RECORDER"},
            }
            for s in found
        ]
    return json.dumps({"StandardsSubscriptions": found})


def describe_standards(self: SecurityHubResponse) -> str:
    region = self.region
    answer = [
        {
            "StandardsArn": standards_arn(region, path),
            "Name": name,
            "Description": name,
            "EnabledByDefault": path in (FSBP, CIS_1_2),
        }
        for path, name in STANDARDS
    ]
    return json.dumps({"Standards": answer})


def list_enabled_products_for_import(self: SecurityHubResponse) -> str:
    backend = _hub(self)
    prefix = f"arn:{PARTITION}:securityhub:{backend.region_name}:{backend.account_id}:product-subscription"
    products = ("aws/securityhub", "aws/guardduty", "aws/access-analyzer", "aws/config")
    return json.dumps({"ProductSubscriptions": [f"{prefix}/{p}" for p in products]})


def _hub_tags(self: SecurityHubResponse) -> dict[str, str]:
    backend = self.securityhub_backend
    arn = unquote(self.path.split("/tags/", 1)[1])
    expected = f"arn:{PARTITION}:securityhub:{backend.region_name}:{backend.account_id}:hub/default"
    if not backend.enabled or arn != expected:
        raise SecurityHubClientError("ResourceNotFoundException", f"Resource {arn} not found")
    if not isinstance(getattr(backend, "tags", None), dict):
        backend.tags = {}
    return backend.tags


def securityhub_tag_resource(self: SecurityHubResponse) -> str:
    _hub_tags(self).update(_body(self).get("Tags") or {})
    return "{}"


def securityhub_untag_resource(self: SecurityHubResponse) -> str:
    tags = _hub_tags(self)
    for key in self.querystring.get("tagKeys", []):
        tags.pop(key, None)
    return "{}"


def securityhub_list_tags_for_resource(self: SecurityHubResponse) -> str:
    return json.dumps({"Tags": _hub_tags(self)})


def _enable_security_hub(original: Any) -> Any:
    def enable_security_hub(self: SecurityHubResponse) -> str:
        backend = self.securityhub_backend
        was_enabled = backend.enabled
        answer = original(self)
        if not was_enabled and _body(self).get("EnableDefaultStandards", True):
            for path in (FSBP, CIS_1_2):
                _subscribe(backend, path)
        return answer

    return enable_security_hub


def _disable_security_hub(original: Any) -> Any:
    def disable_security_hub(self: SecurityHubResponse) -> str:
        answer = original(self)
        _subscriptions(self.securityhub_backend).clear()
        self.securityhub_backend.tags = {}
        return answer

    return disable_security_hub


def _subscribed_only(original: Any) -> Any:
    """GetFindings and BatchImportFindings answer InvalidAccessException while Security Hub is not
    enabled (API_BatchImportFindings, API_GetFindings: "Errors"); moto answers them anyway."""

    def call(self: SecurityHubResponse) -> Any:
        _hub(self)
        return original(self)

    return call


SECURITYHUB_PATHS = {
    "{0}/standards$": SecurityHubResponse.dispatch,
    "{0}/standards/register$": SecurityHubResponse.dispatch,
    "{0}/standards/deregister$": SecurityHubResponse.dispatch,
    "{0}/standards/get$": SecurityHubResponse.dispatch,
    "{0}/productSubscriptions$": SecurityHubResponse.dispatch,
    "{0}/tags/(?P<resource_arn>.+)$": SecurityHubResponse.dispatch,
}


# --- GuardDuty: the detector's tags, ListFindings; strict rule 25 -------------------------------------------


class BadRequestException(JsonRESTError):
    code = 400

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("X-Amzn-ErrorType", "BadRequestException")]


def _detector_tags(self: GuardDutyResponse) -> dict[str, str]:
    arn = unquote(self.path.split("/tags/", 1)[1])
    detector_id = arn.rsplit("/", 1)[-1]
    expected = f"arn:{PARTITION}:guardduty:{self.region}:{self.current_account}:detector/{detector_id}"
    if arn != expected:
        raise BadRequestException(
            "BadRequestException", f"The request is rejected because {arn} is not valid"
        )
    return self.guardduty_backend.get_detector(detector_id).tags


def guardduty_tag_resource(self: GuardDutyResponse) -> str:
    _detector_tags(self).update(_body(self).get("tags") or {})
    return "{}"


def guardduty_untag_resource(self: GuardDutyResponse) -> str:
    tags = _detector_tags(self)
    for key in self.querystring.get("tagKeys", []):
        tags.pop(key, None)
    return "{}"


def guardduty_list_tags_for_resource(self: GuardDutyResponse) -> str:
    return json.dumps({"tags": _detector_tags(self)})


def guardduty_list_findings(self: GuardDutyResponse) -> str:
    self.guardduty_backend.get_detector(self.path.split("/")[-2])
    return json.dumps({"findingIds": []})


DETECTOR_EXISTS = "The request is rejected because a detector already exists for the current account."


def _create_detector(original: Any) -> Any:
    def create_detector(self: GuardDutyResponse) -> str:
        # rule 25: one detector per account and Region (guardduty/latest/APIReference/API_CreateDetector.html)
        if strict_aws.strict() and guardduty_backends[self.current_account][self.region].detectors:
            raise strict_aws.refused(BadRequestException("BadRequestException", DETECTOR_EXISTS))
        return original(self)

    return create_detector


GUARDDUTY_PATHS = {
    "{0}/tags/(?P<resource_arn>.+)$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/findings$": GuardDutyResponse.dispatch,
}


# --- EC2: the default EBS key; the default security group's inbound rule; strict rule 24 --------------------

DEFAULT_EBS_KEY_ATTR = "default_kms_key_id"


def _aws_managed_ebs_key(backend: Any) -> str:
    return f"arn:{PARTITION}:kms:{backend.region_name}:{backend.account_id}:alias/aws/ebs"


def get_ebs_default_kms_key_id(self: EC2Response) -> ActionResult:
    key = getattr(self.ec2_backend, DEFAULT_EBS_KEY_ATTR, None) or _aws_managed_ebs_key(self.ec2_backend)
    return ActionResult({"KmsKeyId": key})


def reset_ebs_default_kms_key_id(self: EC2Response) -> ActionResult:
    setattr(self.ec2_backend, DEFAULT_EBS_KEY_ATTR, None)
    return ActionResult({"KmsKeyId": _aws_managed_ebs_key(self.ec2_backend)})


def _create_vpc(original: Any) -> Any:
    def create_vpc(self: VPCBackend, *args: Any, **kwargs: Any) -> Any:
        vpc = original(self, *args, **kwargs)
        group = self.get_security_group_from_name("default", vpc_id=vpc.id)  # type: ignore[attr-defined]
        if group is not None and not group.ingress_rules:
            self.authorize_security_group_ingress(  # type: ignore[attr-defined]
                group.id, "-1", None, None, [], source_groups=[{"GroupId": group.id}], vpc_id=vpc.id
            )
        return vpc

    return create_vpc


ACCESS_ERROR = "Access error"
FLOW_LOGS_PRINCIPAL = "vpc-flow-logs.amazonaws.com"
MOTO_STATUS_ATTR = "_secureinfra_moto_delivery"


def flow_log_delivery(flow_log: Any, account: str, region: str) -> tuple[str, str | None]:
    """(DeliverLogsStatus, DeliverLogsErrorMessage) as AWS reports them (rule 24)."""
    moto_status = flow_log.__dict__.setdefault(
        MOTO_STATUS_ATTR, (flow_log.deliver_logs_status, flow_log.deliver_logs_error_message)
    )
    if flow_log.log_destination_type != "cloud-watch-logs" or not flow_log.deliver_logs_permission_arn:
        return moto_status
    role = strict_aws._role(flow_log.deliver_logs_permission_arn)
    arn = f"arn:{PARTITION}:ec2:{region}:{account}:vpc-flow-log/{flow_log.id}"
    context = {"aws:SourceAccount": account, "aws:SourceArn": arn}
    if role is None or not strict_aws._trusts(role, FLOW_LOGS_PRINCIPAL, context):
        return "FAILED", ACCESS_ERROR
    group = f"arn:{PARTITION}:logs:{region}:{account}:log-group:{flow_log.log_group_name}"
    stream = f"{group}:log-stream:eni-00000000000000000-all"
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        if not strict_aws._role_allows(role, action, stream):
            return "FAILED", ACCESS_ERROR
    return moto_status


def _describe_flow_logs(original: Any) -> Any:
    def describe_flow_logs(self: FlowLogsBackend, *args: Any, **kwargs: Any) -> Any:
        found = original(self, *args, **kwargs)
        for flow_log in found:
            moto_status = flow_log.__dict__.get(MOTO_STATUS_ATTR)
            status = (
                flow_log_delivery(flow_log, self.account_id, self.region_name)  # type: ignore[attr-defined]
                if strict_aws.strict()
                else moto_status or (flow_log.deliver_logs_status, flow_log.deliver_logs_error_message)
            )
            flow_log.deliver_logs_status, flow_log.deliver_logs_error_message = status
        return found

    return describe_flow_logs


# --- Config: strict rules 21 and 22 -------------------------------------------------------------------------

CONFIG_PRINCIPAL = "config.amazonaws.com"


def config_recording(account: str, region: str) -> bool:
    """Whether a Config recorder of the account and region is recording."""
    backend = config_backends[account][region]
    return any(recorder.status.recording for recorder in backend.recorders.values())


def bucket_admits_config(bucket_name: str, prefix: str | None, account: str) -> bool:
    """Whether the bucket policy lets AWS Config check and write
    (config/latest/developerguide/s3-bucket-policy.html)."""
    bucket = s3_backends[account][PARTITION].get_bucket(bucket_name)
    if not bucket.policy:
        return False
    policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
    folder = f"{prefix.strip('/')}/" if prefix else ""
    key = f"{folder}AWSLogs/{account}/Config/us-east-1/2026/1/1/ConfigSnapshot/probe.json.gz"
    context = {
        "aws:SourceAccount": account,
        "s3:x-amz-acl": "bucket-owner-full-control",
        "aws:SecureTransport": "true",
    }
    checks = (
        ("s3:GetBucketAcl", f"arn:{PARTITION}:s3:::{bucket_name}"),
        ("s3:ListBucket", f"arn:{PARTITION}:s3:::{bucket_name}"),
        ("s3:PutObject", f"arn:{PARTITION}:s3:::{bucket_name}/{key}"),
    )
    decisions = [strict_aws._decision(policy, a, r, CONFIG_PRINCIPAL, context) for a, r in checks]
    return all(strict_aws._allowed([decision]) is not False for decision in decisions)


def _config_error(code: str, message: str) -> JsonRESTError:
    return strict_aws.refused(JsonRESTError(code, message))


def check_delivery_channel(account: str, region: str, channel: dict[str, Any]) -> None:
    bucket = str(channel.get("s3BucketName") or "")
    recorders = list(config_backends[account][region].recorders.values())
    if bucket:
        try:
            s3_backends[account][PARTITION].get_bucket(bucket)
        except S3ClientError:
            raise _config_error(
                "NoSuchBucketException", f"Cannot find a S3 bucket with name {bucket}."
            ) from None
    for recorder in recorders:  # rule 22: Config checks the bucket with the recorder's role
        role = strict_aws._role(recorder.role_arn)
        young = role is not None and (
            strict_aws._younger_than(role.create_date, strict_aws.CONFIG.iam_propagation_seconds)
            or strict_aws._first_use_refused(role, CONFIG_PRINCIPAL)
        )
        if role is None or young:
            raise _config_error(
                "InsufficientDeliveryPolicyException",
                f"Insufficient delivery policy to s3 bucket: {bucket}, "
                f"unable to assume role: {recorder.role_arn}",
            )
    if bucket and not bucket_admits_config(bucket, channel.get("s3KeyPrefix"), account):  # rule 21
        prefix = channel.get("s3KeyPrefix") or "null"
        raise _config_error(
            "InsufficientDeliveryPolicyException",
            f"Insufficient delivery policy to s3 bucket: {bucket}, unable to write to bucket, "
            f"provided s3 key prefix is '{prefix}'.",
        )


def _put_delivery_channel(original: Any) -> Any:
    def put_delivery_channel(self: ConfigResponse) -> str:
        if strict_aws.strict():
            check_delivery_channel(
                self.current_account, self.region, self._get_param("DeliveryChannel") or {}
            )
        return original(self)

    return put_delivery_channel


# --- what moto_extensions installs --------------------------------------------------------------------------

# (owner, name, wrapper of the current attribute)
PATCHES: list[tuple[Any, str, Any]] = [
    (SecurityHubResponse, "enable_security_hub", _enable_security_hub),
    (SecurityHubResponse, "disable_security_hub", _disable_security_hub),
    (SecurityHubResponse, "get_findings", _subscribed_only),
    (SecurityHubResponse, "batch_import_findings", _subscribed_only),
    (GuardDutyResponse, "create_detector", _create_detector),
    (VPCBackend, "create_vpc", _create_vpc),
    (FlowLogsBackend, "describe_flow_logs", _describe_flow_logs),
    (ConfigResponse, "put_delivery_channel", _put_delivery_channel),
    (backends, "get_backend", _get_backend),
]

# (owner, name, method): what moto lacks, set only when missing
ADDITIONS: list[tuple[Any, str, Any]] = [
    (SecurityHubResponse, "batch_enable_standards", batch_enable_standards),
    (SecurityHubResponse, "batch_disable_standards", batch_disable_standards),
    (SecurityHubResponse, "get_enabled_standards", get_enabled_standards),
    (SecurityHubResponse, "describe_standards", describe_standards),
    (SecurityHubResponse, "list_enabled_products_for_import", list_enabled_products_for_import),
    (SecurityHubResponse, "tag_resource", securityhub_tag_resource),
    (SecurityHubResponse, "untag_resource", securityhub_untag_resource),
    (SecurityHubResponse, "list_tags_for_resource", securityhub_list_tags_for_resource),
    (GuardDutyResponse, "tag_resource", guardduty_tag_resource),
    (GuardDutyResponse, "untag_resource", guardduty_untag_resource),
    (GuardDutyResponse, "list_tags_for_resource", guardduty_list_tags_for_resource),
    (GuardDutyResponse, "list_findings", guardduty_list_findings),
    (EC2Response, "get_ebs_default_kms_key_id", get_ebs_default_kms_key_id),
    (EC2Response, "reset_ebs_default_kms_key_id", reset_ebs_default_kms_key_id),
]

# (dict, additions): URL paths and names moto lacks
DICT_ADDITIONS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (securityhub_urls.url_paths, SECURITYHUB_PATHS),
    (guardduty_urls.url_paths, GUARDDUTY_PATHS),
    (iam_models.SERVICE_NAME_CONVERSION, {"config": "Config"}),
]

# (list, entry): Access Analyzer's URL pattern, so requests reach its backend
LIST_ADDITIONS: list[tuple[list[Any], Any]] = [
    (backend_index.backend_url_patterns, (ACCESS_ANALYZER, ACCESS_ANALYZER_URL)),
]


def install_additions() -> None:
    """Add what moto lacks (idempotent); moto_extensions.install applies PATCHES."""
    for owner, name, method in ADDITIONS:
        if not hasattr(owner, name):
            setattr(owner, name, method)
    for target, additions in DICT_ADDITIONS:
        for key, value in additions.items():
            target.setdefault(key, value)
    for target, entry in LIST_ADDITIONS:
        if entry not in target:
            target.append(entry)
