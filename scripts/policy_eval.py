"""A small evaluator of AWS policy documents, written to follow the IAM documentation.

Used by the tests (tests/support/policy_eval.py re-exports it) and by the data-path
authorizer of `make demo` (scripts/authorizer.py).

Why not moto's `moto.iam.access_control.IAMPolicy`: with moto 5.2.5 its `is_action_permitted`
- does not treat `?` as a wildcard and does not escape regex characters (`.` in a resource
  matches any character);
- matches actions case-sensitively (AWS matches them case-insensitively);
- ignores `NotResource` (such an Allow statement applies to every resource, the excluded ones too);
- evaluates only the `StringEquals` condition operator: any other (ArnNotLike, Bool, StringLike,
  ArnLike, ...) counts as satisfied;
- treats a condition key missing from the request as satisfied (AWS: the condition is false,
  or true for a negated operator);
- returns DENIED for any statement (Allow or Deny) whose condition is not met, and checks
  conditions before the resource, so a conditional statement about another resource can deny;
- fails (TypeError) on a `{"Service": ...}` principal when given a principal;
- lets `*` match across every colon (AWS: only a `*` ending an ARN segment spans colons).

What this evaluator does (references: IAM User Guide, "Policy evaluation logic", "IAM JSON
policy elements: Action, NotAction, Resource, NotResource, Principal, Condition",
"Condition operators"):
- Effect Allow/Deny; explicit deny wins over any allow; otherwise an allow is needed
  (default deny);
- Action/NotAction: `*` and `?` wildcards, case-insensitive;
- Resource/NotResource: `*` and `?` wildcards, case-sensitive; a wildcard stays inside its
  colon-separated segment, except a `*` that ends a segment (or the whole pattern), which may
  span colons. A statement with neither element (a trust policy) applies to any resource;
- Principal: `*`, `{"AWS": "*"}`, AWS ARNs / account ids / `arn:<p>:iam::<account>:root`
  (the account's principals), and service principals;
- Condition: every operator, every key and (for positive operators) any one value must match;
  a negated operator needs the request value to match none of the values. Operators:
  String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool, Null,
  each with `...IfExists`. Condition key names are case-insensitive; a key missing from the
  request makes positive operators false and negated ones true (IfExists: true).
Anything else (NotPrincipal, ForAnyValue/ForAllValues, numeric/date/IP operators, policy
variables, multi-valued request keys) raises `Unsupported`, so nothing is silently ignored.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Unsupported(ValueError):
    """The policy uses an element this evaluator does not implement."""


class Decision(Enum):
    ALLOW = "Allow"
    DENY = "Deny"  # explicit deny
    NEUTRAL = "Neutral"  # no statement applies (an implicit deny on its own)


@dataclass(frozen=True)
class Request:
    action: str
    resource: str = "*"
    principal: str | None = None  # an ARN, an account id, or a service principal
    context: Mapping[str, str] = field(default_factory=dict)


# --- wildcard matching --------------------------------------------------------------------


def _glob_regex(pattern: str, *, segmented: bool) -> str:
    """Regex for an IAM wildcard pattern; `segmented` keeps wildcards inside ARN segments."""
    out = []
    for i, char in enumerate(pattern):
        if char == "*":
            ends_segment = i + 1 == len(pattern) or pattern[i + 1] == ":"
            out.append(".*" if not segmented or ends_segment else "[^:]*")
        elif char == "?":
            out.append("[^:]" if segmented else ".")
        else:
            out.append(re.escape(char))
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str, segmented: bool, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(_glob_regex(pattern, segmented=segmented), re.IGNORECASE if ignore_case else 0)


def _no_variables(pattern: str) -> str:
    if "${" in pattern:
        raise Unsupported(f"policy variables are not supported: {pattern!r}")
    return pattern


def action_matches(pattern: str, action: str) -> bool:
    return _compiled(_no_variables(pattern), False, True).fullmatch(action) is not None


def resource_matches(pattern: str, resource: str) -> bool:
    return _compiled(_no_variables(pattern), True, False).fullmatch(resource) is not None


def string_like(pattern: str, value: str) -> bool:
    return _compiled(_no_variables(pattern), False, False).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: the six colon-delimited components are compared one by one."""
    expected = _no_variables(pattern).split(":", 5)
    actual = value.split(":", 5)
    if len(expected) != 6 or len(actual) != 6:
        return False
    return all(string_like(e, a) for e, a in zip(expected, actual, strict=True))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- conditions ---------------------------------------------------------------------------


def _bool_value(value: Any) -> str:
    return str(value).lower()


_POSITIVE = {
    "StringEquals": lambda expected, actual: str(expected) == actual,
    "StringEqualsIgnoreCase": lambda expected, actual: str(expected).lower() == actual.lower(),
    "StringLike": lambda expected, actual: string_like(str(expected), actual),
    "ArnEquals": lambda expected, actual: arn_like(str(expected), actual),
    "ArnLike": lambda expected, actual: arn_like(str(expected), actual),
    "Bool": lambda expected, actual: _bool_value(expected) == _bool_value(actual),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _context_value(context: Mapping[str, str], key: str) -> str | None:
    for name, value in context.items():
        if name.lower() == key.lower():
            if isinstance(value, list | tuple | set):
                raise Unsupported(f"multi-valued request key {name!r}")
            return str(value)
    return None


def _condition_holds(operator: str, key: str, expected: list[Any], context: Mapping[str, str]) -> bool:
    if ":" in operator and operator.split(":", 1)[0] in ("ForAnyValue", "ForAllValues"):
        raise Unsupported(f"set operator {operator!r}")
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    actual = _context_value(context, key)
    if base == "Null":
        if if_exists:
            raise Unsupported("NullIfExists")
        return any(_bool_value(v) == ("true" if actual is None else "false") for v in expected)
    if base not in _POSITIVE and base not in _NEGATED:
        raise Unsupported(f"condition operator {operator!r}")
    if actual is None:
        return if_exists or base in _NEGATED
    if base in _NEGATED:
        match = _POSITIVE[_NEGATED[base]]
        return not any(match(v, actual) for v in expected)
    return any(_POSITIVE[base](v, actual) for v in expected)


def conditions_hold(condition: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, str]) -> bool:
    for operator, keys in (condition or {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, _as_list(expected), context):
                return False
    return True


# --- principals, statements, policies ----------------------------------------------------


def _aws_principal_matches(entry: str, principal: str) -> bool:
    if entry == "*":
        return True
    account = entry if re.fullmatch(r"\d{12}", entry) else None
    root = re.fullmatch(r"arn:[^:]+:iam::(\d{12}):root", entry)
    if root:
        account = root.group(1)
    if account is not None:
        return (
            principal == account or re.fullmatch(rf"arn:[^:]+:(iam|sts)::{account}:.+", principal) is not None
        )
    return entry == principal


def principal_matches(element: Any, principal: str | None) -> bool:
    if principal is None:
        raise Unsupported("a statement with a Principal needs a request principal")
    if element == "*":
        return True
    if not isinstance(element, Mapping):
        raise Unsupported(f"Principal {element!r}")
    for kind, entries in element.items():
        for entry in _as_list(entries):
            if kind == "AWS" and _aws_principal_matches(entry, principal):
                return True
            if kind in ("Service", "Federated", "CanonicalUser") and entry == principal:
                return True
    return False


def _any_matches(matcher: Any, patterns: Any, value: str) -> bool:
    return any(matcher(p, value) for p in _as_list(patterns))


def evaluate_statement(statement: Mapping[str, Any], request: Request) -> Decision:
    if "NotPrincipal" in statement:
        raise Unsupported("NotPrincipal")
    effect = statement["Effect"]
    if effect not in ("Allow", "Deny"):
        raise Unsupported(f"Effect {effect!r}")
    if "Action" in statement:
        if not _any_matches(action_matches, statement["Action"], request.action):
            return Decision.NEUTRAL
    elif "NotAction" in statement:
        if _any_matches(action_matches, statement["NotAction"], request.action):
            return Decision.NEUTRAL
    else:
        raise Unsupported("statement without Action or NotAction")
    if "Resource" in statement:
        if not _any_matches(resource_matches, statement["Resource"], request.resource):
            return Decision.NEUTRAL
    elif "NotResource" in statement and _any_matches(
        resource_matches, statement["NotResource"], request.resource
    ):
        return Decision.NEUTRAL
    if "Principal" in statement and not principal_matches(statement["Principal"], request.principal):
        return Decision.NEUTRAL
    if not conditions_hold(statement.get("Condition"), request.context):
        return Decision.NEUTRAL
    return Decision(effect)


def _document(policy: Mapping[str, Any] | str) -> Mapping[str, Any]:
    return json.loads(policy) if isinstance(policy, str) else policy


def evaluate(policy: Mapping[str, Any] | str, request: Request) -> Decision:
    """One policy: DENY if a statement denies, else ALLOW if one allows, else NEUTRAL."""
    decisions = [evaluate_statement(s, request) for s in _as_list(_document(policy)["Statement"])]
    if Decision.DENY in decisions:
        return Decision.DENY
    return Decision.ALLOW if Decision.ALLOW in decisions else Decision.NEUTRAL


def is_allowed(policies: Iterable[Mapping[str, Any] | str], request: Request) -> bool:
    """Same-account request: allowed when no policy denies explicitly and at least one allows
    (identity and resource policies together; no boundary, SCP or session policy)."""
    decisions = [evaluate(p, request) for p in policies]
    return Decision.DENY not in decisions and Decision.ALLOW in decisions
