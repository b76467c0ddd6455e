#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: retry_module
short_description: Run a module again, with capped exponential backoff, while it fails with named AWS errors
version_added: 0.2.0
description:
  - Runs O(module) with O(module_args). While the run fails with an AWS error code listed in
    O(retry_error_codes) (and, when given, a message matching O(retry_message_pattern) or one of
    O(retry_message_patterns)), it is run
    again after a wait that doubles from O(retry_initial_delay) up to O(retry_max_delay), with full
    jitter, until it succeeds or O(retry_timeout) seconds of waiting are spent. Any other failure,
    and any success, is returned at once, unchanged.
  - Why an action and not C(until)/C(retries) - Ansible's loop retries wait a fixed delay and retry
    on any condition written in the task; this action backs off exponentially and retries on exact
    error codes only, so that a typo or a permission error fails at once.
  - Why this exists - IAM is eventually consistent
    (U(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency)).
    A role created seconds ago makes Lambda C(CreateFunction)/C(UpdateFunctionConfiguration) answer
    C(InvalidParameterValueException) "The role defined for the function cannot be assumed by Lambda"
    and CloudTrail C(CreateTrail)/C(UpdateTrail) answer C(InvalidCloudWatchLogsRoleArnException).
    An inline policy put seconds ago makes Lambda answer C(InvalidParameterValueException) "The
    provided execution role does not have permissions to call <action> on <service>" for the
    permissions it checks (network interfaces, dead-letter queue, X-Ray). A function's permission
    for S3 added seconds ago makes S3 C(PutBucketNotificationConfiguration) answer C(InvalidArgument)
    "Unable to validate the following destination configurations".
    M(amazon.aws.lambda) retries throttling only, M(amazon.aws.cloudtrail) and
    M(community.aws.s3_bucket_notification) do not retry.
  - The AWS error code is read from the failed result's C(error.code), which the amazon.aws modules
    fill in from the API's error response; for a module that fails with botocore's error text only
    (M(community.aws.s3_bucket_notification)), from that text ("An error occurred (<code>) when
    calling the <operation> operation"). The patterns are matched against C(error.message) and C(msg).
  - Check mode and diff are passed to the wrapped module, which decides what they do.
  - The AWS connection options (for example from C(module_defaults) for C(group/secureinfra.baseline.aws))
    are handed to the wrapped module unless O(module_args) sets them.
  - This is an action plugin; it runs on the controller and executes O(module) on the target.
options:
  module:
    description: Fully qualified name of the module to run, for example C(amazon.aws.lambda).
    type: str
    required: true
  module_args:
    description: Arguments of O(module).
    type: dict
    default: {}
  retry_error_codes:
    description: AWS error codes that mean "not yet"; only these are retried.
    type: list
    elements: str
    required: true
  retry_message_pattern:
    description:
      - Regular expression (case-insensitive) the error message must also match to be retried.
      - Mutually exclusive with O(retry_message_patterns).
    type: str
  retry_message_patterns:
    description:
      - Regular expressions (case-insensitive); the error message must match one of them to be retried.
      - For a call that AWS refuses with one code and several messages that all mean "not yet", such as
        Lambda C(CreateFunction)'s permission checks of a role whose policy is still propagating.
      - Mutually exclusive with O(retry_message_pattern).
    type: list
    elements: str
    default: []
    version_added: 0.3.0
  retry_timeout:
    description:
      - Seconds of waiting, across all retries, before the last failure is returned.
      - C(0) does not retry.
    type: int
    default: 180
  retry_initial_delay:
    description: Ceiling of the first wait, in seconds; it doubles after each failure.
    type: float
    default: 2.0
  retry_max_delay:
    description: Largest ceiling of one wait, in seconds.
    type: float
    default: 30.0
author:
  - Secureinfra Platform Team (@secureinfra)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - secureinfra.baseline.attributes.delegated
"""

EXAMPLES = r"""
- name: Function whose role was just created (IAM propagation)
  secureinfra.baseline.retry_module:
    module: amazon.aws.lambda
    module_args:
      name: my-function
      runtime: python3.12
      handler: handler.handler
      role: arn:aws:iam::123456789012:role/my-function
      zip_file: /tmp/my-function.zip
    retry_error_codes: [InvalidParameterValueException]
    retry_message_patterns:
      - cannot be assumed by Lambda
      - The provided execution role does not have permissions
    retry_timeout: 180

- name: Trail delivering to CloudWatch Logs through a role just created
  secureinfra.baseline.retry_module:
    module: amazon.aws.cloudtrail
    module_args:
      name: my-trail
      s3_bucket_name: my-trail-bucket
      cloudwatch_logs_log_group_arn: arn:aws:logs:us-east-1:123456789012:log-group:trail:*
      cloudwatch_logs_role_arn: arn:aws:iam::123456789012:role/trail-delivery
    retry_error_codes: [InvalidCloudWatchLogsRoleArnException]
"""

RETURN = r"""
retries:
  description: How many attempts were made, how long was waited, and each retried error.
  returned: always
  type: dict
  sample:
    attempts: 2
    waited_seconds: 1.4
    retried:
      - {"code": "InvalidParameterValueException", "message": "...", "delay": 1.4}
"""
