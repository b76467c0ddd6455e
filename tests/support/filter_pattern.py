"""Evaluator for CloudWatch Logs *JSON* filter patterns (the ``{ ... }`` form), for tests.

Why this exists (measured against moto 5.2.5, the version pinned in requirements-dev.lock):

* ``logs.test_metric_filter(...)`` (TestMetricFilter) is not implemented: boto3 raises
  ``NotImplementedError: The test_metric_filter action has not been implemented``.
* ``logs.filter_log_events(filterPattern='{ ... }')`` does not evaluate JSON patterns:
  ``moto.logs.utils.EventMessageFilter`` classifies any pattern that does not start with a letter
  or a double quote as ``UnsupportedFilterPattern``, which matches *every* event (a probe with
  ``{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`` returned
  2 of 2 events, one of which has no errorCode at all).
* ``put_metric_filter`` is stored but never applied: after ``put_log_events`` with a matching
  event, ``cloudwatch.list_metrics`` for the filter's namespace is empty.

So moto cannot tell a correct CIS metric filter from a broken one. This module is a small,
faithful implementation of the JSON filter-pattern grammar those patterns use, following the AWS
"Filter pattern syntax for metric filters" / "Using filter patterns to match terms in JSON log
events" documentation:

    pattern    := '{' or_expr '}'
    or_expr    := and_expr ( '||' and_expr )*          # precedence: () > && > ||
    and_expr   := primary ( '&&' primary )*
    primary    := '(' or_expr ')' | condition
    condition  := SELECTOR ( OP value | 'IS' ('NULL' | 'TRUE' | 'FALSE') | 'NOT' 'EXISTS' )
    OP         := '=' | '!=' | '<' | '<=' | '>' | '>='
    SELECTOR   := '$' ( '.' name | '[' digits ']' )+   # name: letters, digits, '-', '_'
    value      := "quoted string" | bare word          # bare: letters, digits and . _ - * : / +

Semantics (documented by AWS unless marked *observed*):

* ``=`` / ``!=`` against a string: ``*`` alone matches any value; a leading ``*`` is a suffix
  match, a trailing ``*`` a prefix match, both (``*x*``) an infix/contains match. A ``*`` in the
  middle (``Ev*ent``) is literal ("will only match the actual string Ev*ent"). Wildcards work in
  quoted and bare values alike (the CIS 4.1 pattern relies on ``"*UnauthorizedOperation"``).
* A bare numeric literal compared with a JSON number compares numerically (``= 400``,
  ``>= 500``, ``< 10e-3``); ``<``/``<=``/``>``/``>=`` need a number on both sides, else no match.
* The selector must reach a value node (string or number). If it reaches an object or array
  both ``=`` and ``!=`` are false. *Observed* (CloudWatch console "Test pattern", reported in
  DataBiosphere/azul#5884): if the field is absent, ``!=`` is false too -- so
  ``$.additionalEventData.MFAUsed != "Yes"`` does not match an event without that field.
* ``IS NULL`` is true only for an explicit JSON null; ``IS TRUE``/``IS FALSE`` only for JSON
  booleans; ``NOT EXISTS`` only when the path does not resolve.
* A log message that is not a JSON object matches no JSON pattern. Matching is case sensitive.

Not implemented (no CIS pattern uses them): ``%regex%`` values, the ``IN``/``NOT IN`` set
operators, text and space-delimited patterns. They raise :class:`FilterPatternError` (a pattern
AWS would accept is never silently evaluated as something else).
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FilterPatternError", "JsonFilter", "compile_pattern", "matches"]


class FilterPatternError(ValueError):
    """The pattern is not valid JSON filter-pattern syntax (or uses an unsupported feature)."""


# --------------------------------------------------------------------------- tokenizer

@dataclass(frozen=True)
class Token:
    kind: str  # LBRACE RBRACE LPAREN RPAREN AND OR OP SELECTOR STRING WORD EOF
    text: str
    pos: int


_PUNCT = {"{": "LBRACE", "}": "RBRACE", "(": "LPAREN", ")": "RPAREN"}
_TWO_CHAR = {"&&": "AND", "||": "OR", "!=": "OP", "<=": "OP", ">=": "OP"}
_ONE_CHAR_OP = {"=", "<", ">"}
_SELECTOR_RE = re.compile(r"\$(?:\.[A-Za-z0-9_-]+|\[[0-9]+\])*")
_WORD_RE = re.compile(r"[A-Za-z0-9_.*:/+-]+")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _read_string(text: str, start: int) -> tuple[str, int]:
    """Read a double-quoted string starting at text[start] == '"'; return (value, next index)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise FilterPatternError(f"unterminated string starting at position {start}")


def _next_token(text: str, i: int) -> tuple[Token, int]:
    char, pair = text[i], text[i:i + 2]
    if char in _PUNCT:
        return Token(_PUNCT[char], char, i), i + 1
    if pair in _TWO_CHAR:
        return Token(_TWO_CHAR[pair], pair, i), i + 2
    if char in _ONE_CHAR_OP:
        return Token("OP", char, i), i + 1
    if char == '"':
        value, end = _read_string(text, i)
        return Token("STRING", value, i), end
    regex, kind = (_SELECTOR_RE, "SELECTOR") if char == "$" else (_WORD_RE, "WORD")
    found = regex.match(text, i)
    if not found or found.end() == i:
        raise FilterPatternError(f"unexpected character {char!r} at position {i}")
    return Token(kind, found.group(), i), found.end()


def tokenize(text: str) -> list[Token]:
    """Split a filter pattern into tokens (whitespace separates, but is never required)."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        token, i = _next_token(text, i)
        tokens.append(token)
    tokens.append(Token("EOF", "", len(text)))
    return tokens


# --------------------------------------------------------------------------- selectors

_MISSING = object()
_SEGMENT_RE = re.compile(r"\.([A-Za-z0-9_-]+)|\[([0-9]+)\]")


def parse_selector(text: str) -> tuple[str | int, ...]:
    """'$.a.b[0]' -> ('a', 'b', 0). An index must follow a property, as AWS requires."""
    path: list[str | int] = []
    for found in _SEGMENT_RE.finditer(text, 1):
        key, index = found.groups()
        path.append(key if key is not None else int(index))
    if not path or isinstance(path[0], int):
        raise FilterPatternError(f"selector {text!r} must start with a property, e.g. $.name")
    return tuple(path)


def resolve(document: Any, path: tuple[str | int, ...]) -> Any:
    """Follow a parsed selector through a JSON document; return _MISSING if it does not resolve."""
    node = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
        elif not isinstance(node, dict) or step not in node:
            return _MISSING
        node = node[step]
    return node


# --------------------------------------------------------------------------- AST

def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _wildcard_match(pattern: str, text: str) -> bool:
    if pattern == "*":
        return True
    leading, trailing = pattern.startswith("*"), pattern.endswith("*") and len(pattern) > 1
    core = pattern[1 if leading else 0:len(pattern) - 1 if trailing else len(pattern)]
    if leading and trailing:
        return core in text
    if leading:
        return text.endswith(core)
    if trailing:
        return text.startswith(core)
    return text == pattern


@dataclass(frozen=True)
class Literal:
    text: str
    quoted: bool

    @property
    def number(self) -> float | None:
        """The numeric value of a bare numeric literal, else None."""
        if self.quoted or not _NUMBER_RE.fullmatch(self.text):
            return None
        return float(self.text)


class Node:
    def evaluate(self, document: Any) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]

    def evaluate(self, document: Any) -> bool:
        return any(child.evaluate(document) for child in self.children)


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]

    def evaluate(self, document: Any) -> bool:
        return all(child.evaluate(document) for child in self.children)


_NUMERIC_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


@dataclass(frozen=True)
class Compare(Node):
    path: tuple[str | int, ...]
    op: str
    literal: Literal

    def evaluate(self, document: Any) -> bool:
        value = resolve(document, self.path)
        if not (isinstance(value, str) or _is_number(value)):
            return False  # absent, null, boolean, object or array: neither = nor != matches
        number = self.literal.number
        if _is_number(value) and number is not None:
            return _NUMERIC_OPS[self.op](value, number)
        if self.op not in ("=", "!="):
            return False  # ordering needs numbers on both sides
        text = value if isinstance(value, str) else json.dumps(value)
        return _wildcard_match(self.literal.text, text) == (self.op == "=")


@dataclass(frozen=True)
class IsValue(Node):
    """`IS NULL` / `IS TRUE` / `IS FALSE`: the path holds exactly that JSON value."""

    path: tuple[str | int, ...]
    expected: bool | None

    def evaluate(self, document: Any) -> bool:
        value = resolve(document, self.path)
        if self.expected is None:
            return value is None
        return isinstance(value, bool) and value is self.expected


@dataclass(frozen=True)
class NotExists(Node):
    path: tuple[str | int, ...]

    def evaluate(self, document: Any) -> bool:
        return resolve(document, self.path) is _MISSING


# --------------------------------------------------------------------------- parser

_IS_KEYWORDS = {"NULL": None, "TRUE": True, "FALSE": False}


class _Parser:
    """Recursive-descent parser over the token list; one method per grammar rule."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def expect(self, kind: str, text: str | None = None) -> Token:
        token = self.current
        if token.kind != kind or (text is not None and token.text != text):
            wanted = text or kind
            raise FilterPatternError(f"expected {wanted} at position {token.pos}, found {token.text!r}")
        return self.advance()

    def pattern(self) -> Node:
        self.expect("LBRACE")
        node = self.or_expr()
        self.expect("RBRACE")
        self.expect("EOF")
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.current.kind == "OR":
            self.advance()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self) -> Node:
        children = [self.primary()]
        while self.current.kind == "AND":
            self.advance()
            children.append(self.primary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def primary(self) -> Node:
        if self.current.kind == "LPAREN":
            self.advance()
            node = self.or_expr()
            self.expect("RPAREN")
            return node
        return self.condition()

    def condition(self) -> Node:
        path = parse_selector(self.expect("SELECTOR").text)
        token = self.current
        if token.kind == "OP":
            return self.comparison(path)
        if token.kind == "WORD" and token.text == "IS":
            self.advance()
            return self.is_value(path)
        if token.kind == "WORD" and token.text == "NOT":
            self.advance()
            self.expect("WORD", "EXISTS")
            return NotExists(path)
        raise FilterPatternError(f"expected an operator, IS or NOT EXISTS at position {token.pos}")

    def comparison(self, path: tuple[str | int, ...]) -> Node:
        op = self.advance().text
        token = self.current
        if token.kind not in ("STRING", "WORD"):
            raise FilterPatternError(f"expected a value at position {token.pos}, found {token.text!r}")
        literal = Literal(self.advance().text, quoted=token.kind == "STRING")
        if op not in ("=", "!=") and literal.number is None:
            raise FilterPatternError(f"operator {op} needs a number, got {literal.text!r}")
        return Compare(path, op, literal)

    def is_value(self, path: tuple[str | int, ...]) -> Node:
        token = self.expect("WORD")
        if token.text not in _IS_KEYWORDS:
            raise FilterPatternError(f"expected NULL, TRUE or FALSE after IS at position {token.pos}")
        return IsValue(path, _IS_KEYWORDS[token.text])


# --------------------------------------------------------------------------- public API

@dataclass(frozen=True)
class JsonFilter:
    """A compiled JSON filter pattern."""

    source: str
    root: Node

    def matches(self, event: str | Mapping[str, Any]) -> bool:
        """True if the log event (a JSON text, or an already-parsed mapping) matches."""
        document = _load_event(event)
        return document is not None and self.root.evaluate(document)


def _load_event(event: str | Mapping[str, Any]) -> dict[str, Any] | None:
    if isinstance(event, Mapping):
        return dict(event)
    try:
        document = json.loads(event)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def compile_pattern(pattern: str) -> JsonFilter:
    """Parse a ``{ ... }`` filter pattern; raise FilterPatternError if it is not valid."""
    if not pattern.strip().startswith("{"):
        raise FilterPatternError("only JSON filter patterns ({ ... }) are supported")
    return JsonFilter(pattern, _Parser(tokenize(pattern)).pattern())


def matches(pattern: str, event: str | Mapping[str, Any]) -> bool:
    """Convenience: compile ``pattern`` and test one log event."""
    return compile_pattern(pattern).matches(event)
