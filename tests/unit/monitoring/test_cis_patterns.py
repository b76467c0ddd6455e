"""Prove the CIS 4.1-4.15 metric-filter patterns in roles/monitoring/vars/main.yml.

Every control's pattern is evaluated (tests/support/filter_pattern.py) against realistic
CloudTrail records that must match and records that must not. Full records for the sign-in,
root and access-denied cases live in events/; the rest are the management-event template
events/api_call_iam_user.json with eventSource/eventName (and other fields) replaced.

Where moto implements logs:TestMetricFilter the same cases are also sent to it and the two must
agree; moto 5.2.5 does not implement it, so that test skips with the reason.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
import yaml
from ansible_collections.secureinfra.baseline.plugins.module_utils.verify_controls import cis_pattern
from moto import mock_aws

# tests/ is on sys.path (pytest "prepend" import mode, for tests/conftest.py).
from support.filter_pattern import compile_pattern

REPO_ROOT = Path(__file__).resolve().parents[3]
VARS_FILE = REPO_ROOT / "roles" / "monitoring" / "vars" / "main.yml"
# CIS v3.0.0's own patterns, which verify compares the deployed ones with.
CIS_FILE = REPO_ROOT / "roles" / "verify" / "vars" / "main.yml"
EVENTS_DIR = Path(__file__).resolve().parent / "events"
EXPECTED_IDS = [f"4.{n}" for n in range(1, 16)]
CONTROL_KEYS = {"name", "cis_id", "description", "metric_name", "pattern"}


def load_controls() -> list[dict[str, Any]]:
    return yaml.safe_load(VARS_FILE.read_text())["monitoring_cis_controls"]


CONTROLS = load_controls()
CONTROLS_BY_ID = {control["cis_id"]: control for control in CONTROLS}


# ----------------------------------------------------------------------------- events

def recorded(name: str, **changes: Any) -> dict[str, Any]:
    """A full CloudTrail record from events/<name>.json, with top-level fields replaced.

    A value of None deletes the field (e.g. errorCode=None).
    """
    event = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    for key, value in changes.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def api_call(source: str, name: str, **changes: Any) -> dict[str, Any]:
    """A management AwsApiCall by an IAM user (events/api_call_iam_user.json)."""
    return recorded("api_call_iam_user", eventSource=source, eventName=name, **changes)


def ec2(name: str, **changes: Any) -> dict[str, Any]:
    return api_call("ec2.amazonaws.com", name, **changes)


def with_identity(event: dict[str, Any], **identity: Any) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["userIdentity"].update(identity)
    return event


ROOT_IDENTITY = {"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root"}


@dataclass(frozen=True)
class Case:
    cis_id: str
    label: str
    event: dict[str, Any]
    expected: bool

    @property
    def id(self) -> str:
        return f"{self.cis_id}-{'match' if self.expected else 'no-match'}-{self.label}"


def hit(cis_id: str, label: str, event: dict[str, Any]) -> Case:
    return Case(cis_id, label, event, True)


def miss(cis_id: str, label: str, event: dict[str, Any]) -> Case:
    return Case(cis_id, label, event, False)


CASES: list[Case] = [
    # 4.1 unauthorized API calls
    hit("4.1", "ec2-Client.UnauthorizedOperation", recorded("ec2_unauthorized_operation")),
    hit("4.1", "s3-AccessDenied", recorded("s3_access_denied")),
    hit("4.1", "kms-AccessDeniedException",
        api_call("kms.amazonaws.com", "Decrypt", errorCode="AccessDeniedException",
                 errorMessage="User is not authorized to perform: kms:Decrypt")),
    miss("4.1", "successful-call-no-errorCode", ec2("DescribeInstances")),
    miss("4.1", "other-error-RequestLimitExceeded",
         ec2("DescribeInstances", errorCode="Client.RequestLimitExceeded")),
    miss("4.1", "s3-NoSuchBucket", recorded("s3_access_denied", errorCode="NoSuchBucket")),
    miss("4.1", "access-denied-only-in-message",  # the pattern looks at errorCode, not errorMessage
         recorded("s3_access_denied", errorCode=None)),
    # CIS v3.0.0's exclusions: S3 server access log delivery, and HeadBucket probes.
    miss("4.1", "AccessDenied-by-s3-log-delivery",
         recorded("s3_access_denied", sourceIPAddress="delivery.logs.amazonaws.com")),
    miss("4.1", "HeadBucket-AccessDenied", recorded("s3_access_denied", eventName="HeadBucket")),

    # 4.2 console sign-in without MFA
    hit("4.2", "iam-user-success-MFAUsed-No", recorded("console_login_iam_user_no_mfa")),
    miss("4.2", "iam-user-with-MFA", recorded("console_login_iam_user_mfa")),
    miss("4.2", "failed-sign-in", recorded("console_login_failed")),
    miss("4.2", "sso-assumed-role-MFA-at-IdP", recorded("console_login_sso_assumed_role")),
    miss("4.2", "root-sign-in (covered by 4.3)", recorded("console_login_root")),
    miss("4.2", "no-additionalEventData (!= needs the field)",
         recorded("console_login_iam_user_no_mfa", additionalEventData=None)),

    # 4.3 root account usage
    hit("4.3", "root-console-sign-in", recorded("console_login_root")),
    hit("4.3", "root-api-call",
        with_identity(api_call("iam.amazonaws.com", "CreateAccessKey"), **ROOT_IDENTITY)),
    miss("4.3", "root-invokedBy-service", recorded("root_invoked_by_service")),
    miss("4.3", "root-AwsServiceEvent",
         with_identity(api_call("signin.amazonaws.com", "PasswordRecoveryRequested",
                                eventType="AwsServiceEvent"), **ROOT_IDENTITY)),
    miss("4.3", "iam-user", recorded("console_login_iam_user_mfa")),

    # 4.4 IAM policy changes
    hit("4.4", "PutRolePolicy", api_call("iam.amazonaws.com", "PutRolePolicy")),
    hit("4.4", "AttachUserPolicy", api_call("iam.amazonaws.com", "AttachUserPolicy")),
    hit("4.4", "CreatePolicyVersion", api_call("iam.amazonaws.com", "CreatePolicyVersion")),
    miss("4.4", "GetRolePolicy", api_call("iam.amazonaws.com", "GetRolePolicy", readOnly=True)),
    miss("4.4", "CreateRole", api_call("iam.amazonaws.com", "CreateRole")),
    miss("4.4", "PutRolePermissionsBoundary (not in the CIS list)",
         api_call("iam.amazonaws.com", "PutRolePermissionsBoundary")),

    # 4.5 CloudTrail configuration changes
    hit("4.5", "StopLogging", api_call("cloudtrail.amazonaws.com", "StopLogging")),
    hit("4.5", "UpdateTrail", api_call("cloudtrail.amazonaws.com", "UpdateTrail")),
    miss("4.5", "GetTrailStatus", api_call("cloudtrail.amazonaws.com", "GetTrailStatus", readOnly=True)),
    miss("4.5", "PutEventSelectors (not in the CIS list)",
         api_call("cloudtrail.amazonaws.com", "PutEventSelectors")),

    # 4.6 console authentication failures
    hit("4.6", "failed-authentication", recorded("console_login_failed")),
    miss("4.6", "successful-sign-in", recorded("console_login_iam_user_no_mfa")),
    miss("4.6", "other-failure-message",
         recorded("console_login_failed", errorMessage="No username found in supplied account")),

    # 4.7 disabling or scheduled deletion of CMKs
    hit("4.7", "DisableKey", api_call("kms.amazonaws.com", "DisableKey")),
    hit("4.7", "ScheduleKeyDeletion", api_call("kms.amazonaws.com", "ScheduleKeyDeletion")),
    miss("4.7", "EnableKey", api_call("kms.amazonaws.com", "EnableKey")),
    miss("4.7", "DisableKeyRotation (exact name)", api_call("kms.amazonaws.com", "DisableKeyRotation")),
    miss("4.7", "DisableKey-from-other-service",
         api_call("payment-cryptography.amazonaws.com", "DisableKey")),

    # 4.8 S3 bucket policy changes
    hit("4.8", "PutBucketPolicy", api_call("s3.amazonaws.com", "PutBucketPolicy")),
    hit("4.8", "DeleteBucketCors", api_call("s3.amazonaws.com", "DeleteBucketCors")),
    hit("4.8", "PutBucketAcl", api_call("s3.amazonaws.com", "PutBucketAcl")),
    miss("4.8", "GetBucketPolicy-denied", recorded("s3_access_denied")),
    miss("4.8", "PutBucketPolicy-on-s3-outposts", api_call("s3-outposts.amazonaws.com", "PutBucketPolicy")),
    miss("4.8", "PutBucketPublicAccessBlock (not in the CIS list)",
         api_call("s3.amazonaws.com", "PutBucketPublicAccessBlock")),

    # 4.9 AWS Config changes
    hit("4.9", "StopConfigurationRecorder", api_call("config.amazonaws.com", "StopConfigurationRecorder")),
    hit("4.9", "DeleteDeliveryChannel", api_call("config.amazonaws.com", "DeleteDeliveryChannel")),
    miss("4.9", "DescribeConfigurationRecorders",
         api_call("config.amazonaws.com", "DescribeConfigurationRecorders", readOnly=True)),
    miss("4.9", "StartConfigurationRecorder", api_call("config.amazonaws.com", "StartConfigurationRecorder")),

    # 4.10 security group changes
    hit("4.10", "AuthorizeSecurityGroupIngress", ec2("AuthorizeSecurityGroupIngress")),
    hit("4.10", "DeleteSecurityGroup", ec2("DeleteSecurityGroup")),
    miss("4.10", "DescribeSecurityGroups", ec2("DescribeSecurityGroups", readOnly=True)),
    miss("4.10", "ModifySecurityGroupRules (not in the CIS list)",
         ec2("ModifySecurityGroupRules")),

    # 4.11 NACL changes
    hit("4.11", "CreateNetworkAclEntry", ec2("CreateNetworkAclEntry")),
    hit("4.11", "ReplaceNetworkAclAssociation", ec2("ReplaceNetworkAclAssociation")),
    miss("4.11", "DescribeNetworkAcls", ec2("DescribeNetworkAcls", readOnly=True)),

    # 4.12 network gateway changes
    hit("4.12", "AttachInternetGateway", ec2("AttachInternetGateway")),
    hit("4.12", "DeleteCustomerGateway", ec2("DeleteCustomerGateway")),
    miss("4.12", "DescribeInternetGateways", ec2("DescribeInternetGateways", readOnly=True)),
    miss("4.12", "CreateNatGateway (not in the CIS list)", ec2("CreateNatGateway")),

    # 4.13 route table changes
    hit("4.13", "CreateRoute", ec2("CreateRoute")),
    hit("4.13", "ReplaceRouteTableAssociation", ec2("ReplaceRouteTableAssociation")),
    hit("4.13", "DisassociateRouteTable", ec2("DisassociateRouteTable")),
    miss("4.13", "DescribeRouteTables", ec2("DescribeRouteTables", readOnly=True)),
    miss("4.13", "AssociateRouteTable (not in the CIS list)", ec2("AssociateRouteTable")),
    # CIS v3.0.0's $.eventSource = ec2.amazonaws.com: API Gateway v2 has a CreateRoute too.
    miss("4.13", "apigateway-CreateRoute (same name, other service)",
         api_call("apigateway.amazonaws.com", "CreateRoute")),
    miss("4.13", "apigateway-DeleteRoute (same name, other service)",
         api_call("apigateway.amazonaws.com", "DeleteRoute")),

    # 4.14 VPC changes
    hit("4.14", "CreateVpc", ec2("CreateVpc")),
    hit("4.14", "ModifyVpcAttribute", ec2("ModifyVpcAttribute")),
    hit("4.14", "AcceptVpcPeeringConnection", ec2("AcceptVpcPeeringConnection")),
    miss("4.14", "DescribeVpcs", ec2("DescribeVpcs", readOnly=True)),
    miss("4.14", "CreateVpcEndpoint (not in the CIS list)", ec2("CreateVpcEndpoint")),

    # 4.15 AWS Organizations changes
    hit("4.15", "CreateAccount", api_call("organizations.amazonaws.com", "CreateAccount")),
    hit("4.15", "AttachPolicy", api_call("organizations.amazonaws.com", "AttachPolicy")),
    hit("4.15", "LeaveOrganization", api_call("organizations.amazonaws.com", "LeaveOrganization")),
    # Not in CIS v3.0.0's list; prowler asks for them, and they change the organization too.
    hit("4.15", "EnableAllFeatures", api_call("organizations.amazonaws.com", "EnableAllFeatures")),
    hit("4.15", "CreateOrganization", api_call("organizations.amazonaws.com", "CreateOrganization")),
    hit("4.15", "CancelHandshake", api_call("organizations.amazonaws.com", "CancelHandshake")),
    miss("4.15", "DescribeOrganization",
         api_call("organizations.amazonaws.com", "DescribeOrganization", readOnly=True)),
    miss("4.15", "iot-AttachPolicy (same name, other service)",
         api_call("iot.amazonaws.com", "AttachPolicy")),
    miss("4.15", "iam-CreatePolicy", api_call("iam.amazonaws.com", "CreatePolicy")),
]


# ----------------------------------------------------------------------------- the data file

def test_every_control_present_exactly_once_in_order():
    ids = [control["cis_id"] for control in CONTROLS]
    assert ids == EXPECTED_IDS
    assert all(isinstance(cis_id, str) for cis_id in ids), "cis_id must be quoted (YAML reads 4.10 as 4.1)"


def test_items_have_exactly_the_documented_keys():
    for control in CONTROLS:
        assert set(control) == CONTROL_KEYS, control.get("cis_id")
        assert all(isinstance(control[key], str) and control[key].strip() for key in CONTROL_KEYS)


def test_names_are_unique_kebab_case():
    names = [control["name"] for control in CONTROLS]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", name) for name in names), names


def test_metric_names_are_unique_camel_case():
    metric_names = [control["metric_name"] for control in CONTROLS]
    assert len(set(metric_names)) == len(metric_names)
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", metric) for metric in metric_names), metric_names


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c["cis_id"])
def test_pattern_is_valid_json_filter_syntax(control):
    compile_pattern(control["pattern"])


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c["cis_id"])
def test_pattern_has_cis_v3_terms(control):
    """What verify's CIS 4.x checks: CIS v3.0.0's terms, and at most more events in CIS's list."""
    references = yaml.safe_load(CIS_FILE.read_text())["verify_cis_patterns"][control["cis_id"]]
    result = cis_pattern(control["pattern"], references)
    assert result["ok"], result
    more = ["CancelHandshake", "CreateOrganization", "EnableAllFeatures"]
    extra = {"4.15": [f"eventName = {name}" for name in more]}
    assert result["extra_terms"] == extra.get(control["cis_id"], [])


def test_every_control_has_a_matching_and_a_non_matching_case():
    for cis_id in EXPECTED_IDS:
        outcomes = {case.expected for case in CASES if case.cis_id == cis_id}
        assert outcomes == {True, False}, f"{cis_id} needs at least one match and one non-match"


# ----------------------------------------------------------------------------- the patterns

@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_pattern_against_cloudtrail_event(case):
    pattern = compile_pattern(CONTROLS_BY_ID[case.cis_id]["pattern"])
    assert pattern.matches(json.dumps(case.event)) is case.expected


def test_management_event_template_matches_no_control():
    """The template itself (DescribeInstances, no error) must be quiet for all 15 alarms."""
    event = json.dumps(recorded("api_call_iam_user"))
    assert [c["cis_id"] for c in CONTROLS if compile_pattern(c["pattern"]).matches(event)] == []


def test_unscoped_iam_pattern_also_counts_organizations_create_policy():
    """4.4 has no eventSource term (verbatim CIS), so organizations:CreatePolicy raises 4.4 and 4.15."""
    event = json.dumps(api_call("organizations.amazonaws.com", "CreatePolicy"))
    raised = [c["cis_id"] for c in CONTROLS if compile_pattern(c["pattern"]).matches(event)]
    assert raised == ["4.4", "4.15"]


# ----------------------------------------------------------------------------- moto, if it can

AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}


def _moto_test_metric_filter(pattern: str, messages: list[str]) -> set[str]:
    with mock.patch.dict(os.environ, AWS_ENV), mock_aws():
        response = boto3.client("logs").test_metric_filter(filterPattern=pattern, logEventMessages=messages)
    return {match["eventMessage"] for match in response.get("matches", [])}


@pytest.mark.parametrize("cis_id", EXPECTED_IDS)
def test_moto_test_metric_filter_agrees_with_evaluator(cis_id):
    pattern = CONTROLS_BY_ID[cis_id]["pattern"]
    cases = [case for case in CASES if case.cis_id == cis_id]
    messages = [json.dumps(case.event) for case in cases]
    try:
        moto_matches = _moto_test_metric_filter(pattern, messages)
    except NotImplementedError as exc:
        pytest.skip(f"moto does not implement logs:TestMetricFilter ({exc})")
    ours = {message for message, case in zip(messages, cases, strict=True) if case.expected}
    assert moto_matches == ours
