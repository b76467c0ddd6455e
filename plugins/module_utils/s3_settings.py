# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)
"""The settings of an S3 bucket as comparable views, and the shapes the S3 API takes.

Shared by the collection's S3 modules (s3_buckets, s3_bucket_policy, s3_metrics_configuration)
and the s3_bucket_drift filter, so that every one of them decides "changed" the same way. Pure
functions: no AWS call here.

A view keeps only what the collection manages, in a form that compares equal when AWS would
behave alike (policies as documents, lifecycle rules by id, tags as a dict, and so on).
"""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

View = dict[str, Any]

# Error codes S3 answers when a setting has never been set (the bucket exists).
ENCRYPTION_NOT_FOUND = ("ServerSideEncryptionConfigurationNotFoundError",)
LIFECYCLE_NOT_FOUND = ("NoSuchLifecycleConfiguration", "NoSuchBucketLifecycle")
POLICY_NOT_FOUND = ("NoSuchBucketPolicy",)
PUBLIC_ACCESS_BLOCK_NOT_FOUND = ("NoSuchPublicAccessBlockConfiguration",)
OWNERSHIP_NOT_FOUND = ("OwnershipControlsNotFoundError",)
TAGS_NOT_FOUND = ("NoSuchTagSet",)
METRICS_NOT_FOUND = ("NoSuchConfiguration",)

# Option name -> PublicAccessBlockConfiguration key.
PUBLIC_ACCESS_BLOCK_FIELDS = {
    "block_public_acls": "BlockPublicAcls",
    "ignore_public_acls": "IgnorePublicAcls",
    "block_public_policy": "BlockPublicPolicy",
    "restrict_public_buckets": "RestrictPublicBuckets",
}
LIFECYCLE_ACTIONS = (
    "expiration_days",
    "noncurrent_version_expiration_days",
    "abort_incomplete_multipart_upload_days",
)


# --- public access block, ownership, versioning, tags ----------------------------------------


def public_access_block_view(config: dict[str, Any] | None) -> dict[str, bool]:
    """The four flags of a PublicAccessBlockConfiguration (all False when there is none)."""
    config = config or {}
    return {option: config.get(key) is True for option, key in PUBLIC_ACCESS_BLOCK_FIELDS.items()}


def public_access_block_to_api(view: dict[str, bool]) -> dict[str, bool]:
    return {key: bool(view[option]) for option, key in PUBLIC_ACCESS_BLOCK_FIELDS.items()}


def ownership_view(response: dict[str, Any] | None) -> str | None:
    """ObjectOwnership of a GetBucketOwnershipControls answer (None when there are no controls)."""
    rules = ((response or {}).get("OwnershipControls") or {}).get("Rules") or []
    return rules[0].get("ObjectOwnership") if rules else None


def versioning_view(response: dict[str, Any] | None) -> str:
    """Enabled, Suspended, or Disabled for a bucket that was never versioned."""
    return (response or {}).get("Status") or "Disabled"


def versioning_wanted(enabled: bool, current: str) -> str:
    """Versioning cannot go back to Disabled: turning it off suspends it, if it was ever on."""
    if enabled:
        return "Enabled"
    return "Disabled" if current == "Disabled" else "Suspended"


def tags_from_api(tag_set: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag.get("Key", ""): tag.get("Value", "") for tag in tag_set or []}


def tags_to_api(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def tags_wanted(current: dict[str, str], tags: dict[str, Any], purge: bool) -> dict[str, str]:
    wanted = {str(key): str(value) for key, value in tags.items()}
    return wanted if purge else {**current, **wanted}


# --- policy --------------------------------------------------------------------------------


def parse_policy(value: Any) -> dict[str, Any] | None:
    """A policy given or returned as a JSON string or a dict; None or empty for no policy."""
    if not value:
        return None
    return json.loads(value) if isinstance(value, str) else value


def policy_differs(current: Any, wanted: Any) -> bool:
    """amazon.aws.s3_bucket's comparison: as documents ("*" == {"AWS": "*"}, order-insensitive)."""
    current, wanted = parse_policy(current), parse_policy(wanted)
    if current is None or wanted is None:
        return current != wanted
    return bool(compare_policies(current, wanted))


# --- default encryption --------------------------------------------------------------------


def encryption_view(response: dict[str, Any] | None) -> View:
    """The first default-encryption rule of a GetBucketEncryption answer (None: no rule)."""
    rules = ((response or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or [{}]
    default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
    return {
        "algorithm": default.get("SSEAlgorithm"),
        "kms_key_id": default.get("KMSMasterKeyID"),
        "bucket_key_enabled": bool(rules[0].get("BucketKeyEnabled", False)),
    }


def encryption_rule(view: View) -> dict[str, Any]:
    """The PutBucketEncryption rule of a view."""
    default: dict[str, Any] = {"SSEAlgorithm": view["algorithm"]}
    if view.get("kms_key_id"):
        default["KMSMasterKeyID"] = view["kms_key_id"]
    return {
        "ApplyServerSideEncryptionByDefault": default,
        "BucketKeyEnabled": bool(view["bucket_key_enabled"]),
    }


def encryption_errors(view: View, where: str = "") -> list[str]:
    if view.get("kms_key_id") and view.get("algorithm") == "AES256":
        return [f"{where}kms_key_id can only be set with algorithm aws:kms or aws:kms:dsse"]
    return []


# --- lifecycle -----------------------------------------------------------------------------


def lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One rule in the collection's option form (id, prefix, enabled, *_days) in the API's shape."""
    api: dict[str, Any] = {
        "ID": rule["id"],
        "Status": "Enabled" if rule.get("enabled", True) else "Disabled",
        "Filter": {"Prefix": rule.get("prefix") or ""},
    }
    if rule.get("expiration_days") is not None:
        api["Expiration"] = {"Days": int(rule["expiration_days"])}
    if rule.get("noncurrent_version_expiration_days") is not None:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["noncurrent_version_expiration_days"])
        }
    if rule.get("abort_incomplete_multipart_upload_days") is not None:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["abort_incomplete_multipart_upload_days"])
        }
    return api


def normalize_lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """Keep only the fields the collection manages, in a comparable form."""
    prefix = rule.get("Filter", {}).get("Prefix", rule.get("Prefix", "")) or ""
    out: dict[str, Any] = {
        "ID": rule.get("ID", ""),
        "Status": rule.get("Status"),
        "Filter": {"Prefix": prefix},
    }
    days = rule.get("Expiration", {}).get("Days")
    if days is not None:
        out["Expiration"] = {"Days": int(days)}
    noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
    if noncurrent is not None:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent)}
    abort = rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
    if abort is not None:
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(abort)}
    return out


def lifecycle_view(api_rules: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Rules in API shape (read or wanted), normalised and sorted by id."""
    return sorted((normalize_lifecycle_rule(rule) for rule in api_rules or []), key=lambda rule: rule["ID"])


def lifecycle_errors(rules: list[dict[str, Any]], where: str = "") -> list[str]:
    """Problems with rules in option form that S3 would refuse (or that do nothing)."""
    errors: list[str] = []
    ids = [rule["id"] for rule in rules]
    if len(set(ids)) != len(ids):
        errors.append(f"{where}Lifecycle rule ids must be unique, got {ids}")
    for rule in rules:
        values = [rule.get(action) for action in LIFECYCLE_ACTIONS if rule.get(action) is not None]
        if not values:
            errors.append(
                f"{where}Lifecycle rule {rule['id']} sets no action ({', '.join(LIFECYCLE_ACTIONS)})"
            )
        elif any(int(value) < 1 for value in values):
            errors.append(f"{where}Lifecycle rule {rule['id']}: day counts must be at least 1")
    return errors


# --- server access logging -----------------------------------------------------------------


def logging_view(
    target_bucket: str, target_prefix: str, key_format: str = "simple", date_source: str = "EventTime"
) -> View:
    view: View = {
        "target_bucket": target_bucket,
        "target_prefix": target_prefix or "",
        "target_object_key_format": key_format,
    }
    if key_format == "partitioned":
        view["partition_date_source"] = date_source
    return view


def logging_view_from_aws(status: dict[str, Any] | None) -> View:
    """Our view of a GetBucketLogging answer ({} when logging is off)."""
    enabled = (status or {}).get("LoggingEnabled")
    if not enabled:
        return {}
    key_format = enabled.get("TargetObjectKeyFormat") or {}
    partitioned = "PartitionedPrefix" in key_format
    return logging_view(
        enabled.get("TargetBucket", ""),
        enabled.get("TargetPrefix", ""),
        "partitioned" if partitioned else "simple",
        (key_format.get("PartitionedPrefix") or {}).get("PartitionDateSource", "EventTime"),
    )


def logging_status(view: View) -> dict[str, Any]:
    """The BucketLoggingStatus that PutBucketLogging takes (no TargetGrants: no ACL, ever)."""
    if not view:
        return {}
    enabled: dict[str, Any] = {"TargetBucket": view["target_bucket"], "TargetPrefix": view["target_prefix"]}
    if view["target_object_key_format"] == "partitioned":
        enabled["TargetObjectKeyFormat"] = {
            "PartitionedPrefix": {"PartitionDateSource": view["partition_date_source"]}
        }
    return {"LoggingEnabled": enabled}


# --- request metrics -----------------------------------------------------------------------


def metrics_config(
    config_id: str,
    prefix: str | None = None,
    tags: dict[str, Any] | None = None,
    access_point: str | None = None,
) -> View:
    """A metrics configuration, normalised (empty filters are no filters)."""
    return {
        "id": config_id,
        "filter_prefix": prefix or None,
        "filter_tags": {str(key): str(value) for key, value in (tags or {}).items()},
        "filter_access_point": access_point or None,
    }


def metrics_from_api(api_config: dict[str, Any]) -> View:
    """Normalise a MetricsConfiguration as returned by GetBucketMetricsConfiguration."""
    api_filter = api_config.get("Filter") or {}
    conditions = api_filter.get("And") or api_filter
    tags = tags_from_api(conditions.get("Tags") or [])
    if api_filter.get("Tag"):
        tags.update(tags_from_api([api_filter["Tag"]]))
    return metrics_config(
        api_config.get("Id"), conditions.get("Prefix"), tags, conditions.get("AccessPointArn")
    )


def metrics_to_api(config: View) -> dict[str, Any]:
    """The MetricsConfiguration payload of PutBucketMetricsConfiguration."""
    payload: dict[str, Any] = {"Id": config["id"]}
    prefix, access_point = config["filter_prefix"], config["filter_access_point"]
    tag_list = tags_to_api(config["filter_tags"])
    count = len(tag_list) + bool(prefix) + bool(access_point)
    if count == 1:
        if prefix:
            payload["Filter"] = {"Prefix": prefix}
        elif access_point:
            payload["Filter"] = {"AccessPointArn": access_point}
        else:
            payload["Filter"] = {"Tag": tag_list[0]}
    elif count > 1:
        conditions: dict[str, Any] = {}
        if prefix:
            conditions["Prefix"] = prefix
        if tag_list:
            conditions["Tags"] = tag_list
        if access_point:
            conditions["AccessPointArn"] = access_point
        payload["Filter"] = {"And": conditions}
    return payload
