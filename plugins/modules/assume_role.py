#!/usr/bin/python
# Copyright: secureinfra platform team
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: assume_role
short_description: Temporary credentials of an IAM role (STS AssumeRole)
version_added: 0.3.0
description:
  - Calls STS C(AssumeRole) with the module's connection and returns the session's credentials
    and its end, in the shape of M(amazon.aws.sts_assume_role)'s C(sts_creds) and C(sts_user).
  - It changes no resource, so it never reports a change, and it runs in check mode too (the
    credentials are what a run in check mode needs for its reads).
  - It shares its boto3 session and client with the collection's other modules in a long-lived
    interpreter (mitogen); the credentials it returns are not kept there.
author:
  - Secureinfra Platform Team (@secureinfra)
notes:
  - The caller needs C(sts:AssumeRole) on the role, and the role's trust policy must allow the caller
    (with O(external_id) when it asks for one).
  - O(duration_seconds) may not exceed the role's maximum session duration, nor 3600 when the caller
    is itself a role session (role chaining).
  - Use C(no_log) on the task, as the result holds the secret key and the session token.
  - U(https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html)
options:
  role_arn:
    description: The ARN of the role.
    required: true
    type: str
  role_session_name:
    description: The session's name, 2 to 64 characters of C([\w+=,.@-]), as CloudTrail records it.
    required: true
    type: str
  duration_seconds:
    description: How long the session lasts, 900 to 43200 seconds.
    type: int
    default: 3600
  external_id:
    description: The external id the role's trust policy asks for.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes.read_only
"""

EXAMPLES = r"""
- name: Assume the account's deployment role
  secureinfra.baseline.assume_role:
    role_arn: arn:aws:iam::123456789012:role/baseline-deploy
    role_session_name: ansible
    duration_seconds: 3600
  no_log: true
  register: assumed
"""

RETURN = r"""
sts_creds:
  description: The session's credentials.
  returned: success
  type: dict
  contains:
    access_key:
      description: The access key id.
      type: str
    secret_key:
      description: The secret access key.
      type: str
    session_token:
      description: The session token.
      type: str
    expiration:
      description: When the session ends, ISO 8601 with its UTC offset.
      type: str
      sample: "2026-12-07T18:00:00+00:00"
sts_user:
  description: The assumed role's session.
  returned: success
  type: dict
  contains:
    arn:
      description: The session's ARN.
      type: str
      sample: arn:aws:sts::123456789012:assumed-role/baseline-deploy/ansible
    assumed_role_id:
      description: The role's unique id and the session's name.
      type: str
      sample: AROAEXAMPLE:ansible
"""

import contextlib
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/.+$")


def input_errors(params: dict[str, Any]) -> list[str]:
    """What AWS would refuse, said before the call."""
    errors = []
    if not ROLE_ARN.match(params["role_arn"]):
        errors.append(
            f"role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), "
            f"got '{params['role_arn']}'"
        )
    if not SESSION_NAME.match(params["role_session_name"]):
        errors.append(
            "role_session_name must be 2 to 64 characters of letters, digits and +=,.@_-, "
            f"got '{params['role_session_name']}'"
        )
    if not 900 <= params["duration_seconds"] <= 43200:
        errors.append(f"duration_seconds must be 900 to 43200, got {params['duration_seconds']}")
    return errors


def assume(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    params = module.params
    request: dict[str, Any] = {
        "RoleArn": params["role_arn"],
        "RoleSessionName": params["role_session_name"],
        "DurationSeconds": params["duration_seconds"],
    }
    if params["external_id"]:
        request["ExternalId"] = params["external_id"]
    try:
        answer = client.assume_role(aws_retry=True, **request)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to assume {params['role_arn']} (STS AssumeRole)")
    credentials, user = answer["Credentials"], answer["AssumedRoleUser"]
    expiration = credentials["Expiration"]
    return {
        "changed": False,
        "sts_creds": {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "session_token": credentials["SessionToken"],
            "expiration": expiration.isoformat() if hasattr(expiration, "isoformat") else str(expiration),
        },
        "sts_user": {"arn": user["Arn"], "assumed_role_id": user["AssumedRoleId"]},
    }


def main() -> None:
    argument_spec = {
        "role_arn": {"type": "str", "required": True},
        "role_session_name": {"type": "str", "required": True},
        "duration_seconds": {"type": "int", "default": 3600},
        "external_id": {"type": "str", "no_log": False},
    }
    share_botocore()
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    errors = input_errors(module.params)
    if errors:
        module.fail_json(msg=" ".join(errors))
    client = module.client("sts", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**assume(module, client))


if __name__ == "__main__":
    main()
