#!/usr/bin/python
# Copyright: secureinfra platform team
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dynamodb_table
short_description: Create and update a DynamoDB table idempotently, with secure defaults
version_added: 0.1.0
description:
  - Creates a DynamoDB table, or brings an existing one in line with the requested billing mode,
    encryption, point-in-time recovery, deletion protection and tags, changing only what differs.
  - Encryption at rest with KMS, point-in-time recovery and deletion protection are on by default.
  - The key schema of an existing table cannot be changed; a differing O(hash_key_name),
    O(hash_key_type), O(range_key_name) or O(range_key_type) makes the module fail.
  - Deleting a table requires O(allow_delete=true); data stores are never deleted by default.
  - In check mode only read calls are made.
author:
  - Secureinfra Platform Team (@secureinfra)
notes:
  - Only fields the module manages are compared, and every field of C(DescribeTable) is read
    defensively, so emulators that omit fields (for example C(TableId)) are supported.
  - Several differences on an existing table are applied with separate C(UpdateTable) calls; the
    module waits for the table to be C(ACTIVE) before each one, and before enabling point-in-time
    recovery on a new table, even when O(wait=false).
options:
  name:
    description: Name of the table.
    required: true
    type: str
  state:
    description: Whether the table should exist.
    default: present
    choices: [present, absent]
    type: str
  allow_delete:
    description:
      - Must be V(true) for O(state=absent) to delete the table; otherwise the module fails.
      - If the table has deletion protection, also set O(deletion_protection=false) to have it
        turned off before the deletion.
    default: false
    type: bool
  hash_key_name:
    description:
      - Name of the partition (hash) key attribute.
      - Required to create a table; when given for an existing table, it is checked against the table.
    type: str
  hash_key_type:
    description: Type of the partition key (string, number, binary).
    default: S
    choices: [S, N, B]
    type: str
  range_key_name:
    description: Name of the sort (range) key attribute, if the table has one.
    type: str
  range_key_type:
    description: Type of the sort key; V(S) when omitted.
    choices: [S, N, B]
    type: str
  billing_mode:
    description: Billing mode of the table.
    default: PAY_PER_REQUEST
    choices: [PAY_PER_REQUEST, PROVISIONED]
    type: str
  read_capacity:
    description:
      - Provisioned read capacity units.
      - Required with O(billing_mode=PROVISIONED), not allowed otherwise.
    type: int
  write_capacity:
    description:
      - Provisioned write capacity units.
      - Required with O(billing_mode=PROVISIONED), not allowed otherwise.
    type: int
  sse_enabled:
    description:
      - Encrypt the table with a KMS key (C(SSEType=KMS)).
      - When V(true) and O(kms_key_arn) is omitted, a new table uses the AWS managed key
        C(alias/aws/dynamodb) and the key of an existing KMS-encrypted table is left as is.
      - When V(false) the table uses the AWS owned key.
    default: true
    type: bool
  kms_key_arn:
    description:
      - ARN of a customer managed KMS key (C(arn:<partition>:kms:<region>:<account>:key/<id>)).
      - Must be the key ARN (not a key ID or alias), since it is compared with the
        C(KMSMasterKeyArn) that AWS reports.
      - Requires O(sse_enabled=true).
    type: str
  point_in_time_recovery:
    description: Enable point-in-time recovery (continuous backups).
    default: true
    type: bool
  pitr_retry_timeout:
    description:
      - For how many seconds C(UpdateContinuousBackups) is retried, with capped exponential
        backoff and jitter, while DynamoDB answers C(ContinuousBackupsUnavailableException)
        ("Backups are being enabled for the table ... Please retry later"), which it can do for a
        while after a new table becomes C(ACTIVE)
        (U(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateContinuousBackups.html#API_UpdateContinuousBackups_Errors)).
      - Any other error fails at once. C(0) does not retry.
    default: 180
    type: int
  deletion_protection:
    description: Enable deletion protection.
    default: true
    type: bool
  tags:
    description:
      - Tags for the table. When omitted, the tags of an existing table are left alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags) (tags starting with C(aws:) are never removed).
    default: true
    type: bool
  wait:
    description: Wait until the table is C(ACTIVE) (or gone, for O(state=absent)).
    default: true
    type: bool
  wait_timeout:
    description: How long to wait, in seconds.
    default: 600
    type: int
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: On-demand table, encrypted, PITR and deletion protection on (the defaults)
  secureinfra.baseline.dynamodb_table:
    name: orders
    hash_key_name: pk
    range_key_name: sk
    range_key_type: N
    tags:
      owner: platform

- name: Provisioned table encrypted with a customer managed key
  secureinfra.baseline.dynamodb_table:
    name: audit
    hash_key_name: id
    billing_mode: PROVISIONED
    read_capacity: 5
    write_capacity: 5
    kms_key_arn: arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555

- name: Delete a table (deletion protection is turned off first)
  secureinfra.baseline.dynamodb_table:
    name: scratch
    state: absent
    allow_delete: true
    deletion_protection: false
"""

RETURN = r"""
table:
  description:
    - The table after the run (predicted in check mode). Empty when the table is absent.
  returned: always
  type: dict
  contains:
    name:
      description: Table name.
      type: str
      sample: orders
    arn:
      description: Table ARN (null for a table that would be created in check mode).
      type: str
      sample: arn:aws:dynamodb:eu-west-1:123456789012:table/orders
    status:
      description: Table status.
      type: str
      sample: ACTIVE
    key_schema:
      description: Key attributes of the table.
      type: list
      elements: dict
      sample: [{"attribute_name": "pk", "key_type": "HASH", "attribute_type": "S"}]
    hash_key_name:
      description: Partition key name.
      type: str
    hash_key_type:
      description: Partition key type.
      type: str
    range_key_name:
      description: Sort key name, or null.
      type: str
    range_key_type:
      description: Sort key type, or null.
      type: str
    billing_mode:
      description: Billing mode.
      type: str
      sample: PAY_PER_REQUEST
    read_capacity:
      description: Provisioned read capacity (null for on-demand tables).
      type: int
    write_capacity:
      description: Provisioned write capacity (null for on-demand tables).
      type: int
    sse_enabled:
      description: Whether the table is encrypted with a KMS key.
      type: bool
    sse_type:
      description: Encryption type reported by AWS, or null.
      type: str
      sample: KMS
    kms_key_arn:
      description: ARN of the KMS key, or null.
      type: str
    point_in_time_recovery:
      description: Whether point-in-time recovery is enabled.
      type: bool
    deletion_protection:
      description: Whether deletion protection is enabled.
      type: bool
    tags:
      description: Tags of the table.
      type: dict
diff:
  description: Managed settings before and after the run, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
  contains:
    before:
      description: Settings before the run (empty dict when the table did not exist).
      type: dict
    after:
      description: Settings after the run (empty dict when the table is deleted).
      type: dict
"""

import contextlib
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.secureinfra.baseline.plugins.module_utils.backoff import (
    RetryPolicy,
    call_with_backoff,
)
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

View = dict[str, Any]

KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
SSE_ON = {"ENABLED", "ENABLING", "UPDATING"}
KEY_FIELDS = ("hash_key_name", "hash_key_type", "range_key_name", "range_key_type")
WAIT_DELAY = 5


# --- validation ------------------------------------------------------------------------------


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the options that can be detected without calling AWS."""
    errors = []
    if params["state"] == "absent":
        if not params["allow_delete"]:
            errors.append(
                f"Refusing to delete DynamoDB table '{params['name']}': data stores are never deleted by "
                "default; set allow_delete: true to confirm"
            )
        return errors
    capacity = [params["read_capacity"], params["write_capacity"]]
    if params["billing_mode"] == "PAY_PER_REQUEST" and any(c is not None for c in capacity):
        errors.append("read_capacity/write_capacity can only be set with billing_mode: PROVISIONED")
    if any(c is not None and c < 1 for c in capacity):
        errors.append("read_capacity and write_capacity must be at least 1")
    if params["kms_key_arn"] and not params["sse_enabled"]:
        errors.append("kms_key_arn requires sse_enabled: true")
    if params["kms_key_arn"] and not KMS_KEY_ARN.match(params["kms_key_arn"]):
        errors.append(
            f"kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), "
            f"got '{params['kms_key_arn']}'"
        )
    if params["range_key_name"] and params["range_key_name"] == params["hash_key_name"]:
        errors.append("range_key_name must differ from hash_key_name")
    if params["wait_timeout"] < 1:
        errors.append("wait_timeout must be at least 1")
    if params["pitr_retry_timeout"] < 0:
        errors.append(f"pitr_retry_timeout must be 0 or more seconds, got {params['pitr_retry_timeout']}")
    return errors


# --- reading -------------------------------------------------------------------------------


def describe_table(module: AnsibleAWSModule, client: Any, name: str) -> dict[str, Any] | None:
    try:
        return client.describe_table(aws_retry=True, TableName=name).get("Table")
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe DynamoDB table '{name}'")


def get_pitr(module: AnsibleAWSModule, client: Any, name: str) -> bool:
    try:
        response = client.describe_continuous_backups(aws_retry=True, TableName=name)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to read continuous backups of DynamoDB table '{name}'")
    description = response.get("ContinuousBackupsDescription") or {}
    pitr = description.get("PointInTimeRecoveryDescription") or {}
    return pitr.get("PointInTimeRecoveryStatus") in ("ENABLED", "ENABLING")


def get_tags(module: AnsibleAWSModule, client: Any, arn: str) -> dict[str, str]:
    tags: list[dict[str, str]] = []
    kwargs: dict[str, Any] = {"ResourceArn": arn}
    try:
        while True:
            response = client.list_tags_of_resource(aws_retry=True, **kwargs)
            tags.extend(response.get("Tags") or [])
            if not response.get("NextToken"):
                break
            kwargs["NextToken"] = response["NextToken"]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to list tags of DynamoDB table '{arn}'")
    return boto3_tag_list_to_ansible_dict(tags)


def key_attributes(table: dict[str, Any]) -> dict[str, Any]:
    types = {a.get("AttributeName"): a.get("AttributeType") for a in table.get("AttributeDefinitions") or []}
    keys = {k.get("KeyType"): k.get("AttributeName") for k in table.get("KeySchema") or []}
    hash_name, range_name = keys.get("HASH"), keys.get("RANGE")
    return {
        "hash_key_name": hash_name,
        "hash_key_type": types.get(hash_name),
        "range_key_name": range_name,
        "range_key_type": types.get(range_name) if range_name else None,
    }


def table_view(table: dict[str, Any], pitr: bool, tags: dict[str, str]) -> View:
    """Normalise DescribeTable output into the settings this module manages."""
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    throughput = table.get("ProvisionedThroughput") or {}
    sse = table.get("SSEDescription") or {}
    sse_on = sse.get("Status") in SSE_ON
    provisioned = billing == "PROVISIONED"
    return {
        "name": table.get("TableName"),
        **key_attributes(table),
        "billing_mode": billing,
        "read_capacity": throughput.get("ReadCapacityUnits") if provisioned else None,
        "write_capacity": throughput.get("WriteCapacityUnits") if provisioned else None,
        "sse_enabled": sse_on,
        "kms_key_arn": sse.get("KMSMasterKeyArn") if sse_on else None,
        "point_in_time_recovery": pitr,
        "deletion_protection": bool(table.get("DeletionProtectionEnabled")),
        "tags": tags,
    }


def read_state(module: AnsibleAWSModule, client: Any, name: str) -> tuple[dict[str, Any] | None, View | None]:
    table = describe_table(module, client, name)
    if table is None:
        return None, None
    tags = get_tags(module, client, table["TableArn"]) if table.get("TableArn") else {}
    return table, table_view(table, get_pitr(module, client, name), tags)


# --- desired state ---------------------------------------------------------------------------


def desired_keys(params: dict[str, Any]) -> dict[str, Any]:
    range_name = params["range_key_name"]
    return {
        "hash_key_name": params["hash_key_name"],
        "hash_key_type": params["hash_key_type"],
        "range_key_name": range_name,
        "range_key_type": (params["range_key_type"] or "S") if range_name else None,
    }


def desired_tags(params: dict[str, Any], current: View | None) -> dict[str, str]:
    current_tags = (current or {}).get("tags") or {}
    if params["tags"] is None:
        return dict(current_tags)
    to_set, to_unset = compare_aws_tags(current_tags, params["tags"], params["purge_tags"])
    after = {k: v for k, v in current_tags.items() if k not in to_unset}
    after.update({k: str(v) for k, v in to_set.items()})
    return after


def desired_view(params: dict[str, Any], current: View | None) -> View:
    keys = desired_keys(params)
    if current is not None and params["hash_key_name"] is None:
        keys = {k: current[k] for k in KEY_FIELDS}
    kms = params["kms_key_arn"]
    if params["sse_enabled"] and kms is None:
        kms = (current or {}).get("kms_key_arn") if (current or {}).get("sse_enabled") else None
    return {
        "name": params["name"],
        **keys,
        "billing_mode": params["billing_mode"],
        "read_capacity": params["read_capacity"],
        "write_capacity": params["write_capacity"],
        "sse_enabled": params["sse_enabled"],
        "kms_key_arn": kms,
        "point_in_time_recovery": params["point_in_time_recovery"],
        "deletion_protection": params["deletion_protection"],
        "tags": desired_tags(params, current),
    }


def check_key_schema(module: AnsibleAWSModule, current: View, wanted: View) -> None:
    differences = [f"{k}: {current[k]!r} -> {wanted[k]!r}" for k in KEY_FIELDS if current[k] != wanted[k]]
    if differences:
        module.fail_json(
            msg=f"The key schema of existing DynamoDB table '{current['name']}' cannot be changed "
            f"({'; '.join(differences)}); create a new table and migrate the data instead"
        )


# --- writing -------------------------------------------------------------------------------


def wait_for(module: AnsibleAWSModule, client: Any, name: str, waiter_name: str = "table_exists") -> None:
    attempts = max(1, module.params["wait_timeout"] // WAIT_DELAY)
    try:
        client.get_waiter(waiter_name).wait(
            TableName=name, WaiterConfig={"Delay": WAIT_DELAY, "MaxAttempts": attempts}
        )
    except WaiterError as e:
        module.fail_json_aws(e, msg=f"Timed out waiting for DynamoDB table '{name}' ({waiter_name})")
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed waiting for DynamoDB table '{name}'")


def sse_specification(wanted: View) -> dict[str, Any]:
    if not wanted["sse_enabled"]:
        return {"Enabled": False}
    spec: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
    if wanted["kms_key_arn"]:
        spec["KMSMasterKeyId"] = wanted["kms_key_arn"]
    return spec


def billing_arguments(wanted: View) -> dict[str, Any]:
    args: dict[str, Any] = {"BillingMode": wanted["billing_mode"]}
    if wanted["billing_mode"] == "PROVISIONED":
        args["ProvisionedThroughput"] = {
            "ReadCapacityUnits": wanted["read_capacity"],
            "WriteCapacityUnits": wanted["write_capacity"],
        }
    return args


def create_table(module: AnsibleAWSModule, client: Any, wanted: View) -> None:
    attributes = [{"AttributeName": wanted["hash_key_name"], "AttributeType": wanted["hash_key_type"]}]
    schema = [{"AttributeName": wanted["hash_key_name"], "KeyType": "HASH"}]
    if wanted["range_key_name"]:
        attributes.append(
            {"AttributeName": wanted["range_key_name"], "AttributeType": wanted["range_key_type"]}
        )
        schema.append({"AttributeName": wanted["range_key_name"], "KeyType": "RANGE"})
    args: dict[str, Any] = {
        "TableName": wanted["name"],
        "AttributeDefinitions": attributes,
        "KeySchema": schema,
        "SSESpecification": sse_specification(wanted),
        "DeletionProtectionEnabled": wanted["deletion_protection"],
        **billing_arguments(wanted),
    }
    if wanted["tags"]:
        args["Tags"] = ansible_dict_to_boto3_tag_list(wanted["tags"])
    try:
        client.create_table(**args)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to create DynamoDB table '{wanted['name']}'")


def update_table(module: AnsibleAWSModule, client: Any, name: str, **changes: Any) -> None:
    wait_for(module, client, name)  # UpdateTable is refused while the table is not ACTIVE
    try:
        client.update_table(TableName=name, **changes)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to update DynamoDB table '{name}' ({', '.join(changes)})")


def pitr_policy(timeout: int) -> RetryPolicy:
    """Retry UpdateContinuousBackups on ContinuousBackupsUnavailableException only."""
    return RetryPolicy(error_codes=("ContinuousBackupsUnavailableException",), timeout=float(timeout))


def set_pitr(module: AnsibleAWSModule, client: Any, name: str, enabled: bool) -> None:
    timeout = module.params["pitr_retry_timeout"]

    def update() -> Any:
        return client.update_continuous_backups(
            aws_retry=True,
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled},
        )

    try:
        call_with_backoff(update, pitr_policy(timeout), (ClientError,))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(
            e,
            msg=f"Failed to update point-in-time recovery of DynamoDB table '{name}' "
            f"(ContinuousBackupsUnavailableException is retried for pitr_retry_timeout={timeout} s)",
        )


def set_tags(
    module: AnsibleAWSModule, client: Any, arn: str, current: dict[str, str], wanted: dict[str, str]
) -> None:
    to_set, to_unset = compare_aws_tags(current, wanted, purge_tags=True)
    try:
        if to_unset:
            client.untag_resource(aws_retry=True, ResourceArn=arn, TagKeys=to_unset)
        if to_set:
            client.tag_resource(aws_retry=True, ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(to_set))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to update tags of DynamoDB table '{arn}'")


def billing_differs(current: View, wanted: View) -> bool:
    fields = ["billing_mode"]
    if wanted["billing_mode"] == "PROVISIONED":
        fields += ["read_capacity", "write_capacity"]
    return any(current[f] != wanted[f] for f in fields)


def sse_differs(current: View, wanted: View) -> bool:
    return current["sse_enabled"] != wanted["sse_enabled"] or current["kms_key_arn"] != wanted["kms_key_arn"]


def update_existing(
    module: AnsibleAWSModule, client: Any, table: dict[str, Any], current: View, wanted: View
) -> None:
    name = wanted["name"]
    if billing_differs(current, wanted):
        update_table(module, client, name, **billing_arguments(wanted))
    if sse_differs(current, wanted):
        update_table(module, client, name, SSESpecification=sse_specification(wanted))
    if current["deletion_protection"] != wanted["deletion_protection"]:
        update_table(module, client, name, DeletionProtectionEnabled=wanted["deletion_protection"])
    if current["point_in_time_recovery"] != wanted["point_in_time_recovery"]:
        set_pitr(module, client, name, wanted["point_in_time_recovery"])
    if current["tags"] != wanted["tags"]:
        set_tags(module, client, table["TableArn"], current["tags"], wanted["tags"])


def create_new(module: AnsibleAWSModule, client: Any, wanted: View) -> None:
    create_table(module, client, wanted)
    if wanted["point_in_time_recovery"]:
        wait_for(module, client, wanted["name"])  # PITR can only be enabled on an ACTIVE table
        set_pitr(module, client, wanted["name"], True)


def comparable(view: View) -> View:
    """The view with capacity dropped for on-demand tables (AWS keeps stale numbers there)."""
    if view["billing_mode"] == "PROVISIONED":
        return view
    return {**view, "read_capacity": None, "write_capacity": None}


# --- states ----------------------------------------------------------------------------------


def table_result(table: dict[str, Any] | None, view: View) -> dict[str, Any]:
    table = table or {}
    keys = [
        {"attribute_name": view["hash_key_name"], "key_type": "HASH", "attribute_type": view["hash_key_type"]}
    ]
    if view["range_key_name"]:
        keys.append(
            {
                "attribute_name": view["range_key_name"],
                "key_type": "RANGE",
                "attribute_type": view["range_key_type"],
            }
        )
    sse_type = (table.get("SSEDescription") or {}).get("SSEType")
    return {
        **view,
        "arn": table.get("TableArn"),
        "status": table.get("TableStatus"),
        "key_schema": keys,
        "sse_type": sse_type if view["sse_enabled"] else None,
    }


def ensure_present(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    name = module.params["name"]
    table, current = read_state(module, client, name)
    if current is None and module.params["hash_key_name"] is None:
        module.fail_json(msg=f"hash_key_name is required to create DynamoDB table '{name}'")
    wanted = desired_view(module.params, current)
    if current is not None:
        check_key_schema(module, current, wanted)
    changed = current is None or comparable(current) != comparable(wanted)
    if changed and not module.check_mode:
        if current is None:
            create_new(module, client, wanted)
        else:
            update_existing(module, client, table, current, wanted)
        if module.params["wait"]:
            wait_for(module, client, name)
        table, after = read_state(module, client, name)
    else:
        after = wanted if changed else current
    result: dict[str, Any] = {"changed": changed, "table": table_result(table, after or wanted)}
    if module._diff:
        result["diff"] = {"before": comparable(current) if current else {}, "after": comparable(wanted)}
    return result


def ensure_absent(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    name = module.params["name"]
    _table, current = read_state(module, client, name)
    result: dict[str, Any] = {"changed": current is not None, "table": {}}
    if module._diff:
        result["diff"] = {"before": current or {}, "after": {}}
    if current is None:
        return result
    if current["deletion_protection"] and module.params["deletion_protection"]:
        module.fail_json(
            msg=f"DynamoDB table '{name}' has deletion protection enabled; to delete it, also set "
            "deletion_protection: false (with state: absent and allow_delete: true)"
        )
    if module.check_mode:
        return result
    if current["deletion_protection"]:
        update_table(module, client, name, DeletionProtectionEnabled=False)
    try:
        client.delete_table(aws_retry=True, TableName=name)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to delete DynamoDB table '{name}'")
    if module.params["wait"]:
        wait_for(module, client, name, "table_not_exists")
    return result


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        allow_delete=dict(type="bool", default=False),
        hash_key_name=dict(type="str"),
        hash_key_type=dict(type="str", default="S", choices=["S", "N", "B"]),
        range_key_name=dict(type="str"),
        range_key_type=dict(type="str", choices=["S", "N", "B"]),
        billing_mode=dict(type="str", default="PAY_PER_REQUEST", choices=["PAY_PER_REQUEST", "PROVISIONED"]),
        read_capacity=dict(type="int"),
        write_capacity=dict(type="int"),
        sse_enabled=dict(type="bool", default=True),
        kms_key_arn=dict(type="str", no_log=False),
        point_in_time_recovery=dict(type="bool", default=True),
        pitr_retry_timeout=dict(type="int", default=180),
        deletion_protection=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    share_botocore()
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("billing_mode", "PROVISIONED", ["read_capacity", "write_capacity"])],
        required_by={"range_key_name": "hash_key_name", "range_key_type": "range_key_name"},
    )
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    if module.params["state"] == "present":
        module.exit_json(**ensure_present(module, client))
    module.exit_json(**ensure_absent(module, client))


if __name__ == "__main__":
    main()
