"""AWS's input rules (plugins/filter/aws_rules.py), one documented limit at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.secureinfra.baseline.plugins.filter import aws_rules as rules

ROOT = Path(__file__).resolve().parents[4]
MONITORING_VARS = yaml.safe_load((ROOT / "roles/monitoring/vars/main.yml").read_text())


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("s3_bucket", "secureinfra-data-123456789012-eu-central-1"),
        ("s3_bucket", "a.b-c"),
        ("dynamodb_table", "secureinfra-data"),
        ("dynamodb_table", "My_Table.v2"),
        ("dynamodb_attribute", "timestamp"),
        ("lambda_function", "secureinfra-us-east-1-key_rotation"),
        ("iam_role", "role+=,.@_-name"),
        ("iam_path", "/"),
        ("iam_path", "/division/team/"),
        ("sqs_queue", "secureinfra-us-east-1-processor-dlq"),
        ("sns_topic", "secureinfra-alarms"),
        ("log_group", "/aws/lambda/secureinfra-x"),
        ("cloudtrail_trail", "secureinfra-trail"),
        ("kms_alias", "secureinfra-baseline"),
        ("eventbridge_rule", "secureinfra-us-east-1-analytics"),
        ("metric_namespace", "CISBenchmark"),
        ("s3_metrics_id", "EntireBucket"),
    ],
)
def test_names_aws_accepts(kind: str, name: str) -> None:
    assert rules.aws_name_errors(name, kind, "v") == []


@pytest.mark.parametrize(
    ("kind", "name", "fragment"),
    [
        ("s3_bucket", "ab", "3-63 characters"),
        ("s3_bucket", "a" * 64, "3-63 characters"),
        ("s3_bucket", "My-Bucket", "lower-case letters"),
        ("s3_bucket", "-bucket", "beginning and ending"),
        ("s3_bucket", "bucket-", "beginning and ending"),
        ("s3_bucket", "my..bucket", "adjacent periods"),
        ("s3_bucket", "bucket.mrap", ".mrap"),
        ("s3_bucket", "amzn-s3-demo-bucket", "amzn-s3-demo-"),
        ("s3_bucket", "192.168.5.4", "IP address"),
        ("s3_bucket", "xn--bucket", "xn--"),
        ("s3_bucket", "sthree-bucket", "sthree-"),
        ("s3_bucket", "bucket-s3alias", "-s3alias"),
        ("s3_bucket", "bucket--ol-s3", "--ol-s3"),
        ("dynamodb_table", "ab", "3-255"),
        ("dynamodb_table", "t" * 256, "3-255"),
        ("dynamodb_table", "my table", "only a-z"),
        ("dynamodb_attribute", "", "1-255 bytes"),
        ("dynamodb_attribute", "é" * 128, "1-255 bytes"),
        ("lambda_function", "f" * 65, "1-64"),
        ("lambda_function", "my.function", "only letters"),
        ("iam_role", "r" * 65, "1-64"),
        ("iam_role", "my role", "only letters"),
        ("iam_path", "team", "/ alone"),
        ("iam_path", "/team", "/ alone"),
        ("sqs_queue", "q" * 81, "1-80"),
        ("sns_topic", "alarms!", "only letters"),
        ("log_group", "/my logs", "only letters"),
        ("log_group", "aws/mine", "aws/"),
        ("cloudtrail_trail", "ab", "3-128"),
        ("cloudtrail_trail", "my..trail", "no adjacent"),
        ("cloudtrail_trail", "my_-trail", "no adjacent"),
        ("cloudtrail_trail", "-trail", "beginning and ending"),
        ("cloudtrail_trail", "10.0.0.1", "IP address"),
        ("kms_alias", "aws/evil", "aws/"),
        ("kms_alias", "alias/aws/evil", "aws/"),
        ("kms_alias", "k" * 251, "1-250"),
        ("kms_alias", "my key", "only letters"),
        ("eventbridge_rule", "r" * 65, "1-64"),
        ("metric_namespace", "AWS/Mine", "AWS/"),
        ("metric_namespace", "CIS:x", "no : * or $"),
        ("s3_metrics_id", "Entire Bucket", "only letters"),
    ],
)
def test_names_aws_refuses(kind: str, name: str, fragment: str) -> None:
    errors = rules.aws_name_errors(name, kind, "my_var")
    assert len(errors) == 1
    assert errors[0].startswith("my_var=")
    assert fragment in errors[0]


def test_name_of_another_type_and_unknown_kind() -> None:
    assert "must be a string" in rules.aws_name_errors(5, "sns_topic", "v")[0]
    with pytest.raises(Exception, match="unknown kind"):
        rules.aws_name_errors("x", "s3_object", "v")


def test_tags_within_the_limits() -> None:
    tags = {"k" * 128: "v" * 256, "Cost Center": "a+b-c=d.e_f:g/h@i", "Empty": "", "Accentué": "é"}
    assert rules.aws_tag_errors(tags, "t") == []
    assert rules.aws_tag_errors({f"k{i}": "v" for i in range(48)}, "t", 2) == []


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [
        ({"k" * 129: "v"}, "1-128"),
        ({"": "v"}, "1-128"),
        ({"k": "v" * 257}, "0-256"),
        ({"aws:team": "x"}, "aws:"),
        ({"Team": "AWS:x"}, "aws:"),
        ({"Cost#Center": "x"}, "may hold only"),
        ({"Team": "a;b"}, "may hold only"),
    ],
)
def test_tags_aws_refuses(tags: dict[str, str], fragment: str) -> None:
    errors = rules.aws_tag_errors(tags, "t")
    assert errors and fragment in errors[0]
    assert errors[0].startswith("t.")


def test_at_most_50_tags_including_the_roles_own() -> None:
    assert "at most 50 tags" in rules.aws_tag_errors({f"k{i}": "v" for i in range(49)}, "t", 2)[0]
    assert "must be a dict" in rules.aws_tag_errors(["Owner"], "t")[0]


@pytest.mark.parametrize(("value", "expected"), [(5, 5), ("5", 5), (" 12 ", 12), (5.0, 5), ("-3", -3)])
def test_as_int_accepts_command_line_strings(value: Any, expected: int) -> None:
    assert rules.as_int(value) == expected


@pytest.mark.parametrize("value", [True, "5.5", 5.5, "ninety", None, [], ""])
def test_as_int_refuses(value: Any) -> None:
    assert rules.as_int(value) is None


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), ("true", True), ("no", False), ("OFF", False), (1, True)]
)
def test_as_bool(value: Any, expected: bool) -> None:
    assert rules.as_bool(value) is expected


def test_numbers() -> None:
    assert rules.aws_number_errors("120", "functions_timeout", 1, 900) == []
    assert rules.aws_number_errors(0, "functions_timeout", 1, 900, accepts="seconds") == [
        "functions_timeout=0: must be 1-900 (seconds)."
    ]
    assert "at least 1" in rules.aws_number_errors(0, "d", 1)[0]
    assert "at most 5" in rules.aws_number_errors(6, "d", None, 5)[0]
    assert "whole number" in rules.aws_number_errors("ninety", "d", 1)[0]
    assert rules.aws_retention_errors("30", "r") == []
    assert "one of 1, 3, 5" in rules.aws_retention_errors(42, "r")[0]


def test_booleans_from_the_command_line() -> None:
    assert rules.aws_bool_errors("true", "b") == []
    assert rules.aws_bool_errors(False, "b") == []
    assert rules.aws_bool_errors("off", "b") == []
    assert "must be a boolean" in rules.aws_bool_errors("maybe", "b")[0]
    assert "must be a boolean" in rules.aws_bool_errors(["true"], "b")[0]


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(0 0 L * ? *)",
        "cron(0 0 3W * ? *)",
        "cron(0 0 ? * 6L 2030)",
        "cron(0 12 ? JAN,FEB * 2026-2030)",
    ],
)
def test_schedules_eventbridge_accepts(expression: str) -> None:
    assert rules.aws_schedule_errors(expression, "s") == []


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("every hour", "EventBridge accepts"),
        ("rate(1 minutes)", "singular"),
        ("rate(5 minute)", "singular unit for 1 and the plural"),
        ("rate(0 minutes)", "positive"),
        ("rate(1 week)", "EventBridge accepts"),
        ("rate(-1 days)", "EventBridge accepts"),
        ("cron(0 12 * * ?)", "6 fields"),
        ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(0 12 ? * ? *)", "exactly one of"),
        ("cron(60 12 * * ? *)", "minutes"),
        ("cron(0 25 * * ? *)", "hours"),
        ("cron(0 0 32 * ? *)", "day-of-month"),
        ("cron(0 0 * 13 ? *)", "month"),
        ("cron(0 0 ? * 8 *)", "day-of-week"),
        ("cron(0 0 * * ? 1969)", "year"),
        ("cron(0 0 ? * 2#6 *)", "day-of-week"),
        ("cron(0 ? * * ? *)", "hours does not accept ?"),
        ("cron(0 0 * FOO ? *)", "month"),
        (None, "EventBridge accepts"),
    ],
)
def test_schedules_eventbridge_refuses(expression: Any, fragment: str) -> None:
    errors = rules.aws_schedule_errors(expression, "functions_analytics_schedule")
    assert len(errors) == 1
    assert errors[0].startswith("functions_analytics_schedule=")
    assert fragment in errors[0]


def _subnets(*cidrs: str) -> list[dict[str, Any]]:
    return [{"cidr": c, "az_index": i} for i, c in enumerate(cidrs)]


def test_cidrs_aws_accepts() -> None:
    assert (
        rules.aws_cidr_errors("10.0.0.0/16", _subnets("10.0.1.0/24", "10.0.2.0/24"), "vpc", "subnets") == []
    )
    assert rules.aws_cidr_errors("10.0.0.0/28", _subnets("10.0.0.0/28"), "vpc", "subnets") == []


@pytest.mark.parametrize(
    ("vpc", "subnets", "fragment"),
    [
        ("10.0.0.0/8", [], 'vpc="10.0.0.0/8": a VPC CIDR must be between /16 and /28'),
        ("10.0.0.0/29", [], "between /16 and /28"),
        ("10.0.0.256/16", [], "CIDR notation"),
        ("10.0.0.1/16", [], "no host bits"),
        ("10.0.0.0", [], "CIDR notation"),
        ("fd00::/56", [], "IPv4"),
        ("10.0.0.0/16", _subnets("10.1.0.0/24"), "inside the VPC CIDR 10.0.0.0/16"),
        (
            "10.0.0.0/16",
            _subnets("10.0.1.0/24", "10.0.1.128/25"),
            'subnets[1].cidr="10.0.1.128/25": overlaps 10.0.1.0/24',
        ),
        ("10.0.0.0/16", _subnets("10.0.1.0/29"), "between /16 and /28"),
        ("10.0.0.0/16", _subnets("10.0.1.5/24"), "no host bits"),
    ],
)
def test_cidrs_aws_refuses(vpc: str, subnets: list[dict[str, Any]], fragment: str) -> None:
    errors = rules.aws_cidr_errors(vpc, subnets, "vpc", "subnets")
    assert any(fragment in e for e in errors), errors


def test_security_group_cidrs() -> None:
    assert rules.aws_cidr_list_errors(["0.0.0.0/0", "10.0.0.0/8"], "egress") == []
    assert rules.aws_cidr_list_errors(["anywhere"], "egress")[0].startswith("egress[0]=")
    assert rules.aws_cidr_list_errors([], "egress")


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("eu-central-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
    ],
)
def test_partition_of_a_region(region: str, partition: str) -> None:
    assert rules.aws_partition(region) == partition


def test_principals() -> None:
    good = [
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::123456789012:role/admin",
        "arn:aws:iam::123456789012:role/team/path/admin",
        "arn:aws:sts::123456789012:assumed-role/admin/session-1",
    ]
    assert rules.aws_principal_errors(good, "p", "us-east-1") == []
    assert rules.aws_principal_errors(["arn:aws-cn:iam::123456789012:root"], "p", "cn-north-1") == []
    other = rules.aws_principal_errors(["arn:aws-cn:iam::123456789012:role/x"], "p", "us-east-1")
    assert other == [
        'p[0]="arn:aws-cn:iam::123456789012:role/x": is in partition aws-cn, '
        "but us-east-1 is in partition aws; "
        "a policy cannot name a principal of another partition."
    ]
    for bad in [
        "bob",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::12345:root",
        "arn:aws:iam::123456789012:group/g",
        "*",
    ]:
        assert "IAM principal ARN" in rules.aws_principal_errors([bad], "p", "us-east-1")[0], bad
    assert rules.aws_principal_errors("arn:aws:iam::123456789012:root", "p", "us-east-1")


# As the role renders them: the Duration threshold is templated from the timeout (60 s).
DEFINITIONS = [
    {**d, "threshold": 48000} if "{{" in str(d.get("threshold")) else d
    for d in MONITORING_VARS["monitoring_alarm_definitions"]
]
CIS = MONITORING_VARS["monitoring_cis_controls"]


def test_the_shipped_alarms_are_valid() -> None:
    assert rules.aws_alarm_errors(DEFINITIONS, {}, [], "o") == []
    assert rules.aws_alarm_errors(CIS, {}, [], "c", True) == []


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"threshold": "lots"}, '.threshold="lots": a threshold must be a number'),
        ({"period": 45}, ".period=45: CloudWatch accepts a period of 10, 20, 30 or a multiple of 60"),
        ({"period": 0}, ".period=0"),
        ({"period": "abc"}, '.period="abc"'),
        ({"evaluation_periods": 0}, ".evaluation_periods=0"),
        (
            {"evaluation_periods": 2, "datapoints_to_alarm": 3},
            ".datapoints_to_alarm=3: must be 1 to evaluation_periods (2)",
        ),
        ({"datapoints_to_alarm": 0}, ".datapoints_to_alarm=0"),
        ({"statistic": "Avg"}, '.statistic="Avg": CloudWatch accepts one of SampleCount'),
        ({"comparison": ">"}, '.comparison=">"'),
        ({"comparison": "LessThanLowerThreshold"}, ".comparison"),
        ({"treat_missing_data": "zero"}, '.treat_missing_data="zero"'),
        ({"evaluation_periods": 300}, "(300 x 300) must not exceed 86400 s"),
        ({"period": 3600, "evaluation_periods": 169}, "must not exceed 604800 s"),
        ({"threshhold": 1}, "cannot set ['threshhold']"),
        ({"enabled": "perhaps"}, '.enabled="perhaps": must be true or false'),
        ({"enabled": "false"}, '.enabled="false": must be true or false (not a string)'),
    ],
)
def test_alarm_overrides_cloudwatch_refuses(override: dict[str, Any], fragment: str) -> None:
    errors = rules.aws_alarm_errors(
        DEFINITIONS, {"s3-5xx-errors": override}, [], "monitoring_alarm_overrides"
    )
    assert any(e.startswith("monitoring_alarm_overrides.s3-5xx-errors") and fragment in e for e in errors), (
        errors
    )


def test_alarm_overrides_cloudwatch_accepts() -> None:
    overrides = {
        "s3-5xx-errors": {
            "period": 60,
            "evaluation_periods": "3",
            "datapoints_to_alarm": 2,
            "threshold": "2.5",
        },
        "lambda-throttles": {"period": 10, "statistic": "Maximum", "treat_missing_data": "missing"},
        "s3-4xx-errors": {"period": 3600, "evaluation_periods": 168},
        "s3-all-requests": {"enabled": False},
    }
    assert rules.aws_alarm_errors(DEFINITIONS, overrides, [], "o") == []


def test_alarm_names_must_be_known() -> None:
    errors = rules.aws_alarm_errors(
        DEFINITIONS, {"s3-everything": {"threshold": 1}}, [], "monitoring_alarm_overrides"
    )
    alarms = ", ".join(d["key"] for d in DEFINITIONS)
    assert errors == [
        'monitoring_alarm_overrides.s3-everything={"threshold": 1}: "s3-everything" is not an alarm;'
        f" the alarms are {alarms}."
    ]
    assert rules.aws_alarm_errors(DEFINITIONS, ["x"], [], "o")[0].startswith("o=")


@pytest.mark.parametrize("unknown", ["4.99", "4.0", "root-usage", 4.1])
def test_cis_controls_disabled_must_be_known_and_the_valid_ones_listed(unknown: Any) -> None:
    """An id (a string: YAML reads 4.10 as 4.1) or a name of the catalog; the message lists them all."""
    errors = rules.aws_alarm_errors(CIS, {}, ["4.2", unknown], "monitoring_cis_overrides", True)
    assert len(errors) == 1, errors
    assert errors[0].startswith(
        f'monitoring_cis_disabled=["4.2", {json.dumps(unknown)}]: {json.dumps(unknown)}'
    )
    assert "is not a CIS control" in errors[0]
    for control in CIS:
        assert f"{control['cis_id']} ({control['name']})" in errors[0]
    assert (
        rules.aws_alarm_errors(CIS, {}, ["4.15", "root-account-usage"], "monitoring_cis_overrides", True)
        == []
    )


def test_cis_overrides_must_name_a_control() -> None:
    errors = rules.aws_alarm_errors(CIS, {"4.99": {"period": 60}}, [], "monitoring_cis_overrides", True)
    assert len(errors) == 1
    assert errors[0].startswith('monitoring_cis_overrides.4.99={"period": 60}: "4.99" is not a CIS control')


def test_cis_overrides_by_id_are_checked_under_the_control_name() -> None:
    errors = rules.aws_alarm_errors(CIS, {"4.1": {"period": 45}}, [], "monitoring_cis_overrides", True)
    assert errors == [
        "monitoring_cis_overrides.unauthorized-api-calls.period=45: "
        "CloudWatch accepts a period of 10, 20, 30 or a multiple of 60 seconds."
    ]


def test_lambda_environment() -> None:
    assert rules.aws_lambda_env_errors({"TABLE_NAME": "t", "A1": "x"}, "env") == []
    assert "[a-zA-Z][a-zA-Z0-9_]+" in rules.aws_lambda_env_errors({"1ABC": "x"}, "env")[0]
    assert "reserved" in rules.aws_lambda_env_errors({"AWS_REGION": "x"}, "env")[0]
    assert rules.aws_lambda_env_errors({"BIG": "x" * 4093}, "env") == []
    assert "at most 4096 bytes" in rules.aws_lambda_env_errors({"BIG": "x" * 4094}, "env")[0]


@pytest.mark.parametrize("prefix", ["incoming/", "a/b/c/", "reports.v2/", "x_(1)!/"])
def test_s3_prefixes_accepted(prefix: str) -> None:
    assert rules.aws_s3_prefix_errors(prefix, "p") == []


@pytest.mark.parametrize(
    "prefix", ["incoming", "in*/", "in?/", "/incoming/", "a//b/", "", "a b/", "x" * 1024 + "/", None]
)
def test_s3_prefixes_refused(prefix: Any) -> None:
    assert rules.aws_s3_prefix_errors(prefix, "p")[0].startswith("p=")


def test_zones() -> None:
    zones = [{"zone_name": f"us-east-1{c}"} for c in "abc"]
    assert rules.aws_zone_errors(_subnets("a", "b", "c"), zones, "s", "us-east-1") == []
    too_many = rules.aws_zone_errors(_subnets("a", "b", "c", "d"), zones, "s", "us-east-1")
    assert too_many[0] == (
        "s=4: us-east-1 has 3 availability zones (us-east-1a, us-east-1b, us-east-1c); "
        "each private subnet needs its own."
    )
    assert "s[3].az_index=3: must be 0-2" in too_many[1]
    assert rules.aws_zone_errors([{"cidr": "x", "az_index": "1"}], zones, "s", "us-east-1") == []


def test_agreements() -> None:
    assert rules.aws_agreement_errors([["a", "x/", "b", "x/"]]) == []
    assert rules.aws_agreement_errors([["a", "x/", "b", "y/"]], "why") == [
        'a="x/" and b="y/" must be the same (why).'
    ]


def test_table_keys() -> None:
    table = {"name": "data", "hash_key": {"name": "id"}, "range_key": {"name": "ts"}}
    assert rules.aws_table_key_errors([table], "t") == []
    assert rules.aws_table_key_errors([{**table, "range_key": None}], "t") == []
    same = rules.aws_table_key_errors([{**table, "range_key": {"name": "id"}}], "t")
    assert same[0].startswith('t[data].range_key.name="id": the sort key')


def test_every_filter_is_exported() -> None:
    exported = rules.FilterModule().filters()
    public = {n for n in dir(rules) if n.startswith("aws_") and callable(getattr(rules, n))}
    assert public <= set(exported), public - set(exported)
