"""Two accounts x two regions (inventories/organization) converge in one run, each account apart.

On a private strict emulator (TEST_EMULATOR_PORT + 1, reset once for this module): a dry run on the
empty accounts, the converge, a no-op rerun. moto keeps accounts apart by the credentials
AssumeRole returns, so each account is read here with its own assumed role, as the site does.
STS AssumeRole is a read for this purpose (it changes nothing in any account): the recorder, which
counts Describe/Get/List/Head as reads, would call it a write, so it is left out of the counts.
Long (four hosts, three runs): `make test-long`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules.s3_account_public_access_block import (
    strip_account_prefix,
)
from support.recorder import mutating

from scripts import emulator

INVENTORY = ("-i", "inventories/organization")
HOSTS = ("dev-us-east-1", "dev-us-west-1", "prod-us-east-1", "prod-us-west-1")
ACCOUNTS = {"111111111111": "dev", "222222222222": "prod"}
REGIONS = ("us-east-1", "us-west-1")
CALLER = "123456789012"
ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")


def _writes(calls: list[Any]) -> list[str]:
    return [call for call in mutating(calls) if not call.startswith("sts:AssumeRole")]


@pytest.fixture(scope="module")
def runs(fresh_emulator) -> dict[str, Any]:
    emulator.reset(fresh_emulator.port)
    done = {"dry_run_empty": fresh_emulator.run_playbook(*INVENTORY, check=True)}
    done["converge"] = fresh_emulator.run_playbook(*INVENTORY)
    if done["converge"].rc == 0:
        done["rerun"] = fresh_emulator.run_playbook(*INVENTORY)
    return done


@pytest.fixture(scope="module")
def account(fresh_emulator) -> Callable[[str, str, str], Any]:
    """account(id, service, region): a client with the credentials of that account's role."""
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=fresh_emulator.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def _client(account_id: str, service: str, region: str = "us-east-1") -> Any:
        if account_id == CALLER:
            keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        else:
            creds = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account_id}:role/baseline-deployer", RoleSessionName="test-reader"
            )["Credentials"]
            keys = {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            }
        client = boto3.client(service, region_name=region, endpoint_url=fresh_emulator.endpoint, **keys)
        if service == "s3control":  # as the module does: no <account>. host prefix before an IP address
            client.meta.events.register("before-sign.s3-control.*", strip_account_prefix)
        return client

    return _client


def test_a_dry_run_on_empty_accounts_makes_no_write_in_any_of_the_four(runs) -> None:
    run = runs["dry_run_empty"]
    assert run.rc == 0, run.failed_messages() or run.stderr
    assert sorted(run.stats) == sorted(HOSTS)
    assert all(run.stats[host].get("failures", 0) == 0 for host in HOSTS)
    assert _writes(run.calls) == []


def test_two_accounts_by_two_regions_converge_in_one_run(runs) -> None:
    run = runs["converge"]
    assert run.rc == 0, run.failed_messages() or run.stderr
    assert all(run.changed(host) > 0 for host in HOSTS), run.stats


def test_each_account_holds_its_own_buckets_only(runs, account) -> None:
    for account_id in ACCOUNTS:
        names = sorted(b["Name"] for b in account(account_id, "s3").list_buckets()["Buckets"])
        expected = sorted(
            # data, logs and (security_services) Config's delivery bucket in each region
            [
                f"secureinfra-{kind}-{account_id}-{region}"
                for kind in ("data", "logs", "config")
                for region in REGIONS
            ]
            + [f"secureinfra-trail-{account_id}-us-east-1"]
        )
        assert names == expected
        for name in names:
            policy = account(account_id, "s3").get_bucket_policy(Bucket=name)["Policy"]
            assert set(ACCOUNT_ID.findall(policy)) <= {account_id}, (name, policy)
    assert account(CALLER, "s3").list_buckets()["Buckets"] == []


def test_each_accounts_keys_name_only_their_account(runs, account) -> None:
    for account_id in ACCOUNTS:
        for region in REGIONS:
            kms = account(account_id, "kms", region)
            aliases = [
                a
                for a in kms.list_aliases()["Aliases"]
                if "TargetKeyId" in a and not a["AliasName"].startswith("alias/aws/")
            ]
            assert aliases, (account_id, region)
            for alias in aliases:
                arn = kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]["Arn"]
                assert f":{account_id}:" in arn
                policy = kms.get_key_policy(KeyId=alias["TargetKeyId"], PolicyName="default")["Policy"]
                assert set(ACCOUNT_ID.findall(policy)) == {account_id}, (account_id, region, policy)


def test_each_account_holds_its_own_tables_functions_roles_and_one_trail(runs, account) -> None:
    for account_id in ACCOUNTS:
        for region in REGIONS:
            tables = account(account_id, "dynamodb", region).list_tables()["TableNames"]
            assert tables == ["secureinfra-data"], (account_id, region)
            functions = account(account_id, "lambda", region).list_functions()["Functions"]
            assert functions and all(f":{account_id}:" in f["FunctionArn"] for f in functions)
            assert all(f":{account_id}:" in f["Role"] for f in functions)
        roles = [
            r["Arn"]
            for r in account(account_id, "iam").list_roles()["Roles"]
            if r["RoleName"].startswith("secureinfra-")
        ]
        assert roles and all(f"::{account_id}:" in arn for arn in roles)
        trails = account(account_id, "cloudtrail").describe_trails(includeShadowTrails=False)["trailList"]
        assert [(t["Name"], t["HomeRegion"], t["IsMultiRegionTrail"]) for t in trails] == [
            ("secureinfra-trail", "us-east-1", True)
        ]
        assert f":{account_id}:" in trails[0]["TrailARN"]
    for region in REGIONS:
        assert account(CALLER, "dynamodb", region).list_tables()["TableNames"] == []
        assert account(CALLER, "lambda", region).list_functions()["Functions"] == []


def test_account_wide_settings_are_made_once_in_each_account(runs, account) -> None:
    for account_id in ACCOUNTS:
        block = account(account_id, "s3control").get_public_access_block(AccountId=account_id)
        assert all(block["PublicAccessBlockConfiguration"].values())
        assert (
            account(account_id, "iam").get_account_password_policy()["PasswordPolicy"][
                "MinimumPasswordLength"
            ]
            >= 14
        )
        rotation = [
            f["FunctionName"]
            for region in REGIONS
            for f in account(account_id, "lambda", region).list_functions()["Functions"]
            if f["FunctionName"].endswith("key-rotation")
            or "key_rotation" in f["FunctionName"]
            or "key-rotation" in f["FunctionName"]
        ]
        assert len(rotation) == 1, rotation
    data_events = account("111111111111", "cloudtrail").get_event_selectors(TrailName="secureinfra-trail")
    text = json.dumps(data_events)
    assert "111111111111" in text and "222222222222" not in text


def test_a_rerun_changes_nothing_in_any_account(runs) -> None:
    run = runs["rerun"]
    assert run.rc == 0, run.failed_messages() or run.stderr
    assert {host: run.changed(host) for host in HOSTS} == dict.fromkeys(HOSTS, 0), run.changed_tasks()
    assert _writes(run.calls) == []
