#!/usr/bin/env python
"""Real-account acceptance run (`make aws-acceptance`), opt-in: BASELINE_AWS_ACCEPTANCE=1.

In a sandbox account, with a unique prefix (acc-<6 random characters>), so nothing of an
existing baseline is touched:

 0. an SQS queue <prefix>-alarm-subscriber in the first region, subscribed to the alarm topic
    (monitoring_subscriptions): SNS confirms a queue of the topic's own account at once, so
    verify's CIS 4.x controls, which ask for a confirmed subscriber, can pass (an e-mail
    address stays pending until someone clicks its link);
 1. converge us-east-1 and us-west-1 (site.yml);
 2. upload a JSON-lines object under incoming/ of each region's data bucket and wait, bounded,
    until the processor function's items are in the region's table;
 3. invoke the analytics function and read its report (the returned one and the S3 object);
 4. check mode of the whole site: changed=0 on every host;
 5. the drift report (playbooks/drift.yml, the collection's secureinfra.baseline.drift): exit 0,
    no drift;
 6. the verify playbook (`make verify`'s, playbooks/verify.yml), when it exists;
 7. teardown, data included (teardown_destroy_data=true, teardown_confirm=<the account>), and a
    check that no bucket or table of the prefix is left; then the subscriber queue is deleted.

The teardown runs even when an earlier step failed (ACCEPTANCE_KEEP=1 keeps everything, to look
at it), and the run ends with a timed summary. Without BASELINE_AWS_ACCEPTANCE=1, or without
credentials that STS accepts, it says why it skipped and exits 0.

Against real AWS (AWS_ENDPOINT_URL unset) it uses inventories/aws; with AWS_ENDPOINT_URL set,
the checkout's inventory. moto runs no Lambda code without Docker: against moto, step 2 uploads
the object and then runs the deployed processor code in this process (scripts/demo_data_path.py,
under the function's role), and step 3 runs the deployed analytics code the same way; against
real AWS (or LocalStack), S3 triggers the real processor and Lambda Invoke runs analytics.
docs/acceptance.md: costs, permissions, duration.

Settings (environment): ACCEPTANCE_PREFIX (default acc-<random>), ACCEPTANCE_REGIONS (default
us-east-1,us-west-1), ACCEPTANCE_DATA_TIMEOUT (seconds, default 300), ACCEPTANCE_KEEP=1.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import string
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `scripts` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO_ROOT = Path(__file__).resolve().parent.parent
REGIONS = ("us-east-1", "us-west-1")
SAMPLE_RECORDS = 6
VERIFY_PLAYBOOK = "playbooks/verify.yml"  # what `make verify` runs
ALPHABET = string.ascii_lowercase + string.digits


# --- whether to run -----------------------------------------------------------------------------


def skip_reason(environ: Mapping[str, str], session_factory: Callable[[], Any]) -> str | None:
    """Why the run is skipped (None: run). No AWS call unless opted in and credentials resolve."""
    if environ.get("BASELINE_AWS_ACCEPTANCE") != "1":
        return (
            "BASELINE_AWS_ACCEPTANCE is not 1: this run creates and deletes real resources in a sandbox "
            "account (a few cents); set BASELINE_AWS_ACCEPTANCE=1 to run it"
        )
    try:
        session = session_factory()
        credentials = session.get_credentials()
    except Exception as err:  # noqa: BLE001 - any failure to build a session is a reason to skip
        return f"no usable AWS configuration: {err}"
    if credentials is None:
        return (
            "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "or log in with SSO)"
        )
    try:
        session.client("sts", region_name=REGIONS[0]).get_caller_identity()
    except Exception as err:  # noqa: BLE001 - botocore raises many kinds; each one means "skip"
        return f"STS GetCallerIdentity failed, so the credentials cannot be used: {err}"
    return None


def unique_prefix(token: Callable[[int], str] | None = None) -> str:
    """acc-<6 lower-case letters/digits>: a valid baseline_prefix (3-20 chars), unique per run."""
    if token is None:
        return "acc-" + "".join(secrets.choice(ALPHABET) for _index in range(6))
    return "acc-" + token(6)


# --- settings -----------------------------------------------------------------------------------


def caller_principals(caller_arn: str) -> list[str]:
    """The IAM principal ARNs (aws:PrincipalArn) of the caller, for the data bucket's policy.

    The data bucket denies object requests to every principal but the function roles and
    storage_data_bucket_extra_principals; the run uploads and reads objects itself, so it lists
    the caller. An assumed role's aws:PrincipalArn is the role's ARN, which may have a path (SSO
    roles: /aws-reserved/sso.amazonaws.com/...): both the plain ARN and one matching any path.
    """
    head, _sep, resource = caller_arn.partition(":sts::")
    if not resource:
        return [caller_arn]
    account, _sep, name = resource.partition(":")
    kind, _sep, rest = name.partition("/")
    if kind == "assumed-role":
        role = rest.split("/", 1)[0]
        return [f"{head}:iam::{account}:role/{role}", f"{head}:iam::{account}:role/*/{role}"]
    return [f"{head}:iam::{account}:{name}"]


@dataclass
class Settings:
    prefix: str
    account: str
    regions: tuple[str, ...]
    endpoint: str | None
    data_timeout: float = 300.0
    keep: bool = False
    principals: tuple[str, ...] = ()

    @property
    def inventory(self) -> str:
        return "inventories/local" if self.endpoint else "inventories/aws"

    partition: str = "aws"

    @property
    def subscriber_queue(self) -> str:
        """The alarm topic's subscriber: a queue of this run, in the first region."""
        return f"{self.prefix}-alarm-subscriber"

    @property
    def subscriber_arn(self) -> str:
        return f"arn:{self.partition}:sqs:{self.regions[0]}:{self.account}:{self.subscriber_queue}"

    @property
    def extra_vars(self) -> dict[str, Any]:
        """The same for every run (converge, check, drift, teardown): the prefix, the caller
        among the data bucket's principals, and the run's queue as the alarms' subscriber."""
        return {
            "baseline_prefix": self.prefix,
            "storage_data_bucket_extra_principals": list(self.principals),
            "monitoring_subscriptions": [{"protocol": "sqs", "endpoint": self.subscriber_arn}],
        }

    def data_bucket(self, region: str) -> str:
        return f"{self.prefix}-data-{self.account}-{region}"

    @property
    def table(self) -> str:
        return f"{self.prefix}-data"

    def function(self, region: str, name: str) -> str:
        return f"{self.prefix}-{region}-{name}"


def settings_from(environ: Mapping[str, str], account: str, caller_arn: str = "") -> Settings:
    regions = tuple(
        r.strip() for r in environ.get("ACCEPTANCE_REGIONS", ",".join(REGIONS)).split(",") if r.strip()
    )
    return Settings(
        prefix=environ.get("ACCEPTANCE_PREFIX") or unique_prefix(),
        account=account,
        regions=regions,
        endpoint=environ.get("AWS_ENDPOINT_URL") or None,
        data_timeout=float(environ.get("ACCEPTANCE_DATA_TIMEOUT", "300")),
        keep=environ.get("ACCEPTANCE_KEEP") == "1",
        principals=tuple(caller_principals(caller_arn)) if caller_arn else (),
        partition=caller_arn.split(":")[1] if caller_arn.startswith("arn:") else "aws",
    )


# --- playbook runs ------------------------------------------------------------------------------


@dataclass
class PlaybookResult:
    rc: int
    stats: dict[str, dict[str, int]]
    tail: str

    def changed(self) -> dict[str, int]:
        return {host: counts.get("changed", 0) for host, counts in self.stats.items()}


def parse_json_output(stdout: str) -> dict[str, Any]:
    """The ansible.posix.json callback's document (whatever precedes its first brace is noise)."""
    try:
        return json.loads(stdout[stdout.index("{") :])
    except ValueError:
        return {}


def ansible_playbook(
    playbook: str, settings: Settings, *args: str, extra: dict[str, Any] | None = None
) -> PlaybookResult:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
    }
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        playbook,
        "-i",
        settings.inventory,
        "--limit",
        ",".join(settings.regions),
        "--extra-vars",
        json.dumps({**settings.extra_vars, **(extra or {})}),
        *args,
    ]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    output = parse_json_output(proc.stdout)
    return PlaybookResult(proc.returncode, output.get("stats", {}), (proc.stdout + proc.stderr)[-3000:])


def require_success(result: PlaybookResult, what: str) -> None:
    failed = {h: c for h, c in result.stats.items() if c.get("failures") or c.get("unreachable")}
    if result.rc != 0 or failed:
        raise StepFailed(f"{what} failed (rc {result.rc}, failed hosts {sorted(failed)}):\n{result.tail}")


class StepFailed(RuntimeError):
    """A step's check did not hold; the message says what and why."""


# --- the data path ------------------------------------------------------------------------------


def sample_records(region: str, run_id: str) -> list[dict[str, Any]]:
    return [
        {"id": f"{run_id}-{region}-{n}", "timestamp": 1_764_000_000 + n, "category": f"c{n % 2}", "value": n}
        for n in range(SAMPLE_RECORDS)
    ]


def sample_body(records: list[dict[str, Any]]) -> bytes:
    return ("\n".join(json.dumps(r) for r in records) + "\n").encode()


def wait_until(
    condition: Callable[[], tuple[bool, str]],
    timeout: float,
    what: str,
    interval: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Poll `condition` (done, progress) until done; the seconds it took, or StepFailed at timeout."""
    start = clock()
    progress = ""
    while True:
        done, progress = condition()
        if done:
            return clock() - start
        if clock() - start >= timeout:
            raise StepFailed(
                f"timed out after {timeout:.0f} s waiting for {what} (last seen: {progress}); raise "
                "ACCEPTANCE_DATA_TIMEOUT, or look at the function's log group and dead-letter queue"
            )
        sleep(interval)


def items_present(dynamodb: Any, table: str, ids: list[str]) -> tuple[bool, str]:
    """Whether every id has an item in the table (one Query per id, the table's hash key)."""
    found = 0
    for item_id in ids:
        response = dynamodb.query(
            TableName=table,
            KeyConditionExpression="id = :id",
            ExpressionAttributeValues={":id": {"S": item_id}},
            Select="COUNT",
        )
        found += 1 if response.get("Count", 0) else 0
    return found == len(ids), f"{found} of {len(ids)} items in {table}"


class Functions:
    """How the deployed functions run: by AWS (S3 trigger, Lambda Invoke) or, on moto, here."""

    def __init__(self, session: Any, settings: Settings, emulated: bool) -> None:
        self.session = session
        self.settings = settings
        self.emulated = emulated
        self._runner: Any = None

    def runner(self) -> Any:
        if self._runner is None:
            from scripts import demo_data_path

            self._runner = demo_data_path.Runner(self.settings.endpoint)
        return self._runner

    def after_upload(self, region: str, bucket: str, key: str) -> None:
        """AWS invokes the processor itself (S3 notification); moto runs no code: run it here."""
        if not self.emulated:
            return
        from scripts import demo_data_path

        lam = self.session.client("lambda", region_name=region)
        demo_data_path_event = demo_data_path.s3_event(bucket, key, region)
        self.runner().invoke(
            lam, self.settings.function(region, "processor"), region, "processor", demo_data_path_event
        )

    def analytics(self, region: str) -> dict[str, Any]:
        name = self.settings.function(region, "analytics")
        lam = self.session.client("lambda", region_name=region)
        if self.emulated:
            _config, result = self.runner().invoke(lam, name, region, "analytics", {})
            return result
        response = lam.invoke(FunctionName=name, InvocationType="RequestResponse", Payload=b"{}")
        payload = json.loads(response["Payload"].read() or b"{}")
        if response.get("FunctionError"):
            raise StepFailed(f"{name} failed: {json.dumps(payload)[:2000]}")
        return payload


def check_report(report: dict[str, Any], expected_ids: list[str]) -> None:
    body = report.get("report") or {}
    if not report.get("report_key") or body.get("item_count", 0) < len(expected_ids):
        raise StepFailed(
            f"analytics report does not count the {len(expected_ids)} items just written: "
            f"{json.dumps(report)[:2000]}"
        )


# --- steps and summary --------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    seconds: float
    ok: bool
    detail: str = ""


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic

    def step(self, name: str, action: Callable[[], str]) -> bool:
        start = self.clock()
        try:
            detail = action()
            ok = True
        except StepFailed as err:
            detail, ok = str(err), False
        self.outcomes.append(Outcome(name, self.clock() - start, ok, detail))
        print(
            f"{'ok  ' if ok else 'FAIL'} {name} ({self.outcomes[-1].seconds:.0f} s)"
            + (f": {detail}" if detail else ""),
            flush=True,
        )
        return ok

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def summary(self) -> str:
        width = max((len(o.name) for o in self.outcomes), default=10)
        lines = [f"{'step':<{width}}  result  seconds"]
        lines += [
            f"{o.name:<{width}}  {'ok' if o.ok else 'FAILED':<6}  {o.seconds:7.0f}" for o in self.outcomes
        ]
        lines.append(
            f"{'total':<{width}}  {'ok' if self.ok else 'FAILED':<6}  "
            f"{sum(o.seconds for o in self.outcomes):7.0f}"
        )
        return "\n".join(lines)


class Acceptance:
    """The steps, in order, against one account."""

    def __init__(self, session: Any, settings: Settings, functions: Functions) -> None:
        self.session = session
        self.settings = settings
        self.functions = functions
        self.run_id = settings.prefix

    def subscriber(self) -> str:
        """The queue the alarm topic delivers to: only SNS, for this account's topics, may send."""
        region = self.settings.regions[0]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": self.settings.subscriber_arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": self.settings.account}},
                }
            ],
        }
        self.session.client("sqs", region_name=region).create_queue(
            QueueName=self.settings.subscriber_queue,
            Attributes={"Policy": json.dumps(policy), "SqsManagedSseEnabled": "true"},
        )
        return f"{self.settings.subscriber_arn} (monitoring_subscriptions)"

    def remove_subscriber(self) -> str:
        sqs = self.session.client("sqs", region_name=self.settings.regions[0])
        try:
            url = sqs.get_queue_url(QueueName=self.settings.subscriber_queue)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            return "no subscriber queue"
        sqs.delete_queue(QueueUrl=url)
        return f"{self.settings.subscriber_queue} deleted"

    def converge(self) -> str:
        result = ansible_playbook("site.yml", self.settings)
        require_success(result, "converge")
        return f"changed per host: {result.changed()}"

    def data_path(self) -> str:
        details = []
        for region in self.settings.regions:
            records = sample_records(region, self.run_id)
            bucket, key = self.settings.data_bucket(region), f"incoming/acceptance-{self.run_id}.jsonl"
            self.session.client("s3", region_name=region).put_object(
                Bucket=bucket, Key=key, Body=sample_body(records), ContentType="application/x-ndjson"
            )
            self.functions.after_upload(region, bucket, key)
            dynamodb = self.session.client("dynamodb", region_name=region)
            ids = [r["id"] for r in records]
            took = wait_until(
                functools.partial(items_present, dynamodb, self.settings.table, ids),
                self.settings.data_timeout,
                f"the processor's {len(ids)} items in {self.settings.table} ({region})",
            )
            details.append(f"{region}: {len(ids)} items after {took:.0f} s")
        return "; ".join(details)

    def analytics(self) -> str:
        details = []
        for region in self.settings.regions:
            report = self.functions.analytics(region)
            check_report(report, [r["id"] for r in sample_records(region, self.run_id)])
            s3 = self.session.client("s3", region_name=region)
            stored = json.loads(
                s3.get_object(Bucket=self.settings.data_bucket(region), Key=report["report_key"])[
                    "Body"
                ].read()
            )
            if stored.get("item_count") != report["report"].get("item_count"):
                raise StepFailed(f"{region}: the report in S3 differs from the one returned: {stored}")
            details.append(f"{region}: {report['report_key']} ({stored['item_count']} items)")
        return "; ".join(details)

    def check_mode(self) -> str:
        result = ansible_playbook("site.yml", self.settings, "--check", "--diff")
        require_success(result, "check mode")
        changed = {h: c for h, c in result.changed().items() if c}
        if changed:
            raise StepFailed(f"check mode reports changes on a converged account: {changed}")
        return "changed=0 on " + ", ".join(sorted(result.changed()))

    def drift(self) -> str:
        """The drift playbook (check mode by itself), Ansible's text output: its report comes last."""
        cmd = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "playbooks/drift.yml",
            "-i",
            self.settings.inventory,
            "--limit",
            ",".join(self.settings.regions),
            "--extra-vars",
            json.dumps(self.settings.extra_vars),
        ]
        env = {**os.environ, "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise StepFailed(f"drift playbook exit {proc.returncode}:\n{(proc.stdout + proc.stderr)[-3000:]}")
        return "no drift"

    def verify(self) -> str:
        """`make verify`'s playbook, on this run's inventory and prefix (the make target itself
        starts and uses the local emulator)."""
        if not (REPO_ROOT / VERIFY_PLAYBOOK).exists():
            return f"skipped: no {VERIFY_PLAYBOOK} yet"
        result = ansible_playbook(VERIFY_PLAYBOOK, self.settings)
        require_success(result, "verify")
        return f"{VERIFY_PLAYBOOK} passed on " + ", ".join(sorted(result.stats))

    def teardown(self) -> str:
        result = ansible_playbook(
            "playbooks/teardown.yml",
            self.settings,
            extra={"teardown_confirm": self.settings.account, "teardown_destroy_data": True},
        )
        require_success(result, "teardown")
        left = self.leftovers()
        if left:
            raise StepFailed(f"left after the teardown: {left}")
        return f"changed per host: {result.changed()}; keys pending deletion (30 days)"

    def leftovers(self) -> list[str]:
        s3 = self.session.client("s3", region_name=self.settings.regions[0])
        left = [
            b["Name"]
            for b in s3.list_buckets().get("Buckets", [])
            if b["Name"].startswith(self.settings.prefix + "-")
        ]
        for region in self.settings.regions:
            tables = self.session.client("dynamodb", region_name=region).list_tables().get("TableNames", [])
            left += [f"{region}:{t}" for t in tables if t.startswith(self.settings.prefix + "-")]
        return left


def run_acceptance(acceptance: Acceptance, run: Run) -> None:
    """The steps in order, stopping at the first failure; the teardown always runs (unless keep)."""
    steps: list[tuple[str, Callable[[], str]]] = [
        ("alarm subscriber queue", acceptance.subscriber),
        ("converge us-east-1 + us-west-1", acceptance.converge),
        ("upload, processor items in the table", acceptance.data_path),
        ("analytics report", acceptance.analytics),
        ("check mode changed=0", acceptance.check_mode),
        ("drift report", acceptance.drift),
        ("verify (make verify's playbook)", acceptance.verify),
    ]
    for name, action in steps:
        if not run.step(name, action):
            break
    if acceptance.settings.keep:
        print(
            "ACCEPTANCE_KEEP=1: nothing torn down; remove it later with make teardown "
            f"(prefix {acceptance.settings.prefix})"
        )
        return
    run.step("teardown, data included", acceptance.teardown)
    run.step("alarm subscriber queue removed", acceptance.remove_subscriber)


def emulated_lambda(endpoint: str | None) -> bool:
    """True when the endpoint is moto, which runs no Lambda code here (no Docker)."""
    if not endpoint:
        return False
    from scripts.emulator import is_moto

    try:
        return is_moto(int(endpoint.rstrip("/").rsplit(":", 1)[1]))
    except ValueError:
        return False


def main() -> int:
    import boto3

    reason = skip_reason(os.environ, boto3.session.Session)
    if reason:
        print(f"aws-acceptance skipped: {reason}")
        return 0
    session = boto3.session.Session()
    identity = session.client("sts", region_name=REGIONS[0]).get_caller_identity()
    settings = settings_from(os.environ, identity["Account"], identity["Arn"])
    emulated = emulated_lambda(settings.endpoint)
    where = f"emulator {settings.endpoint}" if settings.endpoint else "real AWS"
    print(
        f"aws-acceptance: account {settings.account} ({identity['Arn']}) on {where}, "
        f"prefix {settings.prefix}, "
        f"regions {', '.join(settings.regions)}"
        + ("; Lambda code runs in this process (moto without Docker)" if emulated else "")
    )
    run = Run()
    run_acceptance(Acceptance(session, settings, Functions(session, settings, emulated)), run)
    print(run.summary())
    return 0 if run.ok else 1


if __name__ == "__main__":
    sys.exit(main())
