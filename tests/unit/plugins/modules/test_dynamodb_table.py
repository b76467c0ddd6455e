"""Unit tests for secureinfra.baseline.dynamodb_table against in-process moto.

moto 5.2.5 ignores SSESpecification in UpdateTable (it only honours it in CreateTable); the
`sse_updates` fixture applies it the way AWS does so SSE changes can be read back with boto3.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import dynamodb_table as mod
from moto.dynamodb.responses import DynamoHandler

NAME = "orders"


@pytest.fixture
def ddb(aws):
    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def kms_key(aws) -> str:
    return boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]


@pytest.fixture
def sse_updates(aws) -> Iterator[None]:
    original = DynamoHandler.update_table

    def update_table(self: DynamoHandler) -> Any:
        spec = self.body.get("SSESpecification")
        result = original(self)
        if spec is not None:
            table = self.dynamodb_backend.get_table(self.body["TableName"])
            if spec.get("Enabled"):
                key = spec.get("KMSMasterKeyId") or table._get_default_encryption_key(
                    table.account_id, table.region_name
                )
                table.sse_specification = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
            else:
                table.sse_specification = None
        return result

    with mock.patch.object(DynamoHandler, "update_table", update_table):
        yield


def _args(**kw: Any) -> dict[str, Any]:
    return {"name": NAME, "hash_key_name": "pk", "wait_timeout": 10, **kw}


def _describe(ddb) -> dict[str, Any]:
    return ddb.describe_table(TableName=NAME)["Table"]


def _pitr(ddb) -> str:
    desc = ddb.describe_continuous_backups(TableName=NAME)["ContinuousBackupsDescription"]
    return desc["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]


def _tags(ddb) -> dict[str, str]:
    arn = _describe(ddb)["TableArn"]
    return {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def _tables(ddb) -> list[str]:
    return ddb.list_tables()["TableNames"]


class _NoWrites:
    """Make any mutating DynamoDB call fail the test."""

    def __enter__(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        writes = {
            "CreateTable",
            "UpdateTable",
            "DeleteTable",
            "UpdateContinuousBackups",
            "TagResource",
            "UntagResource",
        }

        def guarded(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            assert operation not in writes, f"mutating call {operation}"
            return original(client, operation, params)

        self._patch = mock.patch.object(BaseClient, "_make_api_call", guarded)
        self._patch.start()

    def __exit__(self, *exc: object) -> None:
        self._patch.stop()


def test_create_with_secure_defaults(ddb, run_module):
    result = run_module(mod, _args(range_key_name="sk", range_key_type="N", tags={"owner": "platform"}))
    assert result["changed"] is True

    table = _describe(ddb)
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "pk": "S",
        "sk": "N",
    }
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["DeletionProtectionEnabled"] is True
    assert _pitr(ddb) == "ENABLED"
    assert _tags(ddb) == {"owner": "platform"}

    returned = result["table"]
    assert returned["arn"] == table["TableArn"]
    assert returned["key_schema"][1] == {"attribute_name": "sk", "key_type": "RANGE", "attribute_type": "N"}
    assert returned["point_in_time_recovery"] is True
    assert returned["deletion_protection"] is True
    assert returned["sse_enabled"] is True and returned["sse_type"] == "KMS"
    assert returned["tags"] == {"owner": "platform"}


def test_idempotent_rerun_makes_no_write(ddb, run_module):
    args = _args(range_key_name="sk", tags={"owner": "platform"})
    run_module(mod, args)
    with _NoWrites():
        again = run_module(mod, args)
    assert again["changed"] is False
    assert again["table"]["name"] == NAME


def test_idempotent_with_customer_key_and_provisioned(ddb, kms_key, run_module):
    args = _args(billing_mode="PROVISIONED", read_capacity=2, write_capacity=3, kms_key_arn=kms_key)
    assert run_module(mod, args)["changed"] is True
    table = _describe(ddb)
    assert table["SSEDescription"]["KMSMasterKeyArn"] == kms_key
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    with _NoWrites():
        assert run_module(mod, args)["changed"] is False


def test_existing_table_without_key_options_is_left_as_is(ddb, run_module):
    run_module(mod, _args(range_key_name="sk"))
    args = {"name": NAME}  # no key options: only the other settings are compared
    with _NoWrites():
        assert run_module(mod, args)["changed"] is False


def test_update_billing_protection_pitr_tags(ddb, run_module):
    run_module(mod, _args(tags={"owner": "platform", "old": "x"}))
    result = run_module(
        mod,
        _args(
            billing_mode="PROVISIONED",
            read_capacity=4,
            write_capacity=5,
            deletion_protection=False,
            point_in_time_recovery=False,
            tags={"owner": "data", "new": "y"},
        ),
    )
    assert result["changed"] is True
    table = _describe(ddb)
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 4
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 5
    assert table["DeletionProtectionEnabled"] is False
    assert _pitr(ddb) == "DISABLED"
    assert _tags(ddb) == {"owner": "data", "new": "y"}
    assert result["table"]["read_capacity"] == 4


def test_update_back_to_on_demand_is_idempotent(ddb, run_module):
    run_module(mod, _args(billing_mode="PROVISIONED", read_capacity=4, write_capacity=5))
    assert run_module(mod, _args())["changed"] is True
    assert _describe(ddb)["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    with _NoWrites():
        assert run_module(mod, _args())["changed"] is False


def test_tags_without_purge_and_tags_omitted(ddb, run_module):
    run_module(mod, _args(tags={"a": "1"}))
    assert run_module(mod, _args(tags={"b": "2"}, purge_tags=False))["changed"] is True
    assert _tags(ddb) == {"a": "1", "b": "2"}
    with _NoWrites():
        assert run_module(mod, _args())["changed"] is False  # tags omitted: left alone
    assert _tags(ddb) == {"a": "1", "b": "2"}


def test_update_sse_to_customer_key_and_off(ddb, kms_key, sse_updates, run_module):
    run_module(mod, _args())
    aws_managed = _describe(ddb)["SSEDescription"]["KMSMasterKeyArn"]
    assert aws_managed != kms_key

    assert run_module(mod, _args(kms_key_arn=kms_key))["changed"] is True
    assert _describe(ddb)["SSEDescription"]["KMSMasterKeyArn"] == kms_key
    with _NoWrites():
        assert run_module(mod, _args(kms_key_arn=kms_key))["changed"] is False
        # no kms_key_arn: an existing KMS key is kept, not downgraded
        assert run_module(mod, _args())["changed"] is False

    assert run_module(mod, _args(sse_enabled=False))["changed"] is True
    assert "SSEDescription" not in _describe(ddb)
    with _NoWrites():
        assert run_module(mod, _args(sse_enabled=False))["changed"] is False

    assert run_module(mod, _args())["changed"] is True
    assert _describe(ddb)["SSEDescription"]["Status"] == "ENABLED"


def test_key_schema_change_fails(ddb, run_module):
    run_module(mod, _args())
    for args, fragment in [
        (_args(hash_key_name="id"), "hash_key_name: 'pk' -> 'id'"),
        (_args(hash_key_type="N"), "hash_key_type: 'S' -> 'N'"),
        (_args(range_key_name="sk"), "range_key_name: None -> 'sk'"),
    ]:
        with _NoWrites():
            result = run_module(mod, args, expect_failure=True)
        assert "cannot be changed" in result["msg"]
        assert fragment in result["msg"]
    assert [k["AttributeName"] for k in _describe(ddb)["KeySchema"]] == ["pk"]


def test_check_mode_on_absent(ddb, run_module):
    with _NoWrites():
        result = run_module(mod, _args(tags={"a": "1"}), check_mode=True)
    assert result["changed"] is True
    assert result["table"]["arn"] is None
    assert result["table"]["tags"] == {"a": "1"}
    assert NAME not in _tables(ddb)


def test_check_mode_on_present(ddb, run_module):
    run_module(mod, _args(tags={"a": "1"}))
    before = _describe(ddb)
    with _NoWrites():
        result = run_module(
            mod,
            _args(
                billing_mode="PROVISIONED",
                read_capacity=1,
                write_capacity=1,
                deletion_protection=False,
                point_in_time_recovery=False,
                tags={"b": "2"},
            ),
            check_mode=True,
        )
    assert result["changed"] is True
    assert result["table"]["billing_mode"] == "PROVISIONED"
    after = _describe(ddb)
    assert after["BillingModeSummary"] == before["BillingModeSummary"]
    assert after["DeletionProtectionEnabled"] is True
    assert _pitr(ddb) == "ENABLED"
    assert _tags(ddb) == {"a": "1"}

    with _NoWrites():
        assert run_module(mod, _args(tags={"a": "1"}), check_mode=True)["changed"] is False


def test_diff(ddb, run_module):
    result = run_module(mod, _args(tags={"a": "1"}), diff=True, check_mode=True)
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["tags"] == {"a": "1"}

    run_module(mod, _args(tags={"a": "1"}))
    result = run_module(mod, _args(tags={"a": "2"}, point_in_time_recovery=False), diff=True)
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert (before["tags"], after["tags"]) == ({"a": "1"}, {"a": "2"})
    assert (before["point_in_time_recovery"], after["point_in_time_recovery"]) == (True, False)
    assert before["deletion_protection"] == after["deletion_protection"] is True


def test_absent_requires_allow_delete(ddb, run_module):
    run_module(mod, _args(deletion_protection=False))
    with _NoWrites():
        result = run_module(mod, {"name": NAME, "state": "absent"}, expect_failure=True)
    assert "allow_delete: true" in result["msg"]
    assert NAME in _tables(ddb)


def test_absent_refuses_protected_table(ddb, run_module):
    run_module(mod, _args())
    for check_mode in (True, False):
        with _NoWrites():
            result = run_module(
                mod,
                {"name": NAME, "state": "absent", "allow_delete": True},
                check_mode=check_mode,
                expect_failure=True,
            )
        assert "deletion protection" in result["msg"]
    assert NAME in _tables(ddb)


def test_absent_check_mode_then_delete(ddb, run_module):
    run_module(mod, _args())
    args = {"name": NAME, "state": "absent", "allow_delete": True, "deletion_protection": False}
    with _NoWrites():
        result = run_module(mod, args, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["after"] == {}
    assert NAME in _tables(ddb)
    assert _describe(ddb)["DeletionProtectionEnabled"] is True

    assert run_module(mod, args)["changed"] is True
    assert NAME not in _tables(ddb)
    assert run_module(mod, args)["changed"] is False


def test_describe_without_optional_fields(ddb, run_module):
    """Fields an emulator may omit (TableId, BillingModeSummary, SSEDescription) must not break reads."""
    run_module(mod, _args())
    real_describe = ddb.describe_table(TableName=NAME)
    table = {
        k: v
        for k, v in real_describe["Table"].items()
        if k not in ("TableId", "BillingModeSummary", "SSEDescription", "DeletionProtectionEnabled")
    }
    view = mod.table_view(table, pitr=False, tags={})
    assert view["billing_mode"] == "PROVISIONED"  # AWS omits BillingModeSummary for provisioned tables
    assert view["sse_enabled"] is False and view["kms_key_arn"] is None
    assert view["deletion_protection"] is False


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (_args(read_capacity=5), "only be set with billing_mode: PROVISIONED"),
        (_args(billing_mode="PROVISIONED", read_capacity=5), "write_capacity"),
        (_args(billing_mode="PROVISIONED", read_capacity=0, write_capacity=1), "at least 1"),
        (_args(kms_key_arn="alias/mine"), "must be a KMS key ARN"),
        (
            _args(sse_enabled=False, kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/abc"),
            "kms_key_arn requires sse_enabled: true",
        ),
        (_args(range_key_name="pk"), "range_key_name must differ"),
        (_args(hash_key_type="X"), "hash_key_type"),
        ({"name": NAME, "range_key_type": "N"}, "range_key_name"),
    ],
)
def test_bad_input(ddb, run_module, args, fragment):
    with _NoWrites():
        result = run_module(mod, args, expect_failure=True)
    assert fragment in result["msg"]
    assert NAME not in _tables(ddb)


def test_create_requires_hash_key(ddb, run_module):
    result = run_module(mod, {"name": NAME}, expect_failure=True)
    assert "hash_key_name is required" in result["msg"]
    assert NAME not in _tables(ddb)


# --- point-in-time recovery right after CreateTable ------------------------------------------

UNAVAILABLE = "ContinuousBackupsUnavailableException"


@pytest.fixture
def pitr_unavailable(aws, monkeypatch):
    """UpdateContinuousBackups answers `code` for the first `count[0]` calls; sleeps are recorded."""
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException

    state = {"left": 0, "code": UNAVAILABLE, "calls": 0}
    original = DynamoHandler.update_continuous_backups

    def update_continuous_backups(self: DynamoHandler) -> Any:
        state["calls"] += 1
        if state["left"] > 0:
            state["left"] -= 1
            raise DynamodbException(
                ERROR_TYPE_PREFIX + state["code"],
                message=f"Backups are being enabled for the table: {NAME}. Please retry later",
            )
        return original(self)

    slept: list[float] = []
    from ansible_collections.secureinfra.baseline.plugins.module_utils import backoff

    monkeypatch.setattr(backoff.time, "sleep", slept.append)
    state["slept"] = slept
    with mock.patch.object(DynamoHandler, "update_continuous_backups", update_continuous_backups):
        yield state


def test_pitr_is_retried_while_backups_are_unavailable(ddb, run_module, pitr_unavailable):
    pitr_unavailable["left"] = 3
    result = run_module(mod, _args())
    assert result["changed"] is True
    assert _pitr(ddb) == "ENABLED"
    assert pitr_unavailable["calls"] == 4
    assert len(pitr_unavailable["slept"]) == 3


def test_pitr_other_error_fails_at_once(ddb, run_module, pitr_unavailable):
    pitr_unavailable["left"] = 1
    pitr_unavailable["code"] = "TableNotFoundException"
    result = run_module(mod, _args(), expect_failure=True)
    assert "point-in-time recovery" in result["msg"]
    assert pitr_unavailable["calls"] == 1
    assert pitr_unavailable["slept"] == []


def test_pitr_gives_up_after_its_budget(ddb, run_module, pitr_unavailable):
    pitr_unavailable["left"] = 10_000
    result = run_module(mod, _args(pitr_retry_timeout=0), expect_failure=True)
    assert UNAVAILABLE in result["msg"]
    assert "pitr_retry_timeout=0" in result["msg"]
    assert pitr_unavailable["calls"] == 1


def test_pitr_retry_timeout_must_not_be_negative(ddb, run_module):
    result = run_module(mod, _args(pitr_retry_timeout=-5), expect_failure=True)
    assert "pitr_retry_timeout must be 0 or more seconds, got -5" in result["msg"]
    assert _tables(ddb) == []
