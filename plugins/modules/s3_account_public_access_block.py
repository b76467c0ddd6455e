#!/usr/bin/python
# Copyright: secureinfra platform team
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_account_public_access_block
short_description: Manage the account-level S3 Block Public Access settings, idempotently
version_added: 0.2.0
description:
  - Sets, or removes, the S3 Block Public Access configuration of a whole account, with S3 Control
    C(GetPublicAccessBlock), C(PutPublicAccessBlock) and C(DeletePublicAccessBlock) and its C(AccountId)
    (CIS AWS Foundations 2.1.4, AWS Foundational Security Best Practices S3.1).
  - The account setting applies to every bucket and access point of the account, in every region,
    on top of each bucket's own settings.
  - An account without a configuration (C(NoSuchPublicAccessBlockConfiguration)) is C(absent); the
    current settings are compared with the desired ones, so a second identical run reports no change.
  - In check mode only the read call is made.
author:
  - Secureinfra Platform Team (@secureinfra)
notes:
  - S3 Control only accepts the caller's own account as C(AccountId); another answers C(AccessDenied).
  - AWS documents that a change can take a while to apply to every bucket of the account.
  - Permissions, C(s3:GetAccountPublicAccessBlock), and C(s3:PutAccountPublicAccessBlock) to set or
    remove the configuration.
  - With O(endpoint_url) naming an IP address or C(localhost) (an emulator), requests go to that
    endpoint as given, without the C(<account>.) host prefix that S3 Control puts in front of
    any other endpoint.
  - U(https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PutPublicAccessBlock.html)
options:
  account_id:
    description: The 12-digit id of the account, the caller's own (for example C(baseline_account_id)).
    required: true
    type: str
  block_public_acls:
    description: Reject PUT calls that carry a public ACL.
    type: bool
    default: true
  ignore_public_acls:
    description: Ignore public ACLs on buckets and objects.
    type: bool
    default: true
  block_public_policy:
    description: Reject bucket and access point policies that grant public access.
    type: bool
    default: true
  restrict_public_buckets:
    description: Restrict access to buckets with a public policy to AWS services and the account's principals.
    type: bool
    default: true
  state:
    description: C(present) sets the four settings; C(absent) removes the account's configuration.
    default: present
    choices: [present, absent]
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Block public access to every bucket of the account (CIS 2.1.4)
  secureinfra.baseline.s3_account_public_access_block:
    account_id: "{{ baseline_account_id }}"

- name: Remove the account-level configuration
  secureinfra.baseline.s3_account_public_access_block:
    account_id: "123456789012"
    state: absent
"""

RETURN = r"""
public_access_block:
  description: The account's settings after the run (empty when absent).
  returned: always
  type: dict
  contains:
    block_public_acls:
      description: BlockPublicAcls.
      type: bool
      sample: true
    ignore_public_acls:
      description: IgnorePublicAcls.
      type: bool
      sample: true
    block_public_policy:
      description: BlockPublicPolicy.
      type: bool
      sample: true
    restrict_public_buckets:
      description: RestrictPublicBuckets.
      type: bool
      sample: true
diff:
  description: Before and after settings, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
  contains:
    before:
      description: Settings before the run (empty dict when absent).
      type: dict
    after:
      description: Settings after the run (empty dict when absent).
      type: dict
"""

import contextlib
import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

Settings = dict[str, bool]
# Option name => S3 Control's field name, in the order AWS lists them.
FIELDS = {
    "block_public_acls": "BlockPublicAcls",
    "ignore_public_acls": "IgnorePublicAcls",
    "block_public_policy": "BlockPublicPolicy",
    "restrict_public_buckets": "RestrictPublicBuckets",
}
ACCOUNT_ID = re.compile(r"^\d{12}$")


def desired_settings(params: dict[str, Any]) -> Settings | None:
    if params["state"] == "absent":
        return None
    return {option: bool(params[option]) for option in FIELDS}


def settings_from_api(configuration: dict[str, Any]) -> Settings:
    """A PublicAccessBlockConfiguration in the module's option names (a missing field is false)."""
    return {option: configuration.get(field) is True for option, field in FIELDS.items()}


def settings_to_api(settings: Settings) -> dict[str, bool]:
    return {field: settings[option] for option, field in FIELDS.items()}


def _literal_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def strip_account_prefix(request: Any, **_: Any) -> None:
    """S3 Control sends to <AccountId>.<endpoint>: no such name exists for an IP address or localhost."""
    parts = urlsplit(request.url)
    prefix, _, rest = (parts.hostname or "").partition(".")
    if prefix.isdigit() and _literal_host(rest):
        netloc = parts.netloc.replace(f"{prefix}.", "", 1)
        request.url = urlunsplit(parts._replace(netloc=netloc))


def get_current(module: AnsibleAWSModule, client: Any, account_id: str) -> Settings | None:
    try:
        response = client.get_public_access_block(aws_retry=True, AccountId=account_id)
    except is_boto3_error_code("NoSuchPublicAccessBlockConfiguration"):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(
            e, msg=f"Failed to read the S3 Block Public Access settings of account {account_id}"
        )
    return settings_from_api(response.get("PublicAccessBlockConfiguration") or {})


def apply(module: AnsibleAWSModule, client: Any, account_id: str, wanted: Settings | None) -> None:
    try:
        if wanted is None:
            client.delete_public_access_block(aws_retry=True, AccountId=account_id)
        else:
            client.put_public_access_block(
                aws_retry=True, AccountId=account_id, PublicAccessBlockConfiguration=settings_to_api(wanted)
            )
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(
            e, msg=f"Failed to set the S3 Block Public Access settings of account {account_id}"
        )


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    account_id = module.params["account_id"]
    current = get_current(module, client, account_id)
    wanted = desired_settings(module.params)
    changed = current != wanted
    if changed and not module.check_mode:
        apply(module, client, account_id, wanted)
    result: dict[str, Any] = {"changed": changed, "public_access_block": wanted or {}}
    if module._diff:
        result["diff"] = {"before": current or {}, "after": wanted or {}}
    return result


def main() -> None:
    argument_spec = dict(
        account_id=dict(type="str", required=True),
        block_public_acls=dict(type="bool", default=True),
        ignore_public_acls=dict(type="bool", default=True),
        block_public_policy=dict(type="bool", default=True),
        restrict_public_buckets=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    share_botocore()
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if not ACCOUNT_ID.match(module.params["account_id"]):
        module.fail_json(
            msg=f"account_id must be a 12-digit AWS account id, got '{module.params['account_id']}'"
        )
    client = module.client("s3control", retry_decorator=AWSRetry.jittered_backoff())
    # A shared client (module_utils.botocore_loader) keeps its handlers: registered once.
    client.meta.events.register(
        "before-sign.s3-control.*", strip_account_prefix, unique_id="secureinfra-strip-account-prefix"
    )
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
