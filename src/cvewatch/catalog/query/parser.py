"""The search language's parser: query text in, a checked syntax tree out, or InvalidQuery with a position.

    parse('vendor:microsoft AND cvss31>=8 AND created<=7d')

The grammar is lark's (LALR, contextual lexer); this module turns lark's tree into catalog.query.syntax
nodes and checks every field, operator and value on the way, so any mistake is reported at its column.
docs/query.md is the user's description of the language. Pure: nothing of Django.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date

from lark import Lark, Token, Transformer_NonRecursive
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from cvewatch.catalog import names
from cvewatch.catalog.query.syntax import (
    FIELD_BY_LOWER,
    FIELDS,
    OPERATORS,
    UNIT_DAYS,
    Age,
    And,
    Comparison,
    Kind,
    Node,
    Not,
    Or,
    Span,
    Value,
)
from cvewatch.core.errors import InvalidQuery

MAX_LENGTH = 1000
MAX_DEPTH = 32
MAX_AGE_DAYS = 100 * 365

# A word is anything up to whitespace, a parenthesis, a quote or an operator character; AND, OR and NOT are
# keywords in any case (quote them to search for the word) where the grammar allows one, a word elsewhere.
GRAMMAR = r"""
    start: or_expr
    ?or_expr: and_expr (_OR and_expr)*
    ?and_expr: unary (_AND? unary)*
    ?unary: _NOT unary -> negation
          | atom
    ?atom: WORD OPERATOR (WORD | STRING) -> comparison
         | (WORD | STRING) -> term
         | LPAR or_expr RPAR -> group

    OPERATOR: "!=" | "!:" | ">=" | "<=" | ":" | "=" | ">" | "<"
    STRING: /"(?:[^"\\]|\\.)*"/
    WORD: /[^\s()":=!<>]+/
    LPAR: "("
    RPAR: ")"
    _AND.2: /AND(?![^\s()":=!<>])/i
    _OR.2: /OR(?![^\s()":=!<>])/i
    _NOT.2: /NOT(?![^\s()":=!<>])/i
    %ignore /\s+/
"""
_LARK = Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=False)

_TOKEN_NAMES = {
    "WORD": "a word",
    "STRING": 'a "quoted value"',
    "OPERATOR": "an operator",
    "LPAR": "'('",
    "RPAR": "')'",
    "_AND": "AND",
    "_OR": "OR",
    "_NOT": "NOT",
    "$END": "the end of the query",
}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AGE = re.compile(r"([0-9]{1,6})([dwmy])", re.IGNORECASE)
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_CWE = re.compile(r"(?:CWE-)?([0-9]+)", re.IGNORECASE)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_FLAGS = {"true": True, "yes": True, "false": False, "no": False}


def column(position: int) -> int:
    """The 1-based column people count, of a 0-based offset."""
    return position + 1


def _error(message: str, start: int, end: int) -> InvalidQuery:
    return InvalidQuery(f"{message} (column {column(start)})", position=start, length=end - start)


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Node:
    """The syntax tree of a query; InvalidQuery naming the faulty part and its column if it is malformed."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidQuery("The query is empty.", position=0, length=1)
    if len(text) > MAX_LENGTH:
        raise _error(f"The query is too long (at most {MAX_LENGTH} characters)", MAX_LENGTH, len(text))
    if "\x00" in text:
        position = text.index("\x00")
        raise _error("The query contains a NUL character", position, position + 1)
    try:
        tree = _LARK.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    try:
        node = _Builder().transform(tree)
    except VisitError as exc:  # the builder's own InvalidQuery, wrapped by lark
        if isinstance(exc.orig_exc, InvalidQuery):
            raise exc.orig_exc from None
        raise
    except LarkError as exc:  # pragma: no cover - a grammar/lark mismatch, not the user's mistake
        raise InvalidQuery(f"The query cannot be read: {exc}") from None
    if _depth(node) > MAX_DEPTH:
        raise InvalidQuery(f"The query nests too deeply (at most {MAX_DEPTH} levels).", position=0)
    return node


def _syntax_error(text: str, exc: UnexpectedInput) -> InvalidQuery:
    if isinstance(exc, UnexpectedCharacters):
        position = exc.pos_in_stream
        char = text[position]
        if char == '"':
            return _error('Unterminated quoted value: a closing " is missing', position, len(text))
        return _error(f"Unexpected character {char!r}", position, position + 1)
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = sorted({_TOKEN_NAMES.get(name, name) for name in exc.expected})
        wanted = f"; expected {' or '.join(expected)}" if expected else ""
        after_operator = set(exc.expected) == {"WORD", "STRING"}
        if token.type == "$END":
            position = len(text.rstrip())
            if after_operator:
                return _error("A value is missing after the operator", position, position + 1)
            return _error(f"The query ends too early{wanted}", position, position + 1)
        start = token.start_pos if token.start_pos is not None else 0
        end = token.end_pos if token.end_pos is not None else start + 1
        if token.type == "OPERATOR":
            if after_operator:
                return _error(f"Unexpected operator {token.value!r}: a value is expected here", start, end)
            return _error(
                f"Unexpected operator {token.value!r}: an operator follows a field name", start, end
            )
        if token.type in ("LPAR", "RPAR"):
            return _error(f"Unexpected {token.value!r}{wanted}", start, end)
        return _error(
            f"Unexpected {_TOKEN_NAMES.get(token.type, token.type)} {token.value!r}{wanted}", start, end
        )
    return InvalidQuery(f"The query cannot be read: {exc}")  # pragma: no cover - lark's other kinds


def _span(token: Token) -> Span:
    start = token.start_pos or 0
    return Span(start, token.end_pos if token.end_pos is not None else start + len(token.value))


def _text(token: Token) -> str:
    """A word as written, or a quoted value without its quotes and with its escapes (\\" and \\\\) undone."""
    if token.type == "STRING":
        return _ESCAPE.sub(r"\1", token.value[1:-1])
    return str(token.value)


class _Builder(Transformer_NonRecursive):
    """lark's tree → syntax nodes, checking each comparison (non-recursive: deep input cannot overflow)."""

    def start(self, children: list[Node]) -> Node:
        return children[0]

    def or_expr(self, children: list[Node]) -> Node:
        return Or(tuple(children))

    def and_expr(self, children: list[Node]) -> Node:
        return And(tuple(children))

    def negation(self, children: list[Node]) -> Node:
        return Not(children[0])

    def group(self, children: list[Token | Node]) -> Node:
        return children[1]  # type: ignore[return-value]

    def term(self, children: list[Token]) -> Node:
        token = children[0]
        span, value = _span(token), _text(token)
        if not value.strip():
            raise _error("Empty quoted value", span.start, span.end)
        cve_id = names.normalize_cve_id(value)
        if cve_id is not None and token.type == "WORD":
            return Comparison("cve", "=", cve_id, span, span, span, bare=True)
        return Comparison("description", ":", value, span, span, span, bare=True)

    def comparison(self, children: list[Token]) -> Node:
        field_token, op_token, value_token = children
        field_span, op_span, value_span = _span(field_token), _span(op_token), _span(value_token)
        field = FIELD_BY_LOWER.get(field_token.value.lower())
        if field is None:
            raise _error(
                f"Unknown field {field_token.value!r}; fields: {', '.join(FIELDS)}",
                field_span.start,
                field_span.end,
            )
        kind, op = FIELDS[field], str(op_token.value)
        if op not in OPERATORS[kind]:
            raise _error(
                f"{field} does not take {op!r}; it takes {' '.join(OPERATORS[kind])}",
                op_span.start,
                op_span.end,
            )
        raw = _text(value_token)
        value = _value(field, kind, op, raw, value_span)
        return Comparison(field, op, value, field_span, op_span, value_span)


def _value(field: str, kind: Kind, op: str, raw: str, span: Span) -> Value:
    """The checked, normalised value of `field op raw`; InvalidQuery at the value's span otherwise."""

    def refuse(message: str) -> InvalidQuery:
        return _error(f"{message} for {field}", span.start, span.end)

    text = raw.strip()
    if not text:
        raise refuse("Empty value")
    if kind is Kind.TEXT or kind is Kind.CONTEXT:
        return text
    if kind is Kind.CVE:
        return text.upper()
    if kind is Kind.CWE:
        match = _CWE.fullmatch(text)
        if match is None:
            raise refuse(f"{text!r} is not a CWE id (CWE-79 or 79)")
        return f"CWE-{int(match.group(1))}"
    if kind is Kind.NAME:
        name = names.vendor_from_query(text) if field == "vendor" else names.product_from_query(text)
        if not name:
            raise refuse("Empty name")
        return name
    if kind is Kind.FLAG:
        flag = _FLAGS.get(text.lower())
        if flag is None:
            raise refuse(f"{text!r} is not true or false")
        return flag
    if kind is Kind.SCORE or kind is Kind.PERCENT:
        top = 10.0 if kind is Kind.SCORE else 100.0
        if _NUMBER.fullmatch(text) is None:
            raise refuse(f"{text!r} is not a number from 0 to {top:g}")
        number = float(text)
        if number > top:
            raise refuse(f"{text} is out of range: 0 to {top:g}")
        return number
    return _date_value(text, op, refuse)


def _date_value(text: str, op: str, refuse: Callable[[str], InvalidQuery]) -> Value:
    age = _AGE.fullmatch(text)
    if age is not None:
        if op not in (">", ">=", "<", "<="):
            raise refuse(f"A relative date ({text}) compares with <, <=, > or >=, not {op!r},")
        days = int(age.group(1)) * UNIT_DAYS[age.group(2).lower()]
        if days > MAX_AGE_DAYS:
            raise refuse(f"{text} is too far back (at most 100 years)")
        return Age(days, text)
    if _DATE.fullmatch(text) is None:
        raise refuse(f"{text!r} is not a date (YYYY-MM-DD, or Nd, Nw, Nm, Ny)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise refuse(f"{text!r} is not a valid date") from None


def _depth(node: Node) -> int:
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(current, Not):
            stack.append((current.item, depth + 1))
        elif isinstance(current, And | Or):
            stack.extend((item, depth + 1) for item in current.items)
    return deepest
