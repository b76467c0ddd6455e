"""Unit tests of scripts/aws_acceptance.py: when it skips, and how its steps decide (no network)."""

from __future__ import annotations

import json
import os
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from scripts import aws_acceptance as acc

ACCOUNT = "123456789012"


class FakeSession:
    def __init__(self, credentials: object | None = object(), sts_error: Exception | None = None) -> None:
        self.credentials = credentials
        self.sts_error = sts_error
        self.sts_calls = 0

    def get_credentials(self) -> object | None:
        return self.credentials

    def client(self, service: str, region_name: str) -> Any:
        assert service == "sts"
        session = self

        class Sts:
            def get_caller_identity(self) -> dict[str, str]:
                session.sts_calls += 1
                if session.sts_error:
                    raise session.sts_error
                return {"Account": ACCOUNT}

        return Sts()


def test_skips_without_the_opt_in_and_makes_no_call() -> None:
    session = FakeSession()
    for environ in ({}, {"BASELINE_AWS_ACCEPTANCE": "0"}, {"BASELINE_AWS_ACCEPTANCE": "yes"}):
        reason = acc.skip_reason(environ, lambda: session)
        assert reason and "BASELINE_AWS_ACCEPTANCE is not 1" in reason
    assert session.sts_calls == 0


def test_skips_without_credentials() -> None:
    session = FakeSession(credentials=None)
    reason = acc.skip_reason({"BASELINE_AWS_ACCEPTANCE": "1"}, lambda: session)
    assert reason and "no AWS credentials" in reason
    assert session.sts_calls == 0


def test_skips_when_sts_refuses_the_credentials() -> None:
    session = FakeSession(sts_error=RuntimeError("InvalidClientTokenId"))
    reason = acc.skip_reason({"BASELINE_AWS_ACCEPTANCE": "1"}, lambda: session)
    assert reason and "STS GetCallerIdentity failed" in reason and "InvalidClientTokenId" in reason


def test_skips_when_the_session_cannot_be_built() -> None:
    def broken() -> Any:
        raise ValueError("The config profile (sandbox) could not be found")

    reason = acc.skip_reason({"BASELINE_AWS_ACCEPTANCE": "1"}, broken)
    assert reason and "sandbox" in reason


def test_runs_when_opted_in_and_sts_answers() -> None:
    session = FakeSession()
    assert acc.skip_reason({"BASELINE_AWS_ACCEPTANCE": "1"}, lambda: session) is None
    assert session.sts_calls == 1


def test_runs_with_moto_credentials_real_boto3_session() -> None:
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    with mock.patch.dict(os.environ, env), mock_aws():
        assert acc.skip_reason({"BASELINE_AWS_ACCEPTANCE": "1"}, boto3.session.Session) is None


def test_main_prints_why_it_skipped_and_exits_0(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.delenv("BASELINE_AWS_ACCEPTANCE", raising=False)
    assert acc.main() == 0
    assert "aws-acceptance skipped: BASELINE_AWS_ACCEPTANCE is not 1" in capsys.readouterr().out


def test_prefix_is_unique_and_a_valid_baseline_prefix() -> None:
    prefixes = {acc.unique_prefix() for _ in range(50)}
    assert len(prefixes) == 50
    for prefix in prefixes:
        assert len(prefix) == 10 and prefix.startswith("acc-")
        assert all(c in acc.ALPHABET or c == "-" for c in prefix)
    assert acc.unique_prefix(lambda n: "x" * n) == "acc-xxxxxx"


def test_settings_pick_the_inventory_from_the_endpoint() -> None:
    real = acc.settings_from({"ACCEPTANCE_PREFIX": "acc-test01"}, ACCOUNT)
    assert real.inventory == "inventories/aws" and real.endpoint is None
    assert real.regions == ("us-east-1", "us-west-1")
    assert real.data_bucket("us-west-1") == f"acc-test01-data-{ACCOUNT}-us-west-1"
    assert real.table == "acc-test01-data"
    assert real.function("us-east-1", "processor") == "acc-test01-us-east-1-processor"
    local = acc.settings_from(
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
            "ACCEPTANCE_REGIONS": "us-west-1",
            "ACCEPTANCE_KEEP": "1",
        },
        ACCOUNT,
    )
    assert local.inventory == "inventories/local" and local.regions == ("us-west-1",) and local.keep
    assert local.prefix.startswith("acc-")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_wait_until_returns_the_time_it_took() -> None:
    clock = Clock()
    answers = iter([(False, "0 of 6"), (False, "3 of 6"), (True, "6 of 6")])
    took = acc.wait_until(lambda: next(answers), 60, "items", interval=5, clock=clock, sleep=clock.sleep)
    assert took == 10


def test_wait_until_is_bounded_and_says_what_it_saw() -> None:
    clock = Clock()
    with pytest.raises(acc.StepFailed) as err:
        acc.wait_until(
            lambda: (False, "2 of 6 items"), 30, "the items", interval=5, clock=clock, sleep=clock.sleep
        )
    assert clock.now == 30
    assert "timed out after 30 s waiting for the items (last seen: 2 of 6 items)" in str(err.value)
    assert "ACCEPTANCE_DATA_TIMEOUT" in str(err.value)


def test_items_present_counts_the_ids_in_the_table() -> None:
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    with mock.patch.dict(os.environ, env), mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "id", "KeyType": "HASH"},
                {"AttributeName": "timestamp", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "timestamp", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        records = acc.sample_records("us-east-1", "acc-run")
        ids = [r["id"] for r in records]
        assert acc.items_present(ddb, "t", ids) == (False, "0 of 6 items in t")
        for record in records[:4]:
            ddb.put_item(
                TableName="t", Item={"id": {"S": record["id"]}, "timestamp": {"N": str(record["timestamp"])}}
            )
        assert acc.items_present(ddb, "t", ids) == (False, "4 of 6 items in t")
        for record in records[4:]:
            ddb.put_item(
                TableName="t", Item={"id": {"S": record["id"]}, "timestamp": {"N": str(record["timestamp"])}}
            )
        assert acc.items_present(ddb, "t", ids) == (True, "6 of 6 items in t")


def test_sample_body_is_json_lines_of_unique_ids() -> None:
    records = acc.sample_records("us-west-1", "acc-abc123")
    lines = acc.sample_body(records).decode().splitlines()
    assert len(lines) == acc.SAMPLE_RECORDS == len({r["id"] for r in records})
    assert all(r["id"].startswith("acc-abc123-us-west-1-") for r in records)


def test_check_report_needs_the_items_just_written() -> None:
    ids = ["a", "b", "c"]
    acc.check_report({"report_key": "reports/x.json", "report": {"item_count": 3}}, ids)
    for bad in (
        {"report_key": "reports/x.json", "report": {"item_count": 2}},
        {"report": {"item_count": 9}},
        {},
    ):
        with pytest.raises(acc.StepFailed):
            acc.check_report(bad, ids)


def test_require_success_names_failed_hosts() -> None:
    acc.require_success(acc.PlaybookResult(0, {"us-east-1": {"changed": 3}}, ""), "converge")
    with pytest.raises(acc.StepFailed, match=r"converge failed \(rc 2, failed hosts \['us-west-1'\]\)"):
        acc.require_success(acc.PlaybookResult(2, {"us-west-1": {"failures": 1}}, "boom"), "converge")


def test_parse_json_output_skips_leading_noise() -> None:
    assert acc.parse_json_output('[WARNING]: x\n{"stats": {"h": {"changed": 0}}}') == {
        "stats": {"h": {"changed": 0}}
    }
    assert acc.parse_json_output("no json") == {}


ALL_STEPS = [
    "subscriber",
    "converge",
    "data_path",
    "analytics",
    "check_mode",
    "drift",
    "verify",
    "teardown",
    "remove_subscriber",
]
CLEANUP = ["teardown", "remove_subscriber"]


class FakeAcceptance:
    """Records the order of the steps; `fail` names the step that fails."""

    def __init__(self, fail: str | None = None, keep: bool = False) -> None:
        self.calls: list[str] = []
        self.fail = fail
        self.settings = acc.Settings("acc-test01", ACCOUNT, acc.REGIONS, None, keep=keep)
        for name in ALL_STEPS:
            setattr(self, name, self._step(name))

    def _step(self, name: str) -> Any:
        def action() -> str:
            self.calls.append(name)
            if name == self.fail:
                raise acc.StepFailed(f"{name} broke")
            return f"{name} done"

        return action


def test_all_steps_in_order_then_the_summary() -> None:
    fake = FakeAcceptance()
    run = acc.Run(clock=iter(range(100)).__next__)
    acc.run_acceptance(fake, run)  # type: ignore[arg-type]
    assert fake.calls == ALL_STEPS
    assert run.ok
    summary = run.summary()
    assert summary.splitlines()[0].startswith("step")
    assert "teardown, data included" in summary and summary.splitlines()[-1].startswith("total")


@pytest.mark.parametrize("failing", ["converge", "data_path", "check_mode", "drift"])
def test_a_failed_step_stops_the_run_but_the_teardown_still_runs(failing: str) -> None:
    fake = FakeAcceptance(fail=failing)
    run = acc.Run()
    acc.run_acceptance(fake, run)  # type: ignore[arg-type]
    assert fake.calls == [*ALL_STEPS[: ALL_STEPS.index(failing) + 1], *CLEANUP]
    assert not run.ok
    assert [o.name for o in run.outcomes if not o.ok] == [run.outcomes[-3].name]
    assert f"{failing} broke" in run.outcomes[-3].detail


def test_keep_skips_the_teardown(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeAcceptance(keep=True)
    acc.run_acceptance(fake, acc.Run())  # type: ignore[arg-type]
    assert "teardown" not in fake.calls
    assert "ACCEPTANCE_KEEP=1" in capsys.readouterr().out


def test_a_failed_teardown_fails_the_run() -> None:
    fake = FakeAcceptance(fail="teardown")
    run = acc.Run()
    acc.run_acceptance(fake, run)  # type: ignore[arg-type]
    assert not run.ok and [o.name for o in run.outcomes if not o.ok] == ["teardown, data included"]


def test_no_endpoint_is_real_lambda() -> None:
    assert acc.emulated_lambda(None) is False
    assert acc.emulated_lambda("http://localhost") is False


@pytest.mark.parametrize(
    ("caller", "principals"),
    [
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123/jane@example.com",
            [
                f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Admin_0123",
                f"arn:aws:iam::{ACCOUNT}:role/*/AWSReservedSSO_Admin_0123",
            ],
        ),
        (f"arn:aws:iam::{ACCOUNT}:user/deployer", [f"arn:aws:iam::{ACCOUNT}:user/deployer"]),
        (f"arn:aws:iam::{ACCOUNT}:root", [f"arn:aws:iam::{ACCOUNT}:root"]),
        (f"arn:aws:sts::{ACCOUNT}:user/moto", [f"arn:aws:iam::{ACCOUNT}:user/moto"]),
        (
            f"arn:aws-us-gov:sts::{ACCOUNT}:assumed-role/deploy/s",
            [f"arn:aws-us-gov:iam::{ACCOUNT}:role/deploy", f"arn:aws-us-gov:iam::{ACCOUNT}:role/*/deploy"],
        ),
    ],
)
def test_caller_principals_are_what_aws_principalarn_names(caller: str, principals: list[str]) -> None:
    assert acc.caller_principals(caller) == principals


def test_caller_principals_pass_the_storage_role_validation() -> None:
    from ansible_collections.secureinfra.baseline.plugins.filter.aws_rules import aws_principal_errors

    arns = acc.caller_principals(f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123/jane")
    assert aws_principal_errors(arns, "storage_data_bucket_extra_principals", "us-east-1") == []


def test_every_run_gets_the_prefix_and_the_caller_principals() -> None:
    settings = acc.settings_from(
        {"ACCEPTANCE_PREFIX": "acc-test01"}, ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/ci"
    )
    assert settings.extra_vars == {
        "baseline_prefix": "acc-test01",
        "storage_data_bucket_extra_principals": [f"arn:aws:iam::{ACCOUNT}:user/ci"],
        "monitoring_subscriptions": [
            {"protocol": "sqs", "endpoint": f"arn:aws:sqs:us-east-1:{ACCOUNT}:acc-test01-alarm-subscriber"}
        ],
    }


def test_the_subscriber_queue_is_made_confirmed_by_sns_and_removed() -> None:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        account = session.client("sts").get_caller_identity()["Account"]
        settings = acc.settings_from(
            {"ACCEPTANCE_PREFIX": "acc-test01"}, account, f"arn:aws:iam::{account}:user/ci"
        )
        acceptance = acc.Acceptance(session, settings, functions=None)  # type: ignore[arg-type]
        assert settings.subscriber_arn in acceptance.subscriber()
        sqs = session.client("sqs")
        url = sqs.get_queue_url(QueueName="acc-test01-alarm-subscriber")["QueueUrl"]
        policy = json.loads(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
        )
        assert policy["Statement"][0]["Principal"] == {"Service": "sns.amazonaws.com"}
        sns = session.client("sns")
        topic = sns.create_topic(Name="acc-test01-alarms")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=settings.subscriber_arn)
        attributes = [
            sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
            for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        ]
        assert [a["PendingConfirmation"] for a in attributes] == ["false"]
        assert acceptance.remove_subscriber() == "acc-test01-alarm-subscriber deleted"
        assert sqs.list_queues().get("QueueUrls", []) == []
        assert acceptance.remove_subscriber() == "no subscriber queue"
