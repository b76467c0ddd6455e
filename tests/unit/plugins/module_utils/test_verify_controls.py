"""verify_controls.evaluate on snapshots: a complete baseline passes every control; each change
fails exactly its control; account-wide controls apply in the home region only."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from ansible_collections.secureinfra.baseline.plugins.module_utils import verify_controls as vc

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:p-alarms"
TRAIL = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/p-trail"
TAGS = {"Environment": "dev", "Owner": "team", "Project": "x"}
DATA, LOGS = "p-data-b", "p-logs-b"
ROLES = ["p-us-east-1-processor", "p-us-east-1-analytics"]
PRINCIPALS = [f"arn:aws:iam::{ACCOUNT}:role/{r}" for r in ROLES]
CIS_ROOT = (
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
    '$.eventType != "AwsServiceEvent" }'
)
CIS = [
    {
        "cis_id": "4.3",
        "title": "Root usage",
        "filter_name": "p-cis-root",
        "metric_name": "RootUsage",
        "namespace": "CISBenchmark",
        "alarm_name": "p-cis-root",
        "cis_patterns": [CIS_ROOT],
    }
]
# The access-log bucket does not log itself (a loop): exempt from S3.9, as the verify role's default.
EXEMPTIONS = [{"control_id": "S3.9", "resource": "p-logs-*", "reason": "the access-log target"}]


def bucket_policy(name: str, restrict: bool) -> dict[str, Any]:
    arn = f"arn:aws:s3:::{name}"
    statements = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if restrict:
        statements.append(
            {
                "Sid": "DenyObjectAccessToAllButListedPrincipals",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": f"{arn}/*",
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": PRINCIPALS}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def bucket(name: str, logging: dict[str, str] | None, rule: str) -> dict[str, Any]:
    return {
        "exists": True,
        "encryption": [{"SSEAlgorithm": "AES256"}],
        "public_access_block": dict.fromkeys(vc.PUBLIC_ACCESS_SETTINGS, True),
        "policy": bucket_policy(name, restrict=name == DATA),
        "versioning": "Enabled",
        "logging": logging,
        "lifecycle": [{"id": rule, "status": "Enabled"}],
        "tags": dict(TAGS),
    }


def function(name: str, vpc: bool) -> dict[str, Any]:
    return {
        "exists": True,
        "memory": 128,
        "runtime": "python3.12",
        "vpc": {
            "vpc_id": "vpc-1" if vpc else "",
            "subnet_ids": ["subnet-a", "subnet-b"] if vpc else [],
            "security_group_ids": ["sg-1"] if vpc else [],
        },
        "tracing": "Active",
        "dead_letter_target": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}-dlq",
        "tags": dict(TAGS),
    }


def role_policy() -> dict[str, Any]:
    return {
        "Statement": [
            {
                "Sid": "Read",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{DATA}/*"],
            },
            {"Sid": "Traces", "Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"},
        ]
    }


def endpoint(service: str) -> dict[str, Any]:
    return {
        "id": f"vpce-{service}",
        "service": f"com.amazonaws.us-east-1.{service}",
        "type": "Gateway",
        "state": "available",
        "policy": {
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": [f"{service}:Get"], "Resource": "*"}
            ]
        },
        "route_table_ids": ["rtb-1", "rtb-2"],
        "tags": dict(TAGS),
    }


def alarm(metric: str = "Errors", namespace: str = "AWS/Lambda") -> dict[str, Any]:
    return {
        "actions": [TOPIC],
        "actions_enabled": True,
        "metric": metric,
        "namespace": namespace,
        "tags": TAGS,
    }


def data_selector(resource_type: str, field: str, values: list[str]) -> dict[str, Any]:
    return {
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": [resource_type]},
            {"Field": "resources.ARN", field: values},
        ]
    }


@pytest.fixture
def spec() -> dict[str, Any]:
    return {
        "region": "us-east-1",
        "home_region": "us-east-1",
        "account_id": ACCOUNT,
        "partition": "aws",
        "required_tags": TAGS,
        "buckets": [
            {"name": LOGS, "logging_target": "", "logging_prefix": "", "lifecycle_rule_ids": ["expire-logs"]},
            {
                "name": DATA,
                "logging_target": LOGS,
                "logging_prefix": "s3/",
                "lifecycle_rule_ids": ["expire-v"],
            },
        ],
        "data_bucket": DATA,
        "data_bucket_principals": PRINCIPALS,
        "tables": ["p-data"],
        "functions": [
            {"name": ROLES[0], "vpc": True, "dead_letter_queue": f"{ROLES[0]}-dlq"},
            {"name": ROLES[1], "vpc": True, "dead_letter_queue": f"{ROLES[1]}-dlq"},
        ],
        "queues": [f"{ROLES[0]}-dlq", f"{ROLES[1]}-dlq"],
        "function_memory": 128,
        "supported_runtimes": ["python3.12", "python3.13"],
        "log_groups": ["/p/cloudtrail"],
        "roles": ROLES,
        "role_max_session": 3600,
        "key_alias": "p-baseline",
        "vpc_name": "p-us-east-1",
        "endpoint_services": ["s3", "dynamodb"],
        "topic_arn": TOPIC,
        "subscriptions": [{"protocol": "email", "endpoint": "ops@example.com"}],
        "require_subscriber": False,
        "alarms": ["p-lambda-errors"],
        "cis_catalog": CIS,
        "cis_log_group": "/p/cloudtrail",
        "trail": {
            "arn": TRAIL,
            "log_group_arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/p/cloudtrail",
            "data_bucket_arns": [f"arn:aws:s3:::{DATA}"],
            "data_table_arns": [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/p-data"],
        },
        "password_policy": {"min_length": 14, "reuse_prevention": 24, "max_age": 90},
        "max_access_key_age_days": 90,
        "account_public_access_block": True,
        "exemptions": EXEMPTIONS,
    }


@pytest.fixture
def snapshot(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "buckets": {
            LOGS: bucket(LOGS, None, "expire-logs"),
            DATA: bucket(DATA, {"TargetBucket": LOGS, "TargetPrefix": "s3/"}, "expire-v"),
        },
        "tables": {
            "p-data": {
                "exists": True,
                "sse": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEY},
                "pitr": "ENABLED",
                "deletion_protection": True,
                "tags": dict(TAGS),
            }
        },
        "functions": {name: function(name, vpc=True) for name in ROLES},
        "queues": {
            f"{name}-dlq": {
                "exists": True,
                "arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}-dlq",
                "kms": KEY,
                "tags": dict(TAGS),
            }
            for name in ROLES
        },
        "log_groups": {"/p/cloudtrail": {"exists": True, "kms": KEY, "tags": dict(TAGS)}},
        "roles": {
            name: {
                "exists": True,
                "max_session_duration": 3600,
                "policies": {name: role_policy()},
                "tags": TAGS,
            }
            for name in ROLES
        },
        "key": {"exists": True, "arn": KEY, "state": "Enabled", "rotation": True, "tags": dict(TAGS)},
        "network": {
            "exists": True,
            "vpc_id": "vpc-1",
            "subnet_ids": ["subnet-a", "subnet-b"],
            "private_route_table_ids": ["rtb-1", "rtb-2"],
            "security_group_ids": ["sg-0", "sg-1"],
            "endpoints": [endpoint("s3"), endpoint("dynamodb")],
            "tagged": {"vpc-1": dict(TAGS), "subnet-a": dict(TAGS)},
        },
        "topic": {
            "exists": True,
            "kms": KEY,
            "subscriptions": [{"protocol": "email", "endpoint": "ops@example.com", "confirmed": True}],
            "tags": dict(TAGS),
        },
        "alarms": {"p-lambda-errors": alarm(), "p-cis-root": alarm("RootUsage", "CISBenchmark")},
        "account_public_access_block": dict.fromkeys(vc.PUBLIC_ACCESS_SETTINGS, True),
        "password_policy": {
            "MinimumPasswordLength": 14,
            "PasswordReusePrevention": 24,
            "MaxPasswordAge": 90,
            "RequireSymbols": True,
            "RequireNumbers": True,
            "RequireUppercaseCharacters": True,
            "RequireLowercaseCharacters": True,
        },
        "access_keys": [{"user": "ci", "key": "...ABCD", "status": "Active", "age_days": 10}],
        "trail": {
            "exists": True,
            "multi_region": True,
            "global_service_events": True,
            "logging": True,
            "log_file_validation": True,
            "kms_key_id": KEY,
            "cloudwatch_logs_log_group_arn": spec["trail"]["log_group_arn"] + ":*",
            "event_selectors": [],
            "advanced_event_selectors": [
                {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
                data_selector("AWS::S3::Object", "StartsWith", [f"arn:aws:s3:::{DATA}/"]),
                data_selector("AWS::DynamoDB::Table", "Equals", spec["trail"]["data_table_arns"]),
            ],
            "tags": dict(TAGS),
        },
        "metric_filters": [
            {
                "name": "p-cis-root",
                # CIS's terms, written otherwise: other spacing, quotes and grouping.
                "pattern": '{($.userIdentity.type="Root") && ($.userIdentity.invokedBy NOT EXISTS) && '
                "($.eventType!=AwsServiceEvent)}",
                "metrics": [("CISBenchmark", "RootUsage")],
            }
        ],
    }


def statuses(records: list[dict[str, Any]]) -> dict[str, str]:
    return {r["control_id"]: r["status"] for r in records}


def test_complete_baseline_passes_every_control(snapshot, spec):
    records = vc.evaluate(snapshot, spec)
    assert {r["status"] for r in records} == {"pass"}, [r for r in records if r["status"] != "pass"]
    ids = [r["control_id"] for r in records]
    assert len(ids) == len(set(ids)) == 36  # 35 fixed controls + the one CIS control of this spec
    assert {"S3.5", "S3.8", "S3.9", "DynamoDB.2", "DynamoDB.6", "KMS.4", "IAM.7", "CIS 4.3"} <= set(ids)
    record = next(r for r in records if r["control_id"] == "CIS 4.3")
    assert record["related"] == ["CloudWatch.1"]
    assert (record["account"], record["region"]) == (ACCOUNT, "us-east-1")


def test_account_wide_controls_apply_in_the_home_region_only(snapshot, spec):
    spec = {**spec, "region": "us-west-1", "trail": None}
    records = vc.evaluate(snapshot, spec)
    not_applicable = {r["control_id"] for r in records if r["status"] == "not_applicable"}
    assert not_applicable == {
        "S3.1",
        "IAM.7",
        "IAM.3",
        "CloudTrail.1",
        "CloudTrail.2",
        "CloudTrail.3",
        "CloudTrail.4",
        "CloudTrail.5",
        "BASELINE.CloudTrail.2",
        "BASELINE.CloudTrail.3",
        "BASELINE.CloudTrail.1",
        "CIS 4.3",
    }
    reasons = [r["evidence"]["reason"] for r in records if r["control_id"] in not_applicable]
    assert all("home region us-east-1" in reason for reason in reasons)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(snapshot: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = snapshot
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[last] = value

    return change


def _drop_statement(bucket_name: str, sid: str) -> Callable[[dict[str, Any]], None]:
    def change(snapshot: dict[str, Any]) -> None:
        policy = snapshot["buckets"][bucket_name]["policy"]
        policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != sid]

    return change


def _extra_grant(action: str, resource: str) -> Callable[[dict[str, Any]], None]:
    def change(snapshot: dict[str, Any]) -> None:
        statement = {"Sid": "Extra", "Effect": "Allow", "Action": action, "Resource": resource}
        snapshot["roles"][ROLES[0]]["policies"]["extra"] = {"Statement": [statement]}

    return change


BREAKAGES = {
    "BASELINE.S3.1": _set(f"buckets.{LOGS}.encryption", [{"SSEAlgorithm": "aws:kms"}]),
    "S3.8": _set(f"buckets.{DATA}.public_access_block.IgnorePublicAcls", False),
    "S3.1": _set("account_public_access_block", None),
    "S3.5": _drop_statement(LOGS, "DenyInsecureTransport"),
    "S3.14": _set(f"buckets.{DATA}.versioning", "Suspended"),
    "S3.9": _set(f"buckets.{DATA}.logging", None),
    "S3.13": _set(f"buckets.{LOGS}.lifecycle", []),
    "BASELINE.S3.2": _drop_statement(DATA, "DenyObjectAccessToAllButListedPrincipals"),
    "BASELINE.DynamoDB.1": _set("tables.p-data.sse.KMSMasterKeyArn", "arn:aws:kms:us-east-1:1:key/other"),
    "DynamoDB.2": _set("tables.p-data.pitr", "DISABLED"),
    "DynamoDB.6": _set("tables.p-data.deletion_protection", False),
    "BASELINE.Lambda.1": _set(f"functions.{ROLES[0]}.memory", 512),
    "Lambda.3": _set(f"functions.{ROLES[1]}.vpc.subnet_ids", []),
    "Lambda.2": _set(f"functions.{ROLES[1]}.runtime", "python3.8"),
    "Lambda.7": _set(f"functions.{ROLES[0]}.tracing", "PassThrough"),
    "BASELINE.Lambda.2": _set(f"functions.{ROLES[0]}.dead_letter_target", ""),
    "BASELINE.IAM.1": _extra_grant("dynamodb:*", "arn:aws:dynamodb:us-east-1:1:table/t"),
    "BASELINE.IAM.2": _set(f"roles.{ROLES[1]}.max_session_duration", 43200),
    "IAM.7": _set("password_policy.PasswordReusePrevention", 5),
    "IAM.3": _set("access_keys.0.age_days", 91),
    "KMS.4": _set("key.rotation", False),
    "CloudTrail.1": _set("trail.multi_region", False),
    "CloudTrail.3": _set("trail.logging", False),
    "CloudTrail.4": _set("trail.log_file_validation", False),
    "CloudTrail.2": _set("trail.kms_key_id", ""),
    "CloudTrail.5": _set("trail.cloudwatch_logs_log_group_arn", ""),
    "BASELINE.CloudTrail.1": _set("trail.advanced_event_selectors.2.FieldSelectors.2.Equals", []),
    "BASELINE.VPC.1": _set("network.endpoints.0.route_table_ids", ["rtb-1"]),
    "BASELINE.VPC.2": _set("network.endpoints.1.policy.Statement.0.Action", "*"),
    "CloudWatch.15": _set("alarms.p-lambda-errors.actions", []),
    "BASELINE.SNS.1": _set("topic.kms", ""),
    # Another confirmed subscriber, not the configured one: CIS 4.x still has its subscriber.
    "BASELINE.SNS.2": _set("topic.subscriptions.0.endpoint", "someone@example.com"),
    "CIS 4.3": _set("metric_filters", []),
    "BASELINE.Tags.1": _set(f"roles.{ROLES[0]}.tags", {"Environment": "dev", "Owner": "team"}),
}


@pytest.mark.parametrize("control_id", sorted(BREAKAGES))
def test_each_breakage_fails_exactly_its_control(snapshot, spec, control_id):
    changed = copy.deepcopy(snapshot)
    BREAKAGES[control_id](changed)
    failed = {r["control_id"] for r in vc.evaluate(changed, spec) if r["status"] == "fail"}
    assert failed == {control_id}


def test_read_only_events_split_s3_reads_from_writes(snapshot, spec):
    selectors = snapshot["trail"]["advanced_event_selectors"]
    selectors[1]["FieldSelectors"].append({"Field": "readOnly", "Equals": ["true"]})
    failed = {r["control_id"] for r in vc.evaluate(snapshot, spec) if r["status"] == "fail"}
    assert failed == {"BASELINE.CloudTrail.2"}  # only read events are logged: the write-events control fails


def test_missing_resources_fail_with_exists_false(snapshot, spec):
    snapshot["tables"]["p-data"] = {"exists": False}
    records = {r["control_id"]: r for r in vc.evaluate(snapshot, spec)}
    for control_id in ("BASELINE.DynamoDB.1", "DynamoDB.2", "DynamoDB.6"):
        assert records[control_id]["status"] == "fail"
        assert records[control_id]["evidence"]["p-data"] == {"ok": False, "exists": False}


def test_inactive_old_keys_pass_and_wildcards_are_named(snapshot, spec):
    snapshot["access_keys"].append({"user": "old", "key": "...WXYZ", "status": "Inactive", "age_days": 400})
    _extra_grant("s3:Get*", "*")(snapshot)
    records = {r["control_id"]: r for r in vc.evaluate(snapshot, spec)}
    assert records["IAM.3"]["status"] == "pass"
    assert records["BASELINE.IAM.1"]["evidence"][ROLES[0]]["offending"] == ["extra/Extra: ['s3:Get*']"]


def test_subscriber_control_follows_the_configuration(snapshot, spec):
    snapshot["topic"]["subscriptions"] = []
    no_subscribers = {**spec, "subscriptions": []}
    assert statuses(vc.evaluate(snapshot, no_subscribers))["BASELINE.SNS.2"] == "not_applicable"
    required = {**no_subscribers, "require_subscriber": True}
    assert statuses(vc.evaluate(snapshot, required))["BASELINE.SNS.2"] == "fail"


def test_optional_controls_not_applicable_when_not_managed(snapshot, spec):
    spec = {**spec, "password_policy": None, "account_public_access_block": False}
    spec["endpoint_services"] = ["s3"]
    result = statuses(vc.evaluate(snapshot, spec))
    assert result["IAM.7"] == result["S3.1"] == result["BASELINE.VPC.2"] == "not_applicable"


def _cis(records: list[dict[str, Any]]) -> dict[str, Any]:
    record = next(r for r in records if r["control_id"] == "CIS 4.3")
    return {"status": record["status"], **record["evidence"]["p-cis-root"]}


def test_cis_alarm_needs_a_confirmed_subscriber(snapshot, spec):
    """CIS 4.x audit step 7: at least one subscription with a real SubscriptionArn."""
    snapshot["topic"]["subscriptions"][0]["confirmed"] = False
    records = vc.evaluate(snapshot, spec)
    cis = _cis(records)
    assert cis["status"] == "fail" and cis["topic_confirmed_subscriptions"] == 0
    assert cis["pattern_as_cis"] and cis["alarm_on_metric"]
    assert statuses(records)["BASELINE.SNS.2"] == "fail"
    # With no configured subscriber, BASELINE.SNS.2 does not apply; CIS 4.x still fails.
    snapshot["topic"]["subscriptions"] = []
    no_subscribers = {**spec, "subscriptions": []}
    assert _cis(vc.evaluate(snapshot, no_subscribers))["status"] == "fail"


ROUTES = "($.eventName = CreateRoute) || ($.eventName = DeleteRoute)"


@pytest.mark.parametrize(
    ("deployed", "ok", "missing", "extra"),
    [
        (f"{{ ($.eventSource = ec2.amazonaws.com) && ({ROUTES}) }}", True, [], []),
        (
            '{($.eventSource="ec2.amazonaws.com")&&(($.eventName="DeleteRoute")||($.eventName="CreateRoute"))}',
            True,
            [],
            [],
        ),
        (f"{{ {ROUTES} }}", False, ["eventSource = ec2.amazonaws.com"], []),  # 0.2.0's 4.13
        (
            f"{{ ($.eventSource = ec2.amazonaws.com) && ({ROUTES} || ($.eventName = ReplaceRoute)) }}",
            True,
            [],
            ["eventName = ReplaceRoute"],
        ),  # one more event: a wider alarm
        (
            f"{{ ($.eventSource = ec2.amazonaws.com) && ({ROUTES}) && ($.awsRegion = us-east-1) }}",
            False,
            [],
            ["awsRegion = us-east-1"],
        ),  # another condition: a narrower alarm
        (
            "{ ($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) }",
            False,
            ["eventName = DeleteRoute"],
            [],
        ),
    ],
)
def test_pattern_compared_with_cis_by_its_terms(deployed, ok, missing, extra):
    cis = (
        "{($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName =DeleteRoute) }"
    )
    assert vc.cis_pattern(deployed, [cis]) == {"ok": ok, "missing_terms": missing, "extra_terms": extra}


def test_no_extra_events_where_cis_lists_none():
    """More eventName terms are allowed only where CIS's pattern is a list of events."""
    deployed = CIS_ROOT.replace("}", "&& $.eventName = ConsoleLogin }")
    assert not vc.cis_pattern(deployed, [CIS_ROOT])["ok"]


def test_a_pattern_unlike_cis_fails_the_cis_control(snapshot, spec):
    snapshot["metric_filters"][0]["pattern"] = '{ $.userIdentity.type = "Root" }'
    cis = _cis(vc.evaluate(snapshot, spec))
    assert cis["status"] == "fail" and not cis["pattern_as_cis"]
    assert cis["pattern_missing_terms"] == [
        "eventType != AwsServiceEvent",
        "userIdentity.invokedBy NOT EXISTS",
    ]


def test_cis_variants_any_one_matches():
    plain = '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
    sso = plain.replace(
        "}", '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
    )
    assert vc.cis_pattern(sso, [plain, sso])["ok"]
    assert vc.cis_pattern(plain, [plain, sso])["ok"]
    assert not vc.cis_pattern(plain.replace("Yes", "No"), [plain, sso])["ok"]
    assert not vc.cis_pattern(plain, [])["ok"]


def test_s3_9_checks_every_bucket_and_reports_exemptions(snapshot, spec):
    records = {r["control_id"]: r for r in vc.evaluate(snapshot, spec)}
    s3_9 = records["S3.9"]
    assert s3_9["status"] == "pass"
    assert s3_9["exempted"] == {LOGS: "the access-log target"}
    # The exempt bucket is still evaluated as AWS would: no logging.
    assert s3_9["evidence"][LOGS]["ok"] is False and s3_9["evidence"][LOGS]["exempt"]
    assert s3_9["evidence"][DATA] == {
        "ok": True,
        "target_bucket": LOGS,
        "target_prefix": "s3/",
        "expected": f"{LOGS}/s3/",
        "as_defined": True,
    }
    # Without the exemption, AWS's verdict stands: the log bucket fails S3.9.
    assert statuses(vc.evaluate(snapshot, {**spec, "exemptions": []}))["S3.9"] == "fail"
    # Logging somewhere else is logging (AWS's rule): S3.9 passes, the evidence says it differs.
    snapshot["buckets"][DATA]["logging"] = {"TargetBucket": "elsewhere", "TargetPrefix": ""}
    record = next(r for r in vc.evaluate(snapshot, spec) if r["control_id"] == "S3.9")
    assert record["status"] == "pass" and record["evidence"][DATA]["as_defined"] is False


def test_lambda_outside_the_vpc_fails_lambda_3_unless_exempt(snapshot, spec):
    rotation = "p-us-east-1-key_rotation"
    spec["functions"].append({"name": rotation, "vpc": False, "dead_letter_queue": f"{rotation}-dlq"})
    spec["queues"].append(f"{rotation}-dlq")
    snapshot["functions"][rotation] = function(rotation, vpc=False)
    snapshot["queues"][f"{rotation}-dlq"] = {**snapshot["queues"][f"{ROLES[0]}-dlq"]}
    snapshot["queues"][f"{rotation}-dlq"]["arn"] = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{rotation}-dlq"
    failed = {r["control_id"] for r in vc.evaluate(snapshot, spec) if r["status"] == "fail"}
    assert failed == {"Lambda.3"}
    exempt = {"control_id": "Lambda.3", "resource": rotation, "reason": "calls IAM and SNS only"}
    spec["exemptions"] = [*EXEMPTIONS, exempt]
    record = next(r for r in vc.evaluate(snapshot, spec) if r["control_id"] == "Lambda.3")
    assert record["status"] == "pass" and record["exempted"] == {rotation: "calls IAM and SNS only"}
    assert record["evidence"][rotation]["ok"] is False
    # An exempt resource does not hide another's failure; every resource exempt: not_applicable.
    snapshot["functions"][ROLES[0]]["vpc"]["subnet_ids"] = []
    assert statuses(vc.evaluate(snapshot, spec))["Lambda.3"] == "fail"
    spec["exemptions"] = [{**exempt, "resource": "p-us-east-1-*"}]
    assert statuses(vc.evaluate(snapshot, spec))["Lambda.3"] == "not_applicable"
