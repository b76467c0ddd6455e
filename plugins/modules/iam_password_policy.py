#!/usr/bin/python
# Copyright: secureinfra platform team
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_password_policy
short_description: Manage the IAM account password policy, honestly in check mode
version_added: 0.1.0
description:
  - Sets or removes the IAM password policy of the AWS account.
  - The current policy is read with C(GetAccountPasswordPolicy) and C(UpdateAccountPasswordPolicy)
    is only called when it differs from the requested one; in check mode no write call is made.
  - Option ranges are validated before any AWS call.
author:
  - Secureinfra Platform Team (@secureinfra)
notes:
  - C(UpdateAccountPasswordPolicy) resets every setting it is not given, so the module always sends
    the complete policy.
options:
  state:
    description: Whether the account password policy should exist.
    default: present
    choices: [present, absent]
    type: str
  min_pw_length:
    description: Minimum password length (6 to 128).
    default: 14
    type: int
    aliases: [minimum_password_length]
  require_symbols:
    description: Require at least one non-alphanumeric character.
    default: true
    type: bool
  require_numbers:
    description: Require at least one number.
    default: true
    type: bool
  require_uppercase:
    description: Require at least one uppercase letter.
    default: true
    type: bool
  require_lowercase:
    description: Require at least one lowercase letter.
    default: true
    type: bool
  allow_pw_change:
    description: Allow IAM users to change their own password.
    default: true
    type: bool
    aliases: [allow_password_change]
  pw_max_age:
    description: Days a password stays valid (1 to 1095).
    default: 90
    type: int
    aliases: [password_max_age]
  pw_reuse_prevent:
    description: Number of previous passwords that cannot be reused (1 to 24).
    default: 24
    type: int
    aliases: [password_reuse_prevent]
  pw_expire:
    description:
      - Prevent users from choosing a new password after theirs expired
        (an administrator must reset it).
    default: false
    type: bool
    aliases: [password_expire]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
"""

EXAMPLES = r"""
- name: Baseline password policy (all defaults)
  secureinfra.baseline.iam_password_policy:

- name: Stricter policy
  secureinfra.baseline.iam_password_policy:
    min_pw_length: 20
    pw_max_age: 60
    pw_expire: true

- name: Remove the account password policy
  secureinfra.baseline.iam_password_policy:
    state: absent
"""

RETURN = r"""
password_policy:
  description:
    - The password policy after the run, in the module's option names.
    - Empty when no policy is set.
  returned: always
  type: dict
  contains:
    min_pw_length:
      description: Minimum password length.
      type: int
      sample: 14
    require_symbols:
      description: Symbols required.
      type: bool
    require_numbers:
      description: Numbers required.
      type: bool
    require_uppercase:
      description: Uppercase letters required.
      type: bool
    require_lowercase:
      description: Lowercase letters required.
      type: bool
    allow_pw_change:
      description: Users may change their own password.
      type: bool
    pw_max_age:
      description: Password validity in days (null when passwords never expire).
      type: int
      sample: 90
    pw_reuse_prevent:
      description: Number of remembered passwords (null when reuse is not prevented).
      type: int
      sample: 24
    pw_expire:
      description: Hard expiry.
      type: bool
diff:
  description: Policy before and after the run, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
  contains:
    before:
      description: Policy before the run (empty dict when absent).
      type: dict
    after:
      description: Policy after the run (empty dict when absent).
      type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

Policy = dict[str, Any]

# module option -> (API field, default used when the API omits the field)
FIELDS: dict[str, tuple[str, Any]] = {
    "min_pw_length": ("MinimumPasswordLength", None),
    "require_symbols": ("RequireSymbols", False),
    "require_numbers": ("RequireNumbers", False),
    "require_uppercase": ("RequireUppercaseCharacters", False),
    "require_lowercase": ("RequireLowercaseCharacters", False),
    "allow_pw_change": ("AllowUsersToChangePassword", False),
    "pw_max_age": ("MaxPasswordAge", None),
    "pw_reuse_prevent": ("PasswordReusePrevention", None),
    "pw_expire": ("HardExpiry", False),
}

RANGES: dict[str, tuple[int, int]] = {
    "min_pw_length": (6, 128),
    "pw_max_age": (1, 1095),
    "pw_reuse_prevent": (1, 24),
}


def validate_params(module: AnsibleAWSModule) -> None:
    errors = []
    for option, (low, high) in RANGES.items():
        value = module.params[option]
        if not low <= value <= high:
            errors.append(f"{option} must be between {low} and {high}, got {value}")
    if errors:
        module.fail_json(msg="Invalid password policy: " + "; ".join(errors))


def desired_policy(params: dict[str, Any]) -> Policy:
    return {option: params[option] for option in FIELDS}


def policy_from_api(api_policy: dict[str, Any]) -> Policy:
    """Normalise GetAccountPasswordPolicy output; fields AWS leaves out get their implied value."""
    policy = {option: api_policy.get(field, default) for option, (field, default) in FIELDS.items()}
    if policy["pw_max_age"] == 0:  # some implementations report "never expires" as 0
        policy["pw_max_age"] = None
    return policy


def policy_to_api(policy: Policy) -> dict[str, Any]:
    return {FIELDS[option][0]: value for option, value in policy.items()}


def get_current(module: AnsibleAWSModule, client: Any) -> Policy | None:
    try:
        response = client.get_account_password_policy(aws_retry=True)
    except is_boto3_error_code("NoSuchEntity"):
        return None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read the account password policy")
    return policy_from_api(response.get("PasswordPolicy") or {})


def update_policy(module: AnsibleAWSModule, client: Any, policy: Policy) -> None:
    try:
        client.update_account_password_policy(aws_retry=True, **policy_to_api(policy))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to update the account password policy")


def delete_policy(module: AnsibleAWSModule, client: Any) -> None:
    try:
        client.delete_account_password_policy(aws_retry=True)
    except is_boto3_error_code("NoSuchEntity"):
        return
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to delete the account password policy")


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    current = get_current(module, client)
    wanted = desired_policy(module.params) if module.params["state"] == "present" else None
    changed = current != wanted
    if changed and not module.check_mode:
        if wanted is None:
            delete_policy(module, client)
        else:
            update_policy(module, client, wanted)
    result: dict[str, Any] = {"changed": changed, "password_policy": wanted or {}}
    if module._diff:
        result["diff"] = {"before": current or {}, "after": wanted or {}}
    return result


def main() -> None:
    argument_spec = dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        min_pw_length=dict(type="int", default=14, aliases=["minimum_password_length"]),
        require_symbols=dict(type="bool", default=True),
        require_numbers=dict(type="bool", default=True),
        require_uppercase=dict(type="bool", default=True),
        require_lowercase=dict(type="bool", default=True),
        allow_pw_change=dict(type="bool", default=True, aliases=["allow_password_change"]),
        pw_max_age=dict(type="int", default=90, aliases=["password_max_age"]),
        pw_reuse_prevent=dict(type="int", default=24, aliases=["password_reuse_prevent"]),
        pw_expire=dict(type="bool", default=False, aliases=["password_expire"]),
    )
    share_botocore()
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)
    client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
