"""Bad input fails with a clear message before any AWS call (the recorder sees nothing)."""

from __future__ import annotations

from typing import Any

import pytest

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("empty Owner tag", {"baseline_owner": ""}, "must not be empty"),
    ("blank Project tag", {"baseline_project": "   "}, "must not be empty"),
    ("unknown region", {"baseline_region": "us-nowhere-1"}, "region us-nowhere-1 is not one of"),
    ("unknown home region", {"baseline_home_region": "mars-1"}, "home region mars-1 is not supported"),
    ("upper-case prefix", {"baseline_prefix": "Secure_Infra"}, 'baseline_prefix "Secure_Infra" must be'),
    ("upper-case bucket prefix", {"storage_bucket_prefix": "MyData"}, 'storage_bucket_prefix "MyData"'),
    (
        "days not a number",
        {"storage_noncurrent_version_expiration_days": "ninety"},
        "storage_noncurrent_version_expiration_days",
    ),
    ("bool not a bool", {"storage_require_vpc_endpoint": "maybe"}, "storage_require_vpc_endpoint"),
    ("zero retention days", {"storage_access_log_retention_days": 0}, "day counts must be at least 1"),
    ("extra principal not an ARN", {"storage_data_bucket_extra_principals": ["bob"]}, "must be IAM ARNs"),
    ("VPC CIDR too large", {"network_endpoints_vpc_cidr": "10.0.0.0/8"}, "VPC CIDR must be an IPv4 /16-/28"),
    (
        "a single subnet",
        {"network_endpoints_private_subnets": [{"cidr": "10.0.1.0/24", "az_index": 0}]},
        "at least two private subnets",
    ),
    (
        "subnet without cidr",
        {"network_endpoints_private_subnets": [{"az_index": 0}, {"az_index": 1}]},
        "cidr",
    ),
    (
        "unknown endpoint service",
        {"network_endpoints_gateway_services": ["s3", "ec2"]},
        "network_endpoints_gateway_services",
    ),
    ("wildcard endpoint action", {"network_endpoints_s3_actions": ["s3:*"]}, "without wildcards"),
    ("reserved key alias", {"encryption_key_alias": "aws/evil"}, "must be letters"),
    ("unknown key service", {"encryption_key_services": ["cloudtrail", "lambda"]}, "encryption_key_services"),
    ("tags not a dict", {"encryption_tags": ["Owner"]}, "encryption_tags"),
    # data plane
    ("memory below 128", {"functions_memory_size": 64}, "memory must be 128-10240 MB (got 64)"),
    ("unknown runtime", {"functions_runtime": "python2.7"}, "functions_runtime"),
    ("timeout of zero", {"functions_timeout": 0}, "timeout 1-900 s"),
    ("retention not a Logs value", {"functions_log_retention_days": 42}, "(got 42)"),
    ("negative reserved concurrency", {"functions_reserved_concurrency": {"processor": -1}}, "not negative"),
    ("concurrency for an unknown function", {"functions_reserved_concurrency": {"importer": 1}}, "only for"),
    ("schedule not an expression", {"functions_analytics_schedule": "every hour"}, "rate(...) or cron(...)"),
    (
        "quarantine under incoming",
        {"functions_quarantine_prefix": "incoming/bad/"},
        "outside the incoming prefix",
    ),
    (
        "typo in a table key type",
        {"table_tables": [{"name": "data", "hash_key": {"name": "id", "type": "Str"}}]},
        "type",
    ),
    (
        "duplicate table names",
        {
            "table_tables": [
                {"name": "a", "hash_key": {"name": "id", "type": "S"}},
                {"name": "a", "hash_key": {"name": "id", "type": "S"}},
            ]
        },
        "unique names",
    ),
    (
        "sort key equals partition key",
        {
            "table_tables": [
                {
                    "name": "a",
                    "hash_key": {"name": "id", "type": "S"},
                    "range_key": {"name": "id", "type": "N"},
                }
            ]
        },
        "must differ from the partition key",
    ),
    ("weak password length", {"iam_password_min_length": 8}, "at least 14 characters"),
    ("session longer than 12 h", {"iam_role_max_session_duration": 50000}, "3600-43200"),
    ("wildcard S3 prefix", {"iam_incoming_prefix": "in*/"}, "without wildcards"),
    # audit and monitoring
    (
        "unknown alarm in the overrides",
        {"monitoring_alarm_overrides": {"s3-everything": {"threshold": 1}}},
        'unknown alarm names ["s3-everything"]',
    ),
    ("unknown alarm disabled", {"monitoring_alarms_disabled": ["lambda-sadness"]}, "lambda-sadness"),
    (
        "threshold not a number",
        {"monitoring_alarm_overrides": {"s3-5xx-errors": {"threshold": "lots"}}},
        "thresholds must be numbers",
    ),
    ("unknown CIS control", {"monitoring_cis_disabled": ["4.99"]}, 'unknown CIS controls ["4.99"]'),
    (
        "subscription email not an email",
        {"monitoring_subscriptions": [{"protocol": "email", "endpoint": "ops"}]},
        "subscriptions must be an e-mail address",
    ),
    (
        "subscription over plain http",
        {"monitoring_subscriptions": [{"protocol": "https", "endpoint": "http://x"}]},
        "an https URL",
    ),
    (
        "unknown subscription protocol",
        {"monitoring_subscriptions": [{"protocol": "sms", "endpoint": "+1555"}]},
        "protocol",
    ),
    ("retention not a CloudWatch value", {"audit_log_group_retention_days": 42}, "(got 42)"),
    ("unknown missing-trail action", {"audit_missing_trail_action": "explode"}, "audit_missing_trail_action"),
    ("invalid trail name", {"audit_trail_name": "my trail!"}, 'the trail name "my trail!"'),
]


@pytest.mark.parametrize(("case", "extra_vars", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_before_any_call(
    endpoint, run_playbook, case: str, extra_vars: dict[str, Any], message: str
) -> None:
    run = run_playbook(limit="us-east-1", extra_vars=extra_vars)
    assert run.rc != 0, f"{case}: the play did not fail"
    messages = " ".join(run.failed_messages())
    assert message in messages, f"{case}: expected {message!r} in {messages!r}"
    assert run.calls == [], f"{case}: AWS was called: {[str(c) for c in run.calls]}"
