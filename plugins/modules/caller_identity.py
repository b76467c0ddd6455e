#!/usr/bin/python
# Copyright: secureinfra platform team
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: caller_identity
short_description: The account, ARN and user id of the connection's credentials (STS GetCallerIdentity)
version_added: 0.3.0
description:
  - Calls STS C(GetCallerIdentity) with the module's connection and returns what AWS answers, as
    M(amazon.aws.aws_caller_info) does without its IAM account alias read.
  - It shares its boto3 session and client with the collection's other modules in a long-lived
    interpreter (mitogen), so the first AWS call of a host costs no botocore data files of its own.
author:
  - Secureinfra Platform Team (@secureinfra)
notes:
  - No permission is needed; AWS answers C(GetCallerIdentity) even when an explicit deny covers it.
  - U(https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)
options: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes.read_only
"""

EXAMPLES = r"""
- name: Record the account the connection's credentials belong to
  secureinfra.baseline.caller_identity:
  register: caller
"""

RETURN = r"""
account:
  description: The 12-digit id of the account.
  returned: success
  type: str
  sample: "123456789012"
arn:
  description: The ARN of the caller (a user, or an assumed role's session).
  returned: success
  type: str
  sample: arn:aws:sts::123456789012:assumed-role/baseline-deploy/ansible
user_id:
  description: The unique id of the caller.
  returned: success
  type: str
  sample: AROAEXAMPLE:ansible
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore


def identity(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    try:
        answer = client.get_caller_identity(aws_retry=True)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to identify the caller (STS GetCallerIdentity)")
    return {"changed": False, "account": answer["Account"], "arn": answer["Arn"], "user_id": answer["UserId"]}


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec={}, supports_check_mode=True)
    client = module.client("sts", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**identity(module, client))


if __name__ == "__main__":
    main()
