"""The deployer policy (files/iam/deployer-policy.json) is enough to run the site.

An IAM user holding only that policy runs, on a dedicated moto server with IAM enforcement on:
check mode on a fresh account, a converge of the home region, a rerun (changed=0) and check mode
on the converged account. Every request it made is then evaluated against the shipped policy
with the project's evaluator (scripts/policy_eval.py), resource ARNs and conditions included.
A user whose policy lacks one action is denied, and the denial names the action (a check run
without dynamodb:DescribeTable; a subscriber change without sns:Subscribe). Then, as the
deployer, each run the generator records (scripts/deployer_policy.py record_runs), each with
rc 0 and no request our evaluator denies: the site with documented settings changed
(dp.CHANGED_SETTINGS: another alarm subscriber, a reservation removed, the removal of orphans
planted by hand, dp.plant_orphans); the repair of what an admin changed by hand (dp.apply_drift:
a function's code - what an upgrade that changes a handler does -, a log group's key, the
trail, EBS default encryption, ...); playbooks/verify.yml; and last the teardown with
teardown_orphans (check mode, then the run that keeps the data stores, after the VPC functions
and their roles were deleted by hand).

How moto enforces IAM (moto 5.2.5, server mode), and what that leaves to our evaluator:
- enforcement starts after INITIAL_NO_AUTH_ACTION_COUNT authenticated requests (an env var of
  the server process; at runtime `POST /moto-api/reset-auth` with the count also resets the
  counter). The test uses the endpoint, so the allowance is exactly its SETUP_CALLS;
- every service whose responses go through `BaseResponse.call_action` checks
  `<signing name>:<operation>` for the caller (moto/core/responses.py): EC2, IAM, STS, KMS,
  DynamoDB, Logs, EventBridge, SNS, SQS, CloudTrail, CloudWatch (as `monitoring:`), the Resource
  Groups Tagging API (as `tagging:`, IAM's `tag:`) and Lambda (operation from the REST route).
  S3 checks `s3:<botocore operation>` itself (moto/s3/responses.py), which is not always the
  IAM action (HeadBucket, not s3:ListBucket; PutBucketEncryption, not
  s3:PutEncryptionConfiguration). `moto_view` hands moto a copy of the policy with those
  operation names added next to the IAM actions they stand for;
- resources: only S3 (the bucket ARN), SQS (an existing queue), IAM (an existing role) and
  STS AssumeRole pass a resource ARN; every other service passes "*", which no scoped
  statement matches. moto_view keeps the S3 statements' scope and sets Resource "*" on the
  others; the scope of those is proven by our evaluator on the recorded requests instead;
- conditions: moto evaluates only StringEquals and counts an unresolved condition as a Deny.
  Our conditional statements of iam:PassRole (iam:PassedToService) and kms:CreateGrant
  (kms:GrantIsForAWSResource) concern actions the deployer never calls itself, so moto never
  evaluates them; iam:CreateServiceLinkedRole (iam:AWSServiceName) the deployer does call
  (the security services' roles), and moto sets no iam:AWSServiceName: moto_view drops that
  condition (MOTO_UNRESOLVED). Our evaluator checks every condition, with the context AWS sets
  (`denials`);
- actions a service performs with the caller's permissions (iam:PassRole for a function's
  role, kms:CreateGrant for a table under our key, tag-on-create) are not checked by moto at
  all (see the TODO list of moto/iam/access_control.py): they come from the generator's
  documented EXTRA_ACTIONS table and are checked by our evaluator only;
- moto evaluates no key policy (beyond an explicit Deny of kms:DescribeKey), permission
  boundary or SCP, checks bucket policies only on object calls (the teardown's DeleteObjects,
  once it deleted the bucket policies), and always allows sts:GetCallerIdentity (as AWS does).
  It checks DeleteObjects as s3:DeleteObject on the bucket's ARN (AWS: on each object's), so
  moto_view gives the object statements the bucket pattern too;
- the test user holds the policy inline; moto checks no policy size quota (AWS: 2,048
  characters for a user's inline policy), so the README's role with an inline policy (10,240)
  is what a real account uses, and the size test checks that quota.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import yaml
from conftest import REGIONS, REPO_ROOT, Emulator, PlaybookRun
from moto.s3.responses import ACTION_MAP
from support.recorder import Recorder

from scripts import deployer_policy as dp
from scripts import emulator
from scripts.policy_eval import Request, is_allowed

PORT = int(os.environ.get("TEST_EMULATOR_PORT", "4610")) + 2
# The home region only: it holds every kind of resource (the account-wide ones too), and the
# other region makes the same calls; one region keeps the test inside make test's time budget.
HOME = REGIONS[0]
SHIPPED = json.loads(dp.POLICY_PATH.read_text())
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# create_user, put_user_policy, create_access_key for the admin and for the deployer.
SETUP_CALLS = 6
# An action every run calls (the table role reads its table) and whose denial fails the run:
# not one a module reads "best effort" (amazon.aws.kms_key takes a denied GetKeyRotationStatus
# for "unknown" and carries on).
REMOVED_ACTION = "dynamodb:DescribeTable"
# IAM quota: an inline role policy holds at most 10,240 characters, whitespace not counted.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
ROLE_INLINE_POLICY_LIMIT = 10240
TEARDOWN = "playbooks/teardown.yml"

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Credentials:
    user: str
    key: str
    secret: str


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else list(statement["Action"])


def moto_s3_action(route: dp.Route) -> str:
    """The action moto's S3 checks for a request on this route: moto.s3.responses.ACTION_MAP,
    looked up as S3Response._set_action does (last query key that matches, else DEFAULT)."""
    kind = "KEY" if "{Key+}" in route.path.pattern or r"(.+)" in route.path.pattern else "BUCKET"
    table = ACTION_MAP[kind].get(route.method, {})
    keys = {key for key, _ in route.query}
    action = table.get("DEFAULT", route.operation)
    for key, name in table.items():
        if key in keys:
            action = name
    return f"s3:{action}"


def moto_aliases() -> dict[str, set[str]]:
    """IAM action -> the names moto checks for it (moto's S3 action names; `monitoring:` and
    `tagging:` are added by moto_view)."""
    aliases: dict[str, set[str]] = {"s3:ListAllMyBuckets": {"s3:ListAllMyBuckets"}}
    for route in dp.routes("s3"):
        if route.path.pattern == "^/?$":
            continue
        action = dp.canonical_action(f"s3:{dp.S3_ACTIONS.get(route.operation, route.operation)}")
        aliases.setdefault(action, set()).add(moto_s3_action(route))
    aliases["s3:ListAllMyBuckets"] = {"s3:ListAllMyBuckets"}  # GET / (moto: all_buckets)
    # S3 Control's account-level Block Public Access (verify reads it): moto checks the operation's
    # name, s3:GetPublicAccessBlock, not the IAM action s3:GetAccountPublicAccessBlock.
    for verb in ("Get", "Put"):
        aliases.setdefault(f"s3:{verb}AccountPublicAccessBlock", set()).add(f"s3:{verb}PublicAccessBlock")
    return aliases


# Condition keys moto 5.2.5 does not set for the caller's own calls (it would deny): the
# statements keep their actions and scope for moto, our evaluator checks the condition.
MOTO_UNRESOLVED = ("iam:AWSServiceName",)


def moto_view(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy as moto can evaluate it (see the module docstring)."""
    aliases = moto_aliases()
    view = copy.deepcopy(policy)
    for statement in _statements(view):
        actions = _actions(statement)
        extra = {alias for action in actions for alias in aliases.get(action, ())}
        extra |= {"monitoring:" + a.split(":", 1)[1] for a in actions if a.startswith("cloudwatch:")}
        extra |= {"tagging:" + a.split(":", 1)[1] for a in actions if a.startswith("tag:")}
        statement["Action"] = sorted(set(actions) | extra)
        if not all(a.startswith("s3:") for a in statement["Action"]) or statement["Resource"] == "*":
            statement["Resource"] = "*"
        else:
            # DeleteObjects (POST ?delete): moto checks s3:DeleteObject on the bucket's ARN, AWS on
            # each object's; the object statements name the buckets too (moto's view only).
            resources = statement["Resource"]
            resources = [resources] if isinstance(resources, str) else list(resources)
            buckets = [r.removesuffix("/*") for r in resources if r.endswith("/*")]
            if buckets:
                statement["Resource"] = sorted(set(resources) | set(buckets))
        condition = statement.get("Condition") or {}
        if any(key in MOTO_UNRESOLVED for test in condition.values() for key in test):
            del statement["Condition"]
    return view


def without_action(policy: dict[str, Any], action: str) -> dict[str, Any]:
    reduced = copy.deepcopy(policy)
    for statement in _statements(reduced):
        statement["Action"] = [a for a in _actions(statement) if a != action]
    reduced["Statement"] = [s for s in _statements(reduced) if s["Action"]]
    return reduced


def _iam(endpoint: str, key: str = "testing", secret: str = "testing") -> Any:
    return boto3.client(
        "iam",
        region_name=REGIONS[0],
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def create_user(iam: Any, name: str, policy: dict[str, Any]) -> Credentials:
    user = iam.create_user(UserName=name)["User"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="only", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credentials(user, key["AccessKeyId"], key["SecretAccessKey"])


def enforce_after(endpoint: str, calls: int) -> None:
    """moto's IAM enforcement on, after `calls` more unauthenticated requests."""
    import urllib.request

    # Not a form: werkzeug would consume a form-encoded body and moto would read "".
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=str(calls).encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


# scripts/emulator.py's server, with one fix to moto's signature check: moto 5.2.5 recomputes
# the signature of a request without a body over the request's parsed parameters instead
# (`data=self._body or self._data` in IAMRequestBase._create_aws_request); for Lambda those are
# the request headers, so every GET/DELETE to Lambda fails with SignatureDoesNotMatch. An empty
# body that is not a form (werkzeug consumes form bodies, so moto must rebuild those from the
# parsed parameters) is signed as empty, as AWS and botocore do.
SERVE = """
import sys
from scripts import emulator
from moto.iam import access_control

_original = access_control.IAMRequestBase._create_aws_request

def _create_aws_request(self):
    request = _original(self)
    content_type = {k.lower(): v for k, v in self._headers.items()}.get("content-type", "")
    if not self._body and "x-www-form-urlencoded" not in content_type:
        request.data = b""  # a form's body was consumed by werkzeug: moto rebuilds it from data
    return request

access_control.IAMRequestBase._create_aws_request = _create_aws_request
emulator.serve(int(sys.argv[1]))
"""


@contextlib.contextmanager
def enforcing_server(port: int) -> Iterator[Emulator]:
    """A recording moto server of ours on the port (see SERVE), wrapped as an Emulator."""
    if emulator.answers(port):
        pytest.fail(f"port {port} is taken: the deployer test needs a server of its own")
    recording = REPO_ROOT / ".emulator" / f"recording-{port}.jsonl"
    recording.parent.mkdir(exist_ok=True)
    env = {**os.environ, "MOTO_ENABLE_RECORDING": "True", "MOTO_RECORDER_FILEPATH": str(recording)}
    log = (REPO_ROOT / ".emulator" / f"moto-{port}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        emulator.wait_ready(port)
        # Answers already: used as is (reset, Lambda config), in strict mode like the other
        # integration tests (scripts/strict_aws.py), so the retries run as the deployer too.
        with Emulator(port, strict=True) as wrapped:
            yield wrapped
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with enforcing_server(PORT) as emulator_:
        yield emulator_


@pytest.fixture(scope="module")
def users(server: Emulator) -> dict[str, Credentials]:
    enforce_after(server.endpoint, SETUP_CALLS)
    iam = _iam(server.endpoint)
    return {
        "admin": create_user(iam, "admin", ADMIN_POLICY),
        "deployer": create_user(iam, "deployer", moto_view(SHIPPED)),
    }


@dataclass
class Recorded:
    run: PlaybookRun
    entries: list[dict[str, Any]]


def run_as(
    server: Emulator, who: Credentials, settings: dict[str, Any] | None = None, *args: str, **kwargs: Any
) -> Recorded:
    """A playbook run with `who`'s key (connection variables and environment alike), and `settings`
    as extra variables."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", who.key)
        patch.setenv("AWS_SECRET_ACCESS_KEY", who.secret)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        # The site's account-level Block Public Access (S3 Control) is left out here; its actions
        # come from the recording behind `make deployer-policy` (verify reads it: moto_aliases).
        extra = {
            "baseline_aws_access_key": who.key,
            "baseline_aws_secret_key": who.secret,
            "storage_account_public_access_block": False,
            **(settings or {}),
        }
        run = server.run_playbook(*args, extra_vars=extra, **kwargs)
    return Recorded(run, Recorder(server.endpoint).entries())


@pytest.fixture(scope="module")
def runs(server: Emulator, users: dict[str, Credentials]) -> dict[str, Recorded]:
    """As the deployer: dry run on a fresh account, converge, rerun, dry run when converged."""
    deployer = users["deployer"]
    done: dict[str, Recorded] = {}
    for name, check in (("fresh check", True), ("converge", False), ("rerun", False), ("check", True)):
        done[name] = run_as(server, deployer, check=check, limit=HOME)
        assert done[name].run.rc == 0, f"{name} as the deployer failed:\n" + "\n".join(
            done[name].run.failed_messages() or [done[name].run.stderr[-3000:]]
        )
    return done


def denials(policy: dict[str, Any], entries: list[dict[str, Any]]) -> list[str]:
    """Each recorded request's permissions that the policy does not allow, per our evaluator."""
    denied = set()
    for entry in entries:
        call = dp.api_call(entry)
        if call is None:
            continue
        for permission in dp.permissions(entry):
            context = {}
            if permission.action == "iam:PassRole":
                context["iam:PassedToService"] = dp.PASSED_TO[permission.api_action]
            if permission.action == "kms:CreateGrant":
                context["kms:GrantIsForAWSResource"] = "true"
            if permission.action == "iam:CreateServiceLinkedRole" and permission.resource:
                # role/aws-service-role/<service>/<name>: the service the role is for
                context["iam:AWSServiceName"] = permission.resource.split("/")[-2]
            resources = [permission.resource] if permission.resource else _any_resource(policy, permission)
            if not any(
                is_allowed([policy], Request(permission.action, resource, context=context))
                for resource in resources
            ):
                denied.add(f"{permission.action} on {permission.resource or '(no ARN known)'}")
    return sorted(denied)


def _any_resource(policy: dict[str, Any], permission: dp.Permission) -> list[str]:
    """No ARN derivable from the request: try the statements' own patterns (action check only)."""
    found = []
    for statement in _statements(policy):
        resources = statement["Resource"]
        found.extend([resources] if isinstance(resources, str) else resources)
    return found


def test_shipped_policy_is_generated_sorted_and_fits_an_inline_role_policy() -> None:
    assert dp.dump(SHIPPED) == dp.POLICY_PATH.read_text()
    for statement in _statements(SHIPPED):
        actions = _actions(statement)
        assert actions == sorted(actions, key=str.lower), statement["Sid"]
        assert all(dp.known_action(a) for a in actions), statement["Sid"]
    sids = [s["Sid"] for s in _statements(SHIPPED)]
    assert sids == sorted(sids)
    assert len("".join(json.dumps(SHIPPED).split())) <= ROLE_INLINE_POLICY_LIMIT


def test_deployer_runs_the_site_with_only_the_policy(runs: dict[str, Recorded]) -> None:
    for name in ("rerun", "check"):
        assert runs[name].run.changed(HOME) == 0, (
            name,
            runs[name].run.changed_tasks(),
        )
    assert runs["converge"].run.changed(HOME) > 0
    assert runs["fresh check"].run.changed(HOME) > 0


def test_every_request_of_the_deployer_is_allowed_by_the_shipped_policy(runs: dict[str, Recorded]) -> None:
    entries = [entry for recorded in runs.values() for entry in recorded.entries]
    assert len(entries) > 200
    assert dp.unknown_calls(entries) == []
    assert denials(SHIPPED, entries) == []
    # The scope is really exercised: most permissions name the resource they act on.
    scoped = [p for e in entries for p in dp.permissions(e) if p.resource]
    assert len({p.resource for p in scoped}) > 50


def test_our_evaluator_denies_what_the_policy_lacks(runs: dict[str, Recorded]) -> None:
    entries = runs["converge"].entries
    no_pass_role = {
        **SHIPPED,
        "Statement": [s for s in _statements(SHIPPED) if s["Sid"] != "PassProjectRolesToTheirServices"],
    }
    assert any(d.startswith("iam:PassRole on arn:") for d in denials(no_pass_role, entries))
    narrowed = json.loads(json.dumps(SHIPPED).replace("arn:aws:s3:::secureinfra-*", "arn:aws:s3:::other-*"))
    assert any(
        d.startswith("s3:CreateBucket on arn:aws:s3:::secureinfra-") for d in denials(narrowed, entries)
    )
    assert any(
        d.startswith(f"{REMOVED_ACTION} ") for d in denials(without_action(SHIPPED, REMOVED_ACTION), entries)
    )


def test_a_missing_action_is_denied_and_named(
    server: Emulator, users: dict[str, Credentials], runs: dict[str, Recorded]
) -> None:
    reduced = without_action(SHIPPED, REMOVED_ACTION)
    assert reduced != SHIPPED
    short = create_user(
        _iam(server.endpoint, users["admin"].key, users["admin"].secret), "short", moto_view(reduced)
    )
    recorded = run_as(server, short, check=True, limit=HOME)
    assert recorded.run.rc != 0
    messages = "\n".join(recorded.run.failed_messages())
    assert f"is not authorized to perform: {REMOVED_ACTION}" in messages, messages[-3000:]
    assert short.user in messages


def test_moto_view_adds_moto_names_and_keeps_s3_scope() -> None:
    view = moto_view(SHIPPED)
    s3 = next(s for s in _statements(view) if s["Sid"] == "S3Bucket")
    assert s3["Resource"] == "arn:aws:s3:::secureinfra-*"
    assert {"s3:HeadBucket", "s3:ListBucket", "s3:PutBucketLogging"} <= set(s3["Action"])
    # moto names PUT ?encryption by its default for PUT on a bucket (see the module docstring).
    assert "s3:CreateBucket" in moto_aliases()["s3:PutEncryptionConfiguration"]
    s3_object = next(s for s in _statements(view) if s["Sid"] == "S3Object")
    assert s3_object["Resource"] == ["arn:aws:s3:::secureinfra-*", "arn:aws:s3:::secureinfra-*/*"]
    others = [s for s in _statements(view) if s["Sid"] not in ("S3Bucket", "S3Object")]
    assert all(s["Resource"] == "*" for s in others)


def _ok(recorded: Recorded, what: str) -> None:
    assert recorded.run.rc == 0, f"{what} as the deployer failed:\n" + "\n".join(
        recorded.run.failed_messages() or [recorded.run.stderr[-3000:]]
    )
    assert denials(SHIPPED, recorded.entries) == [], what


def _called(recorded: Recorded) -> set[str]:
    """The IAM actions of the run's requests."""
    return {p.action for entry in recorded.entries for p in dp.permissions(entry)}


def test_a_subscriber_change_without_subscribe_is_denied_and_named(
    server: Emulator, users: dict[str, Credentials], runs: dict[str, Recorded]
) -> None:
    """The alarm topic's subscriptions only (the key's role gives the topic its key): denied. A
    subscriber added to the inventory's (the module unsubscribes first: nothing is removed)."""
    short = create_user(
        _iam(server.endpoint, users["admin"].key, users["admin"].secret),
        "nosubscribe",
        moto_view(without_action(SHIPPED, "sns:Subscribe")),
    )
    inventory = yaml.safe_load((REPO_ROOT / "inventories" / "local" / "group_vars" / "all.yml").read_text())
    added = [*inventory["monitoring_subscriptions"], *dp.CHANGED_SETTINGS["monitoring_subscriptions"]]
    settings = {"monitoring_subscriptions": added}
    recorded = run_as(server, short, settings, "--tags", "encryption,monitoring", limit=HOME)
    assert recorded.run.rc != 0
    messages = "\n".join(recorded.run.failed_messages())
    assert "is not authorized to perform: sns:Subscribe" in messages, messages[-3000:]


@pytest.fixture(scope="module")
def changed_settings(server: Emulator, users: dict[str, Credentials], runs: dict[str, Recorded]) -> Recorded:
    """Orphans planted by an admin, then the site with documented settings changed."""
    admin = users["admin"]
    dp.plant_orphans(server.endpoint, region=HOME, credentials=(admin.key, admin.secret))
    return run_as(server, users["deployer"], dp.CHANGED_SETTINGS, limit=HOME)


def test_deployer_changes_subscribers_and_reservations_and_removes_orphans(
    changed_settings: Recorded,
) -> None:
    _ok(changed_settings, "the site with settings changed")
    called = _called(changed_settings)
    assert {"sns:Subscribe", "sns:Unsubscribe", "lambda:DeleteFunctionConcurrency"} <= called
    deleted = {
        (p.action, p.resource)
        for entry in changed_settings.entries
        for p in dp.permissions(entry)
        if p.action in ("lambda:DeleteFunction", "iam:DeleteRole")
    }
    retired = f"secureinfra-{HOME}-retired"
    assert (
        "lambda:DeleteFunction",
        f"arn:aws:lambda:{HOME}:{dp.EMULATOR_ACCOUNT}:function:{retired}",
    ) in deleted
    assert ("iam:DeleteRole", f"arn:aws:iam::{dp.EMULATOR_ACCOUNT}:role/{retired}") in deleted
    assert {"events:RemoveTargets", "iam:ListRoles", "iam:ListRoleTags", "iam:ListRolePolicies"} <= called


@pytest.fixture(scope="module")
def repaired(server: Emulator, users: dict[str, Credentials], changed_settings: Recorded) -> Recorded:
    """What an admin changed by hand (and the settings changed above), put right by a converge."""
    admin = users["admin"]
    changed = dp.apply_drift(server.endpoint, regions=[HOME], credentials=(admin.key, admin.secret))
    assert len(changed) >= 10, changed
    return run_as(server, users["deployer"], limit=HOME)


def test_deployer_repairs_drift(repaired: Recorded) -> None:
    """It changes the account: after the runs above, before verify and the teardown."""
    _ok(repaired, "the drift repair")
    assert repaired.run.changed(HOME) > 0
    called = _called(repaired)
    repairs = {
        "lambda:UpdateFunctionCode",  # the code changed by hand: what an upgrade does
        "lambda:PutFunctionConcurrency",
        "logs:AssociateKmsKey",
        "cloudtrail:UpdateTrail",
        "cloudtrail:StartLogging",
        "ec2:EnableEbsEncryptionByDefault",
        "sns:Subscribe",  # the inventory's subscriber again
        "sns:Unsubscribe",
    }
    assert repairs <= called, repairs - called


def test_deployer_verifies(server: Emulator, users: dict[str, Credentials], repaired: Recorded) -> None:
    recorded = run_as(server, users["deployer"], playbook="playbooks/verify.yml", limit=HOME)
    _ok(recorded, "verify")
    assert {"iam:ListUsers", "iam:ListAccessKeys", "iam:ListRoleTags"} <= _called(recorded)


def test_deployer_tears_down_with_the_orphans(
    server: Emulator, users: dict[str, Credentials], repaired: Recorded
) -> None:
    """Last: the teardown with teardown_orphans, its dry run (the data stores too), then the one that
    keeps the data stores, after the VPC functions and their roles were deleted by hand
    (dp.strand_lambda_interfaces): it deletes the interfaces Lambda could not. Not the run that
    destroys the data: under moto's enforcement DeleteBucket of the log bucket answers
    BucketNotEmpty after every DeleteObjects (not so without enforcement, not yet understood); the
    recording behind `make deployer-policy` holds that run (its actions are in the policy)."""
    confirm = {"teardown_confirm": dp.EMULATOR_ACCOUNT, "teardown_orphans": True}
    check = run_as(
        server,
        users["deployer"],
        {**confirm, "teardown_destroy_data": True},
        check=True,
        playbook=TEARDOWN,
        limit=HOME,
    )
    _ok(check, "the teardown's dry run")
    admin = users["admin"]
    assert dp.strand_lambda_interfaces(server.endpoint, region=HOME, credentials=(admin.key, admin.secret))
    keep = run_as(server, users["deployer"], confirm, playbook=TEARDOWN, limit=HOME)
    _ok(keep, "the teardown")
    called = _called(keep)
    wanted = {
        "lambda:DeleteFunction",  # key_rotation, outside the VPC
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",  # released by Lambda without the role that could delete them
    }
    assert wanted <= called, wanted - called
