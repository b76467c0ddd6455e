"""What the embedded emulator adds to moto 5.2.5, and why.

moto 5.2.5 does not implement the S3 bucket metrics-configuration API
(Get/Put/DeleteBucketMetricsConfiguration): GET answers an empty document, PUT is
a silent no-op, and DELETE ?metrics falls through to DeleteBucket. The storage role
puts a request-metrics configuration on each data bucket for the monitoring alarms,
so the emulator stores it faithfully: the PUT document is kept on the bucket
(and so disappears with it, or with a moto reset) and returned by GET;
a missing id answers 404 NoSuchConfiguration, as AWS does.

moto 5.2.5 also rejects (HTTP 500, a failed assert) an S3 event notification whose key
filter has an empty prefix or suffix value, or names a rule "Prefix"/"Suffix" rather than
"prefix"/"suffix". AWS accepts both, and community.aws.s3_bucket_notification always sends
both rules, capitalised (empty when unset), so the emulator shows moto's parser the rules
without the empty ones and lower-cased, then stores the rules as sent, as AWS does.

moto 5.2.5 accepts a Lambda function's DeadLetterConfig but neither stores nor returns
it, so every run would see it missing and set it again; the emulator keeps it on the
function and returns it in GetFunction / GetFunctionConfiguration, as AWS does.

moto 5.2.5 evaluates S3 bucket policies on object reads and writes without any request
context (no principal, no TLS flag). A statement with a Condition is then judged on
missing values: a failed condition is taken as an explicit DENY, even for an Allow, and a
Deny conditioned on, say, `ArnNotLike aws:PrincipalArn` or `aws:SecureTransport false`
denies every caller. So any bucket that denies plain HTTP or unlisted principals blocks
every object request in moto. Without a request context such a statement cannot be
judged, so the emulator leaves conditional statements out (NEUTRAL); unconditional ones
are still enforced. The tests evaluate the bucket policies with a policy evaluator instead.

moto 5.2.5 has no Lambda GetAccountSettings; the emulator answers it (strict_aws.py).

moto 5.2.5 CloudTrail DeleteTrail looks the trail up by name only, and silently does nothing
when given the trail's ARN. AWS accepts a name or an ARN (API_DeleteTrail), and
amazon.aws.cloudtrail state=absent sends the ARN, so the trail would survive a teardown and
every later run would delete it again. The emulator resolves an ARN to its trail first.
Its DescribeTrails also ignores trailNameList and answers every trail, so a module that asks
for one trail in an account with two takes the wrong one. The emulator filters the answer as
AWS documents (API_DescribeTrails): a name matches a trail of the current region, an ARN any.
Its GetEventSelectors and GetInsightSelectors look the trail up in the current region only, so in
another region of a multi-region trail (where DescribeTrails lists it, as a shadow trail) its
ARN is "Unknown trail"; as GetTrailStatus does for a shadow trail (API_GetTrailStatus: in a
non-home Region, the trail's ARN), the emulator answers these two reads with the home region's
trail when the ARN names a multi-region trail of the same account. Writes (PutEventSelectors)
still answer from the home region only.

moto 5.2.5 has no CloudWatch Logs AssociateKmsKey or DisassociateKmsKey (NotImplementedError, an
HTTP 500). secureinfra.baseline.cloudwatchlogs_log_groups calls AssociateKmsKey when a log group's
key differs from the wanted one (a group made without it, or whose key was changed by hand, or a
group another run made first), so the emulator answers both as AWS documents (API_AssociateKmsKey,
API_DisassociateKmsKey): with logGroupName, the key is kept on the log group (moto's kms_key_id, so
DescribeLogGroups shows kmsKeyId) or removed from it; a missing group answers
ResourceNotFoundException; a key that does not exist in the account and region, or is not enabled,
InvalidParameterException; logGroupName together with resourceIdentifier, or neither,
InvalidParameterException. resourceIdentifier (the account's query results) is not emulated and
answers InvalidParameterException saying so.

moto 5.2.5's CloudWatch Logs PutMetricFilter appends a filter even when the log group already has
one of that name, so DescribeMetricFilters then answers both, the old pattern first. AWS "creates or
updates a metric filter" (API_PutMetricFilter): a name is one filter of its log group, and putting it
again replaces it. The emulator drops the log group's filter of that name before moto stores the new
one, as a run that updates a filter (an upgrade that changes a CIS pattern) expects.

moto 5.2.5's PutParameter checks that the name is free, then appends the parameter, with nothing
between the two to stop a second request on another thread of the (threaded) server; AWS creates
a parameter atomically (PutParameter without Overwrite answers ParameterAlreadyExists when it
exists). The emulator runs PutParameter one request at a time, so that of two concurrent creations
of a name exactly one succeeds, as the state lock (secureinfra.baseline.baseline_lock) relies on.

moto 5.2.5 lacks most of what the account's security services need (security_services role,
network hardening): IAM Access Analyzer altogether; Security Hub's standards (BatchEnableStandards,
GetEnabledStandards, ...), ListEnabledProductsForImport and the hub's tags; GuardDuty's tags and
ListFindings; EC2 Get/ResetEbsDefaultKmsKeyId; the default security group's inbound rule; the name
AWS gives Config's service-linked role. moto_security_services.py adds them as AWS documents them
(its docstring says how), and holds strict rules 21-25.

moto 5.2.5's server finds the service of every request by listing moto's package directory (a
stat for each of its ~200 entries, `backends.list_of_moto_modules`) and matching the request's
host against the URL patterns of every service (`get_backend_for_host`): at 20 hosts, a no-op's
3,500 requests made 700,000 stat calls for an answer that cannot change while the server runs.
The emulator lists the directory once and keeps each host's answer (emulator's own CPU per
20-host no-op: see bench/README.md, "Levers"). Which service answers a request is unchanged.

Strict mode (strict_aws.py, off unless SECUREINFRA_STRICT=1 or POST /secureinfra/strict) makes
the emulator refuse, as AWS does, what moto accepts: see that module's table of rules.

Real AWS and LocalStack implement these natively; nothing here runs against them.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import xml.etree.ElementTree as ET
from typing import Any

import xmltodict
from moto import backends as moto_backends
from moto.awslambda.models import LambdaFunction
from moto.cloudtrail.exceptions import TrailNotFoundException
from moto.cloudtrail.models import CloudTrailBackend, cloudtrail_backends
from moto.cloudtrail.responses import CloudTrailResponse
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.kms.models import kms_backends
from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.logs.metric_filters import MetricFilters
from moto.logs.responses import LogsResponse
from moto.moto_api._internal.recorder.models import Recorder
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.responses import S3Response
from moto.ssm.models import SimpleSystemManagerBackend

if __package__:
    from . import moto_security_services, strict_aws
else:  # run as a script from scripts/ (emulator.py serve)
    import moto_security_services
    import strict_aws

NO_SUCH_CONFIGURATION = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchConfiguration</Code>'
    "<Message>The specified configuration does not exist.</Message></Error>"
)
_ATTR = "_secureinfra_metrics_configurations"
_EMPTY_FILTER_RULE = re.compile(
    rb"<FilterRule>\s*<Name>[^<]*</Name>\s*(<Value\s*/>|<Value>\s*</Value>)\s*</FilterRule>"
)


_RULE_NAME = re.compile(rb"<Name>(Prefix|Suffix)</Name>")


def normalise_filter_rules(body: bytes) -> bytes:
    """Drop empty key-filter rules and lower-case rule names in a NotificationConfiguration."""
    body = _EMPTY_FILTER_RULE.sub(b"", body)
    return _RULE_NAME.sub(lambda m: b"<Name>" + m.group(1).lower() + b"</Name>", body)


def metrics_handler(original: Any) -> Any:
    """Wrap S3Response._bucket_response to serve ?metrics&id=... requests."""

    def handler(self: S3Response, request: Any, full_url: str) -> Any:
        query = self._get_querystring(request, full_url)
        if "metrics" not in query or "id" not in query:
            return original(self, request, full_url)
        bucket = self.backend.get_bucket(self.parse_bucket_name_from_url(request, full_url))
        store: dict[str, bytes] = bucket.__dict__.setdefault(_ATTR, {})
        config_id = query["id"][0]
        if request.method == "PUT":
            body = self.body if isinstance(self.body, bytes) else self.body.encode()
            if ET.fromstring(body).findtext("{*}Id") != config_id:
                return 400, {}, "<Error><Code>InvalidArgument</Code><Message>Id mismatch</Message></Error>"
            store[config_id] = body
            return 200, {}, b""
        if config_id not in store:
            return 404, {}, NO_SUCH_CONFIGURATION
        if request.method == "DELETE":
            del store[config_id]
            return 204, {}, b""
        return 200, {"content-type": "application/xml"}, store[config_id]

    return handler


def notification_parser(original: Any) -> Any:
    """Wrap S3Response._notification_config_from_body (see the module docstring)."""

    def parse(self: S3Response) -> dict[str, Any]:
        body = self.body if isinstance(self.body, bytes) else (self.body or "").encode()
        self.body = normalise_filter_rules(body)
        config = original(self)
        sent = xmltodict.parse(body).get("NotificationConfiguration") or {}
        for kind in ("Topic", "Queue", "CloudFunction"):
            sent_items = sent.get(f"{kind}Configuration") or []
            sent_rules = {
                item.get("Id"): ((item.get("Filter") or {}).get("S3Key") or {}).get("FilterRule")
                for item in (sent_items if isinstance(sent_items, list) else [sent_items])
            }
            for item in config.get(f"{kind}Configuration", []):
                rules = sent_rules.get(item.get("Id"))
                if item.get("Filter") and rules:
                    rules = rules if isinstance(rules, list) else [rules]
                    item["Filter"]["S3Key"]["FilterRule"] = [
                        {"Name": rule.get("Name"), "Value": rule.get("Value") or ""} for rule in rules
                    ]
        return config

    return parse


def _lambda_init(original: Any) -> Any:
    def init(self: LambdaFunction, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        spec = kwargs.get("spec", args[1] if len(args) > 1 else {})
        self._secureinfra_dlq = spec.get("DeadLetterConfig")

    return init


def _lambda_update(original: Any) -> Any:
    def update(self: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self._secureinfra_dlq = config_updates["DeadLetterConfig"] or None
        return original(self, config_updates)

    return update


def _lambda_configuration(original: Any) -> Any:
    def get_configuration(self: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original(self, *args, **kwargs)
        dlq = getattr(self, "_secureinfra_dlq", None)
        if dlq and dlq.get("TargetArn"):
            config["DeadLetterConfig"] = {"TargetArn": dlq["TargetArn"]}
        return config

    return get_configuration


def _delete_trail(original: Any) -> Any:
    def delete_trail(self: CloudTrailBackend, name: str) -> None:
        trail = next((t for t in self.trails.values() if t.arn == name), None)
        original(self, trail.trail_name if trail else name)

    return delete_trail


def _describe_trails(original: Any) -> Any:
    def describe_trails(self: CloudTrailResponse) -> str:
        answer = original(self)
        wanted = self._get_param("trailNameList") or []
        if not wanted:
            return answer
        trails = json.loads(answer)["trailList"]
        kept = [
            trail
            for trail in trails
            if trail.get("TrailARN") in wanted
            or (trail.get("Name") in wanted and trail.get("HomeRegion") == self.region)
        ]
        return json.dumps({"trailList": kept})

    return describe_trails


def _shadow_trail_read(original: Any) -> Any:
    """A read of a trail's selectors by the ARN of a multi-region trail of another region."""

    def read(self: CloudTrailBackend, trail_name: str) -> Any:
        try:
            return original(self, trail_name)
        except TrailNotFoundException:
            home = _home_region_backend(self, trail_name)
            if home is None:
                raise
            return original(home, trail_name)

    return read


def _home_region_backend(backend: CloudTrailBackend, arn: str) -> CloudTrailBackend | None:
    """The backend of the home region of the multi-region trail `arn` names, in the same account."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "cloudtrail" or parts[4] != backend.account_id:
        return None
    region = parts[3]
    if region == backend.region_name or region not in cloudtrail_backends[backend.account_id]:
        return None
    home = cloudtrail_backends[backend.account_id][region]
    trail = next((t for t in home.trails.values() if t.arn == arn), None)
    return home if trail is not None and trail.is_multi_region else None


def _statement_evaluation(original: Any) -> Any:
    def is_action_permitted(
        self: IAMPolicyStatement,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> PermissionResult:
        if self._statement.get("Condition") and not incoming_condition_values:
            return PermissionResult.NEUTRAL  # no request context: the condition cannot be judged
        return original(self, action, resource, principal, incoming_condition_values)

    return is_action_permitted


def _log_group_of(response: LogsResponse) -> Any:
    """The log group an Associate/DisassociateKmsKey request names (logGroupName only)."""
    name = response._get_param("logGroupName")
    resource = response._get_param("resourceIdentifier")
    if bool(name) == bool(resource):
        raise InvalidParameterException("Specify either logGroupName or resourceIdentifier, not both")
    if resource:
        raise InvalidParameterException(
            "resourceIdentifier (the account's query results) is not emulated; use logGroupName"
        )
    group = response.logs_backend.groups.get(name)
    if group is None:
        raise ResourceNotFoundException()
    return group


def _enabled_key(account_id: str, region: str, key_id: str) -> bool:
    """Whether `key_id` (an id, ARN or alias) names an enabled key of the account and region."""
    backend = kms_backends[account_id][region]
    raw = backend.get_key_id(backend.get_alias_name(key_id))
    if raw.startswith("alias/"):
        raw = backend.get_key_id_from_alias(raw) or ""
    key = backend.keys.get(raw)
    return key is not None and key.key_state == "Enabled"


def associate_kms_key(self: LogsResponse) -> str:
    group = _log_group_of(self)
    key_id = self._get_param("kmsKeyId")
    if not key_id or not _enabled_key(self.current_account, self.region, key_id):
        raise InvalidParameterException(f"Specified KMS key {key_id} does not exist or is not enabled")
    group.kms_key_id = key_id
    return ""


def disassociate_kms_key(self: LogsResponse) -> str:
    _log_group_of(self).kms_key_id = None
    return ""


_ADDITIONS: list[tuple[Any, str, Any]] = [
    (LogsResponse, "associate_kms_key", associate_kms_key),
    (LogsResponse, "disassociate_kms_key", disassociate_kms_key),
]


def _put_metric_filter(original: Any) -> Any:
    def add_filter(
        self: MetricFilters,
        filter_name: str,
        filter_pattern: str,
        log_group_name: str,
        metric_transformations: Any,
    ) -> None:
        self.metric_filters = [
            f
            for f in self.metric_filters
            if not (f["filterName"] == filter_name and f["logGroupName"] == log_group_name)
        ]
        original(self, filter_name, filter_pattern, log_group_name, metric_transformations)

    return add_filter


def _serialized(original: Any, lock: threading.Lock) -> Any:
    """`original`, one call at a time across the server's threads."""

    @functools.wraps(original)
    def serialized(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    return serialized


_PUT_PARAMETER_LOCK = threading.Lock()


def _put_parameter(original: Any) -> Any:
    return _serialized(original, _PUT_PARAMETER_LOCK)


_RECORD_LOCK = threading.Lock()


def _record_request(original: Any) -> Any:
    """One request's line of the recording at a time.

    moto's recorder appends each request as a JSON line in two buffered writes; the server's threads
    (two hosts' modules at once) could interleave them, so that a line of the recording could not be
    read and the test reading it failed (seen once in test_prowler.py's converge).
    """

    return _serialized(original, _RECORD_LOCK)


def _listed_once(original: Any) -> Any:
    """moto's service packages, listed from disk once: they do not change while the server runs."""
    listed: list[tuple[str, ...]] = []

    @functools.wraps(original)
    def list_of_moto_modules() -> Any:
        if not listed:
            listed.append(tuple(original()))
        return iter(listed[0])

    return list_of_moto_modules


def _backend_per_host(original: Any) -> Any:
    """A host's service (or None) found once: it depends only on the host and moto's URL patterns."""

    @functools.wraps(original)
    def get_backend_for_host(self: Any, host: str | None) -> Any:
        found = self.__dict__.setdefault("_secureinfra_backend_of_host", {})
        if host not in found:
            found[host] = original(self, host)
        return found[host]

    return get_backend_for_host


_PATCHES: list[tuple[Any, str, Any]] = [
    (moto_backends, "list_of_moto_modules", _listed_once),
    (DomainDispatcherApplication, "get_backend_for_host", _backend_per_host),
    (Recorder, "_record_request", _record_request),
    (IAMPolicyStatement, "is_action_permitted", _statement_evaluation),
    (S3Response, "_bucket_response", metrics_handler),
    (S3Response, "_notification_config_from_body", notification_parser),
    (LambdaFunction, "__init__", _lambda_init),
    (LambdaFunction, "update_configuration", _lambda_update),
    (LambdaFunction, "get_configuration", _lambda_configuration),
    (CloudTrailBackend, "delete_trail", _delete_trail),
    (CloudTrailResponse, "describe_trails", _describe_trails),
    (CloudTrailBackend, "get_event_selectors", _shadow_trail_read),
    (CloudTrailBackend, "get_insight_selectors", _shadow_trail_read),
    (SimpleSystemManagerBackend, "put_parameter", _put_parameter),
    (MetricFilters, "add_filter", _put_metric_filter),
    *strict_aws.PATCHES,
    *moto_security_services.PATCHES,
]


def install() -> None:
    """Patch moto in this process (idempotent)."""
    for owner, name, wrapper in _PATCHES:
        current = getattr(owner, name)
        if not getattr(current, "_secureinfra", False):
            patched = wrapper(current)
            patched._secureinfra = True
            setattr(owner, name, patched)
    for owner, name, method in _ADDITIONS:  # what moto lacks (NotImplementedError): only when missing
        if not hasattr(owner, name):
            setattr(owner, name, method)
    strict_aws.install_additions()
    moto_security_services.install_additions()
