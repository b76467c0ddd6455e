#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: security_services
short_description: EBS default encryption, Config, Security Hub, GuardDuty and Access Analyzer in one region
version_added: 0.3.0
description:
  - Converges, in one module run, the security services AWS turns on per account and region, each from its
    own option; a service whose option is omitted (V(null)) is left alone, read or not.
  - O(ebs_encryption) - EBS encryption by default, and its default KMS key.
  - O(config) - the AWS Config service-linked role (C(AWSServiceRoleForConfig), created when missing), a
    configuration recorder of every supported resource type (global types where
    O(config.include_global_resource_types)), a delivery channel to an S3 bucket, recording on.
  - O(security_hub) - Security Hub (without its default standards) and the standards listed, with the hub's
    tags; it waits until no standard is C(PENDING) and warns about one that is C(INCOMPLETE) (Security Hub
    needs AWS Config recording for its controls).
  - O(guardduty) - the region's GuardDuty detector, its finding publishing frequency, the protection plans
    listed, its tags, and an EventBridge rule that sends its findings to an SNS topic.
  - O(access_analyzer) - an IAM Access Analyzer analyzer of the account (zone of trust the account). An
    account-level analyzer of another name is adopted as it is (AWS allows one per type and region).
  - A no-op makes reads only. Resources of another name that AWS allows once per region (the Config recorder
    and delivery channel, the detector, the account analyzer) are adopted, not duplicated.
  - With O(config.state=absent), recording stops and the recorder and delivery channel are deleted (the
    recorded history and the bucket stay); O(security_hub.state=absent) disables the standards and Security
    Hub (its findings go after 90 days); O(guardduty.state=suspended) suspends the detector (findings kept),
    V(absent) deletes it and its findings; O(access_analyzer.state=absent) deletes the analyzer of that
    name. The service-linked roles are never deleted.
options:
  ebs_encryption:
    description: EBS encryption by default in this region. Omit to leave it alone.
    type: dict
    suboptions:
      enabled:
        description: Encryption by default on (V(true)) or off (V(false)); V(null) leaves it as it is.
        type: bool
      kms_key_id:
        description:
          - ARN of the KMS key new volumes are encrypted with by default (C(ModifyEbsDefaultKmsKeyId)).
          - V(null) leaves the default key as it is.
        type: str
      reset_kms_key:
        description:
          - Put the AWS managed key (C(alias/aws/ebs)) back as the default key (C(ResetEbsDefaultKmsKeyId)).
          - Mutually exclusive with O(ebs_encryption.kms_key_id).
        type: bool
        default: false
  config:
    description: AWS Config recording in this region. Omit to leave it alone.
    type: dict
    suboptions:
      state:
        description: V(present) records; V(absent) stops recording and deletes the recorder and channel.
        type: str
        choices: [present, absent]
        default: present
      recorder_name:
        description: Name of a new recorder (an existing recorder of the region is kept under its name).
        type: str
        default: default
      include_global_resource_types:
        description: Record the global resource types (IAM); do so in one region only.
        type: bool
        default: false
      delivery_channel_name:
        description: Name of a new delivery channel (an existing channel of the region keeps its name).
        type: str
        default: default
      s3_bucket_name:
        description: Bucket that receives the configuration history and snapshots. Required with V(present).
        type: str
      s3_key_prefix:
        description: Key prefix in the bucket (V(null) for none).
        type: str
      snapshot_delivery_frequency:
        description: How often Config delivers a configuration snapshot.
        type: str
        choices: [One_Hour, Three_Hours, Six_Hours, Twelve_Hours, TwentyFour_Hours]
        default: TwentyFour_Hours
      propagation_timeout:
        description:
          - Seconds to retry C(PutDeliveryChannel) on C(InsufficientDeliveryPolicyException), which it answers
            while a service-linked role just created is not usable yet.
        type: int
        default: 180
  security_hub:
    description: Security Hub in this region. Omit to leave it alone.
    type: dict
    suboptions:
      state:
        description: V(present) enables it; V(absent) disables the standards, then Security Hub.
        type: str
        choices: [present, absent]
        default: present
      standards:
        description:
          - Standards to subscribe, as the part of the standard's ARN after C(standards/), such as
            C(aws-foundational-security-best-practices/v/1.0.0) or C(cis-aws-foundations-benchmark/v/3.0.0).
        type: list
        elements: str
        default: []
      purge_standards:
        description: Disable the standards that are enabled but not listed.
        type: bool
        default: false
      control_finding_generator:
        description: Consolidated control findings (V(SECURITY_CONTROL)) or per standard (set when enabling).
        type: str
        choices: [SECURITY_CONTROL, STANDARD_CONTROL]
        default: SECURITY_CONTROL
      tags:
        description: Tags of the hub. V(null) leaves them as they are.
        type: dict
      wait_timeout:
        description: Seconds to wait for new standards to leave C(PENDING).
        type: int
        default: 120
  guardduty:
    description: The region's GuardDuty detector. Omit to leave it alone.
    type: dict
    suboptions:
      state:
        description:
          - V(present) enabled; V(absent) deleted, with its findings.
          - V(suspended) - an existing detector stops monitoring, its findings and settings kept (none is
            created).
        type: str
        choices: [present, suspended, absent]
        default: present
      finding_publishing_frequency:
        description: How often updated findings are exported to EventBridge.
        type: str
        choices: [FIFTEEN_MINUTES, ONE_HOUR, SIX_HOURS]
        default: SIX_HOURS
      features:
        description:
          - Protection plans to set, by GuardDuty's feature name (such as C(S3_DATA_EVENTS),
            C(LAMBDA_NETWORK_LOGS)), V(true) enabled, V(false) disabled. Features not listed are left alone.
        type: dict
        default: {}
      tags:
        description: Tags of the detector. V(null) leaves them as they are.
        type: dict
      findings_rule:
        description: An EventBridge rule sending the detector's findings to an SNS topic (omit to leave it).
        type: dict
        suboptions:
          name:
            description: Name of the rule.
            type: str
            required: true
          state:
            description: V(present) or V(absent).
            type: str
            choices: [present, absent]
            default: present
          topic_arn:
            description: The SNS topic (its policy must let events.amazonaws.com publish); with V(present).
            type: str
          min_severity:
            description: Lowest GuardDuty severity sent (findings are 1.0-8.9; 4 is Medium, 7 High).
            type: float
            default: 4.0
          tags:
            description: Tags of the rule. V(null) leaves them as they are.
            type: dict
  access_analyzer:
    description: The region's account analyzer of IAM Access Analyzer. Omit to leave it alone.
    type: dict
    suboptions:
      state:
        description: V(present) or V(absent) (only an analyzer of this name is deleted).
        type: str
        choices: [present, absent]
        default: present
      name:
        description: Analyzer name.
        type: str
        required: true
      tags:
        description: Tags of the analyzer. V(null) leaves them as they are.
        type: dict
  purge_tags:
    description: Remove the tags that are not listed, where tags are given.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
notes:
  - Check mode and diff are supported.
  - AWS Config's delivery needs a bucket policy that lets C(config.amazonaws.com) C(s3:GetBucketAcl),
    C(s3:ListBucket) and C(s3:PutObject) (C(bucket-owner-full-control)); otherwise C(PutDeliveryChannel)
    answers C(InsufficientDeliveryPolicyException), retried for O(config.propagation_timeout) seconds.
  - EventBridge publishes to an SNS topic encrypted with a customer managed key only when the key policy lets
    C(events.amazonaws.com) C(kms:Decrypt) and C(kms:GenerateDataKey); delivery failures are not reported
    by C(PutTargets).
author:
  - Secureinfra Platform Team (@secureinfra)
"""

EXAMPLES = r"""
- name: The account's security services in this region
  secureinfra.baseline.security_services:
    ebs_encryption:
      enabled: true
      kms_key_id: arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555
    config:
      include_global_resource_types: true
      s3_bucket_name: acme-config-123456789012-us-east-1
    security_hub:
      standards:
        - aws-foundational-security-best-practices/v/1.0.0
        - cis-aws-foundations-benchmark/v/3.0.0
      tags: {Project: landing-zone}
    guardduty:
      tags: {Project: landing-zone}
      findings_rule:
        name: acme-guardduty-findings
        topic_arn: arn:aws:sns:us-east-1:123456789012:acme-alarms
    access_analyzer:
      name: acme-account
      tags: {Project: landing-zone}
  register: services
"""

RETURN = r"""
ebs_encryption:
  description: EBS encryption by default after the run (predicted in check mode).
  returned: when O(ebs_encryption) is given
  type: dict
  contains:
    enabled:
      description: Encryption by default.
      type: bool
    kms_key_id:
      description: The default key.
      type: str
    changed:
      description: Whether the module changed it (or would).
      type: bool
config:
  description: The recorder, the delivery channel and the recording status after the run.
  returned: when O(config) is given
  type: dict
security_hub:
  description: The hub and its standards (with their status) after the run.
  returned: when O(security_hub) is given
  type: dict
guardduty:
  description: The detector (id, status, features) and the findings rule after the run.
  returned: when O(guardduty) is given
  type: dict
access_analyzer:
  description: The analyzer (name, ARN, whether it was adopted) after the run.
  returned: when O(access_analyzer) is given
  type: dict
diff:
  description: Per service, the managed settings before and after, in diff mode.
  returned: when diff mode is on
  type: dict
"""

import contextlib
import json
import re
import time
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.secureinfra.baseline.plugins.module_utils.backoff import (
    RetryPolicy,
    call_with_backoff,
)
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore
from ansible_collections.secureinfra.baseline.plugins.module_utils.list_input import tag_errors

KMS_KEY_ARN = re.compile(r"^arn:[a-z0-9-]+:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
TOPIC_ARN = re.compile(r"^arn:[a-z0-9-]+:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
CONFIG_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
ANALYZER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,254}$")
STANDARD = re.compile(r"^[a-z0-9-]+/v/\d+\.\d+\.\d+$")
FEATURE = re.compile(r"^[A-Z0-9_]{1,64}$")
CONFIG_ROLE = "AWSServiceRoleForConfig"
CONFIG_PRINCIPAL = "config.amazonaws.com"
# CIS AWS Foundations v1.2.0's ARN is a global ruleset; the other standards' ARNs are regional.
GLOBAL_RULESETS = ("cis-aws-foundations-benchmark/v/1.2.0",)
TARGET_ID = "findings-topic"
NOT_SUBSCRIBED = ["InvalidAccessException"]

TAGS = {"type": "dict"}
ARGUMENT_SPEC: dict[str, Any] = {
    "ebs_encryption": {
        "type": "dict",
        "options": {
            "enabled": {"type": "bool"},
            "kms_key_id": {"type": "str", "no_log": False},
            "reset_kms_key": {"type": "bool", "default": False, "no_log": False},
        },
    },
    "config": {
        "type": "dict",
        "options": {
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "recorder_name": {"type": "str", "default": "default"},
            "include_global_resource_types": {"type": "bool", "default": False},
            "delivery_channel_name": {"type": "str", "default": "default"},
            "s3_bucket_name": {"type": "str"},
            "s3_key_prefix": {"type": "str", "no_log": False},
            "snapshot_delivery_frequency": {
                "type": "str",
                "choices": ["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"],
                "default": "TwentyFour_Hours",
            },
            "propagation_timeout": {"type": "int", "default": 180},
        },
    },
    "security_hub": {
        "type": "dict",
        "options": {
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "standards": {"type": "list", "elements": "str", "default": []},
            "purge_standards": {"type": "bool", "default": False},
            "control_finding_generator": {
                "type": "str",
                "choices": ["SECURITY_CONTROL", "STANDARD_CONTROL"],
                "default": "SECURITY_CONTROL",
            },
            "tags": TAGS,
            "wait_timeout": {"type": "int", "default": 120},
        },
    },
    "guardduty": {
        "type": "dict",
        "options": {
            "state": {"type": "str", "choices": ["present", "suspended", "absent"], "default": "present"},
            "finding_publishing_frequency": {
                "type": "str",
                "choices": ["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"],
                "default": "SIX_HOURS",
            },
            "features": {"type": "dict", "default": {}},
            "tags": TAGS,
            "findings_rule": {
                "type": "dict",
                "options": {
                    "name": {"type": "str", "required": True},
                    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
                    "topic_arn": {"type": "str"},
                    "min_severity": {"type": "float", "default": 4.0},
                    "tags": TAGS,
                },
            },
        },
    },
    "access_analyzer": {
        "type": "dict",
        "options": {
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "name": {"type": "str", "required": True},
            "tags": TAGS,
        },
    },
    "purge_tags": {"type": "bool", "default": True},
}


# --- input rules (no AWS call) ------------------------------------------------------------------------------


def ebs_errors(ebs: dict[str, Any] | None) -> list[str]:
    if not ebs:
        return []
    key = ebs["kms_key_id"]
    if key is not None and ebs["reset_kms_key"]:
        return ["ebs_encryption: kms_key_id and reset_kms_key are mutually exclusive (a key, or AWS's own)"]
    if key is not None and not KMS_KEY_ARN.match(key):
        return [
            "ebs_encryption.kms_key_id must be a KMS key ARN (arn:...:kms:<region>:<account>:key/...), "
            f"got '{key}'"
        ]
    return []


def config_errors(config: dict[str, Any] | None) -> list[str]:
    if not config:
        return []
    errors = []
    for option in ("recorder_name", "delivery_channel_name"):
        if not CONFIG_NAME.match(config[option]):
            errors.append(
                f"config.{option} must be 1-256 letters, digits, '_', '.' or '-', got '{config[option]}'"
            )
    bucket = config["s3_bucket_name"]
    if config["state"] == "present" and (not bucket or not BUCKET.match(bucket)):
        errors.append(
            "config.s3_bucket_name must name an S3 bucket (3-63 lower-case letters, digits, '.', '-'), "
            f"got '{bucket}'"
        )
    prefix = config["s3_key_prefix"]
    if prefix is not None and (
        not prefix or "AWSLogs" in prefix or prefix.startswith("/") or len(prefix) > 1024
    ):
        errors.append(
            "config.s3_key_prefix must be 1-1024 characters, not start with '/' nor contain 'AWSLogs' "
            f"(Config adds it), got '{prefix}'"
        )
    if config["propagation_timeout"] < 0:
        errors.append(
            f"config.propagation_timeout must be 0 or more seconds, got {config['propagation_timeout']}"
        )
    return errors


def security_hub_errors(hub: dict[str, Any] | None) -> list[str]:
    if not hub:
        return []
    errors = [
        f"security_hub.standards: '{s}' must be the part of a standard's ARN after 'standards/', such as "
        "'cis-aws-foundations-benchmark/v/3.0.0'"
        for s in hub["standards"]
        if not STANDARD.match(s)
    ]
    if len(set(hub["standards"])) != len(hub["standards"]):
        errors.append(f"security_hub.standards: each standard once, got {hub['standards']}")
    if hub["wait_timeout"] < 0:
        errors.append(f"security_hub.wait_timeout must be 0 or more seconds, got {hub['wait_timeout']}")
    errors.extend(tag_errors("security_hub.tags", hub["tags"]))
    return errors


def guardduty_errors(guardduty: dict[str, Any] | None) -> list[str]:
    if not guardduty:
        return []
    errors = []
    for name, value in guardduty["features"].items():
        if not FEATURE.match(str(name)) or not isinstance(value, bool):
            errors.append(
                f"guardduty.features: '{name}' must be a GuardDuty feature name (such as S3_DATA_EVENTS) "
                f"with true or false, got {value!r}"
            )
    errors.extend(tag_errors("guardduty.tags", guardduty["tags"]))
    rule = guardduty["findings_rule"]
    if rule:
        if not RULE_NAME.match(rule["name"]):
            errors.append(
                "guardduty.findings_rule.name must be 1-64 letters, digits, '.', '-' or '_', "
                f"got '{rule['name']}'"
            )
        if rule["state"] == "present" and not TOPIC_ARN.match(str(rule["topic_arn"] or "")):
            errors.append(
                f"guardduty.findings_rule.topic_arn must be an SNS topic ARN, got '{rule['topic_arn']}'"
            )
        if not 1.0 <= rule["min_severity"] <= 8.9:
            errors.append(
                "guardduty.findings_rule.min_severity must be 1.0-8.9 (GuardDuty severities), "
                f"got {rule['min_severity']}"
            )
        errors.extend(tag_errors("guardduty.findings_rule.tags", rule["tags"]))
    return errors


def analyzer_errors(analyzer: dict[str, Any] | None) -> list[str]:
    if not analyzer:
        return []
    errors = []
    if not ANALYZER_NAME.match(analyzer["name"]):
        errors.append(
            "access_analyzer.name must start with a letter and have 1-255 letters, digits, '.', '_' or '-', "
            f"got '{analyzer['name']}'"
        )
    errors.extend(tag_errors("access_analyzer.tags", analyzer["tags"]))
    return errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    return (
        ebs_errors(params["ebs_encryption"])
        + config_errors(params["config"])
        + security_hub_errors(params["security_hub"])
        + guardduty_errors(params["guardduty"])
        + analyzer_errors(params["access_analyzer"])
    )


# --- helpers ------------------------------------------------------------------------------------------------


class Services:
    """The clients (made on first use), the caller's account, check mode and the purge setting."""

    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.check = module.check_mode
        self.purge_tags = module.params["purge_tags"]
        self._clients: dict[str, Any] = {}
        self._account: str | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.module.client(service, retry_decorator=AWSRetry.jittered_backoff())
        return self._clients[service]

    @property
    def region(self) -> str:
        return str(self.module.region)

    @property
    def partition(self) -> str:
        return str(self.client("sts").meta.partition)

    def account(self) -> str:
        if self._account is None:
            self._account = self.call("sts", "get_caller_identity", "read the caller's account")["Account"]
        return self._account

    def call(self, service: str, operation: str, what: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client(service), operation)(aws_retry=True, **kwargs)
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to {what}")

    def paginate(self, service: str, operation: str, key: str, what: str, **kwargs: Any) -> list[Any]:
        try:
            pages = self.client(service).get_paginator(operation).paginate(**kwargs)
            return list(pages.build_full_result().get(key, []))
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to {what}")

    def tag_changes(
        self, current: dict[str, str], wanted: dict[str, Any] | None
    ) -> tuple[dict[str, str], list[str]]:
        if wanted is None:
            return {}, []
        return compare_aws_tags(current, {str(k): str(v) for k, v in wanted.items()}, self.purge_tags)


def after_tags(current: dict[str, str], changes: tuple[dict[str, str], list[str]]) -> dict[str, str]:
    kept = {k: v for k, v in current.items() if k not in changes[1]}
    return {**kept, **changes[0]}


def result(changed: bool, before: Any, after: Any, **facts: Any) -> dict[str, Any]:
    return {"changed": changed, **facts, "diff": (before, after)}


# --- EBS encryption by default ------------------------------------------------------------------------------


def ensure_ebs(s: Services, wanted: dict[str, Any]) -> dict[str, Any]:
    enabled = s.call("ec2", "get_ebs_encryption_by_default", "read EBS encryption by default")[
        "EbsEncryptionByDefault"
    ]
    manage_key = wanted["kms_key_id"] is not None or wanted["reset_kms_key"]
    key = (
        s.call("ec2", "get_ebs_default_kms_key_id", "read the default EBS key")["KmsKeyId"]
        if manage_key
        else None
    )
    want_enabled = enabled if wanted["enabled"] is None else wanted["enabled"]
    aws_managed = (
        f"arn:{s.partition}:kms:{s.region}:{s.account()}:alias/aws/ebs" if wanted["reset_kms_key"] else None
    )
    want_key = wanted["kms_key_id"] or aws_managed or key
    key_changes = manage_key and not (
        key == want_key or (wanted["reset_kms_key"] and str(key).endswith("alias/aws/ebs"))
    )
    changed = bool(want_enabled != enabled or key_changes)
    if changed and not s.check:
        if want_enabled != enabled:
            operation = (
                "enable_ebs_encryption_by_default" if want_enabled else "disable_ebs_encryption_by_default"
            )
            s.call("ec2", operation, "change EBS encryption by default")
        if key_changes and wanted["reset_kms_key"]:
            want_key = s.call("ec2", "reset_ebs_default_kms_key_id", "reset the default EBS key")["KmsKeyId"]
        elif key_changes:
            s.call("ec2", "modify_ebs_default_kms_key_id", "set the default EBS key", KmsKeyId=want_key)
    before = {"enabled": enabled, **({"kms_key_id": key} if manage_key else {})}
    after = {"enabled": want_enabled, **({"kms_key_id": want_key} if manage_key else {})}
    return result(changed, before, after, **after)


# --- AWS Config ---------------------------------------------------------------------------------------------


def config_role_arn(s: Services) -> str:
    return f"arn:{s.partition}:iam::{s.account()}:role/aws-service-role/{CONFIG_PRINCIPAL}/{CONFIG_ROLE}"


def ensure_config_role(s: Services) -> bool:
    """AWSServiceRoleForConfig, created when missing; True when it is (or would be) created."""
    try:
        s.client("iam").get_role(aws_retry=True, RoleName=CONFIG_ROLE)
        return False
    except is_boto3_error_code("NoSuchEntity"):
        pass
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        s.module.fail_json_aws(e, msg=f"Failed to read the service-linked role {CONFIG_ROLE}")
    if s.check:
        return True
    try:
        s.client("iam").create_service_linked_role(aws_retry=True, AWSServiceName=CONFIG_PRINCIPAL)
    except is_boto3_error_code(
        ["InvalidInput", "EntityAlreadyExists"]
    ):  # another host of the account made it first
        return False
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        s.module.fail_json_aws(e, msg=f"Failed to create the service-linked role {CONFIG_ROLE}")
    try:
        s.client("iam").get_waiter("role_exists").wait(
            RoleName=CONFIG_ROLE, WaiterConfig={"Delay": 2, "MaxAttempts": 30}
        )
    except Exception as e:  # noqa: BLE001 - botocore's WaiterError; reported as it is
        s.module.fail_json(msg=f"The service-linked role {CONFIG_ROLE} did not appear in IAM: {e}")
    return True


def wanted_group(include_global: bool) -> dict[str, Any]:
    return {"allSupported": True, "includeGlobalResourceTypes": include_global}


def group_matches(current: dict[str, Any], include_global: bool) -> bool:
    strategy = (current.get("recordingStrategy") or {}).get("useOnly", "ALL_SUPPORTED_RESOURCE_TYPES")
    return (
        bool(current.get("allSupported"))
        and bool(current.get("includeGlobalResourceTypes")) == include_global
        and strategy == "ALL_SUPPORTED_RESOURCE_TYPES"
    )


def put_channel(s: Services, channel: dict[str, Any], timeout: int) -> None:
    client = s.client("config")
    policy = RetryPolicy(
        error_codes=("InsufficientDeliveryPolicyException",), timeout=float(timeout), max_delay=20.0
    )
    try:
        call_with_backoff(
            lambda: client.put_delivery_channel(DeliveryChannel=channel), policy, (ClientError,)
        )
    except (BotoCoreError, ClientError) as e:
        s.module.fail_json_aws(
            e,
            msg=(
                f"Failed to put the Config delivery channel to bucket '{channel['s3BucketName']}': "
                "the bucket policy "
                f"must let {CONFIG_PRINCIPAL} s3:GetBucketAcl, s3:ListBucket and s3:PutObject "
                "(bucket-owner-full-control), and the recorder's role must be usable (retried for "
                f"{timeout} s)"
            ),
        )


def ensure_config(s: Services, wanted: dict[str, Any]) -> dict[str, Any]:
    recorders = s.call("config", "describe_configuration_recorders", "read the Config recorders").get(
        "ConfigurationRecorders", []
    )
    recorders = [r for r in recorders if not r.get("servicePrincipal")]  # service-linked recorders are AWS's
    channels = s.call("config", "describe_delivery_channels", "read the Config delivery channels").get(
        "DeliveryChannels", []
    )
    recorder = recorders[0] if recorders else None
    channel = channels[0] if channels else None
    recording = False
    if recorder:
        statuses = s.call(
            "config",
            "describe_configuration_recorder_status",
            "read the Config recorder status",
            ConfigurationRecorderNames=[recorder["name"]],
        ).get("ConfigurationRecordersStatus", [])
        recording = bool(statuses and statuses[0].get("recording"))
    before = {
        "recorder": recorder
        and {
            "name": recorder["name"],
            "roleARN": recorder.get("roleARN"),
            "recordingGroup": recorder.get("recordingGroup"),
        },
        "delivery_channel": channel,
        "recording": recording,
    }
    if wanted["state"] == "absent":
        return remove_config(s, recorder, channel, recording, before)

    role_created = ensure_config_role(s)
    role_arn = config_role_arn(s)
    name = recorder["name"] if recorder else wanted["recorder_name"]
    include_global = wanted["include_global_resource_types"]
    recorder_changes = (
        not recorder
        or recorder.get("roleARN") != role_arn
        or not group_matches(recorder.get("recordingGroup") or {}, include_global)
    )
    channel_name = channel["name"] if channel else wanted["delivery_channel_name"]
    want_channel: dict[str, Any] = {
        "name": channel_name,
        "s3BucketName": wanted["s3_bucket_name"],
        "configSnapshotDeliveryProperties": {"deliveryFrequency": wanted["snapshot_delivery_frequency"]},
    }
    if wanted["s3_key_prefix"]:
        want_channel["s3KeyPrefix"] = wanted["s3_key_prefix"]
    channel_changes = (
        not channel
        or any(channel.get(k) != v for k, v in want_channel.items())
        or (channel.get("s3KeyPrefix") and not wanted["s3_key_prefix"])
    )
    changed = bool(role_created or recorder_changes or channel_changes or not recording)
    if not s.check:
        if recorder_changes:
            s.call(
                "config",
                "put_configuration_recorder",
                "put the Config recorder",
                ConfigurationRecorder={
                    "name": name,
                    "roleARN": role_arn,
                    "recordingGroup": wanted_group(include_global),
                },
            )
        if channel_changes:
            put_channel(s, want_channel, wanted["propagation_timeout"])
        if not recording:
            s.call(
                "config",
                "start_configuration_recorder",
                "start the Config recorder",
                ConfigurationRecorderName=name,
            )
    after = {
        "recorder": {"name": name, "roleARN": role_arn, "recordingGroup": wanted_group(include_global)},
        "delivery_channel": want_channel,
        "recording": True,
    }
    return result(changed, before, after, **after, service_linked_role_created=role_created)


def remove_config(
    s: Services,
    recorder: dict[str, Any] | None,
    channel: dict[str, Any] | None,
    recording: bool,
    before: dict[str, Any],
) -> dict[str, Any]:
    changed = bool(recorder or channel)
    if changed and not s.check:
        if recording and recorder:
            s.call(
                "config",
                "stop_configuration_recorder",
                "stop the Config recorder",
                ConfigurationRecorderName=recorder["name"],
            )
        if channel:
            s.call(
                "config",
                "delete_delivery_channel",
                "delete the Config delivery channel",
                DeliveryChannelName=channel["name"],
            )
        if recorder:
            s.call(
                "config",
                "delete_configuration_recorder",
                "delete the Config recorder",
                ConfigurationRecorderName=recorder["name"],
            )
    after = {"recorder": None, "delivery_channel": None, "recording": False}
    return result(changed, before, after, **after)


# --- Security Hub -------------------------------------------------------------------------------------------


def standard_arn(s: Services, path: str) -> str:
    if path in GLOBAL_RULESETS:
        return f"arn:{s.partition}:securityhub:::ruleset/{path}"
    return f"arn:{s.partition}:securityhub:{s.region}::standards/{path}"


def read_hub(s: Services) -> dict[str, Any] | None:
    try:
        return s.client("securityhub").describe_hub(aws_retry=True)
    except is_boto3_error_code(NOT_SUBSCRIBED):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        s.module.fail_json_aws(e, msg="Failed to read Security Hub (DescribeHub)")


def enabled_standards(s: Services) -> list[dict[str, Any]]:
    return s.paginate(
        "securityhub", "get_enabled_standards", "StandardsSubscriptions", "read the enabled standards"
    )


def wait_standards(s: Services, timeout: int) -> list[dict[str, Any]]:
    """The subscriptions once none is PENDING (or DELETING), or at the timeout."""
    deadline = time.monotonic() + timeout
    delay = 2.0
    while True:
        subscriptions = enabled_standards(s)
        pending = [x for x in subscriptions if x.get("StandardsStatus") in ("PENDING", "DELETING")]
        if not pending or time.monotonic() >= deadline:
            return subscriptions
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 15.0)


def ensure_security_hub(s: Services, wanted: dict[str, Any]) -> dict[str, Any]:
    hub = read_hub(s)
    subscriptions = enabled_standards(s) if hub else []
    enabled = {x["StandardsArn"]: x for x in subscriptions}
    tags = (
        s.call("securityhub", "list_tags_for_resource", "read the hub's tags", ResourceArn=hub["HubArn"])[
            "Tags"
        ]
        if hub
        else {}
    )
    before = {"enabled": hub is not None, "standards": sorted(enabled), "tags": tags}
    if wanted["state"] == "absent":
        changed = hub is not None
        if changed and not s.check:
            if subscriptions:
                s.call(
                    "securityhub",
                    "batch_disable_standards",
                    "disable the standards",
                    StandardsSubscriptionArns=[x["StandardsSubscriptionArn"] for x in subscriptions],
                )
            s.call("securityhub", "disable_security_hub", "disable Security Hub")
        return result(
            changed, before, {"enabled": False, "standards": [], "tags": {}}, enabled=False, standards=[]
        )

    wanted_arns = [standard_arn(s, path) for path in wanted["standards"]]
    missing = [arn for arn in wanted_arns if arn not in enabled]
    extra = [x for arn, x in enabled.items() if arn not in wanted_arns] if wanted["purge_standards"] else []
    tag_changes = s.tag_changes(tags, wanted["tags"]) if hub else ({}, [])
    changed = bool(hub is None or missing or extra or tag_changes[0] or tag_changes[1])
    hub_arn = hub["HubArn"] if hub else f"arn:{s.partition}:securityhub:{s.region}:{s.account()}:hub/default"
    if not s.check:
        if hub is None:
            request: dict[str, Any] = {
                "EnableDefaultStandards": False,
                "ControlFindingGenerator": wanted["control_finding_generator"],
            }
            if wanted["tags"]:
                request["Tags"] = {str(k): str(v) for k, v in wanted["tags"].items()}
            s.call("securityhub", "enable_security_hub", "enable Security Hub", **request)
        if tag_changes[1]:
            s.call(
                "securityhub", "untag_resource", "untag the hub", ResourceArn=hub_arn, TagKeys=tag_changes[1]
            )
        if tag_changes[0]:
            s.call("securityhub", "tag_resource", "tag the hub", ResourceArn=hub_arn, Tags=tag_changes[0])
        if extra:
            s.call(
                "securityhub",
                "batch_disable_standards",
                "disable the standards not listed",
                StandardsSubscriptionArns=[x["StandardsSubscriptionArn"] for x in extra],
            )
        if missing:
            s.call(
                "securityhub",
                "batch_enable_standards",
                "enable the standards",
                StandardsSubscriptionRequests=[{"StandardsArn": arn} for arn in missing],
            )
        if missing or extra:
            subscriptions = wait_standards(s, wanted["wait_timeout"])
        enabled = {x["StandardsArn"]: x for x in subscriptions}
    statuses = {
        arn: (enabled.get(arn) or {}).get("StandardsStatus", "PENDING" if s.check else "MISSING")
        for arn in wanted_arns
    }
    for arn, status in statuses.items():
        reason = ((enabled.get(arn) or {}).get("StandardsStatusReason") or {}).get("StatusReasonCode")
        if status == "INCOMPLETE":
            s.module.warn(
                f"Security Hub standard {arn} is INCOMPLETE ({reason}): its controls produce no findings "
                "until "
                "AWS Config records the resources of this region"
            )
    new_tags = (
        after_tags(tags, tag_changes) if hub else {str(k): str(v) for k, v in (wanted["tags"] or {}).items()}
    )
    kept = [arn for arn in enabled if arn not in wanted_arns and not wanted["purge_standards"]]
    after = {"enabled": True, "standards": sorted(wanted_arns + kept), "tags": new_tags}
    return result(
        changed,
        before,
        after,
        enabled=True,
        hub_arn=hub_arn,
        standards=after["standards"],
        standards_status=statuses,
    )


# --- GuardDuty ----------------------------------------------------------------------------------------------


def findings_pattern(min_severity: float) -> dict[str, Any]:
    return {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", min_severity]}]},
    }


def ensure_detector(s: Services, wanted: dict[str, Any]) -> dict[str, Any]:
    ids = s.paginate("guardduty", "list_detectors", "DetectorIds", "list the GuardDuty detectors")
    detector_id = ids[0] if ids else None
    detector = (
        s.call("guardduty", "get_detector", "read the GuardDuty detector", DetectorId=detector_id)
        if detector_id
        else None
    )
    features = {f["Name"]: f.get("Status") for f in (detector or {}).get("Features", [])}
    tags = dict((detector or {}).get("Tags") or {})
    before = detector and {
        "status": detector.get("Status"),
        "finding_publishing_frequency": detector.get("FindingPublishingFrequency"),
        "features": {name: features.get(name) for name in wanted["features"]},
        "tags": tags,
    }
    state = wanted["state"]
    if state == "absent":
        changed = detector_id is not None
        if changed and not s.check:
            s.call("guardduty", "delete_detector", "delete the GuardDuty detector", DetectorId=detector_id)
        return result(changed, before, None, detector_id=None, status=None)

    if state == "suspended":  # monitoring stops, the detector and its findings stay; nothing else changes
        changed = detector is not None and detector.get("Status") != "DISABLED"
        if changed and not s.check:
            s.call(
                "guardduty",
                "update_detector",
                "suspend the GuardDuty detector",
                DetectorId=detector_id,
                Enable=False,
            )
        after = detector and {**before, "status": "DISABLED"}
        return result(changed, before, after, detector_id=detector_id, status=after and "DISABLED")

    want_status = "ENABLED"
    want_features = {name: "ENABLED" if on else "DISABLED" for name, on in wanted["features"].items()}
    feature_changes = [{"Name": n, "Status": v} for n, v in want_features.items() if features.get(n) != v]
    frequency = wanted["finding_publishing_frequency"]
    tag_changes = s.tag_changes(tags, wanted["tags"]) if detector else ({}, [])
    changed = bool(
        detector is None
        or detector.get("Status") != want_status
        or detector.get("FindingPublishingFrequency") != frequency
        or feature_changes
        or tag_changes[0]
        or tag_changes[1]
    )
    if changed and not s.check:
        if detector is None:
            request: dict[str, Any] = {"Enable": state == "present", "FindingPublishingFrequency": frequency}
            if feature_changes:
                request["Features"] = feature_changes
            if wanted["tags"]:
                request["Tags"] = {str(k): str(v) for k, v in wanted["tags"].items()}
            detector_id = s.call("guardduty", "create_detector", "create the GuardDuty detector", **request)[
                "DetectorId"
            ]
        else:
            if (
                detector.get("Status") != want_status
                or detector.get("FindingPublishingFrequency") != frequency
                or feature_changes
            ):
                update: dict[str, Any] = {
                    "DetectorId": detector_id,
                    "Enable": state == "present",
                    "FindingPublishingFrequency": frequency,
                }
                if feature_changes:
                    update["Features"] = feature_changes
                s.call("guardduty", "update_detector", "update the GuardDuty detector", **update)
            arn = f"arn:{s.partition}:guardduty:{s.region}:{s.account()}:detector/{detector_id}"
            if tag_changes[1]:
                s.call(
                    "guardduty",
                    "untag_resource",
                    "untag the detector",
                    ResourceArn=arn,
                    TagKeys=tag_changes[1],
                )
            if tag_changes[0]:
                s.call("guardduty", "tag_resource", "tag the detector", ResourceArn=arn, Tags=tag_changes[0])
    new_tags = (
        after_tags(tags, tag_changes)
        if detector
        else {str(k): str(v) for k, v in (wanted["tags"] or {}).items()}
    )
    after = {
        "status": want_status,
        "finding_publishing_frequency": frequency,
        "features": want_features,
        "tags": new_tags,
    }
    return result(changed, before, after, detector_id=detector_id, status=want_status)


def read_rule(s: Services, name: str) -> dict[str, Any] | None:
    try:
        return s.client("events").describe_rule(aws_retry=True, Name=name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        s.module.fail_json_aws(e, msg=f"Failed to read the EventBridge rule '{name}'")


def ensure_findings_rule(s: Services, wanted: dict[str, Any]) -> dict[str, Any]:
    name = wanted["name"]
    rule = read_rule(s, name)
    targets = (
        s.paginate(
            "events", "list_targets_by_rule", "Targets", f"list the targets of rule '{name}'", Rule=name
        )
        if rule
        else []
    )
    tags = {}
    if rule:
        listed = s.call(
            "events", "list_tags_for_resource", f"read the tags of rule '{name}'", ResourceARN=rule["Arn"]
        )
        tags = {t["Key"]: t["Value"] for t in listed.get("Tags", [])}
    before = rule and {
        "event_pattern": json.loads(rule.get("EventPattern") or "{}"),
        "state": rule.get("State"),
        "targets": sorted(t["Arn"] for t in targets),
        "tags": tags,
    }
    if wanted["state"] == "absent":
        changed = rule is not None
        if changed and not s.check:
            if targets:
                s.call(
                    "events",
                    "remove_targets",
                    f"remove the targets of rule '{name}'",
                    Rule=name,
                    Ids=[t["Id"] for t in targets],
                )
            s.call("events", "delete_rule", f"delete rule '{name}'", Name=name)
        return result(changed, before, None, name=name, arn=None)

    pattern = findings_pattern(wanted["min_severity"])
    description = "GuardDuty findings of this region to the alarm topic"
    rule_changes = (
        rule is None
        or json.loads(rule.get("EventPattern") or "{}") != pattern
        or rule.get("State") != "ENABLED"
        or rule.get("Description") != description
    )
    target_changes = [t for t in targets if not (t["Id"] == TARGET_ID and t["Arn"] == wanted["topic_arn"])]
    missing_target = not any(t["Id"] == TARGET_ID and t["Arn"] == wanted["topic_arn"] for t in targets)
    tag_changes = s.tag_changes(tags, wanted["tags"]) if rule else ({}, [])
    changed = bool(rule_changes or target_changes or missing_target or tag_changes[0] or tag_changes[1])
    arn = rule["Arn"] if rule else f"arn:{s.partition}:events:{s.region}:{s.account()}:rule/{name}"
    if changed and not s.check:
        if rule_changes:
            request: dict[str, Any] = {
                "Name": name,
                "EventPattern": json.dumps(pattern),
                "State": "ENABLED",
                "Description": description,
            }
            if rule is None and wanted["tags"]:
                request["Tags"] = [{"Key": str(k), "Value": str(v)} for k, v in wanted["tags"].items()]
            arn = s.call("events", "put_rule", f"put rule '{name}'", **request)["RuleArn"]
        extra = [t["Id"] for t in target_changes if t["Id"] != TARGET_ID]
        if extra:
            s.call(
                "events", "remove_targets", f"remove the other targets of rule '{name}'", Rule=name, Ids=extra
            )
        if missing_target:
            s.call(
                "events",
                "put_targets",
                f"point rule '{name}' at the topic",
                Rule=name,
                Targets=[{"Id": TARGET_ID, "Arn": wanted["topic_arn"]}],
            )
        if tag_changes[1]:
            s.call(
                "events", "untag_resource", f"untag rule '{name}'", ResourceARN=arn, TagKeys=tag_changes[1]
            )
        if tag_changes[0]:
            s.call(
                "events",
                "tag_resource",
                f"tag rule '{name}'",
                ResourceARN=arn,
                Tags=[{"Key": k, "Value": v} for k, v in tag_changes[0].items()],
            )
    new_tags = (
        after_tags(tags, tag_changes) if rule else {str(k): str(v) for k, v in (wanted["tags"] or {}).items()}
    )
    after = {"event_pattern": pattern, "state": "ENABLED", "targets": [wanted["topic_arn"]], "tags": new_tags}
    return result(changed, before, after, name=name, arn=arn)


def ensure_guardduty(s: Services, wanted: dict[str, Any]) -> dict[str, Any]:
    detector = ensure_detector(s, wanted)
    if wanted["findings_rule"] is None:
        return detector
    rule = ensure_findings_rule(s, wanted["findings_rule"])
    before, after = detector.pop("diff")
    rule_before, rule_after = rule.pop("diff")
    return {
        **detector,
        "changed": detector["changed"] or rule["changed"],
        "findings_rule": rule,
        "diff": (
            {"detector": before, "findings_rule": rule_before},
            {"detector": after, "findings_rule": rule_after},
        ),
    }


# --- IAM Access Analyzer ------------------------------------------------------------------------------------


def ensure_analyzer(s: Services, wanted: dict[str, Any]) -> dict[str, Any]:
    analyzers = s.paginate(
        "accessanalyzer", "list_analyzers", "analyzers", "list the analyzers", type="ACCOUNT"
    )
    ours = next((a for a in analyzers if a["name"] == wanted["name"]), None)
    other = next((a for a in analyzers if a["name"] != wanted["name"]), None)
    tags = dict((ours or {}).get("tags") or {})
    before = ours and {"name": ours["name"], "status": ours.get("status"), "tags": tags}
    if wanted["state"] == "absent":
        changed = ours is not None
        if changed and not s.check:
            s.call(
                "accessanalyzer",
                "delete_analyzer",
                f"delete analyzer '{wanted['name']}'",
                analyzerName=wanted["name"],
            )
        return result(changed, before, None, name=wanted["name"], arn=None, adopted=False)
    if ours is None and other is not None:
        # AWS allows one account analyzer per Region: another name's is kept as it is (IAM.28 is met)
        facts = {"name": other["name"], "arn": other["arn"], "status": other.get("status"), "adopted": True}
        return result(False, None, None, **facts)
    tag_changes = s.tag_changes(tags, wanted["tags"]) if ours else ({}, [])
    changed = bool(ours is None or tag_changes[0] or tag_changes[1])
    arn = (
        ours["arn"]
        if ours
        else f"arn:{s.partition}:access-analyzer:{s.region}:{s.account()}:analyzer/{wanted['name']}"
    )
    if changed and not s.check:
        if ours is None:
            request: dict[str, Any] = {"analyzerName": wanted["name"], "type": "ACCOUNT"}
            if wanted["tags"]:
                request["tags"] = {str(k): str(v) for k, v in wanted["tags"].items()}
            arn = s.call(
                "accessanalyzer", "create_analyzer", f"create analyzer '{wanted['name']}'", **request
            )["arn"]
        if tag_changes[1]:
            s.call(
                "accessanalyzer",
                "untag_resource",
                "untag the analyzer",
                resourceArn=arn,
                tagKeys=tag_changes[1],
            )
        if tag_changes[0]:
            s.call("accessanalyzer", "tag_resource", "tag the analyzer", resourceArn=arn, tags=tag_changes[0])
    new_tags = (
        after_tags(tags, tag_changes) if ours else {str(k): str(v) for k, v in (wanted["tags"] or {}).items()}
    )
    after = {"name": wanted["name"], "status": "ACTIVE", "tags": new_tags}
    return result(changed, before, after, name=wanted["name"], arn=arn, adopted=False)


# --- main ---------------------------------------------------------------------------------------------------

# In this order: Config records before Security Hub enables standards that need it.
SERVICES = (
    ("ebs_encryption", ensure_ebs),
    ("config", ensure_config),
    ("security_hub", ensure_security_hub),
    ("guardduty", ensure_guardduty),
    ("access_analyzer", ensure_analyzer),
)


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    services = Services(module)
    output: dict[str, Any] = {"changed": False}
    diff: dict[str, dict[str, Any]] = {"before": {}, "after": {}}
    for name, ensure in SERVICES:
        if module.params[name] is None:
            continue
        entry = ensure(services, module.params[name])
        before, after = entry.pop("diff")
        output[name] = entry
        output["changed"] = output["changed"] or entry["changed"]
        if entry["changed"]:
            diff["before"][name], diff["after"][name] = before, after
    if module._diff:
        output["diff"] = diff
    module.exit_json(**output)


if __name__ == "__main__":
    main()
