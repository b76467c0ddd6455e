#!/usr/bin/python
# Copyright: secureinfra.baseline contributors
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_roles
short_description: Manage a list of IAM roles, each with exactly one inline policy, in one call
version_added: 0.2.0
description:
  - Creates or updates a whole list of IAM roles in one module run, idempotently, with check mode and
    diff. Each role gets its trust policy, description, maximum session duration and tags (others
    removed), no attached managed policy (any attached one is detached) and exactly one inline policy
    (any other inline policy is deleted).
  - Replaces a loop over M(amazon.aws.iam_role) and M(amazon.aws.iam_policy), which read each role with
    C(GetRole), C(ListRolePolicies), C(GetRolePolicy) and C(ListAttachedRolePolicies), once per role
    and module (this module reads each role once per run).
  - Reads each role it is given on its own, with calls on that role only (permissions on the roles'
    ARNs, none on C(*)) - C(GetRole) (path, trust policy, description, maximum session duration,
    tags), C(ListRolePolicies) and C(GetRolePolicy) (each inline policy with its document) and
    C(ListAttachedRolePolicies); four calls for a role with its one inline policy, one
    (C(GetRole)) for a role that does not exist yet, whatever the number of roles in the account.
  - Does not call C(GetAccountAuthorizationDetails), which answers every role of the account with
    all their policies, needs permission on C(*) and is throttled by IAM, all the more when every
    region of an account would call it at once.
  - Policies are compared as amazon.aws does (normalized JSON; the order of statements, actions and
    resources, a single value against a one-element list and the documents' encoding do not matter).
  - Writes only what differs. A new role is created with C(CreateRole) (trust policy, description,
    maximum session duration and tags in the one call), then the module waits until IAM returns it
    (C(GetRole), for up to O(wait_timeout) seconds) before it puts the inline policy, and retries that
    call on C(NoSuchEntity) (with jittered backoff, about two minutes at most).
  - All options are validated, and all roles read, before anything is changed. The path of an existing
    role cannot be changed (IAM has no such call), so a difference fails the module before any write.
  - The permissions boundary and instance profiles of the roles are left as they are.
options:
  roles:
    description: The roles. Names must be unique (IAM compares role names without case).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Role name (1-64 characters of letters, digits and C(+=,.@_-)).
        type: str
        required: true
      path:
        description: Path of the role (C(/), or C(/) followed by path segments and a final C(/)).
        type: str
        default: /
      description:
        description:
          - Description of the role (at most 1000 characters).
          - Unset leaves the description of an existing role as it is.
        type: str
      assume_role_policy_document:
        description: The trust policy, as a dict or a JSON string.
        type: raw
        required: true
      max_session_duration:
        description: Maximum session duration in seconds (3600-43200).
        type: int
        default: 3600
      tags:
        description:
          - Tags of the role (at most 50). With O(roles[].purge_tags), any other tag is removed.
        type: dict
        default: {}
      purge_tags:
        description: Remove the tags of the role that are not in O(roles[].tags).
        type: bool
        default: true
      inline_policy:
        description: The one inline policy of the role. Any other inline policy is deleted.
        type: dict
        required: true
        suboptions:
          name:
            description: Name of the inline policy (1-128 characters of letters, digits and C(+=,.@_-)).
            type: str
            required: true
          document:
            description:
              - The policy document, as a dict or a JSON string.
              - IAM allows at most 10,240 characters (whitespace not counted) of inline policies per role.
            type: raw
            required: true
  wait_timeout:
    description: Seconds to wait for a role just created to become visible in IAM.
    type: int
    default: 120
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - secureinfra.baseline.attributes
notes:
  - In check mode nothing is written. A role that does not exist yet is reported with the ARN it will
    have, from the account and partition that C(sts:GetCallerIdentity) reports (called only then).
  - The module manages the roles it is given and no other role of the account.
author:
  - Secureinfra Platform Team (@secureinfra)
"""

EXAMPLES = r"""
- name: Execution roles of two functions, each with its one inline policy
  secureinfra.baseline.iam_roles:
    roles:
      - name: secureinfra-us-east-1-processor
        description: Execution role of the processor function
        assume_role_policy_document:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Service: lambda.amazonaws.com}
              Action: sts:AssumeRole
              Condition: {StringEquals: {"aws:SourceAccount": "123456789012"}}
        max_session_duration: 3600
        tags: {Project: secureinfra, Function: processor}
        inline_policy:
          name: secureinfra-us-east-1-processor
          document: "{{ lookup('ansible.builtin.file', 'processor-policy.json') }}"
      - name: secureinfra-us-east-1-analytics
        assume_role_policy_document: "{{ lookup('ansible.builtin.file', 'trust.json') }}"
        inline_policy:
          name: secureinfra-us-east-1-analytics
          document: "{{ lookup('ansible.builtin.file', 'analytics-policy.json') }}"
  register: roles

- name: Role ARNs by name
  ansible.builtin.debug:
    msg: "{{ roles.arns }}"
"""

RETURN = r"""
roles:
  description: One entry per role of O(roles), in that order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Role name.
      type: str
      sample: secureinfra-us-east-1-processor
    arn:
      description:
        - ARN of the role; for a role check mode has not created, the ARN it will have.
      type: str
      sample: arn:aws:iam::123456789012:role/secureinfra-us-east-1-processor
    role_id:
      description: Unique id of the role; null for a role check mode has not created.
      type: str
    created:
      description: The role was created (or would be, in check mode).
      type: bool
    changes:
      description:
        - What was changed on the role (or would be, in check mode), in the order of the calls.
        - C(created), C(trust policy), C(description), C(max session duration), C(tags),
          C(managed policies detached), C(inline policy), C(other inline policies deleted).
      type: list
      elements: str
      sample: [inline policy]
arns:
  description: Role name => ARN (predicted for a role check mode has not created).
  returned: always
  type: dict
  sample: {secureinfra-us-east-1-processor: "arn:aws:iam::123456789012:role/secureinfra-us-east-1-processor"}
msg:
  description: The roles changed and what changed on each, or that none differ.
  returned: always
  type: str
  sample: "secureinfra-us-east-1-processor: would update inline policy"
diff:
  description: The changed roles before and after (only with C(--diff)).
  returned: when diff mode is on
  type: dict
"""

import contextlib
import json
import re
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)
from ansible_collections.secureinfra.baseline.plugins.module_utils.botocore_loader import share_botocore

ARGUMENT_SPEC: dict[str, Any] = {
    "roles": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str", "required": True},
            "path": {"type": "str", "default": "/"},
            "description": {"type": "str"},
            "assume_role_policy_document": {"type": "raw", "required": True},
            "max_session_duration": {"type": "int", "default": 3600},
            "tags": {"type": "dict", "default": {}},
            "purge_tags": {"type": "bool", "default": True},
            "inline_policy": {
                "type": "dict",
                "required": True,
                "options": {
                    "name": {"type": "str", "required": True},
                    "document": {"type": "raw", "required": True},
                },
            },
        },
    },
    "wait_timeout": {"type": "int", "default": 120},
}

Role = dict[str, Any]

# https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html,
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html,
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html and
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
ROLE_PATH = re.compile(r"^(/|/[\x21-\x7e]+/)$")
DESCRIPTION = re.compile(r"^[\t\n\r\x20-\x7e\xa1-\xff]*$")
MAX_DESCRIPTION = 1000
SESSION_RANGE = (3600, 43200)
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_INLINE_POLICY_CHARS = 10240  # aggregate inline policies per role, whitespace not counted

# A role just created may not be visible at once ("changes that I make are not always immediately
# visible", https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html).
WAIT_DELAY = 2
PROPAGATION_RETRY = {"retries": 8, "delay": 2, "backoff": 2.0, "max_delay": 20}

CHANGE_ORDER = (
    "created",
    "trust policy",
    "description",
    "max session duration",
    "tags",
    "managed policies detached",
    "inline policy",
    "other inline policies deleted",
)


# --- validation (no AWS call) ------------------------------------------------------------------


def parse_document(value: Any, where: str, errors: list[str]) -> dict[str, Any] | None:
    """A policy document from a dict or a JSON string; None (and an error) otherwise."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as err:
            errors.append(f"{where}: not valid JSON ({err})")
            return None
    if not isinstance(value, dict) or "Statement" not in value:
        errors.append(f"{where}: must be a policy document (a JSON object with a Statement)")
        return None
    return value


def tag_errors(name: str, tags: dict[str, Any]) -> list[str]:
    errors = []
    if len(tags) > MAX_TAGS:
        errors.append(f"roles[{name}].tags: at most {MAX_TAGS} tags, got {len(tags)}")
    for key, value in tags.items():
        if not 1 <= len(str(key)) <= MAX_TAG_KEY or str(key).lower().startswith("aws:"):
            errors.append(
                f"roles[{name}].tags: key {key!r} must be 1-{MAX_TAG_KEY} characters, not starting with aws:"
            )
        if value is None or len(str(value)) > MAX_TAG_VALUE:
            errors.append(
                f"roles[{name}].tags: value of {key!r} must be a string of at most {MAX_TAG_VALUE} characters"
            )
    return errors


def role_errors(item: dict[str, Any]) -> list[str]:
    name = item["name"]
    errors = []
    if not ROLE_NAME.match(name):
        errors.append(f"roles: name {name!r} must be 1-64 characters of letters, digits and +=,.@_-")
    if not ROLE_PATH.match(item["path"]) or len(item["path"]) > 512:
        errors.append(
            f"roles[{name}].path {item['path']!r} must be / or /<segments>/ (at most 512 characters)"
        )
    description = item.get("description")
    if description is not None and (len(description) > MAX_DESCRIPTION or not DESCRIPTION.match(description)):
        errors.append(f"roles[{name}].description: at most {MAX_DESCRIPTION} printable Latin-1 characters")
    low, high = SESSION_RANGE
    if not low <= item["max_session_duration"] <= high:
        errors.append(
            f"roles[{name}].max_session_duration: {item['max_session_duration']} is not within "
            f"{low}-{high} seconds"
        )
    errors.extend(tag_errors(name, item["tags"]))
    policy_name = item["inline_policy"]["name"]
    if not POLICY_NAME.match(policy_name):
        errors.append(
            f"roles[{name}].inline_policy.name {policy_name!r} must be 1-128 characters of letters, "
            "digits and +=,.@_-"
        )
    parse_document(item["assume_role_policy_document"], f"roles[{name}].assume_role_policy_document", errors)
    document = parse_document(
        item["inline_policy"]["document"], f"roles[{name}].inline_policy.document", errors
    )
    if document is not None:
        size = len(re.sub(r"\s", "", json.dumps(document)))
        if size > MAX_INLINE_POLICY_CHARS:
            errors.append(
                f"roles[{name}].inline_policy.document: {size} characters without whitespace, IAM allows "
                f"{MAX_INLINE_POLICY_CHARS} of inline policies per role"
            )
    return errors


def validation_errors(params: dict[str, Any]) -> list[str]:
    errors = []
    names = [item["name"].lower() for item in params["roles"]]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        errors.append(f"roles: duplicate names (IAM ignores case): {', '.join(duplicates)}")
    for item in params["roles"]:
        errors.extend(role_errors(item))
    if params["wait_timeout"] < 0:
        errors.append(f"wait_timeout: {params['wait_timeout']} must not be negative")
    return errors


def desired_role(item: dict[str, Any]) -> Role:
    """A role of O(roles) in the shape of current_role()'s answer; documents parsed."""
    errors: list[str] = []
    return {
        "name": item["name"],
        "path": item["path"],
        "description": item.get("description"),
        "trust_policy": parse_document(item["assume_role_policy_document"], "", errors),
        "max_session_duration": item["max_session_duration"],
        "tags": {str(k): str(v) for k, v in item["tags"].items()},
        "purge_tags": item["purge_tags"],
        "managed_policies": [],
        "inline_policies": {
            item["inline_policy"]["name"]: parse_document(item["inline_policy"]["document"], "", errors)
        },
    }


# --- reads -----------------------------------------------------------------------------------
# Each role of O(roles) is read on its own, with calls scoped to that role. Not
# GetAccountAuthorizationDetails: it answers every role of the account with all their policies
# (pages of them in a large account), needs permission on *, IAM throttles it, and every host of
# an account (one per region) would call it at the same time.
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html


def current_role(role: dict[str, Any], inline: dict[str, Any], attached: list[dict[str, Any]]) -> Role:
    """A role from its GetRole answer, its inline policies (name => document) and its attached ones."""
    return {
        "name": role["RoleName"],
        "arn": role["Arn"],
        "role_id": role.get("RoleId"),
        "path": role.get("Path", "/"),
        "description": role.get("Description", ""),
        "trust_policy": role.get("AssumeRolePolicyDocument") or {},
        "max_session_duration": role.get("MaxSessionDuration", 3600),
        "tags": boto3_tag_list_to_ansible_dict(role.get("Tags") or []),
        "managed_policies": sorted(p["PolicyArn"] for p in attached),
        "inline_policies": inline,
    }


def read_role(module: AnsibleAWSModule, client: Any, name: str) -> Role | None:
    """One role as IAM has it (None when IAM does not know it): GetRole (path, trust policy,
    description, maximum session duration, tags), ListRolePolicies and GetRolePolicy (each inline
    policy with its document), ListAttachedRolePolicies."""
    try:
        role = client.get_role(RoleName=name, aws_retry=True)["Role"]
        inline = {}
        for page in client.get_paginator("list_role_policies").paginate(RoleName=name):
            for policy_name in page.get("PolicyNames", []):
                answer = client.get_role_policy(RoleName=name, PolicyName=policy_name, aws_retry=True)
                inline[policy_name] = answer["PolicyDocument"]
        attached = [
            policy
            for page in client.get_paginator("list_attached_role_policies").paginate(RoleName=name)
            for policy in page.get("AttachedPolicies", [])
        ]
    except is_boto3_error_code("NoSuchEntity"):
        return None
    except (BotoCoreError, ClientError) as err:  # pylint: disable=duplicate-except
        module.fail_json_aws(
            err,
            msg=f"Could not read the role {name} (iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, "
            "iam:ListAttachedRolePolicies)",
        )
    return current_role(role, inline, attached)


def existing_roles(module: AnsibleAWSModule, client: Any, names: list[str]) -> dict[str, Role | None]:
    """name => the role as IAM has it (None when absent)."""
    return {name: read_role(module, client, name) for name in names}


# --- comparison (no AWS call) ----------------------------------------------------------------


def tag_changes(want: Role, have: Role) -> tuple[dict[str, str], list[str]]:
    """(tags to set, tag keys to remove)."""
    to_set = {k: v for k, v in want["tags"].items() if have["tags"].get(k) != v}
    to_remove = sorted(k for k in have["tags"] if k not in want["tags"]) if want["purge_tags"] else []
    return to_set, to_remove


def update_plan(want: Role, have: Role) -> dict[str, Any]:
    """What differs between the wanted role and the one IAM has."""
    policy_name, document = next(iter(want["inline_policies"].items()))
    to_set, to_remove = tag_changes(want, have)
    description = want["description"]
    current_policy = have["inline_policies"].get(policy_name)
    return {
        "trust policy": compare_policies(have["trust_policy"], want["trust_policy"]),
        "description": description is not None and description != have["description"],
        "max session duration": want["max_session_duration"] != have["max_session_duration"],
        "tags": {"set": to_set, "remove": to_remove} if to_set or to_remove else None,
        "managed policies detached": list(have["managed_policies"]),
        "inline policy": current_policy is None or compare_policies(current_policy, document),
        "other inline policies deleted": sorted(n for n in have["inline_policies"] if n != policy_name),
    }


def changes_of(todo: dict[str, Any]) -> list[str]:
    return [change for change in CHANGE_ORDER if todo.get(change)]


def view(role: Role | None) -> dict[str, Any]:
    """A role for the diff: what the module manages."""
    if role is None:
        return {}
    keys = (
        "path",
        "description",
        "trust_policy",
        "max_session_duration",
        "tags",
        "managed_policies",
        "inline_policies",
    )
    return {key: role.get(key) for key in keys}


def after_view(want: Role, have: Role | None) -> dict[str, Any]:
    after = view(want)
    if have is not None:
        if want["description"] is None:
            after["description"] = have["description"]
        if not want["purge_tags"]:
            after["tags"] = {**have["tags"], **want["tags"]}
    return after


def check_paths(module: AnsibleAWSModule, wanted: list[Role], found: dict[str, Role | None]) -> None:
    """Fail, before any write, for an existing role whose path differs (IAM cannot change it)."""
    errors = [
        f"roles[{want['name']}].path: the role exists with path {found[want['name']]['path']!r}, "
        f"not {want['path']!r}; "
        "IAM cannot change the path of a role (delete the role, or keep its path)"
        for want in wanted
        if found[want["name"]] is not None and found[want["name"]]["path"] != want["path"]
    ]
    if errors:
        module.fail_json(msg="; ".join(errors))


# --- writes ----------------------------------------------------------------------------------


def policy_json(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def after_create(call: Any) -> Any:
    """`call` retried while IAM does not return the role just created yet (NoSuchEntity)."""
    return AWSRetry.jittered_backoff(catch_extra_error_codes=["NoSuchEntity"], **PROPAGATION_RETRY)(call)


def create_role(module: AnsibleAWSModule, client: Any, want: Role) -> Role | None:
    """The role created (once IAM returns it); None when IAM answers that it exists already (IAM is
    eventually consistent: GetRole did not return it yet)."""
    params: dict[str, Any] = {
        "RoleName": want["name"],
        "Path": want["path"],
        "AssumeRolePolicyDocument": policy_json(want["trust_policy"]),
        "MaxSessionDuration": want["max_session_duration"],
    }
    if want["description"] is not None:
        params["Description"] = want["description"]
    if want["tags"]:
        params["Tags"] = ansible_dict_to_boto3_tag_list(want["tags"])
    try:
        role = client.create_role(aws_retry=True, **params)["Role"]
    except is_boto3_error_code("EntityAlreadyExists"):
        return None
    except (BotoCoreError, ClientError) as err:  # pylint: disable=duplicate-except
        module.fail_json_aws(err, msg=f"Could not create the role {want['name']}")
    wait_until_visible(module, client, want["name"])
    return {"name": role["RoleName"], "arn": role["Arn"], "role_id": role.get("RoleId")}


def wait_until_visible(module: AnsibleAWSModule, client: Any, name: str) -> None:
    timeout = module.params["wait_timeout"]
    if timeout == 0:
        return
    delay = min(WAIT_DELAY, timeout)
    try:
        client.get_waiter("role_exists").wait(
            RoleName=name, WaiterConfig={"Delay": delay, "MaxAttempts": max(1, timeout // delay)}
        )
    except (BotoCoreError, ClientError, WaiterError) as err:
        module.fail_json_aws(
            err, msg=f"The role {name} was created but IAM did not return it within {timeout} s"
        )


def update_tags(client: Any, name: str, tags: dict[str, Any]) -> None:
    if tags["remove"]:
        client.untag_role(RoleName=name, TagKeys=tags["remove"], aws_retry=True)
    if tags["set"]:
        client.tag_role(RoleName=name, Tags=ansible_dict_to_boto3_tag_list(tags["set"]), aws_retry=True)


def update_role(client: Any, want: Role, have: Role, todo: dict[str, Any]) -> None:
    """The calls for what update_plan() found, in CHANGE_ORDER; the one inline policy is put before
    the others are deleted, so the role never lacks it."""
    name = want["name"]
    if todo["trust policy"]:
        client.update_assume_role_policy(
            RoleName=name, PolicyDocument=policy_json(want["trust_policy"]), aws_retry=True
        )
    if todo["description"] or todo["max session duration"]:
        # Both, always: moto resets the one left out (AWS leaves it), so each run would differ again.
        client.update_role(
            RoleName=name,
            Description=want["description"] if want["description"] is not None else have["description"],
            MaxSessionDuration=want["max_session_duration"],
            aws_retry=True,
        )
    if todo["tags"]:
        update_tags(client, name, todo["tags"])
    for arn in todo["managed policies detached"]:
        client.detach_role_policy(RoleName=name, PolicyArn=arn, aws_retry=True)
    put_inline_policy(client, want, todo["inline policy"])
    for policy_name in todo["other inline policies deleted"]:
        client.delete_role_policy(RoleName=name, PolicyName=policy_name, aws_retry=True)


def put_inline_policy(client: Any, want: Role, needed: bool, just_created: bool = False) -> None:
    if not needed:
        return
    policy_name, document = next(iter(want["inline_policies"].items()))
    params = {"RoleName": want["name"], "PolicyName": policy_name, "PolicyDocument": policy_json(document)}
    if just_created:
        after_create(client.put_role_policy)(**params)
    else:
        client.put_role_policy(aws_retry=True, **params)


# --- the run ---------------------------------------------------------------------------------


def predicted_arn(module: AnsibleAWSModule, want: Role, caller: dict[str, str]) -> str:
    if not caller:
        try:
            identity = module.client("sts", retry_decorator=AWSRetry.jittered_backoff()).get_caller_identity(
                aws_retry=True
            )
        except (BotoCoreError, ClientError) as err:
            module.fail_json_aws(
                err, msg="Could not read the account (sts:GetCallerIdentity) to predict role ARNs"
            )
        caller["account"] = identity["Account"]
        caller["partition"] = identity["Arn"].split(":")[1]
    return f"arn:{caller['partition']}:iam::{caller['account']}:role{want['path']}{want['name']}"


def existing_after_all(module: AnsibleAWSModule, client: Any, want: Role) -> Role:
    """The role CreateRole found existing although GetRole did not return it (eventual consistency)."""
    have = read_role(module, client, want["name"])
    if have is None:
        module.fail_json(msg=f"IAM says the role {want['name']} exists, but does not return it")
    check_paths(module, [want], {want["name"]: have})
    return have


def converge_role(
    module: AnsibleAWSModule, client: Any, want: Role, have: Role | None, caller: dict[str, str]
) -> dict[str, Any]:
    """One role: the calls it needs (none in check mode) and its entry of the result."""
    name = want["name"]
    if have is None:
        changes = ["created"]
        if module.check_mode:
            return {
                "name": name,
                "arn": predicted_arn(module, want, caller),
                "role_id": None,
                "created": True,
                "changes": changes,
            }
        made = create_role(module, client, want)
        if made is not None:
            try:
                put_inline_policy(client, want, True, just_created=True)
            except (BotoCoreError, ClientError) as err:
                module.fail_json_aws(err, msg=f"Could not put the inline policy of the role {name} (created)")
            return {**made, "created": True, "changes": changes}
        have = existing_after_all(module, client, want)
    todo = update_plan(want, have)
    if not module.check_mode:
        try:
            update_role(client, want, have, todo)
        except (BotoCoreError, ClientError) as err:
            module.fail_json_aws(err, msg=f"Could not update the role {name} ({', '.join(changes_of(todo))})")
    return {
        "name": name,
        "arn": have["arn"],
        "role_id": have["role_id"],
        "created": False,
        "changes": changes_of(todo),
    }


def summary(entries: list[dict[str, Any]], check_mode: bool) -> str:
    changed = [entry for entry in entries if entry["changes"]]
    if not changed:
        return "all roles in line with the definition"
    verb = "would " if check_mode else ""
    parts = []
    for entry in changed:
        if entry["created"]:
            parts.append(f"{entry['name']}: {verb}create")
        else:
            parts.append(f"{entry['name']}: {verb}update {', '.join(entry['changes'])}")
    return "; ".join(parts)


def run(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    wanted = [desired_role(item) for item in module.params["roles"]]
    found = existing_roles(module, client, [want["name"] for want in wanted])
    check_paths(module, wanted, found)
    caller: dict[str, str] = {}
    entries = [converge_role(module, client, want, found[want["name"]], caller) for want in wanted]
    result: dict[str, Any] = {
        "changed": any(entry["changes"] for entry in entries),
        "roles": entries,
        "arns": {entry["name"]: entry["arn"] for entry in entries},
        "msg": summary(entries, module.check_mode),
    }
    if module._diff:
        changed_names = {entry["name"] for entry in entries if entry["changes"]}
        result["diff"] = {
            "before": {w["name"]: view(found[w["name"]]) for w in wanted if w["name"] in changed_names},
            "after": {
                w["name"]: after_view(w, found[w["name"]]) for w in wanted if w["name"] in changed_names
            },
        }
    return result


def main() -> None:
    share_botocore()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(**run(module, client))


if __name__ == "__main__":
    main()
