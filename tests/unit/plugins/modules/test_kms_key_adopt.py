"""secureinfra.baseline.kms_key_adopt against in-process moto."""

from __future__ import annotations

import boto3
import botocore.client
import pytest
from ansible_collections.secureinfra.baseline.plugins.modules import kms_key_adopt as mod
from botocore.exceptions import ClientError

ALIAS = "alias/secureinfra-baseline"
DESCRIPTION = "secureinfra baseline key (us-east-1)"
TAGS = {"Project": "secureinfra", "ManagedBy": "ansible"}
ARGS = {"alias": "secureinfra-baseline", "description": DESCRIPTION, "tags": TAGS}


@pytest.fixture
def kms(aws):
    return boto3.client("kms", region_name="us-east-1")


def make_key(kms, description=DESCRIPTION, tags=TAGS):
    """A key as amazon.aws.kms_key's CreateKey leaves it (description and tags, no alias yet)."""
    tag_list = [{"TagKey": k, "TagValue": v} for k, v in tags.items()]
    return kms.create_key(Description=description, Tags=tag_list)["KeyMetadata"]["KeyId"]


def _target(kms):
    return {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}.get(ALIAS)


def test_the_alias_exists_one_read_no_change(kms, run_module, calls):
    key = make_key(kms)
    kms.create_alias(AliasName=ALIAS, TargetKeyId=key)
    make_key(kms)  # another key without alias: not looked at while the alias exists
    calls.clear()
    result = run_module(mod, ARGS, diff=True)
    assert result["changed"] is False and result["adopted"] is False
    assert result["key_id"] == key
    assert result["diff"]["before"] == result["diff"]["after"] == {"alias": ALIAS, "key_id": key}
    assert calls == ["DescribeKey"]


def test_a_key_left_without_its_alias_is_adopted_then_nothing_changes(kms, run_module, calls):
    key = make_key(kms)
    result = run_module(mod, ARGS, diff=True)
    assert result["changed"] is True and result["adopted"] is True
    assert result["key_id"] == key and result["other_candidates"] == []
    assert result["diff"] == {
        "before": {"alias": ALIAS, "key_id": None},
        "after": {"alias": ALIAS, "key_id": key},
    }
    assert _target(kms) == key
    assert len(kms.list_keys()["Keys"]) == 1
    calls.clear()
    again = run_module(mod, ARGS)
    assert again["changed"] is False and again["key_id"] == key
    assert calls == ["DescribeKey"]


def test_check_mode_reads_only(kms, run_module, calls):
    key = make_key(kms)
    calls.clear()
    result = run_module(mod, ARGS, check_mode=True)
    assert result["changed"] is True and result["key_id"] == key
    assert set(calls) <= {"DescribeKey", "ListAliases", "ListKeys", "ListResourceTags"}
    assert _target(kms) is None


def test_no_key_no_alias_no_change(kms, run_module, calls):
    result = run_module(mod, ARGS)
    assert result == {
        "changed": False,
        "alias": ALIAS,
        "key_id": None,
        "adopted": False,
        "other_candidates": [],
    }
    assert calls == ["DescribeKey", "ListAliases", "ListKeys"]


@pytest.mark.parametrize(
    "other",
    [
        {"description": "someone else's key"},
        {"tags": {"Project": "secureinfra"}},  # a tag missing
        {"tags": {**TAGS, "ManagedBy": "terraform"}},  # a tag with another value
    ],
)
def test_keys_that_are_not_ours_are_left_alone(kms, run_module, other):
    make_key(kms, **other)
    result = run_module(mod, ARGS)
    assert result["changed"] is False and result["key_id"] is None
    assert _target(kms) is None


def test_disabled_pending_deletion_and_aliased_keys_are_not_adopted(kms, run_module):
    disabled = make_key(kms)
    kms.disable_key(KeyId=disabled)
    pending = make_key(kms)
    kms.schedule_key_deletion(KeyId=pending, PendingWindowInDays=7)
    aliased = make_key(kms)
    kms.create_alias(AliasName="alias/another-name", TargetKeyId=aliased)
    result = run_module(mod, ARGS)
    assert result["changed"] is False and result["key_id"] is None


def test_several_candidates_the_oldest_is_adopted_the_others_named(kms, run_module):
    first = make_key(kms)
    second = make_key(kms)
    result = run_module(mod, ARGS)
    assert result["adopted"] is True
    # moto's CreationDate has a resolution of a second: both may have the same; then the key id.
    expected = sorted(
        [first, second], key=lambda k: (str(kms.describe_key(KeyId=k)["KeyMetadata"]["CreationDate"]), k)
    )
    assert result["key_id"] == expected[0]
    assert result["other_candidates"] == [expected[1]]
    assert _target(kms) == expected[0]


def test_tags_are_compared_as_strings(kms, run_module):
    key = make_key(kms, tags={"CostCenter": "42"})
    result = run_module(mod, {**ARGS, "tags": {"CostCenter": 42}})
    assert result["key_id"] == key and result["adopted"] is True


@pytest.mark.parametrize("operation", ["ListKeys", "ListAliases"])
def test_listing_denied_warns_and_changes_nothing(kms, run_module, monkeypatch, operation):
    make_key(kms)
    original = botocore.client.BaseClient._make_api_call

    def deny(self, operation_name, api_params):
        if operation_name == operation:
            error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
            raise ClientError(error, operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", deny)
    result = run_module(mod, ARGS)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", original)
    assert result["changed"] is False and result["key_id"] is None
    assert any(f"kms:{operation} is denied" in warning for warning in result.get("warnings", [])), result
    assert _target(kms) is None


@pytest.mark.parametrize(
    ("alias", "message"),
    [("aws/s3", "reserved for AWS managed keys"), ("alias/", "must name an alias")],
)
def test_bad_input_fails_before_any_call(aws, run_module, calls, alias, message):
    result = run_module(mod, {**ARGS, "alias": alias}, expect_failure=True)
    assert message in result["msg"]
    assert calls == []
