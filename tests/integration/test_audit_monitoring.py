"""Audit (CloudTrail) and monitoring (topic, alarms, CIS filters) read back from the emulator."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import REGIONS, REPO_ROOT
from support.recorder import mutating

ACCOUNT = "123456789012"
TRAIL = "secureinfra-trail"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{TRAIL}"
TRAIL_BUCKET = f"secureinfra-trail-{ACCOUNT}-us-east-1"
LOG_GROUP = "/secureinfra/cloudtrail"
REQUIRED_TAGS = {
    "Environment": "dev",
    "Owner": "platform-team",
    "Project": "secure-infrastructure",
    "ManagedBy": "ansible",
}
CIS_CONTROLS = yaml.safe_load((REPO_ROOT / "roles/monitoring/vars/main.yml").read_text())[
    "monitoring_cis_controls"
]


def _has_tags(tags: dict[str, str]) -> bool:
    return all(tags.get(k) == v for k, v in REQUIRED_TAGS.items())


def _key_arn(aws, region: str) -> str:
    return aws("kms", region).describe_key(KeyId="alias/secureinfra-baseline")["KeyMetadata"]["Arn"]


def _topic(region: str) -> str:
    return f"arn:aws:sns:{region}:{ACCOUNT}:secureinfra-alarms"


# --- audit ----------------------------------------------------------------------------------


def test_one_multi_region_trail(converged, aws) -> None:
    ct = aws("cloudtrail", "us-east-1")
    (trail,) = ct.describe_trails(includeShadowTrails=False)["trailList"]
    assert trail["TrailARN"] == TRAIL_ARN
    assert trail["IsMultiRegionTrail"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["LogFileValidationEnabled"] is True
    assert trail["KmsKeyId"] == _key_arn(aws, "us-east-1")
    assert trail["S3BucketName"] == TRAIL_BUCKET
    assert trail["CloudWatchLogsLogGroupArn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{LOG_GROUP}:*"
    assert trail["CloudWatchLogsRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/secureinfra-cloudtrail-to-logs"
    assert ct.get_trail_status(Name=TRAIL)["IsLogging"] is True
    tags = {
        t["Key"]: t["Value"]
        for t in ct.list_tags(ResourceIdList=[TRAIL_ARN])["ResourceTagList"][0]["TagsList"]
    }
    assert _has_tags(tags)
    # no second trail anywhere: us-west-1 only sees the home region's trail
    assert aws("cloudtrail", "us-west-1").describe_trails(includeShadowTrails=False)["trailList"] == []


def test_data_event_selectors(converged, aws) -> None:
    selectors = aws("cloudtrail").get_event_selectors(TrailName=TRAIL)["AdvancedEventSelectors"]
    by_name = {s["Name"]: {f["Field"]: f for f in s["FieldSelectors"]} for s in selectors}
    assert by_name["Management events selector"]["eventCategory"]["Equals"] == ["Management"]
    s3 = by_name["Object events of the project data buckets"]
    assert s3["resources.type"]["Equals"] == ["AWS::S3::Object"]
    assert sorted(s3["resources.ARN"]["StartsWith"]) == sorted(
        f"arn:aws:s3:::secureinfra-data-{ACCOUNT}-{r}/" for r in REGIONS
    )
    ddb = by_name["Item events of the project tables"]
    assert ddb["resources.type"]["Equals"] == ["AWS::DynamoDB::Table"]
    assert sorted(ddb["resources.ARN"]["Equals"]) == sorted(
        f"arn:aws:dynamodb:{r}:{ACCOUNT}:table/secureinfra-data" for r in REGIONS
    )


def test_trail_bucket_log_group_and_delivery_role(converged, aws) -> None:
    s3 = aws("s3")
    rule = s3.get_bucket_encryption(Bucket=TRAIL_BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(s3.get_public_access_block(Bucket=TRAIL_BUCKET)["PublicAccessBlockConfiguration"].values())
    policy = {
        s["Sid"]: s for s in json.loads(s3.get_bucket_policy(Bucket=TRAIL_BUCKET)["Policy"])["Statement"]
    }
    assert policy["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    write = policy["CloudTrailWritesForThisTrail"]
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert write["Resource"] == f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/{ACCOUNT}/*"
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    assert policy["CloudTrailAclCheckForThisTrail"]["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN

    (group,) = aws("logs").describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]
    assert group["retentionInDays"] == 365 and group["kmsKeyId"] == _key_arn(aws, "us-east-1")

    iam = aws("iam")
    role = iam.get_role(RoleName="secureinfra-cloudtrail-to-logs")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    (statement,) = (json.loads(trust) if isinstance(trust, str) else trust)["Statement"]
    assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceArn": TRAIL_ARN,
        "aws:SourceAccount": ACCOUNT,
    }
    (name,) = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
    (grant,) = (json.loads(document) if isinstance(document, str) else document)["Statement"]
    assert sorted(grant["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert (
        grant["Resource"]
        == f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{LOG_GROUP}:log-stream:{ACCOUNT}_CloudTrail_*"
    )


def test_home_key_admits_only_this_trail(converged, aws) -> None:
    key = _key_arn(aws, "us-east-1")
    policy = json.loads(aws("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    statement = next(s for s in policy["Statement"] if s["Sid"] == "CloudTrailEncryptsLogs")
    assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN


def test_other_region_alone_checks_coverage_and_creates_no_trail(converged, run_playbook, aws) -> None:
    run = run_playbook("--tags", "audit", limit="us-west-1")
    assert run.rc == 0, run.stderr
    assert mutating(run.calls) == []
    messages = json.dumps(run.output)
    assert f"us-west-1 is covered by {TRAIL_ARN}" in messages
    assert len(aws("cloudtrail", "us-east-1").describe_trails(includeShadowTrails=False)["trailList"]) == 1


@pytest.mark.parametrize(("action", "rc_ok"), [("warn", True), ("fail", False)])
def test_uncovered_region_warns_or_fails(fresh_run_playbook, fresh_aws, action: str, rc_ok: bool) -> None:
    run = fresh_run_playbook(
        "--tags", "audit", limit="us-west-1", extra_vars={"audit_missing_trail_action": action}
    )
    assert (run.rc == 0) is rc_ok, run.stderr
    assert "no multi-region CloudTrail trail covers us-west-1" in json.dumps(run.output).replace(
        "No multi", "no multi"
    )
    assert fresh_aws("cloudtrail", "us-west-1").describe_trails()["trailList"] == []


# --- monitoring -----------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_alarm_topic(converged, aws, region: str) -> None:
    sns = aws("sns", region)
    attributes = sns.get_topic_attributes(TopicArn=_topic(region))["Attributes"]
    assert attributes["KmsMasterKeyId"] == _key_arn(aws, region)
    policy = {s["Sid"]: s for s in json.loads(attributes["Policy"])["Statement"]}
    publish = policy["CloudWatchAndEventBridgeOfThisAccountPublish"]
    assert sorted(publish["Principal"]["Service"]) == ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert all(s["Action"] != "sns:Publish" or s["Sid"] in policy for s in policy.values())
    # The inventory's one subscriber (inventories/local/group_vars/all.yml).
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=_topic(region))["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "secops@example.com")]
    assert _has_tags(
        {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=_topic(region))["Tags"]}
    )


def _alarms(aws, region: str, prefix: str) -> dict[str, dict]:
    pages = aws("cloudwatch", region).get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix)
    return {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}


def _dims(alarm: dict) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}


@pytest.mark.parametrize("region", REGIONS)
def test_resource_alarms(converged, aws, region: str) -> None:
    alarms = _alarms(aws, region, "secureinfra-")
    bucket = f"secureinfra-data-{ACCOUNT}-{region}"
    for metric in ("AllRequests", "4xxErrors", "5xxErrors"):
        (alarm,) = [a for a in alarms.values() if a["MetricName"] == metric]
        assert alarm["Namespace"] == "AWS/S3"
        assert _dims(alarm) == {"BucketName": bucket, "FilterId": "EntireBucket"}
    for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"):
        (alarm,) = [a for a in alarms.values() if a["MetricName"] == metric]
        assert _dims(alarm) == {"TableName": "secureinfra-data"}
    for metric in ("ThrottledRequests", "SystemErrors"):
        found = [_dims(a) for a in alarms.values() if a["MetricName"] == metric]
        assert sorted(d["Operation"] for d in found) == ["BatchWriteItem", "PutItem", "Scan"]
        assert {d["TableName"] for d in found} == {"secureinfra-data"}
    (user_errors,) = [a for a in alarms.values() if a["MetricName"] == "UserErrors"]
    assert _dims(user_errors) == {}
    # key_rotation is account-wide: deployed, and alarmed on, in the home region (us-east-1) only.
    functions = ("processor", "analytics") + (("key_rotation",) if region == "us-east-1" else ())
    key_rotation = f"secureinfra-{region}-key_rotation"
    alarmed = {_dims(a).get("FunctionName") for a in alarms.values()}
    assert (key_rotation in alarmed) is (region == "us-east-1")
    for function in functions:
        name = f"secureinfra-{region}-{function}"
        by_metric = {a["MetricName"]: a for a in alarms.values() if _dims(a).get("FunctionName") == name}
        assert set(by_metric) == {"Errors", "Throttles", "Duration"}
        assert by_metric["Duration"]["Statistic"] == "Maximum"
        assert by_metric["Duration"]["Threshold"] == 48000.0  # 80 % of the 60 s timeout, in ms
        assert by_metric["Errors"]["Threshold"] == 1.0
        assert by_metric["Errors"]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    resource_alarms = {n: a for n, a in alarms.items() if not n.startswith("secureinfra-cis-")}
    assert len(resource_alarms) == 3 + 2 + 6 + 1 + 3 * len(functions)
    for alarm in resource_alarms.values():
        assert alarm["AlarmActions"] == [_topic(region)]
        assert alarm["TreatMissingData"] == "notBreaching"
        tags = aws("cloudwatch", region).list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        assert _has_tags({t["Key"]: t["Value"] for t in tags})


def test_cis_filters_and_alarms_in_home_region(converged, aws) -> None:
    filters = {
        f["filterName"]: f
        for f in aws("logs").describe_metric_filters(logGroupName=LOG_GROUP)["metricFilters"]
    }
    assert len(filters) == 15
    alarms = _alarms(aws, "us-east-1", "secureinfra-cis-")
    assert len(alarms) == 15
    for control in CIS_CONTROLS:
        name = f"secureinfra-cis-{control['name']}"
        metric_filter = filters[name]
        assert metric_filter["filterPattern"] == control["pattern"]
        (transformation,) = metric_filter["metricTransformations"]
        assert transformation["metricName"] == control["metric_name"]
        assert transformation["metricNamespace"] == "CISBenchmark"
        assert transformation["metricValue"] == "1"
        alarm = alarms[name]
        assert alarm["MetricName"] == control["metric_name"] and alarm["Namespace"] == "CISBenchmark"
        assert alarm["Threshold"] == 1.0
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [_topic("us-east-1")]
    assert _alarms(aws, "us-west-1", "secureinfra-cis-") == {}
