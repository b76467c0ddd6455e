# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""AWS's input rules as data: filters that return the list of what AWS would refuse.

Every filter returns a list of messages (empty when the value is acceptable). Each message names
the variable, the value and what the receiving AWS API accepts, so that a role's validate.yml can
fail with it before the first AWS call. The rules are written from AWS's documentation (the URL
is next to each rule), not from what the emulator happens to accept.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from ansible.errors import AnsibleFilterError

# Each filter's DOCUMENTATION, EXAMPLES and RETURN are in plugins/filter/<filter>.yml (ansible-doc
# reads those for a file holding several filters).

# CloudWatch Logs PutRetentionPolicy, retentionInDays valid values.
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# Partitions by region prefix (a principal must be in the partition of the region it is used in).
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
PARTITION_PREFIXES = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-iso-", "aws-iso"),
    ("us-isob-", "aws-iso-b"),
)


def _show(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _msg(var: str, value: Any, problem: str) -> str:
    return f"{var}={_show(value)}: {problem}."


def _regex(pattern: str, accepts: str) -> Callable[[str], str | None]:
    compiled = re.compile(pattern)
    return lambda name: None if compiled.fullmatch(name) else accepts


def _length(low: int, high: int) -> Callable[[str], str | None]:
    return lambda name: None if low <= len(name) <= high else f"{low}-{high} characters (got {len(name)})"


def _not(pattern: str, accepts: str) -> Callable[[str], str | None]:
    compiled = re.compile(pattern, re.IGNORECASE)
    return lambda name: accepts if compiled.search(name) else None


NameRule = tuple[str, list[Callable[[str], str | None]]]

NAME_RULES: dict[str, NameRule] = {
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
    "s3_bucket": (
        "an S3 bucket name",
        [
            _length(3, 63),
            _regex(
                r"[a-z0-9][a-z0-9.-]*[a-z0-9]",
                "lower-case letters, digits, dots and hyphens, beginning and ending with a letter or digit",
            ),
            _not(r"\.\.", "no two adjacent periods"),
            _not(r"^\d+\.\d+\.\d+\.\d+$", "not formatted as an IP address"),
            _not(r"^(xn--|sthree-|amzn-s3-demo-)", "not beginning with xn--, sthree- or amzn-s3-demo-"),
            _not(
                r"(-s3alias|--ol-s3|\.mrap|--x-s3)$",
                "not ending with -s3alias, --ol-s3, .mrap or --x-s3",
            ),
        ],
    ),
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
    "dynamodb_table": (
        "a DynamoDB table name",
        [_length(3, 255), _regex(r"[A-Za-z0-9_.-]+", "only a-z, A-Z, 0-9, _ - .")],
    ),
    # Key attributes: 1-255 bytes (same page); UTF-8 length is what DynamoDB measures.
    "dynamodb_attribute": (
        "a DynamoDB key attribute name",
        [lambda n: None if 1 <= len(n.encode()) <= 255 else f"1-255 bytes in UTF-8 (got {len(n.encode())})"],
    ),
    # https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html (FunctionName, 1-64 without ARN)
    "lambda_function": (
        "a Lambda function name",
        [_length(1, 64), _regex(r"[A-Za-z0-9_-]+", "only letters, digits, - and _")],
    ),
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName)
    "iam_role": (
        "an IAM role name",
        [_length(1, 64), _regex(r"[\w+=,.@-]+", "only letters, digits and + = , . @ _ -")],
    ),
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (Path)
    "iam_path": (
        "an IAM path",
        [_length(1, 512), _regex(r"/|/[\x21-\x7e]*/", "/ alone or /text/ of printable ASCII")],
    ),
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html (QueueName)
    "sqs_queue": (
        "an SQS queue name",
        [_length(1, 80), _regex(r"[A-Za-z0-9_-]+", "only letters, digits, - and _")],
    ),
    # https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html (Name)
    "sns_topic": (
        "an SNS topic name",
        [_length(1, 256), _regex(r"[A-Za-z0-9_-]+", "only letters, digits, - and _")],
    ),
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
    "log_group": (
        "a CloudWatch Logs group name",
        [
            _length(1, 512),
            _regex(r"[.\-_/#A-Za-z0-9]+", "only letters, digits and . - _ / #"),
            _not(r"^aws/", "not beginning with aws/"),
        ],
    ),
    # https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html (Name)
    "cloudtrail_trail": (
        "a CloudTrail trail name",
        [
            _length(3, 128),
            _regex(
                r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]",
                "letters, digits, . _ -, beginning and ending with a letter or digit",
            ),
            _not(r"[._-]{2}", "no adjacent . _ -"),
            _not(r"^\d+\.\d+\.\d+\.\d+$", "not formatted as an IP address"),
        ],
    ),
    # https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html (AliasName, after alias/)
    "kms_alias": (
        "a KMS alias name (without alias/)",
        [
            _length(1, 250),
            _regex(r"[A-Za-z0-9/_-]+", "only letters, digits and / _ -"),
            _not(r"^(alias/)?aws/", "not beginning with aws/ (reserved for AWS managed keys)"),
        ],
    ),
    # https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html (Name)
    "eventbridge_rule": (
        "an EventBridge rule name",
        [_length(1, 64), _regex(r"[.\-_A-Za-z0-9]+", "only letters, digits and . - _")],
    ),
    # Metric filters publish custom metrics: metricNamespace 1-255 of [^:*$]
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_MetricTransformation.html
    # and custom namespaces must not begin with AWS/ (reserved for AWS services)
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
    "metric_namespace": (
        "a CloudWatch namespace for custom metrics",
        [
            _length(1, 255),
            _regex(r"[^:*$]+", "no : * or $"),
            _not(r"^AWS/", "not beginning with AWS/ (reserved for AWS services)"),
        ],
    ),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketMetricsConfiguration.html (Id)
    "s3_metrics_id": (
        "an S3 metrics configuration id",
        [_length(1, 64), _regex(r"[A-Za-z0-9._-]+", "only letters, digits and . _ -")],
    ),
}


def aws_name_errors(name: Any, kind: str, var: str) -> list[str]:
    """What AWS refuses in `name` for a resource of `kind`."""
    if kind not in NAME_RULES:
        raise AnsibleFilterError(f"aws_name_errors: unknown kind {kind!r}; known: {sorted(NAME_RULES)}")
    what, checks = NAME_RULES[kind]
    if not isinstance(name, str):
        return [_msg(var, name, f"{what} must be a string")]
    problems = [p for p in (check(name) for check in checks) if p]
    return [_msg(var, name, f"{what} must have {'; '.join(problems)}")] if problems else []


def aws_table_key_errors(tables: Any, var: str) -> list[str]:
    """Key attributes of each table: valid DynamoDB attribute names, the sort key not the partition key."""
    errors = []
    for table in tables if isinstance(tables, list) else []:
        name = table.get("name")
        keys = [(k, table[k]) for k in ("hash_key", "range_key") if isinstance(table.get(k), dict)]
        for key, spec in keys:
            errors += aws_name_errors(spec.get("name"), "dynamodb_attribute", f"{var}[{name}].{key}.name")
        if len(keys) == 2 and keys[0][1].get("name") == keys[1][1].get("name"):
            errors.append(
                _msg(
                    f"{var}[{name}].range_key.name",
                    keys[1][1].get("name"),
                    "the sort key (range_key) must differ from the partition key (hash_key)",
                )
            )
    return errors


def aws_agreement_errors(pairs: list[list[Any]], why: str = "") -> list[str]:
    """Settings of two roles that must be equal: each item is [var_a, value_a, var_b, value_b]."""
    reason = f" ({why})" if why else ""
    return [
        f"{var_a}={_show(a)} and {var_b}={_show(b)} must be the same{reason}."
        for var_a, a, var_b, b in pairs
        if a != b
    ]


# Tags: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Tag.html (the rules common to
# every tagging API): at most 50 user tags, key 1-128 and value 0-256 Unicode characters, letters,
# digits, spaces and + - = . _ : / @, no aws: prefix (any case) on keys or values.
TAG_CHARS = re.compile(r"[\w\s+\-=.:/@]*", re.UNICODE)
MAX_TAGS = 50


def aws_tag_errors(
    tags: Any, var: str, reserved: int = 0, base: Any = None, required: Any = None
) -> list[str]:
    """What AWS refuses in a tag dict; `reserved` counts tags the role adds (Name, Function...).

    Extra tags (baseline_tags, a role's <role>_tags) add to `base`, the tags every resource
    carries already, and are counted with them; they may not name a key of `required` (the
    required tags, key -> the variable that sets it), which they would replace.
    """
    if not isinstance(tags, dict):
        return [_msg(var, tags, "tags must be a dict of key: value")]
    errors = []
    for key in tags:
        if isinstance(required, dict) and str(key) in required:
            errors.append(
                _msg(
                    f"{var}.{key}",
                    tags[key],
                    f"{key} is a required tag, set by {required[str(key)]}; {var} adds tags to the"
                    f" required ones ({', '.join(required)}) and cannot replace one",
                )
            )
    merged = {**(base if isinstance(base, dict) else {}), **tags}
    if len(merged) + reserved > MAX_TAGS:
        errors.append(
            _msg(
                var,
                len(tags),
                f"AWS allows at most {MAX_TAGS} tags per resource; with the {len(merged) - len(tags)}"
                f" every resource carries already, the roles add {reserved}",
            )
        )
    for key, value in tags.items():
        key_s = str(key)
        value_s = "" if value is None else str(value)
        if not 1 <= len(key_s) <= 128:
            errors.append(
                _msg(f"{var}.{key_s}", key_s, f"a tag key must be 1-128 characters (got {len(key_s)})")
            )
        if len(value_s) > 256:
            errors.append(
                _msg(f"{var}.{key_s}", value_s, f"a tag value must be 0-256 characters (got {len(value_s)})")
            )
        for label, text in (("key", key_s), ("value", value_s)):
            if text.lower().startswith("aws:"):
                errors.append(
                    _msg(f"{var}.{key_s}", text, f"a tag {label} must not begin with aws: (reserved for AWS)")
                )
            if not TAG_CHARS.fullmatch(text):
                errors.append(
                    _msg(
                        f"{var}.{key_s}",
                        text,
                        f"a tag {label} may hold only letters, digits, spaces and + - = . _ : / @",
                    )
                )
    return errors


def as_int(value: Any) -> int | None:
    """An integer from an int, an integral float or a string of digits (-e gives strings); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return None


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


TRUE_STRINGS = {"true", "yes", "on", "1", "y", "t"}
FALSE_STRINGS = {"false", "no", "off", "0", "n", "f"}


def as_bool(value: Any) -> bool | None:
    """A boolean from a bool, 0/1 or the strings Ansible converts (-e gives strings); else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in TRUE_STRINGS | FALSE_STRINGS:
            return lowered in TRUE_STRINGS
    return None


def aws_number_errors(
    value: Any,
    var: str,
    minimum: int | None = None,
    maximum: int | None = None,
    choices: Iterable[int] | None = None,
    accepts: str = "",
) -> list[str]:
    """An integer (or a string of digits) within [minimum, maximum] or among `choices`."""
    number = as_int(value)
    what = f" ({accepts})" if accepts else ""
    if number is None:
        return [_msg(var, value, f"must be a whole number{what}")]
    if choices is not None and number not in list(choices):
        return [_msg(var, value, f"must be one of {', '.join(str(c) for c in choices)}{what}")]
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        low = "" if minimum is None else str(minimum)
        high = "" if maximum is None else str(maximum)
        bound = f"{low}-{high}" if low and high else (f"at least {low}" if low else f"at most {high}")
        return [_msg(var, value, f"must be {bound}{what}")]
    return []


def aws_retention_errors(value: Any, var: str) -> list[str]:
    """A CloudWatch Logs retention value (PutRetentionPolicy)."""
    return aws_number_errors(value, var, choices=LOG_RETENTION_DAYS, accepts="CloudWatch Logs retention days")


def aws_bool_errors(value: Any, var: str) -> list[str]:
    """A boolean, or a string Ansible converts to one ("true", "no", ... from -e key=value); every
    role reads these settings with `| bool`, so such a string means what it says."""
    if as_bool(value) is None:
        return [_msg(var, value, "must be a boolean (true/false, yes/no, on/off, 1/0)")]
    return []


# EventBridge schedule expressions:
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
RATE = re.compile(r"rate\((?P<value>\d+) (?P<unit>minute|minutes|hour|hours|day|days)\)")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
CRON_FIELDS: tuple[tuple[str, int, int, str, tuple[str, ...]], ...] = (
    ("minutes", 0, 59, ",-*/", ()),
    ("hours", 0, 23, ",-*/", ()),
    ("day-of-month", 1, 31, ",-*?/LW", ()),
    ("month", 1, 12, ",-*/", MONTHS),
    ("day-of-week", 1, 7, ",-*?L#", DAYS),
    ("year", 1970, 2199, ",-*/", ()),
)


def _cron_value(token: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    return token.upper() in names or (token.isdigit() and low <= int(token) <= high)


def _cron_part_ok(part: str, name: str, low: int, high: int, wildcards: str, names: tuple[str, ...]) -> bool:
    base, slash, step = part.partition("/")
    if slash and ("/" not in wildcards or not step.isdigit() or int(step) < 1):
        return False
    if base == "*":
        return True
    if name == "day-of-month" and (
        base in ("L", "LW") or (base.endswith("W") and _cron_value(base[:-1], low, high, names))
    ):
        return True
    if name == "day-of-week" and (
        base == "L" or (base.endswith("L") and _cron_value(base[:-1], low, high, names))
    ):
        return True
    if name == "day-of-week" and "#" in base:
        day, nth = base.split("#", 1)
        return _cron_value(day, low, high, names) and nth in ("1", "2", "3", "4", "5")
    first, dash, last = base.partition("-")
    return _cron_value(first, low, high, names) and (not dash or _cron_value(last, low, high, names))


def _cron_field_error(
    text: str, name: str, low: int, high: int, wildcards: str, names: tuple[str, ...]
) -> str | None:
    if text == "?":
        return None if "?" in wildcards else f"{name} does not accept ?"
    if all(_cron_part_ok(part, name, low, high, wildcards, names) for part in text.split(",")):
        return None
    named = f" or {names[0]}-{names[-1]}" if names else ""
    return f"{name} {text!r} is not {low}-{high}{named} with the wildcards {wildcards}"


def aws_schedule_errors(expression: Any, var: str) -> list[str]:
    """What EventBridge refuses in a rate(...) or cron(...) schedule expression."""
    accepts = (
        "EventBridge accepts rate(1 minute|hour|day), rate(N minutes|hours|days) with N > 1, "
        "or cron() of 6 fields"
    )
    if not isinstance(expression, str):
        return [_msg(var, expression, accepts)]
    rate = RATE.fullmatch(expression)
    if rate:
        value, unit = int(rate["value"]), rate["unit"]
        if value < 1:
            return [_msg(var, expression, "a rate must be a positive whole number")]
        if (value == 1) != (not unit.endswith("s")):
            return [
                _msg(var, expression, f"use the singular unit for 1 and the plural otherwise ({accepts})")
            ]
        return []
    cron = re.fullmatch(r"cron\((.*)\)", expression)
    if not cron:
        return [_msg(var, expression, accepts)]
    fields = cron[1].split()
    if len(fields) != 6:
        return [
            _msg(
                var,
                expression,
                "a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), "
                f"got {len(fields)}",
            )
        ]
    problems = [
        p for p in (_cron_field_error(f, *spec) for f, spec in zip(fields, CRON_FIELDS, strict=True)) if p
    ]
    if (fields[2] == "?") == (fields[4] == "?"):
        problems.append("exactly one of day-of-month and day-of-week must be ?")
    return [_msg(var, expression, "; ".join(problems))] if problems else []


# VPC and subnet CIDRs: /16 to /28, subnets inside the VPC and not overlapping.
# https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
# https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html
def _network(cidr: Any) -> ipaddress.IPv4Network | None:
    if not isinstance(cidr, str) or "/" not in cidr:
        return None
    try:
        return ipaddress.IPv4Network(cidr, strict=True)
    except ValueError:
        return None


def aws_cidr_errors(vpc_cidr: Any, subnets: Any, vpc_var: str, subnets_var: str) -> list[str]:
    """The VPC CIDR and its subnets' CIDRs, as EC2 CreateVpc/CreateSubnet accept them."""
    errors = []
    vpc = _network(vpc_cidr)
    if vpc is None:
        errors.append(
            _msg(
                vpc_var,
                vpc_cidr,
                "must be an IPv4 network in CIDR notation with no host bits set (e.g. 10.0.0.0/16)",
            )
        )
    elif not 16 <= vpc.prefixlen <= 28:
        errors.append(_msg(vpc_var, vpc_cidr, "a VPC CIDR must be between /16 and /28"))
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    for index, subnet in enumerate(subnets if isinstance(subnets, list) else []):
        cidr = subnet.get("cidr") if isinstance(subnet, dict) else subnet
        label = f"{subnets_var}[{index}].cidr"
        net = _network(cidr)
        if net is None:
            errors.append(_msg(label, cidr, "must be an IPv4 network in CIDR notation with no host bits set"))
            continue
        if not 16 <= net.prefixlen <= 28:
            errors.append(_msg(label, cidr, "a subnet CIDR must be between /16 and /28"))
        if vpc is not None and not net.subnet_of(vpc):
            errors.append(_msg(label, cidr, f"a subnet must lie inside the VPC CIDR {vpc_cidr} ({vpc_var})"))
        errors += [
            _msg(label, cidr, f"overlaps {other} ({other_label})")
            for other_label, other in seen
            if net.overlaps(other)
        ]
        seen.append((label, net))
    return errors


def aws_cidr_list_errors(cidrs: Any, var: str) -> list[str]:
    """Security-group rule destinations: IPv4 CIDRs (EC2 AuthorizeSecurityGroupEgress CidrIp)."""
    if not isinstance(cidrs, list) or not cidrs:
        return [_msg(var, cidrs, "must be a non-empty list of IPv4 CIDRs")]
    return [
        _msg(f"{var}[{i}]", c, "must be an IPv4 CIDR with no host bits set")
        for i, c in enumerate(cidrs)
        if _network(c) is None
    ]


def aws_partition(region: Any) -> str:
    """The partition of a region (aws, aws-cn, aws-us-gov...)."""
    for prefix, partition in PARTITION_PREFIXES:
        if str(region).startswith(prefix):
            return partition
    return "aws"


# IAM principal ARNs (users, roles, the account root, assumed-role sessions):
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
PRINCIPAL_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):(?P<service>iam|sts)::(?P<account>\d{12}):"
    r"(?P<resource>root|(user|role)(/[\x21-\x7e]*)?/[\w+=,.@-]{1,64}|assumed-role/[\w+=,.@-]{1,64}/[\w+=,.@-]{2,64})"
)


def aws_principal_errors(arns: Any, var: str, region: str) -> list[str]:
    """Each entry must be an IAM principal ARN of the region's partition."""
    if not isinstance(arns, list):
        return [_msg(var, arns, "must be a list of IAM principal ARNs")]
    partition = aws_partition(region)
    errors = []
    for index, arn in enumerate(arns):
        match = PRINCIPAL_ARN.fullmatch(arn) if isinstance(arn, str) else None
        label = f"{var}[{index}]"
        if match is None:
            errors.append(
                _msg(
                    label,
                    arn,
                    f"must be an IAM principal ARN: arn:{partition}:iam::<12-digit account>:"
                    "root, user/<name> or role/<name> (or an sts assumed-role ARN)",
                )
            )
        elif match["partition"] != partition:
            errors.append(
                _msg(
                    label,
                    arn,
                    f"is in partition {match['partition']}, but {region} is in partition "
                    f"{partition}; a policy cannot name a principal of another partition",
                )
            )
    return errors


# CloudWatch PutMetricAlarm:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
ALARM_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
ALARM_COMPARISONS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
ALARM_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")


def _alarm_setting_errors(name: str, settings: dict[str, Any], var: str) -> list[str]:
    label = f"{var}.{name}"
    errors = []
    if as_number(settings.get("threshold")) is None:
        errors.append(_msg(f"{label}.threshold", settings.get("threshold"), "a threshold must be a number"))
    period = as_int(settings.get("period"))
    if period is None or period <= 0 or (period not in (10, 20, 30) and period % 60):
        errors.append(
            _msg(
                f"{label}.period",
                settings.get("period"),
                "CloudWatch accepts a period of 10, 20, 30 or a multiple of 60 seconds",
            )
        )
    evaluation = as_int(settings.get("evaluation_periods"))
    if evaluation is None or evaluation < 1:
        errors.append(
            _msg(
                f"{label}.evaluation_periods",
                settings.get("evaluation_periods"),
                "must be a whole number of at least 1",
            )
        )
    elif period and period > 0:
        limit = 86400 if period < 3600 else 604800
        if period * evaluation > limit:
            errors.append(
                _msg(
                    f"{label}.evaluation_periods",
                    settings.get("evaluation_periods"),
                    f"period x evaluation_periods ({period} x {evaluation}) must not exceed {limit} s "
                    "(one day below one-hour periods, seven days otherwise)",
                )
            )
    if "datapoints_to_alarm" in settings and settings["datapoints_to_alarm"] is not None:
        datapoints = as_int(settings["datapoints_to_alarm"])
        if datapoints is None or datapoints < 1 or (evaluation is not None and datapoints > evaluation):
            errors.append(
                _msg(
                    f"{label}.datapoints_to_alarm",
                    settings["datapoints_to_alarm"],
                    f"must be 1 to evaluation_periods ({settings.get('evaluation_periods')})",
                )
            )
    for key, allowed in (
        ("statistic", ALARM_STATISTICS),
        ("comparison", ALARM_COMPARISONS),
        ("treat_missing_data", ALARM_MISSING_DATA),
    ):
        if settings.get(key) not in allowed:
            errors.append(
                _msg(f"{label}.{key}", settings.get(key), f"CloudWatch accepts one of {', '.join(allowed)}")
            )
    return errors


def _unknown_alarm_errors(
    definitions: list[dict[str, Any]], overrides: dict[str, Any], disabled: list[Any], var: str, cis: bool
) -> list[str]:
    """Names (or CIS ids) that match no alarm or control, each with the list of valid ones."""
    if cis:
        known = {str(d["cis_id"]) for d in definitions} | {str(d["name"]) for d in definitions}
        valid = "the CIS controls are " + ", ".join(f"{d['cis_id']} ({d['name']})" for d in definitions)
        what = 'a CIS control (by id, a quoted string such as "4.15", or by name)'
    else:
        known = {str(d["key"]) for d in definitions}
        valid = "the alarms are " + ", ".join(str(d["key"]) for d in definitions)
        what = "an alarm"
    errors = [
        _msg(var.replace("overrides", "disabled"), disabled, f"{_show(name)} is not {what}; {valid}")
        for name in disabled
        if not isinstance(name, str) or name not in known
    ]
    errors += [
        _msg(f"{var}.{name}", override, f"{_show(name)} is not {what}; {valid}")
        for name, override in overrides.items()
        if str(name) not in known
    ]
    return errors


def aws_alarm_errors(
    definitions: list[dict[str, Any]],
    overrides: Any,
    disabled: Any,
    var: str,
    cis: bool = False,
) -> list[str]:
    """The alarms after overrides, checked against PutMetricAlarm (uses the alarms filters)."""
    # Local import: the alarms filter holds the override semantics; both are plugins of this collection.
    from ansible_collections.secureinfra.baseline.plugins.filter.alarms import (
        OVERRIDABLE,
        cis_alarms,
        expand_alarms,
    )

    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        return [_msg(var, overrides, "must map alarm names to dicts of settings")]
    if not isinstance(disabled, list):
        return [_msg(var.replace("overrides", "disabled"), disabled, "must be a list of alarm names")]
    errors = _unknown_alarm_errors(definitions, overrides, disabled, var, cis)
    if errors:
        return errors
    for name, override in overrides.items():
        unknown = sorted(set(override) - set(OVERRIDABLE) - {"enabled"})
        if unknown:
            errors.append(
                _msg(
                    f"{var}.{name}",
                    override,
                    f"cannot set {unknown}; settings are {', '.join(OVERRIDABLE)}, enabled",
                )
            )
        # The alarms filter disables an alarm only for `enabled: false` itself (not the string "false").
        if "enabled" in override and not isinstance(override["enabled"], bool):
            errors.append(
                _msg(f"{var}.{name}.enabled", override["enabled"], "must be true or false (not a string)")
            )
    if errors:
        return errors
    try:
        if cis:
            alarms = [c["alarm"] for c in cis_alarms(definitions, disabled, overrides)]
        else:
            kinds = {d.get("resource") for d in definitions}
            alarms = expand_alarms(definitions, {k: ["x"] for k in kinds}, overrides, disabled)
    except AnsibleFilterError as exc:
        return [f"{var} or {var.replace('overrides', 'disabled')}: {exc}."]
    for alarm in alarms:
        name = alarm["name"].rsplit("-x", 1)[0] if not cis else alarm["name"]
        errors += [e for e in _alarm_setting_errors(name, alarm, var) if e not in errors]
    return errors


# Lambda environment: keys [a-zA-Z][a-zA-Z0-9_]+, not reserved, total size at most 4 KB.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
LAMBDA_RESERVED_ENV = {
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
}
LAMBDA_ENV_MAX_BYTES = 4096


def aws_lambda_env_errors(environment: Any, var: str) -> list[str]:
    if not isinstance(environment, dict):
        return [_msg(var, environment, "must be a dict of environment variables")]
    errors = []
    for key in environment:
        if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]+", str(key)):
            errors.append(
                _msg(f"{var}.{key}", key, "an environment variable name must match [a-zA-Z][a-zA-Z0-9_]+")
            )
        elif str(key) in LAMBDA_RESERVED_ENV:
            errors.append(_msg(f"{var}.{key}", key, "is reserved by the Lambda runtime"))
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in environment.items())
    if size > LAMBDA_ENV_MAX_BYTES:
        errors.append(
            _msg(
                var,
                f"{size} bytes",
                f"Lambda accepts at most {LAMBDA_ENV_MAX_BYTES} bytes of environment variables in total",
            )
        )
    return errors


# S3 key prefixes used in policies and notifications: safe characters, ending in /, no wildcards.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
S3_PREFIX = re.compile(r"[A-Za-z0-9!_.()'-]+(/[A-Za-z0-9!_.()'-]+)*/")


def aws_s3_prefix_errors(prefix: Any, var: str) -> list[str]:
    if not isinstance(prefix, str) or not S3_PREFIX.fullmatch(prefix) or len(prefix.encode()) > 1024:
        return [
            _msg(
                var,
                prefix,
                "a key prefix must be S3 safe characters (letters, digits, ! - _ . * ' ( )) "
                "in /-separated parts ending with /, without wildcards (* or ?) in a policy, "
                "at most 1024 bytes",
            )
        ]
    return []


def aws_zone_errors(subnets: Any, zones: list[dict[str, Any]], var: str, region: str) -> list[str]:
    """Each subnet needs a distinct availability zone (zone-type availability-zone) of the region."""
    count = len(zones)
    names = ", ".join(sorted(z.get("zone_name", "") for z in zones))
    errors = []
    subnets = subnets if isinstance(subnets, list) else []
    if len(subnets) > count:
        errors.append(
            _msg(
                var,
                len(subnets),
                f"{region} has {count} availability zones ({names}); each private subnet needs its own",
            )
        )
    for index, subnet in enumerate(subnets):
        az_index = as_int(subnet.get("az_index")) if isinstance(subnet, dict) else None
        if az_index is None or not 0 <= az_index < count:
            errors.append(
                _msg(
                    f"{var}[{index}].az_index",
                    subnet.get("az_index") if isinstance(subnet, dict) else subnet,
                    f"must be 0-{count - 1}: {region} has {count} availability zones ({names})",
                )
            )
    return errors


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "aws_name_errors": aws_name_errors,
            "aws_tag_errors": aws_tag_errors,
            "aws_agreement_errors": aws_agreement_errors,
            "aws_table_key_errors": aws_table_key_errors,
            "aws_number_errors": aws_number_errors,
            "aws_retention_errors": aws_retention_errors,
            "aws_bool_errors": aws_bool_errors,
            "aws_schedule_errors": aws_schedule_errors,
            "aws_cidr_errors": aws_cidr_errors,
            "aws_cidr_list_errors": aws_cidr_list_errors,
            "aws_partition": aws_partition,
            "aws_principal_errors": aws_principal_errors,
            "aws_alarm_errors": aws_alarm_errors,
            "aws_lambda_env_errors": aws_lambda_env_errors,
            "aws_s3_prefix_errors": aws_s3_prefix_errors,
            "aws_zone_errors": aws_zone_errors,
        }
