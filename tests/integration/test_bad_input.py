"""Bad input fails with a clear message before any AWS call.

The cases are written from AWS's documented limits (the sources are next to each rule in
plugins/filter/aws_rules.py). All the cases whose rule needs no AWS read run as ONE playbook run over
an inventory with one host per case: each host carries its case's bad values as host variables and
the same region settings (us-east-1, the main emulator). Each host must fail with its own message
(naming the variable) and the recorder must see no call at all during that run: zero calls for
every case. The few cases that need a read (the region's availability zones) run in a second
inventory, a dry run where a valid host carries `-e key=value` strings through every role: nothing
but reads may be called. Booleans given as strings (`-e key=false`) are read with `| bool`
wherever a template or condition uses them, so they mean what they say.

The rules that involve several hosts (home region, one host per account x region, the rollout
settings and order, role partitions, connection regions) run once for every host: each such case
is a run of its own over four hosts (two accounts x two regions) in which exactly one host is
wrong, and every host must fail with the message naming that host, the variable and the value,
with no AWS call at all: no host starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PlaybookRun

Case = tuple[str, dict[str, Any], list[str]]

TABLE = {
    "name": "data",
    "hash_key": {"name": "id", "type": "S"},
    "range_key": {"name": "timestamp", "type": "N"},
}
TAGS = {"Environment": "dev", "Owner": "platform-team", "Project": "p", "ManagedBy": "ansible"}


def _tags(**extra: str) -> dict[str, str]:
    return {**TAGS, **extra}


def _subnets(*cidrs: str) -> list[dict[str, Any]]:
    return [{"cidr": cidr, "az_index": index} for index, cidr in enumerate(cidrs)]


def _both(name: str, value: Any) -> dict[str, Any]:
    """A prefix or name set consistently in the functions and iam roles (they must agree)."""
    return {f"functions_{name}": value, f"iam_{name}": value}


# (case, host variables, fragments the host's failure message must contain)
CASES: list[Case] = [
    # shared settings: tags (key 1-128, value 0-256, no aws:, allowed characters, at most 50)
    ("empty Owner tag", {"baseline_owner": ""}, ["must not be empty"]),
    ("blank Project tag", {"baseline_project": "   "}, ["must not be empty"]),
    ("unknown region", {"baseline_region": "us-nowhere-1"}, ["region us-nowhere-1 is not one of"]),
    ("unknown home region", {"baseline_home_region": "mars-1"}, ["home region mars-1 is not supported"]),
    (
        "home region with no host",
        {"baseline_home_region": "us-west-2"},
        ['baseline_home_region="us-west-2"', "no host of the inventory group regions"],
    ),
    ("upper-case prefix", {"baseline_prefix": "Secure_Infra"}, ['baseline_prefix="Secure_Infra"']),
    ("prefix of 21 characters", {"baseline_prefix": "a" * 21}, ["baseline_prefix=", "3-20"]),
    (
        "tag key in the aws: namespace",
        {"baseline_tags": _tags(**{"aws:team": "x"})},
        ["baseline_tags.aws:team", "aws:"],
    ),
    (
        "tag value in the aws: namespace",
        {"baseline_tags": _tags(Owner="AWS:team")},
        ["baseline_tags.Owner", "aws:"],
    ),
    (
        "tag key of 129 characters",
        {"baseline_tags": _tags(**{"k" * 129: "v"})},
        ["baseline_tags.kkk", "1-128"],
    ),
    (
        "tag value of 257 characters",
        {"baseline_tags": _tags(Owner="o" * 257)},
        ["baseline_tags.Owner", "0-256"],
    ),
    (
        "tag key with #",
        {"baseline_tags": _tags(**{"Cost#Center": "1"})},
        ["baseline_tags.Cost#Center", "may hold only"],
    ),
    (
        "49 tags plus the 2 the roles add",
        {"baseline_tags": _tags(**{f"T{i}": "v" for i in range(45)})},
        ["baseline_tags", "at most 50 tags"],
    ),
    # encryption: KMS alias, key policy principals
    ("reserved key alias", {"encryption_key_alias": "aws/evil"}, ["encryption_key_alias", "aws/"]),
    ("key alias with a space", {"encryption_key_alias": "my key"}, ["encryption_key_alias", "only letters"]),
    ("key alias of 251 characters", {"encryption_key_alias": "k" * 251}, ["encryption_key_alias", "1-250"]),
    (
        "unknown key service",
        {"encryption_key_services": ["cloudtrail", "lambda"]},
        ["encryption_key_services"],
    ),
    (
        "key admin not an ARN",
        {"encryption_key_admin_arns": ["alice"]},
        ["encryption_key_admin_arns[0]", "IAM principal ARN"],
    ),
    (
        "key admin from another partition",
        {"encryption_key_admin_arns": ["arn:aws-cn:iam::123456789012:role/admin"]},
        ["encryption_key_admin_arns[0]", "partition aws-cn"],
    ),
    (
        "key admin not a principal",
        {"encryption_key_admin_arns": ["arn:aws:s3:::my-bucket"]},
        ["encryption_key_admin_arns[0]", "IAM principal ARN"],
    ),
    ("tags not a dict", {"encryption_tags": ["Owner"]}, ["encryption_tags"]),
    (
        "log-group pattern with a space",
        {"encryption_log_group_patterns": ["/my logs/*"]},
        ["encryption_log_group_patterns"],
    ),
    ("key rotation not a bool", {"encryption_key_rotation": "maybe"}, ["encryption_key_rotation"]),
    # network: CIDRs /16-/28, inside the VPC, not overlapping
    (
        "VPC CIDR too large",
        {"network_endpoints_vpc_cidr": "10.0.0.0/8"},
        ["network_endpoints_vpc_cidr", "/16 and /28"],
    ),
    (
        "VPC CIDR not an address",
        {"network_endpoints_vpc_cidr": "10.0.0.300/16"},
        ["network_endpoints_vpc_cidr", "CIDR notation"],
    ),
    (
        "VPC CIDR with host bits",
        {"network_endpoints_vpc_cidr": "10.0.0.1/16"},
        ["network_endpoints_vpc_cidr", "no host bits"],
    ),
    (
        "subnet outside the VPC",
        {"network_endpoints_private_subnets": _subnets("10.1.1.0/24", "10.0.2.0/24")},
        ["network_endpoints_private_subnets[0].cidr", "inside the VPC CIDR"],
    ),
    (
        "overlapping subnets",
        {"network_endpoints_private_subnets": _subnets("10.0.1.0/24", "10.0.1.128/25")},
        ["network_endpoints_private_subnets[1].cidr", "overlaps 10.0.1.0/24"],
    ),
    (
        "subnet smaller than /28",
        {"network_endpoints_private_subnets": _subnets("10.0.1.0/29", "10.0.2.0/24")},
        ["network_endpoints_private_subnets[0].cidr", "/16 and /28"],
    ),
    (
        "a single subnet",
        {"network_endpoints_private_subnets": _subnets("10.0.1.0/24")},
        ["network_endpoints_private_subnets", "at least two private subnets"],
    ),
    (
        "subnet without cidr",
        {"network_endpoints_private_subnets": [{"az_index": 0}, {"az_index": 1}]},
        ["cidr"],
    ),
    (
        "two subnets in one zone",
        {
            "network_endpoints_private_subnets": [
                {"cidr": "10.0.1.0/24", "az_index": 0},
                {"cidr": "10.0.2.0/24", "az_index": 0},
            ]
        },
        ["network_endpoints_private_subnets", "its own az_index"],
    ),
    (
        "unknown endpoint service",
        {"network_endpoints_gateway_services": ["s3", "ec2"]},
        ["network_endpoints_gateway_services"],
    ),
    (
        "wildcard endpoint action",
        {"network_endpoints_s3_actions": ["s3:*"]},
        ["network_endpoints_s3_actions", "without wildcards"],
    ),
    (
        "wildcard table action",
        {"network_endpoints_dynamodb_actions": ["dynamodb:Get*"]},
        ["network_endpoints_dynamodb_actions", "without wildcards"],
    ),
    (
        "egress destination not a CIDR",
        {"network_endpoints_security_group_egress_cidrs": ["anywhere"]},
        ["network_endpoints_security_group_egress_cidrs[0]"],
    ),
    # storage: S3 bucket naming (whole name with account and region), lifecycle days, principals
    ("upper-case bucket prefix", {"storage_bucket_prefix": "MyData"}, ['storage_bucket_prefix="MyData"']),
    ("bucket prefix xn--", {"storage_bucket_prefix": "xn--data"}, ["storage_bucket_prefix", "xn--"]),
    ("bucket prefix sthree-", {"storage_bucket_prefix": "sthree-data"}, ["storage_bucket_prefix", "sthree-"]),
    (
        "days not a number",
        {"storage_noncurrent_version_expiration_days": "ninety"},
        ["storage_noncurrent_version_expiration_days"],
    ),
    ("bool not a bool", {"storage_require_vpc_endpoint": "maybe"}, ["storage_require_vpc_endpoint"]),
    (
        "zero retention days",
        {"storage_access_log_retention_days": 0},
        ["storage_access_log_retention_days=0", "at least 1"],
    ),
    (
        "zero abort days",
        {"storage_abort_incomplete_multipart_days": 0},
        ["storage_abort_incomplete_multipart_days=0"],
    ),
    (
        "extra principal not an ARN",
        {"storage_data_bucket_extra_principals": ["bob"]},
        ["storage_data_bucket_extra_principals[0]", "IAM principal ARN"],
    ),
    (
        "extra principal from GovCloud",
        {"storage_data_bucket_extra_principals": ["arn:aws-us-gov:iam::123456789012:user/bob"]},
        ["storage_data_bucket_extra_principals[0]", "partition aws-us-gov"],
    ),
    (
        "function role name of 65 characters",
        {"storage_data_bucket_function_roles": ["r" * 65]},
        ["storage_data_bucket_function_roles", "1-64"],
    ),
    ("no function role", {"storage_data_bucket_function_roles": []}, ["storage_data_bucket_function_roles"]),
    ("wildcard access-log prefix", {"storage_access_log_prefix": "logs/*/"}, ["storage_access_log_prefix"]),
    (
        "metrics id with a space",
        {"storage_request_metrics_id": "Entire Bucket"},
        ["storage_request_metrics_id"],
    ),
    # table: DynamoDB names 3-255 of a-z A-Z 0-9 _ . -, key attributes 1-255 bytes
    (
        "typo in a table key type",
        {"table_tables": [{"name": "data", "hash_key": {"name": "id", "type": "Str"}}]},
        ["type"],
    ),
    ("duplicate table names", {"table_tables": [TABLE, TABLE]}, ["table_tables", "unique"]),
    (
        "sort key equals partition key",
        {"table_tables": [{**TABLE, "range_key": {"name": "id", "type": "N"}}]},
        ["table_tables[data].range_key.name", "must differ from the partition key"],
    ),
    (
        "table name with a space",
        {"table_tables": [{**TABLE, "name": "my data"}]},
        ["table_tables", "a DynamoDB table name"],
    ),
    ("table name of 256 characters", {"table_name_prefix": "p" * 251}, ["table_name_prefix", "3-255"]),
    (
        "empty key attribute name",
        {"table_tables": [{**TABLE, "hash_key": {"name": "", "type": "S"}}]},
        ["table_tables[data].hash_key.name", "1-255 bytes"],
    ),
    (
        "key attribute of 256 bytes",
        {"table_tables": [{**TABLE, "range_key": {"name": "é" * 128, "type": "N"}}]},
        ["table_tables[data].range_key.name", "1-255 bytes"],
    ),
    ("no table", {"table_tables": []}, ["table_tables", "at least one table"]),
    ("table wait of zero", {"table_wait_timeout": 0}, ["table_wait_timeout=0"]),
    ("negative PITR retry", {"table_pitr_retry_timeout": -5}, ["table_pitr_retry_timeout=-5", "0-3600"]),
    # iam: role names, session 3600-43200, password policy, prefixes shared with functions
    (
        "weak password length",
        {"iam_password_min_length": 8},
        ["iam_password_min_length=8", "at least 14 characters"],
    ),
    (
        "session longer than 12 h",
        {"iam_role_max_session_duration": 50000},
        ["iam_role_max_session_duration", "3600-43200"],
    ),
    ("password reuse of 5", {"iam_password_reuse_prevention": 5}, ["iam_password_reuse_prevention=5"]),
    ("passwords kept a year", {"iam_password_max_age": 365}, ["iam_password_max_age=365", "1-90"]),
    (
        "wildcard S3 prefix",
        {**_both("incoming_prefix", "in*/")},
        ["iam_incoming_prefix", "without wildcards"],
    ),
    (
        "prefix without a slash",
        {**_both("incoming_prefix", "incoming")},
        ["iam_incoming_prefix", "ending with /"],
    ),
    (
        "quarantine under incoming",
        {**_both("quarantine_prefix", "incoming/bad/")},
        ["iam_quarantine_prefix", "neither may lie under the other"],
    ),
    (
        "incoming prefixes that disagree",
        {"iam_incoming_prefix": "in/"},
        ["iam_incoming_prefix", "functions_incoming_prefix", "must be the same"],
    ),
    (
        "topic names that disagree",
        {"iam_alarm_topic_name": "other"},
        ["iam_alarm_topic_name", "must be the same"],
    ),
    (
        "data table that is not a table",
        {**_both("data_table", "ghost")},
        ['iam_data_table="ghost"', "not a table of table_tables"],
    ),
    (
        "a function twice",
        {"iam_functions": ["processor", "processor"]},
        ["iam_functions", "each function once"],
    ),
    ("unknown function", {"iam_functions": ["importer"]}, ["iam_functions"]),
    (
        "topic name with !",
        {**_both("alarm_topic_name", "alarms!"), "monitoring_topic_name": "alarms!"},
        ["iam_alarm_topic_name", "SNS"],
    ),
    # functions: Lambda limits, schedule expressions, code folders
    ("memory below 128", {"functions_memory_size": 64}, ["functions_memory_size=64", "128-10240"]),
    ("memory above 10240", {"functions_memory_size": 10241}, ["functions_memory_size=10241", "128-10240"]),
    ("timeout of zero", {"functions_timeout": 0}, ["functions_timeout=0", "1-900"]),
    ("timeout above 15 minutes", {"functions_timeout": 901}, ["functions_timeout=901", "1-900"]),
    ("timeout not a number", {"functions_timeout": "ninety"}, ["functions_timeout"]),
    ("unknown runtime", {"functions_runtime": "python2.7"}, ["functions_runtime"]),
    (
        "retention not a Logs value",
        {"functions_log_retention_days": 42},
        ["functions_log_retention_days=42", "one of 1, 3, 5"],
    ),
    (
        "negative reserved concurrency",
        {"functions_reserved_concurrency": {"processor": -1}},
        ["functions_reserved_concurrency=-1"],
    ),
    (
        "concurrency for an unknown function",
        {"functions_reserved_concurrency": {"importer": 1}},
        ["functions_reserved_concurrency", "only for"],
    ),
    (
        "schedule not an expression",
        {"functions_analytics_schedule": "every hour"},
        ["functions_analytics_schedule", "rate(1 minute"],
    ),
    (
        "rate of 1 in the plural",
        {"functions_analytics_schedule": "rate(1 minutes)"},
        ["functions_analytics_schedule", "singular"],
    ),
    (
        "rate of 5 in the singular",
        {"functions_analytics_schedule": "rate(5 minute)"},
        ["functions_analytics_schedule", "plural"],
    ),
    (
        "rate of zero",
        {"functions_key_rotation_schedule": "rate(0 days)"},
        ["functions_key_rotation_schedule"],
    ),
    (
        "cron of 5 fields",
        {"functions_analytics_schedule": "cron(0 12 * * ?)"},
        ["functions_analytics_schedule", "6 fields"],
    ),
    (
        "cron without ?",
        {"functions_analytics_schedule": "cron(0 12 * * * *)"},
        ["functions_analytics_schedule", "must be ?"],
    ),
    (
        "cron hour 25",
        {"functions_key_rotation_schedule": "cron(0 25 * * ? *)"},
        ["functions_key_rotation_schedule", "hours"],
    ),
    (
        "missing code folder",
        {"functions_code_dir": "/nonexistent/lambda"},
        ["functions_code_dir", "processor/handler.py"],
    ),
    (
        "DLQ retention under a minute",
        {"functions_dlq_retention_seconds": 30},
        ["functions_dlq_retention_seconds=30", "60-1209600"],
    ),
    ("key age of zero", {"functions_max_key_age_days": 0}, ["functions_max_key_age_days=0"]),
    (
        "negative grace period",
        {"functions_key_grace_period_days": -1},
        ["functions_key_grace_period_days=-1"],
    ),
    (
        "IAM retry of a day",
        {"functions_iam_propagation_timeout": 86400},
        ["functions_iam_propagation_timeout=86400", "0-3600"],
    ),
    (
        "strict reservations not a bool",
        {"functions_reserved_concurrency_strict": "sometimes"},
        ["functions_reserved_concurrency_strict"],
    ),
    (
        "reports under incoming",
        {**_both("report_prefix", "incoming/reports/")},
        ["functions_report_prefix", "invoke the processor"],
    ),
    (
        "exempt tag in the aws: namespace",
        {"functions_key_exempt_tag": "aws:exempt"},
        ["functions_key_exempt_tag", "aws:"],
    ),
    # audit: CloudTrail names, trail bucket, Logs retention, tables named
    (
        "retention not a CloudWatch value",
        {"audit_log_group_retention_days": 42},
        ["audit_log_group_retention_days=42"],
    ),
    (
        "unknown missing-trail action",
        {"audit_missing_trail_action": "explode"},
        ["audit_missing_trail_action"],
    ),
    ("invalid trail name", {"audit_trail_name": "my trail!"}, ['audit_trail_name="my trail!"']),
    ("trail name with adjacent dots", {"audit_trail_name": "my..trail"}, ["audit_trail_name", "no adjacent"]),
    ("trail name of 2 characters", {"audit_trail_name": "ab"}, ["audit_trail_name", "3-128"]),
    ("upper-case trail bucket prefix", {"audit_bucket_prefix": "Trail"}, ['audit_bucket_prefix="Trail"']),
    (
        "log group with a space",
        {"audit_log_group_name": "/my logs", "monitoring_cis_log_group": "/my logs"},
        ["audit_log_group_name"],
    ),
    (
        "no data-event region",
        {"audit_data_event_regions": []},
        ["audit_data_event_regions", "at least one region"],
    ),
    (
        "unknown data-event region",
        {"audit_data_event_regions": ["mars-1"]},
        ["audit_data_event_regions", '"mars-1"'],
    ),
    (
        "data events on a table not created",
        {"audit_data_table_names": ["secureinfra-ghost"]},
        ["audit_data_table_names", "secureinfra-ghost"],
    ),
    (
        "trail home region that disagrees",
        {"audit_home_region": "us-west-1"},
        ["audit_home_region", "must be the same"],
    ),
    ("log files kept zero days", {"audit_log_file_retention_days": 0}, ["audit_log_file_retention_days=0"]),
    ("trail IAM retry negative", {"audit_iam_propagation_timeout": -1}, ["audit_iam_propagation_timeout=-1"]),
    # monitoring: PutMetricAlarm fields after overrides, SNS protocols, shared names
    (
        "unknown alarm in the overrides",
        {"monitoring_alarm_overrides": {"s3-everything": {"threshold": 1}}},
        ["monitoring_alarm_overrides", "s3-everything"],
    ),
    (
        "unknown alarm disabled",
        {"monitoring_alarms_disabled": ["lambda-sadness"]},
        ["monitoring_alarms_disabled", "lambda-sadness"],
    ),
    (
        "threshold not a number",
        {"monitoring_alarm_overrides": {"s3-5xx-errors": {"threshold": "lots"}}},
        ["monitoring_alarm_overrides.s3-5xx-errors.threshold", "must be a number"],
    ),
    (
        "period of 45 s",
        {"monitoring_alarm_overrides": {"s3-5xx-errors": {"period": 45}}},
        ["monitoring_alarm_overrides.s3-5xx-errors.period", "10, 20, 30 or a multiple of 60"],
    ),
    (
        "period of 90 s",
        {"monitoring_alarm_overrides": {"lambda-throttles": {"period": 90}}},
        ["monitoring_alarm_overrides.lambda-throttles.period"],
    ),
    (
        "zero evaluation periods",
        {"monitoring_alarm_overrides": {"s3-5xx-errors": {"evaluation_periods": 0}}},
        ["monitoring_alarm_overrides.s3-5xx-errors.evaluation_periods", "at least 1"],
    ),
    (
        "more datapoints than periods",
        {
            "monitoring_alarm_overrides": {
                "s3-5xx-errors": {"evaluation_periods": 2, "datapoints_to_alarm": 3}
            }
        },
        ["monitoring_alarm_overrides.s3-5xx-errors.datapoints_to_alarm", "1 to evaluation_periods"],
    ),
    (
        "unknown statistic",
        {"monitoring_alarm_overrides": {"s3-5xx-errors": {"statistic": "Avg"}}},
        ["monitoring_alarm_overrides.s3-5xx-errors.statistic", "SampleCount"],
    ),
    (
        "comparison as a symbol",
        {"monitoring_alarm_overrides": {"s3-5xx-errors": {"comparison": ">"}}},
        ["monitoring_alarm_overrides.s3-5xx-errors.comparison", "GreaterThanThreshold"],
    ),
    (
        "unknown missing-data treatment",
        {"monitoring_alarm_overrides": {"s3-5xx-errors": {"treat_missing_data": "zero"}}},
        ["monitoring_alarm_overrides.s3-5xx-errors.treat_missing_data", "notBreaching"],
    ),
    (
        "evaluation longer than a day",
        {"monitoring_alarm_overrides": {"s3-5xx-errors": {"evaluation_periods": 300}}},
        ["monitoring_alarm_overrides.s3-5xx-errors.evaluation_periods", "86400"],
    ),
    (
        "misspelt override setting",
        {"monitoring_alarm_overrides": {"s3-5xx-errors": {"threshhold": 2}}},
        ["monitoring_alarm_overrides.s3-5xx-errors", "cannot set ['threshhold']"],
    ),
    ("unknown CIS control", {"monitoring_cis_disabled": ["4.99"]}, ["monitoring_cis_disabled", "4.99"]),
    (
        "CIS period of 45 s",
        {"monitoring_cis_overrides": {"4.1": {"period": 45}}},
        ["monitoring_cis_overrides.unauthorized-api-calls.period"],
    ),
    (
        "subscription email not an email",
        {"monitoring_subscriptions": [{"protocol": "email", "endpoint": "ops"}]},
        ["monitoring_subscriptions", '"ops"', "e-mail address"],
    ),
    (
        "subscription over plain http",
        {"monitoring_subscriptions": [{"protocol": "https", "endpoint": "http://x"}]},
        ["monitoring_subscriptions", "https URL"],
    ),
    (
        "SQS subscription in another partition",
        {
            "monitoring_subscriptions": [
                {"protocol": "sqs", "endpoint": "arn:aws-cn:sqs:cn-north-1:123456789012:q"}
            ]
        },
        ["monitoring_subscriptions", "partition aws"],
    ),
    (
        "unknown subscription protocol",
        {"monitoring_subscriptions": [{"protocol": "sms", "endpoint": "+1555"}]},
        ["protocol"],
    ),
    (
        "alarm topic that disagrees",
        {"monitoring_topic_name": "other-alarms"},
        ["monitoring_topic_name", "must be the same"],
    ),
    (
        "CIS log group that disagrees",
        {"monitoring_cis_log_group": "/other"},
        ["monitoring_cis_log_group", "must be the same"],
    ),
    ("alarms on a table not created", {"monitoring_tables": ["ghost"]}, ["monitoring_tables", '"ghost"']),
    (
        "alarms on a bucket named badly",
        {"monitoring_buckets": ["My_Bucket"]},
        ["monitoring_buckets", "S3 bucket name"],
    ),
    ("CIS namespace AWS/", {"monitoring_cis_namespace": "AWS/CIS"}, ["monitoring_cis_namespace", "AWS/"]),
    (
        "duration alarm timeout of 1000 s",
        {"monitoring_function_timeout_seconds": 1000},
        ["monitoring_function_timeout_seconds=1000"],
    ),
]

# Cases whose rule needs the region's availability zones (EC2 DescribeAvailabilityZones, a read).
ZONE_CASES: list[Case] = [
    (
        "more subnets than zones",
        {"network_endpoints_private_subnets": [{"cidr": f"10.0.{i}.0/24", "az_index": i} for i in range(7)]},
        ["network_endpoints_private_subnets", "has 6 availability zones"],
    ),
    (
        "zone index beyond the region's zones",
        {
            "network_endpoints_private_subnets": [
                {"cidr": "10.0.1.0/24", "az_index": 0},
                {"cidr": "10.0.2.0/24", "az_index": 9},
            ]
        },
        ["network_endpoints_private_subnets[1].az_index", "must be 0-5"],
    ),
]


def _host(index: int) -> str:
    return f"case{index:03d}"


def _inventory(path: Path, cases: list[Case], valid_hosts: int = 0) -> Path:
    """One host per case (its bad values as host vars), all in us-east-1 on the same emulator."""
    local_inventory = Path(__file__).resolve().parents[2] / "inventories/local"
    local = yaml.safe_load((local_inventory / "hosts.yml").read_text())
    hosts: dict[str, dict[str, Any]] = {
        _host(i): {"baseline_region": "us-east-1", "baseline_account_name": _host(i), **case[1]}
        for i, case in enumerate(cases)
    }
    # Each host is an account of its own: one host per account x region (preflight's rule).
    valid = {
        f"valid{i}": {"baseline_region": "us-east-1", "baseline_account_name": f"valid{i}"}
        for i in range(valid_hosts)
    }
    hosts.update(valid)
    group_vars = {k: v for k, v in local["regions"]["vars"].items() if k != "baseline_region"}
    # Each case host is in us-east-1 (the "unknown region" case aside, whose region must not leak
    # into the others' defaults: the data-event regions default to every host's region).
    group_vars["baseline_home_region"] = "us-east-1"
    group_vars["audit_data_event_regions"] = ["us-east-1"]
    path.mkdir()
    (path / "hosts.json").write_text(json.dumps({"regions": {"hosts": hosts, "vars": group_vars}}))
    return path


def _host_failures(run: PlaybookRun) -> dict[str, str]:
    """host => the message(s) of its failed task (a host stops at its first failure)."""
    failures: dict[str, str] = {}
    for play in run.output.get("plays", []):
        for task in play.get("tasks", []):
            for host, result in task.get("hosts", {}).items():
                if result.get("failed"):
                    failures[host] = (
                        f"{result.get('msg', '')} {json.dumps(result.get('argument_errors', ''))}"
                    )
    return failures


def _check_messages(cases: list[Case], failures: dict[str, str]) -> list[str]:
    problems = []
    for index, (case, _, fragments) in enumerate(cases):
        message = failures.get(_host(index))
        if message is None:
            problems.append(f"{case}: the host did not fail")
            continue
        missing = [f for f in fragments if f not in message]
        if missing:
            problems.append(f"{case}: {missing} not in {message!r}")
    return problems


def test_at_least_80_cases() -> None:
    assert len(CASES) + len(ZONE_CASES) >= 80
    assert len({c[0] for c in CASES + ZONE_CASES}) == len(CASES) + len(ZONE_CASES)


def test_bad_input_fails_before_any_call(run_playbook, tmp_path: Path) -> None:
    """Every case fails on its own host with its message, and the run makes no AWS call at all."""
    inventory = _inventory(tmp_path / "cases", CASES)
    run = run_playbook("-i", str(inventory), "--forks", "8")
    assert run.rc != 0
    problems = _check_messages(CASES, _host_failures(run))
    assert not problems, "\n".join(problems)
    assert run.calls == [], f"AWS was called: {[str(c) for c in run.calls]}"


def test_string_booleans_from_the_command_line_mean_what_they_say(converged, run_playbook) -> None:
    """-e key=value gives the string "false", which a template would read as true: the roles read
    it with | bool. On the converged account (no VPC-endpoint condition in the data bucket policy),
    a dry run with the string "false" changes nothing and "true" predicts the policy change."""
    changed: dict[str, list[str]] = {}
    for value in ("false", "true"):
        run = run_playbook(
            "-e", f"storage_require_vpc_endpoint={value}", "--tags", "storage", check=True, limit="us-east-1"
        )
        assert run.rc == 0, run.stderr
        assert all(c.read_only for c in run.calls), [str(c) for c in run.calls if not c.read_only]
        # one module run converges both buckets; its message names each bucket and what would change
        changed[value] = [
            f"{task['task']['name']}: {result.get('msg', '')}"
            for play in run.output.get("plays", [])
            for task in play.get("tasks", [])
            for result in task.get("hosts", {}).values()
            if result.get("changed")
        ]
    assert changed["false"] == []
    assert len(changed["true"]) == 1, changed["true"]
    assert "-data-123456789012-us-east-1: would update policy" in changed["true"][0], changed["true"]
    assert "-logs-" not in changed["true"][0], changed[
        "true"
    ]  # the log bucket's policy has no such condition


def test_zone_rules_read_only_and_command_line_strings_proceed(run_playbook, tmp_path: Path) -> None:
    """One dry run (check mode; the main emulator, empty or converged by other tests: a dry run
    calls only reads either way) over the zone cases and one valid host:

    - the zone rules read DescribeAvailabilityZones (zone-type availability-zone) and refuse;
    - -e key=value strings (numbers, and booleans a module converts) are accepted by validation and
      the valid host's dry run goes through every role;
    - nothing but reads is called.
    """
    inventory = _inventory(tmp_path / "zones", ZONE_CASES, valid_hosts=1)
    strings = [
        "functions_timeout=120",
        "functions_memory_size=256",
        "storage_noncurrent_version_expiration_days=30",
        "table_wait_timeout=300",
        "iam_role_max_session_duration=7200",
        "monitoring_function_timeout_seconds=120",
        "encryption_key_rotation=true",
    ]
    args = ["-i", str(inventory), "-e", '{"storage_require_vpc_endpoint": true}']
    for value in strings:
        args += ["-e", value]
    run = run_playbook(*args, check=True)
    failures = _host_failures(run)
    problems = _check_messages(ZONE_CASES, failures)
    assert not problems, "\n".join(problems)
    assert "valid0" not in failures, failures.get("valid0")
    assert run.stats["valid0"]["failures"] == 0
    assert run.stats["valid0"]["ok"] > 50, run.stats["valid0"]
    operations = {f"{c.service}:{c.operation}" for c in run.calls}
    assert "ec2:DescribeAvailabilityZones" in operations
    assert all(c.read_only for c in run.calls), [str(c) for c in run.calls if not c.read_only]


# Rules across hosts: (case, the wrong host's variables, extra vars, fragments of every host's message).
FOUR_HOSTS = ("dev-us-east-1", "dev-us-west-1", "prod-us-east-1", "prod-us-west-1")
CrossCase = tuple[str, dict[str, Any], dict[str, Any], list[str]]
WRONG = "prod-us-west-1"
CALLER_CONNECTION = {
    "endpoint_url": "{{ baseline_aws_endpoint_url }}",
    "access_key": "testing",
    "secret_key": "testing",
}
CROSS_CASES: list[CrossCase] = [
    (
        "home region where the account has no host, unlike its other host's",
        {"baseline_home_region": "us-west-2"},
        {},
        [
            f'Account prod: its hosts disagree on baseline_home_region (prod-us-east-1: "us-east-1"; {WRONG}:'
            ' "us-west-2")',
            f'{WRONG}: baseline_home_region="us-west-2": no host of the inventory group regions'
            " in account prod",
        ],
    ),
    (
        "two hosts in one account and region",
        {"baseline_account_name": "dev"},
        {},
        [
            "Hosts dev-us-west-1 and prod-us-west-1 are both account dev in region us-west-1",
            'baseline_account_name="dev"',
        ],
    ),
    (
        "rollout order naming a region twice, and one outside the inventory",
        {"baseline_rollout_region_order": ["eu-west-1", "eu-west-1"]},
        {},
        [
            f'{WRONG}: baseline_rollout_region_order=["eu-west-1", "eu-west-1"]: names eu-west-1 more'
            " than once",
            f'{WRONG}: baseline_rollout_region_order=["eu-west-1", "eu-west-1"]: eu-west-1 is not a region of'
            " the inventory; name only its regions (us-east-1, us-west-1)",
        ],
    ),
    (
        "rollout setting of one host only",
        {"baseline_rollout_max_concurrent": "0%"},
        {},
        [
            f"baseline_rollout_max_concurrent differs between hosts (dev-us-east-1, dev-us-west-1 and"
            f' prod-us-east-1: 0; {WRONG}: "0%")',
            f"{WRONG}: baseline_rollout_max_concurrent: a number of hosts per batch",
        ],
    ),
    (
        "role ARN of another partition",
        {"baseline_account_role_arn": "arn:aws-us-gov:iam::222222222222:role/baseline-deployer"},
        {},
        [
            f'{WRONG}: baseline_account_role_arn="arn:aws-us-gov:iam::222222222222:role/baseline-deployer":'
            ' partition aws-us-gov, but baseline_region="us-west-1" is in partition aws',
        ],
    ),
    (
        "caller connection to another region",
        {"baseline_aws_caller_connection": {"region": "us-east-1", **CALLER_CONNECTION}},
        {},
        [f'{WRONG}: baseline_aws_caller_connection.region="us-east-1"', 'baseline_region="us-west-1"'],
    ),
    (
        "connection to another region",
        {"baseline_aws_connection": {"region": "eu-west-1", **CALLER_CONNECTION}},
        {},
        [f'{WRONG}: baseline_aws_connection.region="eu-west-1"', 'baseline_region="us-west-1"'],
    ),
    (
        "rollout settings from the command line, checked before any call",
        {},
        {"baseline_rollout_max_fail_percentage": 101, "baseline_rollout_region_concurrency": "SEQUENTIAL"},
        [
            "every host: baseline_rollout_max_fail_percentage: a percentage of each batch from 0 to 100"
            " (got 101)",
            "every host: baseline_rollout_region_concurrency: parallel or sequential (got 'SEQUENTIAL')",
        ],
    ),
]


def _four_hosts(path: Path, wrong_vars: dict[str, Any]) -> Path:
    """Accounts dev and prod (baseline_account_name) x us-east-1 and us-west-1 on the main emulator;
    WRONG carries wrong_vars."""
    local = yaml.safe_load((Path(__file__).resolve().parents[2] / "inventories/local/hosts.yml").read_text())
    children = {
        account: {
            "hosts": {
                f"{account}-{region}": {
                    "baseline_region": region,
                    **(wrong_vars if f"{account}-{region}" == WRONG else {}),
                }
                for region in ("us-east-1", "us-west-1")
            },
            "vars": {"baseline_account_name": account},
        }
        for account in ("dev", "prod")
    }
    path.mkdir()
    inventory = {
        "regions": {
            "children": children,
            "vars": {**local["regions"]["vars"], "baseline_home_region": "us-east-1"},
        }
    }
    (path / "hosts.json").write_text(json.dumps(inventory))
    return path


def _batches(run: PlaybookRun) -> list[list[str]]:
    """The hosts of each batch of the provisioning play, in order."""
    return [
        sorted({host for task in play["tasks"] for host in task["hosts"]})
        for play in run.output.get("plays", [])
        if play["play"]["name"] == "Provision the baseline"
    ]


@pytest.mark.parametrize(
    ("case", "wrong_vars", "extra_vars", "fragments"), CROSS_CASES, ids=[c[0] for c in CROSS_CASES]
)
def test_one_wrong_host_stops_every_host_before_any_call(
    run_playbook,
    tmp_path: Path,
    case: str,
    wrong_vars: dict[str, Any],
    extra_vars: dict[str, Any],
    fragments: list[str],
) -> None:
    run = run_playbook("-i", str(_four_hosts(tmp_path / "hosts", wrong_vars)), extra_vars=extra_vars or None)
    assert run.rc != 0
    failures = _host_failures(run)
    assert sorted(failures) == sorted(FOUR_HOSTS), (case, failures, run.stderr)
    for host, message in failures.items():
        assert "no host starts" in message, (host, message)
        missing = [f for f in fragments if f not in message]
        assert not missing, (host, missing, message)
    assert _batches(run) == []
    assert run.calls == [], f"AWS was called: {[str(c) for c in run.calls]}"


def test_one_host_failing_its_own_check_stops_the_others_before_any_call(
    run_playbook, tmp_path: Path
) -> None:
    """A rule of one host (a prefix S3 refuses): that host fails with its message, and the three others
    fail with a message naming it, before any call."""
    run = run_playbook("-i", str(_four_hosts(tmp_path / "hosts", {"baseline_prefix": "Bad_Prefix"})))
    assert run.rc != 0
    failures = _host_failures(run)
    assert sorted(failures) == sorted(FOUR_HOSTS), failures
    assert 'baseline_prefix="Bad_Prefix"' in failures[WRONG], failures[WRONG]
    for host in set(FOUR_HOSTS) - {WRONG}:
        assert f"{WRONG} failed validation (see its message): no host starts" in failures[host], failures[
            host
        ]
    assert run.calls == [], f"AWS was called: {[str(c) for c in run.calls]}"


def test_rollout_boolean_from_the_command_line_is_accepted(run_playbook, tmp_path: Path) -> None:
    """-e baseline_rollout_home_region_first=true is the string "true": accepted and read as true, so the
    home-region hosts make a batch of their own, first. --tags selects no role: the provisioning play
    runs the preflight tasks only (tagged always); a dry run, reads only."""
    run = run_playbook(
        "-i",
        str(_four_hosts(tmp_path / "hosts", {})),
        "-e",
        "baseline_rollout_home_region_first=true",
        "--tags",
        "rollout-only",
        check=True,
    )
    assert run.rc == 0, run.stderr
    assert _batches(run) == [["dev-us-east-1", "prod-us-east-1"], ["dev-us-west-1", "prod-us-west-1"]]
    assert all(c.read_only for c in run.calls), [str(c) for c in run.calls if not c.read_only]


def test_verify_refuses_an_unknown_control_before_any_call(run_playbook, tmp_path: Path) -> None:
    """The verify playbook evaluates the CIS controls monitoring_cis_disabled leaves, and the alarms
    of monitoring_alarm_overrides: a control or alarm that does not exist is refused in its first play,
    naming the variable and the value and listing the valid ids, on every host and before any AWS
    call (it was a filter's raw error at the evaluation, after STS and the reads)."""
    run = run_playbook(
        playbook="playbooks/verify.yml",
        extra_vars={
            "verify_report_dir": str(tmp_path),
            "monitoring_cis_disabled": ["4.15", "4.99"],
            "monitoring_alarm_overrides": {"s3-everything": {"threshold": 1}},
        },
    )
    assert run.rc != 0
    failures = _host_failures(run)
    assert sorted(failures) == ["us-east-1", "us-west-1"], failures
    for message in failures.values():
        for fragment in (
            'monitoring_cis_disabled=["4.15", "4.99"]: "4.99" is not a CIS control',
            "the CIS controls are 4.1 (unauthorized-api-calls), 4.2 (console-signin-without-mfa)",
            "4.15 (organizations-changes)",
            'monitoring_alarm_overrides.s3-everything={"threshold": 1}: "s3-everything" is not an alarm;'
            " the alarms are s3-all-requests,",
        ):
            assert fragment in message, (fragment, message)
    assert [play["play"]["name"] for play in run.output["plays"]] == [
        "Validate the verify settings before any AWS call"
    ]
    assert run.calls == [], f"AWS was called: {[str(c) for c in run.calls]}"
