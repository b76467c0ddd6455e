"""Unit tests for tests/support/filter_pattern.py.

Cases are taken from the AWS CloudWatch Logs documentation ("Filter pattern syntax for metric
filters" / "Using filter patterns to match terms in JSON log events"): the sample JSON documents
and the patterns listed there with the result the documentation states.
"""

from __future__ import annotations

import json
import os
import time
from unittest import mock

import boto3
import pytest
from moto import mock_aws

# tests/ is on sys.path (pytest "prepend" import mode, for tests/conftest.py).
from support.filter_pattern import (
    And,
    Compare,
    FilterPatternError,
    NotExists,
    Or,
    compile_pattern,
    matches,
    parse_selector,
    tokenize,
)

# Sample log event from the "JSON metric filter examples" section of the AWS docs.
DOC_EVENT = {
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "SomeObject": None,
    "ThisFlag": True,
}

# Sample log event from the "JSON compound conditions" section of the AWS docs.
COMPOUND_EVENT = {
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
}

NUMERIC_EVENT = {
    "latency": 1500,
    "numbers": [0.05, 20000],
    "processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}],
    "errorCode": 400,
}


# ----------------------------------------------------------------------------- documented examples

@pytest.mark.parametrize("pattern", [
    '{ $.eventType = "UpdateTrail" }',
    "{ $.sourceIPAddress != 123.123.* }",
    '{ $.arrayKey[0] = "value" }',
    "{ $.objectList[1].id = 2 }",
    "{ $.SomeObject IS NULL }",
    "{ $.SomeOtherObject NOT EXISTS }",
    "{ $.ThisFlag IS TRUE }",
])
def test_documented_json_examples_match(pattern):
    assert matches(pattern, json.dumps(DOC_EVENT))


@pytest.mark.parametrize("pattern", [
    '{ $.eventType = "DeleteTrail" }',
    "{ $.sourceIPAddress != 111.111.* }",
    '{ $.arrayKey[1] = "value" }',
    '{ $.arrayKey[5] = "value" }',
    '{ $.eventType[0] = "UpdateTrail" }',  # not an array: false
    "{ $.objectList[0].id = 2 }",
    "{ $.objectList[1].missing = 2 }",
    "{ $.eventType IS NULL }",
    "{ $.SomeOtherObject IS NULL }",  # absent is not null
    "{ $.SomeObject NOT EXISTS }",  # present (as null) exists
    "{ $.ThisFlag IS FALSE }",
])
def test_documented_json_examples_variants_do_not_match(pattern):
    assert not matches(pattern, json.dumps(DOC_EVENT))


@pytest.mark.parametrize(("pattern", "expected"), [
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch'
     " && $.actions[2] = nomatch }", True),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch)'
     " && $.actions[2] = nomatch }", False),
    ("{ $.coordinates[2][0] = 7 }", True),
    ("{ $.coordinates[0] = 0 }", False),  # an array, not a value node
])
def test_documented_compound_conditions(pattern, expected):
    assert matches(pattern, json.dumps(COMPOUND_EVENT)) is expected


@pytest.mark.parametrize(("pattern", "expected"), [
    ("{$.foo = bar}", [True, False]),
    ("{$.foo = baz }", [False, True]),
    ("{$.foo = bar || $.foo = baz }", [True, True]),
])
def test_documented_or_pattern_matching(pattern, expected):
    events = ['{"foo": "bar"}', '{"foo": "baz"}']
    assert [matches(pattern, event) for event in events] == expected


@pytest.mark.parametrize("pattern", [
    "{ $.latency >= 500 }",
    "{ $.numbers[1] > 10e3 }",
    "{ $.numbers[0] < 10e-2 }",
    "{ $.processes[4].averageRuntime <= 55.5 }",
    "{ $.errorCode = 400 }",
    "{ $.errorCode != 500 }",
    "{ $.latency > +1000 }",
    "{ $.latency = * }",
])
def test_documented_numeric_comparisons(pattern):
    assert matches(pattern, NUMERIC_EVENT)


@pytest.mark.parametrize("pattern", [
    "{ $.latency < 500 }",
    "{ $.numbers[0] < 10e-3 }",
    "{ $.processes[4].averageRuntime < 55.5 }",
    "{ $.errorCode = 500 }",
    "{ $.errorCode != 400 }",
    "{ $.missing >= 0 }",
])
def test_numeric_comparisons_that_do_not_match(pattern):
    assert not matches(pattern, NUMERIC_EVENT)


def test_ordering_operators_need_a_json_number():
    assert not matches("{ $.latency > 100 }", {"latency": "150"})
    assert matches("{ $.latency = 150 }", {"latency": "150"})  # = still compares the text


def test_selector_on_array_is_false_for_both_operators():
    """Docs: both {$.users = 1} and {$.users != 1} fail to match when users is an array."""
    event = '{"users": [1, 2, 3]}'
    assert not matches("{ $.users = 1 }", event)
    assert not matches("{ $.users != 1 }", event)
    assert not matches('{ $.user != "x" }', '{"user": {"id": 1}}')


def test_not_equal_on_absent_field_is_false():
    """Observed in CloudWatch (DataBiosphere/azul#5884): != does not match a missing field."""
    pattern = '{ ($.errorCode = "AccessDenied") && ($.userIdentity.invokedBy != "cloudfront.amazonaws.com") }'
    assert not matches(pattern, {"errorCode": "AccessDenied", "userIdentity": {"accountId": "anonymous"}})
    assert matches(pattern, {"errorCode": "AccessDenied", "userIdentity": {"invokedBy": "s3.amazonaws.com"}})


def test_null_and_boolean_are_not_value_nodes_for_comparison():
    assert not matches('{ $.x = "null" }', {"x": None})
    assert not matches('{ $.x != "y" }', {"x": None})
    assert not matches("{ $.x = true }", {"x": True})
    assert not matches("{ $.x IS TRUE }", {"x": "true"})


# ----------------------------------------------------------------------------- wildcards

@pytest.mark.parametrize(("value", "text", "expected"), [
    ("*Event", "PutEvent", True),
    ("*Event", "GetEvent", True),
    ("*Event", "EventId", False),
    ("Event*", "EventId", True),
    ("Event*", "EventName", True),
    ("Event*", "PutEvent", False),
    ("Ev*ent", "Event", False),  # docs: a middle * is literal
    ("Ev*ent", "Ev*ent", True),
    ("*Unauthorized*", "Client.UnauthorizedOperation", True),  # infix (contains)
    ("*Unauthorized*", "AccessDenied", False),
    ("*", "anything at all", True),
    ("*", "", True),
    ("AccessDenied", "AccessDeniedException", False),  # no wildcard: exact
])
def test_wildcards(value, text, expected):
    event = {"f": text}
    assert matches(f'{{ $.f = "{value}" }}', event) is expected
    assert matches(f'{{ $.f != "{value}" }}', event) is not expected
    assert matches(f"{{ $.f = {value} }}", event) is expected  # bare value: same rules


def test_wildcard_against_number_uses_its_json_text():
    assert matches("{ $.status = 4* }", {"status": 404})
    assert not matches("{ $.status = 5* }", {"status": 404})


# ----------------------------------------------------------------------------- lexical details

def test_whitespace_is_optional():
    compact = "{($.eventName=PutRolePolicy)||($.eventName=DeleteRolePolicy)}"
    spaced = "{ ( $.eventName = PutRolePolicy ) || ( $.eventName = DeleteRolePolicy ) }"
    for pattern in (compact, spaced):
        assert matches(pattern, {"eventName": "DeleteRolePolicy"})
        assert not matches(pattern, {"eventName": "GetRolePolicy"})


def test_matching_is_case_sensitive():
    assert not matches("{ $.eventName = consolelogin }", {"eventName": "ConsoleLogin"})
    assert not matches("{ $.EventName = ConsoleLogin }", {"eventName": "ConsoleLogin"})


def test_quoted_values_keep_spaces_symbols_and_escapes():
    assert matches('{ $.errorMessage = "Failed authentication" }', {"errorMessage": "Failed authentication"})
    assert matches('{ $.user.email = "John.Stiles@example.com" }', COMPOUND_EVENT)
    assert matches(r'{ $.msg = "say \"hi\"" }', {"msg": 'say "hi"'})
    assert matches('{ $.msg = "a && b || (c)" }', {"msg": "a && b || (c)"})


def test_selector_names_may_contain_dash_and_underscore():
    assert matches("{ $.x-amz-id_2 = abc }", {"x-amz-id_2": "abc"})


def test_bare_values_with_dots_colons_and_slashes():
    assert matches("{ $.eventSource = kms.amazonaws.com }", {"eventSource": "kms.amazonaws.com"})
    assert matches("{ $.arn = arn:aws:iam::111122223333:user/alice }",
                   {"arn": "arn:aws:iam::111122223333:user/alice"})


def test_tokenizer_output():
    kinds = [(t.kind, t.text) for t in tokenize('{($.a.b[0]!="x*")&&$.c NOT EXISTS}')]
    assert kinds == [
        ("LBRACE", "{"), ("LPAREN", "("), ("SELECTOR", "$.a.b[0]"), ("OP", "!="), ("STRING", "x*"),
        ("RPAREN", ")"), ("AND", "&&"), ("SELECTOR", "$.c"), ("WORD", "NOT"), ("WORD", "EXISTS"),
        ("RBRACE", "}"), ("EOF", ""),
    ]


def test_parse_selector():
    assert parse_selector("$.users[0].email") == ("users", 0, "email")
    assert parse_selector("$.coordinates[0][1]") == ("coordinates", 0, 1)


def test_and_binds_tighter_than_or():
    root = compile_pattern("{ $.a = 1 || $.b = 2 && $.c NOT EXISTS }").root
    assert isinstance(root, Or)
    assert isinstance(root.children[0], Compare)
    assert isinstance(root.children[1], And)
    assert isinstance(root.children[1].children[1], NotExists)


# ----------------------------------------------------------------------------- inputs

@pytest.mark.parametrize("message", [
    "ERROR something happened",
    "[1, 2, 3]",
    '"just a string"',
    "",
    '{"eventName": ',
])
def test_non_object_or_invalid_json_messages_never_match(message):
    assert not matches("{ $.eventName = * || $.eventName NOT EXISTS }", message)


def test_mapping_input_is_accepted():
    assert matches("{ $.a = b }", {"a": "b"})


# ----------------------------------------------------------------------------- syntax errors

@pytest.mark.parametrize("pattern", [
    "ERROR",  # text pattern: not supported here
    "[ip, user, status_code = 4*]",  # space-delimited: not supported here
    "{ $.a = 1",  # missing }
    "$.a = 1 }",
    "{ $.a = 1 } extra",
    "{ }",
    '{ $.a = "unterminated }',
    "{ $.a = }",
    "{ $.a }",
    "{ $.a == 1 }",
    "{ $.a & $.b }",
    "{ $.a = 1 | $.b = 2 }",
    "{ $.a = 1 && }",
    "{ ($.a = 1 }",
    "{ $[0] = 1 }",  # index must follow a property
    "{ $ = 1 }",
    "{ $.a > abc }",  # ordering needs a number
    '{ $.a >= "5" }',
    "{ $.a IS MAYBE }",
    "{ $.a NOT THERE }",
    "{ $.a = %regex% }",  # regex values: not implemented
    "{ $.a = user@example.com }",  # '@' must be quoted
    "{ a = 1 }",  # selectors start with $
])
def test_invalid_patterns_raise(pattern):
    with pytest.raises(FilterPatternError):
        compile_pattern(pattern)


# ----------------------------------------------------------------------------- why this exists

def test_moto_gaps_recorded_in_the_docstring_still_hold():
    """filter_pattern.py's docstring says moto cannot evaluate JSON patterns; keep that true.

    If this fails, moto gained support: update the docstring, and the agreement test in
    test_cis_patterns.py will start comparing against moto automatically.
    """
    pattern = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    events = ['{"errorCode": "AccessDenied"}', '{"eventName": "DescribeInstances"}']
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    with mock.patch.dict(os.environ, env), mock_aws():
        logs = boto3.client("logs")
        with pytest.raises(NotImplementedError):
            logs.test_metric_filter(filterPattern=pattern, logEventMessages=events)
        logs.create_log_group(logGroupName="g")
        logs.create_log_stream(logGroupName="g", logStreamName="s")
        now = int(time.time() * 1000)
        logs.put_log_events(logGroupName="g", logStreamName="s",
                            logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(events)])
        found = logs.filter_log_events(logGroupName="g", filterPattern=pattern)["events"]
    returned = [event["message"] for event in found]
    assert returned == events  # moto returns the non-matching event too
    assert [matches(pattern, event) for event in events] == [True, False]
