#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: baseline_controls
short_description: Evaluate the baseline's security controls in one account and region (reads only)
version_added: 0.2.0
description:
  - Reads back, with boto3 (paginators), every resource the baseline provisions in one account and
    region, and evaluates each control the baseline promises. Returns one record per control.
  - Controls are named by their AWS Security Hub (FSBP) or CIS AWS Foundations Benchmark v3.0.0 id
    where one exists (S3.5, S3.8, DynamoDB.2, KMS.4, CloudTrail.1, CIS 4.1 ...), else by an id of
    ours (BASELINE.*). The C(related) field of a record names the other standard's id.
  - Account-wide controls (account-level S3 Block Public Access, password policy, access-key age,
    the trail and its data events, the CIS metric filters) are evaluated in I(home_region) only and
    are C(not_applicable) in the other regions.
  - The module makes read calls only, so check mode runs it unchanged; it never reports a change.
  - The playbook C(secureinfra.baseline.verify) (role C(secureinfra.baseline.verify)) derives every
    option from the roles' defaults and facts, and writes the JSON and HTML reports.
author:
  - Secureinfra Platform Team (@secureinfra)
options:
  account_id:
    description:
      - The account the connection reaches (STS GetCallerIdentity, C(baseline_account_id)).
    required: true
    type: str
  partition:
    description: The account's partition.
    default: aws
    type: str
  home_region:
    description: The region that holds the account-wide resources.
    required: true
    type: str
  required_tags:
    description: Tags (key and value) every resource must have.
    required: true
    type: dict
  buckets:
    description: The buckets of this region.
    default: []
    type: list
    elements: dict
    suboptions:
      name:
        description: Bucket name.
        required: true
        type: str
      logging_target:
        description: Bucket that receives this bucket's server access logs (empty for none).
        default: ""
        type: str
      logging_prefix:
        description: Prefix of the access logs.
        default: ""
        type: str
      lifecycle_rule_ids:
        description: Ids of the lifecycle rules the bucket must have enabled.
        default: []
        type: list
        elements: str
  data_bucket:
    description: The data bucket, whose policy limits object access to I(data_bucket_principals).
    default: ""
    type: str
  data_bucket_principals:
    description: The principal ARNs the data bucket policy allows (all others are denied).
    default: []
    type: list
    elements: str
  tables:
    description: DynamoDB table names.
    default: []
    type: list
    elements: str
  functions:
    description: Lambda functions of this region.
    default: []
    type: list
    elements: dict
    suboptions:
      name:
        description: Function name.
        required: true
        type: str
      vpc:
        description: Whether the function runs in the baseline VPC.
        default: true
        type: bool
      dead_letter_queue:
        description: Name of the function's dead-letter queue.
        required: true
        type: str
  function_memory:
    description: Memory size (MB) every function must have.
    default: 128
    type: int
  supported_runtimes:
    description: Lambda runtimes AWS still supports (the functions must use one).
    required: true
    type: list
    elements: str
  log_groups:
    description: CloudWatch Logs groups of the baseline in this region (their tags are checked).
    default: []
    type: list
    elements: str
  roles:
    description: IAM execution roles of this region's functions.
    default: []
    type: list
    elements: str
  role_max_session:
    description: Longest maximum session duration (seconds) a role may have.
    default: 3600
    type: int
  key_alias:
    description: Alias (without C(alias/)) of the baseline KMS key of the region.
    required: true
    type: str
  vpc_name:
    description: Name tag of the baseline VPC.
    required: true
    type: str
  endpoint_services:
    description: Services with a gateway endpoint (C(s3), C(dynamodb)).
    default: [s3, dynamodb]
    type: list
    elements: str
  topic_arn:
    description: ARN of the alarm topic.
    required: true
    type: str
  subscriptions:
    description: Subscriptions the topic must have, confirmed.
    default: []
    type: list
    elements: dict
    suboptions:
      protocol:
        description: Subscription protocol.
        required: true
        type: str
      endpoint:
        description: Subscription endpoint.
        required: true
        type: str
  require_subscriber:
    description:
      - With no I(subscriptions), whether a topic without a confirmed subscriber fails (true) or
        the control is C(not_applicable) (false).
    default: false
    type: bool
  alarms:
    description: Names of the resource alarms of the region (they must notify I(topic_arn)).
    default: []
    type: list
    elements: str
  cis_catalog:
    description: The CIS section 4 metric filters and alarms (evaluated in the home region).
    default: []
    type: list
    elements: dict
    suboptions:
      cis_id:
        description: CIS item, such as C(4.1).
        required: true
        type: str
      title:
        description: What the filter catches.
        required: true
        type: str
      filter_name:
        description: Metric filter name.
        required: true
        type: str
      metric_name:
        description: Metric the filter publishes.
        required: true
        type: str
      namespace:
        description: Namespace of that metric.
        required: true
        type: str
      alarm_name:
        description: Alarm on that metric.
        required: true
        type: str
      cis_patterns:
        description:
          - CIS v3.0.0's filter pattern for the item (more than one where CIS gives variants). The
            deployed pattern must have the same terms, normalised (quotes and spaces dropped); more
            events in CIS's list of events are allowed.
        default: []
        type: list
        elements: str
  cis_log_group:
    description: The trail's log group, which holds the CIS metric filters.
    default: ""
    type: str
  trail:
    description: The trail (home region only; omit elsewhere).
    type: dict
    suboptions:
      arn:
        description: Trail ARN.
        required: true
        type: str
      log_group_arn:
        description: ARN of the trail's CloudWatch Logs group.
        required: true
        type: str
      data_bucket_arns:
        description: Buckets whose object events the trail logs.
        default: []
        type: list
        elements: str
      data_table_arns:
        description: Tables whose item events the trail logs.
        default: []
        type: list
        elements: str
  password_policy:
    description: The account password policy's minimums (omit when the baseline manages none).
    type: dict
    suboptions:
      min_length:
        description: Minimum password length.
        required: true
        type: int
      reuse_prevention:
        description: Remembered passwords.
        required: true
        type: int
      max_age:
        description: Maximum password age in days.
        required: true
        type: int
  account_public_access_block:
    description:
      - Whether the baseline sets the account-level S3 Block Public Access (C(S3.1)); when false
        the control is C(not_applicable).
    default: true
    type: bool
  max_access_key_age_days:
    description: Active access keys older than this many days fail C(IAM.3).
    default: 90
    type: int
  exemptions:
    description:
      - Resources exempt from a control, as a suppressed finding in Security Hub. The resource is
        still evaluated and reported, with the reason; the control is judged on the other resources
        (C(not_applicable) when every resource it evaluated is exempt).
    default: []
    type: list
    elements: dict
    suboptions:
      control_id:
        description: The control, such as C(Lambda.3).
        required: true
        type: str
      resource:
        description:
          - The resource as the control's evidence names it (a bucket, a function name), or a
            shell-style pattern (C(*), C(?)) matching such names.
        required: true
        type: str
      reason:
        description: Why the resource is exempt.
        required: true
        type: str
  security_services:
    description:
      - What the security_services role and the network hardening promise in this region (omit for none) -
        C(flow_logs), C(flow_log_group), C(flow_log_role), C(flow_log_traffic_type), C(flow_log_retention),
        C(restrict_network_acls), C(ebs_encryption), C(ebs_baseline_key), C(config), C(config_bucket),
        C(include_global_resource_types), C(security_hub), C(standards), C(guardduty), C(findings_rule),
        C(findings_topic), C(access_analyzer), C(analyzer).
      - Their controls (EC2.6, EC2.2, EC2.21, EC2.7, Config.1, GuardDuty.1, IAM.28 and BASELINE ones) are
        evaluated by plugins/module_utils/verify_security_services.py.
    type: dict
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes.read_only
"""

EXAMPLES = r"""
- name: Evaluate the controls of this account and region
  secureinfra.baseline.baseline_controls:
    account_id: "{{ baseline_account_id }}"
    home_region: us-east-1
    required_tags: {Environment: dev, Owner: platform-team, Project: secure-infrastructure}
    key_alias: secureinfra-baseline
    vpc_name: secureinfra-us-east-1
    topic_arn: arn:aws:sns:us-east-1:123456789012:secureinfra-alarms
    supported_runtimes: [python3.12, python3.13]
    tables: [secureinfra-data]
  register: controls
"""

RETURN = r"""
records:
  description: One record per control.
  returned: always
  type: list
  elements: dict
  contains:
    control_id:
      description: Security Hub FSBP id, CIS id (C(CIS 4.1)) or an id of ours (C(BASELINE.S3.1)).
      type: str
      sample: S3.5
    title:
      description: What the control checks.
      type: str
    service:
      description: The AWS service (S3, DynamoDB, Lambda, IAM, KMS, CloudTrail, VPC, CloudWatch, SNS, Tags).
      type: str
    related:
      description: The same control's id in the other standard.
      type: list
      elements: str
    account:
      description: Account id.
      type: str
    region:
      description: Region.
      type: str
    status:
      description: C(pass), C(fail) or C(not_applicable).
      type: str
    exempted:
      description: The exempt resources of the control (see I(exemptions)) and their reasons.
      type: dict
    evidence:
      description: The values read, per resource (with C(ok) for each), or the reason it does not apply.
      type: dict
counts:
  description: Number of records per status.
  returned: always
  type: dict
  sample: {"pass": 40, "fail": 0, "not_applicable": 10}
"""

import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

with contextlib.suppress(ImportError):  # a missing boto3 or botocore is reported by AnsibleAWSModule
    import boto3
    import botocore.config
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore
from ansible_collections.secureinfra.baseline.plugins.module_utils.verify_controls import evaluate
from ansible_collections.secureinfra.baseline.plugins.module_utils.verify_read import read_snapshot
from ansible_collections.secureinfra.baseline.plugins.module_utils.verify_security_services import (
    read_security_services,
)

RETRIES = {"retries": {"mode": "standard", "max_attempts": 10}}
STR_LIST = dict(type="list", elements="str", default=[])

ARGUMENT_SPEC: dict[str, Any] = dict(
    account_id=dict(type="str", required=True),
    partition=dict(type="str", default="aws"),
    home_region=dict(type="str", required=True),
    required_tags=dict(type="dict", required=True),
    buckets=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            name=dict(type="str", required=True),
            logging_target=dict(type="str", default=""),
            logging_prefix=dict(type="str", default=""),
            lifecycle_rule_ids=STR_LIST,
        ),
    ),
    data_bucket=dict(type="str", default=""),
    data_bucket_principals=STR_LIST,
    tables=STR_LIST,
    functions=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            name=dict(type="str", required=True),
            vpc=dict(type="bool", default=True),
            dead_letter_queue=dict(type="str", required=True),
        ),
    ),
    function_memory=dict(type="int", default=128),
    supported_runtimes=dict(type="list", elements="str", required=True),
    log_groups=STR_LIST,
    roles=STR_LIST,
    role_max_session=dict(type="int", default=3600),
    key_alias=dict(type="str", required=True, no_log=False),
    vpc_name=dict(type="str", required=True),
    endpoint_services=dict(type="list", elements="str", default=["s3", "dynamodb"]),
    topic_arn=dict(type="str", required=True),
    subscriptions=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(protocol=dict(type="str", required=True), endpoint=dict(type="str", required=True)),
    ),
    require_subscriber=dict(type="bool", default=False),
    alarms=STR_LIST,
    cis_catalog=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            cis_id=dict(type="str", required=True),
            title=dict(type="str", required=True),
            filter_name=dict(type="str", required=True),
            metric_name=dict(type="str", required=True),
            namespace=dict(type="str", required=True),
            alarm_name=dict(type="str", required=True),
            cis_patterns=STR_LIST,
        ),
    ),
    cis_log_group=dict(type="str", default=""),
    trail=dict(
        type="dict",
        options=dict(
            arn=dict(type="str", required=True),
            log_group_arn=dict(type="str", required=True),
            data_bucket_arns=STR_LIST,
            data_table_arns=STR_LIST,
        ),
    ),
    password_policy=dict(
        type="dict",
        no_log=False,
        options=dict(
            min_length=dict(type="int", required=True),
            reuse_prevention=dict(type="int", required=True),
            max_age=dict(type="int", required=True),
        ),
    ),
    account_public_access_block=dict(type="bool", default=True),
    max_access_key_age_days=dict(type="int", default=90, no_log=False),
    security_services=dict(type="dict"),
    exemptions=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            control_id=dict(type="str", required=True),
            resource=dict(type="str", required=True),
            reason=dict(type="str", required=True),
        ),
    ),
)


def build_spec(params: dict[str, Any], region: str) -> dict[str, Any]:
    """The module's options as the evaluation's spec (plus the region and the queue names)."""
    spec = {name: params[name] for name in ARGUMENT_SPEC}
    spec["region"] = region
    spec["queues"] = [f["dead_letter_queue"] for f in params["functions"]]
    return spec


def strip_account_host(account_id: str) -> Callable[..., None]:
    """A before-sign handler that removes the <account>. prefix S3 Control puts on the host."""

    def handler(request: Any, **_kwargs: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc.startswith(f"{account_id}."):
            request.url = urlunsplit(parts._replace(netloc=parts.netloc[len(account_id) + 1 :]))

    return handler


def counts(records: list[dict[str, Any]]) -> dict[str, int]:
    result = {"pass": 0, "fail": 0, "not_applicable": 0}
    for record in records:
        result[record["status"]] += 1
    return result


def session_clients(module: AnsibleAWSModule, account_id: str) -> Callable[[str], Any]:
    """One boto3 session for every client (with the module's connection options), one client per service.

    module.client() builds a new session, and loads the service models again, for every client;
    the reads themselves take a few seconds, so the shared session is most of the saving.
    """
    region, endpoint, params = get_aws_connection_info(module)
    params = dict(params)
    session = boto3.session.Session(profile_name=params.pop("profile_name", None))
    # Reads only: botocore's standard retry mode (throttling, 5xx) with more attempts.
    config = botocore.config.Config(**RETRIES)
    if params.get("aws_config") is not None:
        config = config.merge(params.pop("aws_config"))
    made: dict[str, Any] = {}

    def clients(service: str) -> Any:
        if service not in made:
            client = session.client(
                service, region_name=region, endpoint_url=endpoint, config=config, **params
            )
            if service == "s3control" and endpoint:
                # S3 Control's endpoint is <account>.s3-control.<region>.amazonaws.com; an emulator's
                # endpoint (127.0.0.1:port) has no such host, so the account goes only in the header.
                client.meta.events.register(
                    "before-sign.s3-control.*",
                    strip_account_host(account_id),
                    unique_id=f"secureinfra-strip-account-host-{account_id}",
                )
            made[service] = client
        return made[service]

    return clients


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not module.region:
        module.fail_json(
            msg="baseline_controls needs a region (the region option, AWS_REGION or a profile's)"
        )
    spec = build_spec(module.params, module.region)
    try:
        clients = session_clients(module, spec["account_id"])
        snapshot = read_snapshot(clients, spec)
        if spec["security_services"]:
            snapshot["security_services"] = read_security_services(clients, spec)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(
            e, msg=f"Failed to read the baseline in {spec['region']} (account {spec['account_id']})"
        )
    records = evaluate(snapshot, spec)
    module.exit_json(changed=False, records=records, counts=counts(records))


if __name__ == "__main__":
    main()
