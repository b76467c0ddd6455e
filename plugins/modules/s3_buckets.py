#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_buckets
short_description: Converge a list of S3 buckets and their settings in one call, with check mode
version_added: 0.2.0
description:
  - Creates the listed buckets if needed and sets, on each, public access block, object ownership,
    versioning, default encryption, policy, tags, lifecycle rules, server access logging and a
    request-metrics configuration; idempotently, with a real check mode (reads only, truthful
    C(changed)) and diff.
  - One module run for all the buckets of a role, in place of M(amazon.aws.s3_bucket) (no check
    mode) followed by one module per setting. Each setting is read once per bucket, and only the
    settings a bucket entry names (an option left out, or null, is neither read nor changed).
  - Buckets are handled in list order, so a bucket that receives another one's server access logs
    must come first (checked before any call).
  - A new bucket is created with C(ObjectOwnership) in C(CreateBucket), in the module's region
    (no C(LocationConstraint) in us-east-1), then the module waits until C(HeadBucket) finds it
    (bucket configuration is eventually consistent,
    U(https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel)) and
    writes its settings in this order - public access block (before the policy), versioning,
    encryption, policy, tags, lifecycle, logging, request metrics. Its settings are not read back
    except to wait for versioning, policy and tags to be visible.
  - Server access logging uses C(PutBucketLogging) alone, never an ACL call (a C(BucketOwnerEnforced)
    target refuses ACLs); the target bucket's policy must admit C(logging.s3.amazonaws.com).
  - Buckets are never deleted.
options:
  buckets:
    description: The buckets, in the order they are converged.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Bucket name.
        type: str
        required: true
      public_access_block:
        description: The four Block Public Access settings (each true by default, also when left out).
        type: dict
        suboptions:
          block_public_acls:
            description: Reject requests that carry public ACLs.
            type: bool
            default: true
          ignore_public_acls:
            description: Ignore public ACLs.
            type: bool
            default: true
          block_public_policy:
            description: Reject bucket policies that grant public access.
            type: bool
            default: true
          restrict_public_buckets:
            description: Only AWS services and the owner's account may reach a bucket with a public policy.
            type: bool
            default: true
      object_ownership:
        description: Object Ownership; C(BucketOwnerEnforced) disables ACLs.
        type: str
        choices: [BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter]
        default: BucketOwnerEnforced
      versioning:
        description: Versioning enabled; C(false) suspends it on a bucket that had it.
        type: bool
        default: true
      encryption:
        description: Default server-side encryption (SSE-S3 without Bucket Key when left out).
        type: dict
        suboptions:
          algorithm:
            description: Default encryption algorithm.
            type: str
            choices: [AES256, "aws:kms", "aws:kms:dsse"]
            default: AES256
          kms_key_id:
            description: KMS key id or ARN; only with C(aws:kms) or C(aws:kms:dsse).
            type: str
          bucket_key_enabled:
            description: S3 Bucket Keys for new objects (only useful with SSE-KMS).
            type: bool
            default: false
      policy:
        description: The bucket policy (a dict or JSON string), compared as a document. Left alone when null.
        type: json
      tags:
        description: Tags. Left alone when null.
        type: dict
      purge_tags:
        description: Remove tags not in O(buckets[].tags).
        type: bool
        default: true
      lifecycle_rules:
        description:
          - The complete lifecycle configuration; rules not listed are removed, an empty list removes
            the configuration. Left alone when null.
        type: list
        elements: dict
        suboptions:
          id:
            description: Unique rule id.
            type: str
            required: true
          prefix:
            description: Object key prefix the rule applies to; empty for the whole bucket.
            type: str
            default: ""
          enabled:
            description: Whether the rule is enabled.
            type: bool
            default: true
          expiration_days:
            description: Expire current object versions this many days after creation.
            type: int
          noncurrent_version_expiration_days:
            description: Permanently delete noncurrent versions this many days after they become noncurrent.
            type: int
          abort_incomplete_multipart_upload_days:
            description: Abort incomplete multipart uploads this many days after they start.
            type: int
      logging:
        description:
          - Server access logging to a target bucket (same account and region) with C(PutBucketLogging)
            only. Left alone when null.
        type: dict
        suboptions:
          target_bucket:
            description: Bucket that receives the log objects; if it is in O(buckets), it must come earlier.
            type: str
            required: true
          target_prefix:
            description: Key prefix of the log objects.
            type: str
            default: ""
      request_metrics_id:
        description:
          - Id of a CloudWatch request-metrics configuration for the entire bucket (no filter).
            Left alone when null.
        type: str
author:
  - Secureinfra Platform Team (@secureinfra)
notes:
  - A bucket whose name another account owns fails with that bucket and the error S3 gives.
  - IAM actions used - s3:ListBucket (HeadBucket, after a creation), s3:CreateBucket,
    s3:PutBucketOwnershipControls, s3:Get/PutBucketVersioning, s3:Get/PutBucketPublicAccessBlock,
    s3:Get/PutBucketOwnershipControls, s3:Get/PutEncryptionConfiguration, s3:Get/PutBucketPolicy,
    s3:Get/PutBucketTagging, s3:Get/PutLifecycleConfiguration, s3:GetBucketLogging,
    s3:PutBucketLogging, s3:Get/PutMetricsConfiguration.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: A log bucket, then a data bucket that logs to it, with request metrics
  secureinfra.baseline.s3_buckets:
    buckets:
      - name: my-logs-bucket
        policy: "{{ lookup('ansible.builtin.template', 'log_bucket_policy.json.j2') }}"
        tags: {Purpose: logs}
        lifecycle_rules:
          - id: expire-access-logs
            expiration_days: 365
      - name: my-data-bucket
        policy: "{{ lookup('ansible.builtin.template', 'data_bucket_policy.json.j2') }}"
        tags: {Purpose: data}
        lifecycle_rules:
          - id: expire-noncurrent-versions
            noncurrent_version_expiration_days: 90
        logging:
          target_bucket: my-logs-bucket
          target_prefix: s3-access/data/
        request_metrics_id: EntireBucket
"""

RETURN = r"""
buckets:
  description: Per bucket, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Bucket name.
      type: str
    existed:
      description: Whether the bucket existed before the run.
      type: bool
    changes:
      description:
        - The settings that were (in check mode, would be) changed, C(bucket) for a creation.
        - Among bucket, public_access_block, object_ownership, versioning, encryption, policy, tags,
          lifecycle, logging, request_metrics.
      type: list
      elements: str
    settings:
      description: The managed settings after the run (predicted in check mode).
      type: dict
msg:
  description: What changed (would change), per bucket, e.g. C(my-bucket - would update versioning).
  returned: always
  type: str
  sample: "my-logs-bucket: would update versioning; my-data-bucket: would create"
diff:
  description: The managed settings of each bucket before and after, keyed by bucket name.
  returned: when diff mode is enabled
  type: dict
"""

import contextlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.s3 import get_s3_waiter
from ansible_collections.secureinfra.baseline.plugins.module_utils import s3_settings as s3s
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

View = dict[str, Any]
# The order settings are written in: public access block before the policy (a public policy
# would be refused after), ownership before anything that could carry an ACL.
SETTINGS = (
    "public_access_block",
    "object_ownership",
    "versioning",
    "encryption",
    "policy",
    "tags",
    "lifecycle",
    "logging",
    "request_metrics",
)
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
SETTLE_ATTEMPTS = 12  # read-after-write: as amazon.aws.s3_bucket, 12 reads 5 s apart at most
SETTLE_DELAY = 5.0


class BucketMissing(Exception):
    """The first read of a bucket found no bucket (NoSuchBucket)."""


def error_code(error: Exception) -> str:
    return (getattr(error, "response", None) or {}).get("Error", {}).get("Code", "")


# --- options -------------------------------------------------------------------------------


def managed(spec: dict[str, Any]) -> list[str]:
    """The settings a bucket entry manages (an option left out is neither read nor written)."""
    optional = {
        "policy": spec.get("policy") is not None,
        "tags": spec.get("tags") is not None,
        "lifecycle": spec.get("lifecycle_rules") is not None,
        "logging": spec.get("logging") is not None,
        "request_metrics": bool(spec.get("request_metrics_id")),
    }
    return [setting for setting in SETTINGS if optional.get(setting, True)]


def validation_errors(buckets: list[dict[str, Any]]) -> list[str]:
    """Problems found before any AWS call, each naming the bucket and the option."""
    errors: list[str] = []
    seen: list[str] = []
    for spec in buckets:
        name = spec["name"]
        where = f"bucket {name}: "
        if not BUCKET_NAME.match(name):
            errors.append(f"{where}name must be 3-63 lower-case letters, digits, dots or dashes")
        if name in seen:
            errors.append(f"{where}listed twice")
        errors += s3s.encryption_errors(spec["encryption"], where + "encryption: ")
        errors += s3s.lifecycle_errors(spec.get("lifecycle_rules") or [], where + "lifecycle_rules: ")
        errors += _policy_errors(spec, where)
        target = (spec.get("logging") or {}).get("target_bucket")
        if target == name:
            errors.append(f"{where}logging.target_bucket is the bucket itself; use a separate log bucket")
        elif target and target not in seen and any(other["name"] == target for other in buckets):
            errors.append(f"{where}logging.target_bucket {target} must come before it in buckets")
        seen.append(name)
    return errors


def _policy_errors(spec: dict[str, Any], where: str) -> list[str]:
    try:
        s3s.parse_policy(spec.get("policy"))
    except ValueError as e:
        return [f"{where}policy is not a JSON document: {e}"]
    return []


def desired(spec: dict[str, Any], current: View) -> View:
    """The wanted view of every managed setting (`current` for what depends on it)."""
    encryption = spec["encryption"]
    wanted: View = {
        "public_access_block": {
            key: bool(spec["public_access_block"][key]) for key in s3s.PUBLIC_ACCESS_BLOCK_FIELDS
        },
        "object_ownership": spec["object_ownership"],
        "versioning": s3s.versioning_wanted(spec["versioning"], current.get("versioning", "Disabled")),
        "encryption": {key: encryption.get(key) for key in ("algorithm", "kms_key_id", "bucket_key_enabled")},
        "policy": s3s.parse_policy(spec.get("policy")),
        "tags": s3s.tags_wanted(current.get("tags") or {}, spec.get("tags") or {}, spec["purge_tags"]),
        "lifecycle": s3s.lifecycle_view(
            [s3s.lifecycle_rule(rule) for rule in spec.get("lifecycle_rules") or []]
        ),
        "logging": s3s.logging_view(**_logging_args(spec.get("logging"))),
        "request_metrics": s3s.metrics_config(spec.get("request_metrics_id") or ""),
    }
    return {setting: wanted[setting] for setting in managed(spec)}


def _logging_args(logging: dict[str, Any] | None) -> dict[str, str]:
    logging = logging or {}
    return {
        "target_bucket": logging.get("target_bucket") or "",
        "target_prefix": logging.get("target_prefix") or "",
    }


def differs(setting: str, current: Any, wanted: Any) -> bool:
    if setting == "policy":
        return s3s.policy_differs(current, wanted)
    return current != wanted


def new_bucket_writes(wanted: View) -> list[str]:
    """The settings a new bucket needs written (ownership comes with CreateBucket)."""
    empty = {"tags": {}, "lifecycle": [], "policy": None, "versioning": "Disabled"}
    return [s for s in wanted if s != "object_ownership" and not (s in empty and wanted[s] == empty[s])]


# --- reads ---------------------------------------------------------------------------------


class Buckets:
    """The S3 calls of one run, with errors that name the bucket and the setting."""

    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        self.module = module
        self.client = client
        # writes right after a CreateBucket may still see NoSuchBucket (eventual consistency)
        self.write_retry = AWSRetry.jittered_backoff(
            catch_extra_error_codes=["NoSuchBucket", "OperationAborted"]
        )

    def fail(self, error: Exception, bucket: str, action: str) -> None:
        self.module.fail_json_aws(error, msg=f"bucket {bucket}: failed to {action}")

    def read(self, bucket: str, setting: str, call: Callable[[], Any], missing: tuple[str, ...]) -> Any:
        """Call a Get*: None for the `missing` codes; BucketMissing for NoSuchBucket."""
        try:
            return call()
        except ClientError as e:
            if error_code(e) in missing:
                return None
            if error_code(e) == "NoSuchBucket":
                raise BucketMissing(bucket) from e
            self.fail(e, bucket, f"read its {setting}")
        except BotoCoreError as e:
            self.fail(e, bucket, f"read its {setting}")
        return None

    def current(self, bucket: str, settings: list[str], metrics_id: str) -> View | None:
        """The current view of `settings` (versioning first: it finds a missing bucket), or None."""
        try:
            return {
                setting: self.read_setting(bucket, setting, metrics_id)
                for setting in ["versioning", *(s for s in settings if s != "versioning")]
            }
        except BucketMissing:
            return None

    def read_setting(self, bucket: str, setting: str, metrics_id: str) -> Any:
        c, b = self.client, {"Bucket": bucket, "aws_retry": True}
        readers: dict[str, tuple[Callable[[], Any], tuple[str, ...], Callable[[Any], Any]]] = {
            "versioning": (lambda: c.get_bucket_versioning(**b), (), s3s.versioning_view),
            "public_access_block": (
                lambda: c.get_public_access_block(**b)["PublicAccessBlockConfiguration"],
                s3s.PUBLIC_ACCESS_BLOCK_NOT_FOUND,
                s3s.public_access_block_view,
            ),
            "object_ownership": (
                lambda: c.get_bucket_ownership_controls(**b),
                s3s.OWNERSHIP_NOT_FOUND,
                s3s.ownership_view,
            ),
            "encryption": (
                lambda: c.get_bucket_encryption(**b),
                s3s.ENCRYPTION_NOT_FOUND,
                s3s.encryption_view,
            ),
            "policy": (lambda: c.get_bucket_policy(**b)["Policy"], s3s.POLICY_NOT_FOUND, s3s.parse_policy),
            "tags": (lambda: c.get_bucket_tagging(**b)["TagSet"], s3s.TAGS_NOT_FOUND, s3s.tags_from_api),
            "lifecycle": (
                lambda: c.get_bucket_lifecycle_configuration(**b).get("Rules"),
                s3s.LIFECYCLE_NOT_FOUND,
                s3s.lifecycle_view,
            ),
            "logging": (lambda: c.get_bucket_logging(**b), (), s3s.logging_view_from_aws),
            "request_metrics": (
                lambda: c.get_bucket_metrics_configuration(Id=metrics_id, **b).get("MetricsConfiguration"),
                s3s.METRICS_NOT_FOUND,
                lambda config: _metrics_view(config, metrics_id),
            ),
        }
        call, missing, view = readers[setting]
        return view(self.read(bucket, setting.replace("_", " "), call, missing))

    # --- writes ----------------------------------------------------------------------------

    def call(self, bucket: str, action: str, operation: str, **kwargs: Any) -> Any:
        try:
            return self.write_retry(getattr(self.client, operation))(Bucket=bucket, **kwargs)
        except (BotoCoreError, ClientError) as e:
            self.fail(e, bucket, action)
        return None

    def create(self, bucket: str, ownership: str) -> None:
        params: dict[str, Any] = {"ObjectOwnership": ownership}
        region = self.module.region
        if region and region != "us-east-1":  # us-east-1 takes no LocationConstraint
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(Bucket=bucket, **params)
        except ClientError as e:
            if error_code(e) != "BucketAlreadyOwnedByYou":  # created by a concurrent run: go on
                self.fail(e, bucket, "create it (the name may belong to another account)")
        except BotoCoreError as e:
            self.fail(e, bucket, "create it")
        try:
            get_s3_waiter(self.client, "bucket_exists").wait(Bucket=bucket)
        except WaiterError as e:
            self.fail(e, bucket, "see it after its creation (HeadBucket)")

    def write(self, bucket: str, setting: str, wanted: Any) -> None:
        action = f"set its {setting.replace('_', ' ')}"
        writers: dict[str, Callable[[], Any]] = {
            "public_access_block": lambda: self.call(
                bucket,
                action,
                "put_public_access_block",
                PublicAccessBlockConfiguration=s3s.public_access_block_to_api(wanted),
            ),
            "object_ownership": lambda: self.call(
                bucket,
                action,
                "put_bucket_ownership_controls",
                OwnershipControls={"Rules": [{"ObjectOwnership": wanted}]},
            ),
            "versioning": lambda: self.call(
                bucket, action, "put_bucket_versioning", VersioningConfiguration={"Status": wanted}
            ),
            "encryption": lambda: self.call(
                bucket,
                action,
                "put_bucket_encryption",
                ServerSideEncryptionConfiguration={"Rules": [s3s.encryption_rule(wanted)]},
            ),
            "policy": lambda: self._write_policy(bucket, action, wanted),
            "tags": lambda: self._write_tags(bucket, action, wanted),
            "lifecycle": lambda: self._write_lifecycle(bucket, action, wanted),
            "logging": lambda: self.call(
                bucket, action, "put_bucket_logging", BucketLoggingStatus=s3s.logging_status(wanted)
            ),
            "request_metrics": lambda: self.call(
                bucket,
                action,
                "put_bucket_metrics_configuration",
                Id=wanted["id"],
                MetricsConfiguration=s3s.metrics_to_api(wanted),
            ),
        }
        writers[setting]()
        if setting in ("versioning", "policy", "tags"):
            self.settle(bucket, setting, wanted)

    def _write_policy(self, bucket: str, action: str, wanted: dict[str, Any] | None) -> None:
        if wanted is None:
            self.call(bucket, action, "delete_bucket_policy")
        else:
            self.call(bucket, action, "put_bucket_policy", Policy=json.dumps(wanted))

    def _write_tags(self, bucket: str, action: str, wanted: dict[str, str]) -> None:
        if wanted:
            self.call(bucket, action, "put_bucket_tagging", Tagging={"TagSet": s3s.tags_to_api(wanted)})
        else:
            self.call(bucket, action, "delete_bucket_tagging")

    def _write_lifecycle(self, bucket: str, action: str, wanted: list[dict[str, Any]]) -> None:
        if wanted:
            self.call(
                bucket, action, "put_bucket_lifecycle_configuration", LifecycleConfiguration={"Rules": wanted}
            )
        else:
            self.call(bucket, action, "delete_bucket_lifecycle")

    def settle(self, bucket: str, setting: str, wanted: Any) -> None:
        """Bucket configuration is eventually consistent: read until the write shows, as
        amazon.aws.s3_bucket does for versioning, policy and tags."""
        for _attempt in range(SETTLE_ATTEMPTS):
            with contextlib.suppress(BucketMissing):
                if not differs(setting, self.read_setting(bucket, setting, ""), wanted):
                    return
            time.sleep(SETTLE_DELAY)
        self.module.fail_json(
            msg=f"bucket {bucket}: its {setting.replace('_', ' ')} did not show the change in time"
        )


def _metrics_view(config: dict[str, Any] | None, metrics_id: str) -> View | None:
    # an answer without the requested Id counts as none (some emulators answer without storing)
    if not config or config.get("Id") != metrics_id:
        return None
    return s3s.metrics_from_api(config)


# --- one bucket ----------------------------------------------------------------------------


def converge(api: Buckets, spec: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """Read, compare and (unless in check mode) write one bucket; its result entry and diff."""
    name = spec["name"]
    settings = managed(spec)
    current = api.current(name, settings, spec.get("request_metrics_id") or "")
    wanted = desired(spec, current or {})
    if current is None:
        changes = ["bucket"]
        writes = new_bucket_writes(wanted)
    else:
        changes = writes = [s for s in settings if differs(s, current.get(s), wanted[s])]
    if not check_mode:
        if current is None:
            api.create(name, spec["object_ownership"])
        for setting in writes:
            api.write(name, setting, wanted[setting])
    before = {} if current is None else {s: current[s] for s in settings}
    entry = {"name": name, "existed": current is not None, "changes": changes, "settings": wanted}
    return {"entry": entry, "before": before, "after": wanted}


def summary(entries: list[dict[str, Any]], check_mode: bool) -> str:
    would = "would " if check_mode else ""
    parts = []
    for entry in entries:
        if entry["changes"] == ["bucket"]:
            parts.append(f"{entry['name']}: {would}create" if check_mode else f"{entry['name']}: created")
        elif entry["changes"]:
            verb = f"{would}update" if check_mode else "updated"
            parts.append(f"{entry['name']}: {verb} {', '.join(entry['changes'])}")
    return "; ".join(parts) or "no change"


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    api = Buckets(module, client)
    outcomes = [converge(api, spec, module.check_mode) for spec in module.params["buckets"]]
    entries = [outcome["entry"] for outcome in outcomes]
    result: dict[str, Any] = {
        "changed": any(entry["changes"] for entry in entries),
        "buckets": entries,
        "msg": summary(entries, module.check_mode),
    }
    if module._diff:
        result["diff"] = {
            "before": {o["entry"]["name"]: o["before"] for o in outcomes},
            "after": {o["entry"]["name"]: o["after"] for o in outcomes},
        }
    return result


def argument_spec() -> dict[str, Any]:
    flag = {"type": "bool", "default": True}
    rule = {
        "id": {"type": "str", "required": True},
        "prefix": {"type": "str", "default": ""},
        "enabled": {"type": "bool", "default": True},
        "expiration_days": {"type": "int"},
        "noncurrent_version_expiration_days": {"type": "int"},
        "abort_incomplete_multipart_upload_days": {"type": "int"},
    }
    bucket = {
        "name": {"type": "str", "required": True},
        "public_access_block": {
            "type": "dict",
            "apply_defaults": True,
            "options": {key: dict(flag) for key in s3s.PUBLIC_ACCESS_BLOCK_FIELDS},
        },
        "object_ownership": {
            "type": "str",
            "choices": ["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"],
            "default": "BucketOwnerEnforced",
        },
        "versioning": {"type": "bool", "default": True},
        "encryption": {
            "type": "dict",
            "apply_defaults": True,
            "options": {
                "algorithm": {
                    "type": "str",
                    "choices": ["AES256", "aws:kms", "aws:kms:dsse"],
                    "default": "AES256",
                },
                "kms_key_id": {"type": "str"},
                "bucket_key_enabled": {"type": "bool", "default": False},
            },
        },
        "policy": {"type": "json"},
        "tags": {"type": "dict"},
        "purge_tags": {"type": "bool", "default": True},
        "lifecycle_rules": {"type": "list", "elements": "dict", "options": rule},
        "logging": {
            "type": "dict",
            "options": {
                "target_bucket": {"type": "str", "required": True},
                "target_prefix": {"type": "str", "default": ""},
            },
        },
        "request_metrics_id": {"type": "str"},
    }
    return {"buckets": {"type": "list", "elements": "dict", "required": True, "options": bucket}}


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    errors = validation_errors(module.params["buckets"])
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("s3", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
