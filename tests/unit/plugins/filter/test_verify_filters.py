"""Filters of the verify role: the other roles' facts in the module's shape, and the summary."""

from __future__ import annotations

from ansible_collections.secureinfra.baseline.plugins.filter import verify


def test_verify_buckets_takes_the_storage_facts():
    buckets = [
        {"name": "logs", "logging_target": "", "lifecycle_rules": [{"id": "expire-access-logs"}]},
        {"name": "data", "logging_target": "logs", "lifecycle_rules": [{"id": "expire-noncurrent-versions"}]},
    ]
    assert verify.verify_buckets(buckets, "s3-access/data/") == [
        {
            "name": "logs",
            "logging_target": "",
            "logging_prefix": "",
            "lifecycle_rule_ids": ["expire-access-logs"],
        },
        {
            "name": "data",
            "logging_target": "logs",
            "logging_prefix": "s3-access/data/",
            "lifecycle_rule_ids": ["expire-noncurrent-versions"],
        },
    ]


def test_verify_functions_names_functions_and_queues():
    definitions = [{"name": "processor", "vpc": True}, {"name": "key_rotation", "vpc": False}]
    assert verify.verify_functions(definitions, "p-us-east-1-") == [
        {"name": "p-us-east-1-processor", "vpc": True, "dead_letter_queue": "p-us-east-1-processor-dlq"},
        {
            "name": "p-us-east-1-key_rotation",
            "vpc": False,
            "dead_letter_queue": "p-us-east-1-key_rotation-dlq",
        },
    ]


def test_verify_cis_catalog_from_cis_alarms():
    control = {
        "cis_id": "4.3",
        "name": "root-account-usage",
        "description": "Any use of the root user; the account is fully privileged.",
        "metric_name": "RootUsage",
        "filter_name": "p-cis-root-account-usage",
        "alarm": {"name": "p-cis-root-account-usage"},
    }
    expected = {
        "cis_id": "4.3",
        "title": "Any use of the root user",
        "filter_name": "p-cis-root-account-usage",
        "metric_name": "RootUsage",
        "namespace": "CISBenchmark",
        "alarm_name": "p-cis-root-account-usage",
        "cis_patterns": [],
    }
    assert verify.verify_cis_catalog([control], "CISBenchmark") == [expected]
    # CIS's own patterns for the item, by CIS id (the verify role's verify_cis_patterns).
    patterns = {"4.3": ["{ $.userIdentity.type = Root }"], "4.4": ["{ $.eventName = PutRolePolicy }"]}
    assert verify.verify_cis_catalog([control], "CISBenchmark", patterns) == [
        {**expected, "cis_patterns": ["{ $.userIdentity.type = Root }"]}
    ]


def test_verify_summary_counts_and_names_failures():
    records = [
        {"control_id": "S3.5", "account": "1", "region": "us-east-1", "status": "pass"},
        {"control_id": "S3.5", "account": "1", "region": "us-west-1", "status": "fail"},
        {"control_id": "IAM.7", "account": "1", "region": "us-east-1", "status": "pass"},
        {"control_id": "IAM.7", "account": "1", "region": "us-west-1", "status": "not_applicable"},
    ]
    summary = verify.verify_summary(records)
    assert summary["line"] == "verify: 2 account/regions, 2 controls, 2 passed, 1 failed, 1 not applicable"
    assert summary["failed"] == ["S3.5 (1/us-west-1)"]
    assert summary["counts"] == {"pass": 2, "fail": 1, "not_applicable": 1}
