"""Count the resources the site manages, read from a converged emulator (bench/bench_runs.py).

The definition (bench/README.md, "Managed resources"): every resource with an identity of its own
(an ARN or an id) that the site creates and keeps in shape, counted once:

- taggable resources tagged ``ManagedBy=<value>`` (the preflight role's required tag): the
  Resource Groups Tagging API's ``GetResources`` in each region (KMS keys, VPCs, subnets, route
  tables, security groups, gateway endpoints, buckets, tables, functions, queues, topics, log
  groups, alarms, rules), IAM roles (global, read with ``ListRoles``/``ListRoleTags``) and trails
  (``ListTrails``/``ListTags``), which that API does not cover here; deduplicated by ARN;
- resources that take no tags but that the site creates: KMS aliases of those keys, the inline
  policies of those roles, the account password policy, the metric filters of the trail's log
  group, the targets of those rules, the subscriptions of those topics and the event source
  mappings of those functions.

Configuration that lives inside a resource (a bucket's encryption, lifecycle, logging, a key's
rotation, a function's concurrency) is not a resource of its own and is not counted.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

import boto3
from botocore.exceptions import ClientError

TAG_KEY = "ManagedBy"


def _client(endpoint: str, service: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _pages(client: Any, operation: str, key: str, **kwargs: object) -> Iterable[dict]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def _kind(arn: str) -> str:
    parts = arn.split(":", 5)
    service, rest = parts[2], parts[5]
    resource = rest.split("/", 1)[0].split(":", 1)[0] if ("/" in rest or ":" in rest) else ""
    if service in ("s3", "sns", "sqs"):
        return {"s3": "s3:bucket", "sns": "sns:topic", "sqs": "sqs:queue"}[service]
    return f"{service}:{resource}" if resource else service


def count(endpoint: str, regions: list[str], tag_value: str = "ansible") -> collections.Counter[str]:
    """Managed resources by kind (service:type), for the given regions and the account."""
    kinds: collections.Counter[str] = collections.Counter()
    arns: set[str] = set()
    for region in regions:
        tagging = _client(endpoint, "resourcegroupstaggingapi", region)
        for res in _pages(
            tagging,
            "get_resources",
            "ResourceTagMappingList",
            TagFilters=[{"Key": TAG_KEY, "Values": [tag_value]}],
        ):
            arn = res["ResourceARN"]
            if arn not in arns and (":s3:" not in arn or region in arn):
                arns.add(arn)
                kinds[_kind(arn)] += 1
        _uncovered(endpoint, region, tag_value, arns, kinds)
        _untaggable(endpoint, region, arns, kinds)
    _iam(endpoint, regions[0], tag_value, kinds)
    return kinds


def _untaggable(
    endpoint: str, region: str, arns: set[str], kinds: collections.Counter[str]
) -> None:
    kms = _client(endpoint, "kms", region)
    keys = {a.rsplit("/", 1)[-1] for a in arns if f":kms:{region}:" in a}
    kinds["kms:alias"] += sum(
        1 for alias in _pages(kms, "list_aliases", "Aliases") if alias.get("TargetKeyId") in keys
    )
    logs = _client(endpoint, "logs", region)
    groups = [a.split(":log-group:", 1)[1].rstrip(":*") for a in arns if f":logs:{region}:" in a]
    for group in groups:
        kinds["logs:metric-filter"] += sum(
            1 for _ in _pages(logs, "describe_metric_filters", "metricFilters", logGroupName=group)
        )
    events = _client(endpoint, "events", region)
    for rule in (a.rsplit("/", 1)[-1] for a in arns if f":events:{region}:" in a):
        kinds["events:target"] += len(events.list_targets_by_rule(Rule=rule)["Targets"])
    sns = _client(endpoint, "sns", region)
    for topic in (a for a in arns if f":sns:{region}:" in a):
        kinds["sns:subscription"] += sum(
            1
            for _ in _pages(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic)
        )
    lam = _client(endpoint, "lambda", region)
    for function in (a for a in arns if f":lambda:{region}:" in a and ":function:" in a):
        kinds["lambda:event-source-mapping"] += sum(
            1
            for _ in _pages(
                lam, "list_event_source_mappings", "EventSourceMappings", FunctionName=function
            )
        )


def _uncovered(
    endpoint: str, region: str, tag_value: str, arns: set[str], kinds: collections.Counter[str]
) -> None:
    """Tagged resources that moto's GetResources leaves out: endpoints, rules, trails."""
    wanted = {"Key": TAG_KEY, "Value": tag_value}
    ec2 = _client(endpoint, "ec2", region)
    for endpoint_ in _pages(
        ec2,
        "describe_vpc_endpoints",
        "VpcEndpoints",
        Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [tag_value]}],
    ):
        if endpoint_["VpcEndpointId"] not in arns:
            arns.add(endpoint_["VpcEndpointId"])
            kinds["ec2:vpc-endpoint"] += 1
    events = _client(endpoint, "events", region)
    for rule in _pages(events, "list_rules", "Rules"):
        if rule["Arn"] not in arns and wanted in events.list_tags_for_resource(
            ResourceARN=rule["Arn"]
        ).get("Tags", []):
            arns.add(rule["Arn"])
            kinds["events:rule"] += 1
    trail = _client(endpoint, "cloudtrail", region)
    for item in trail.list_trails().get("Trails", []):
        arn = item["TrailARN"]
        if arn in arns or item.get("HomeRegion") != region:
            continue
        tags = trail.list_tags(ResourceIdList=[arn])["ResourceTagList"][0].get("TagsList", [])
        if wanted in tags:
            arns.add(arn)
            kinds["cloudtrail:trail"] += 1


def _iam(endpoint: str, region: str, tag_value: str, kinds: collections.Counter[str]) -> None:
    iam = _client(endpoint, "iam", region)
    for role in _pages(iam, "list_roles", "Roles"):
        tags = iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
        if {"Key": TAG_KEY, "Value": tag_value} not in tags:
            continue
        kinds["iam:role"] += 1
        kinds["iam:inline-policy"] += len(
            list(_pages(iam, "list_role_policies", "PolicyNames", RoleName=role["RoleName"]))
        )
    try:
        iam.get_account_password_policy()
        kinds["iam:password-policy"] += 1
    except ClientError as err:
        if err.response["Error"]["Code"] != "NoSuchEntity":
            raise
