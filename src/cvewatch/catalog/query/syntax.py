"""The query language's tree and its fields: what a parsed query is, independent of any database.

A query parses (catalog.query.parser) into these frozen nodes; catalog.query.compiler turns them into one
Django condition. Values are already checked and normalised here (numbers in range, dates, CVE and CWE ids,
vendor/product names by catalog.names' query rules), so compiling a tree never fails on a value.
Pure Python: no Django, so the parser stays fast to test and fuzz.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class Kind(enum.Enum):
    """How a field's values are read and which operators it takes."""

    TEXT = "text"  # description, title: substring / exact text
    CVE = "cve"  # cve_id: substring / exact id
    CWE = "cwe"  # one weakness id
    NAME = "name"  # vendor, product: name substring / exact name
    SCORE = "score"  # CVSS base scores, 0-10
    PERCENT = "percent"  # EPSS, written 0-100
    FLAG = "flag"  # kev: true / false
    DATE = "date"  # created, updated: YYYY-MM-DD or a relative age
    CONTEXT = "context"  # userTag, project: resolved by the caller's context


TEXT_OPERATORS = (":", "=", "!:", "!=")
ORDER_OPERATORS = ("=", "!=", ">", ">=", "<", "<=")
OPERATORS: dict[Kind, tuple[str, ...]] = {
    Kind.TEXT: TEXT_OPERATORS,
    Kind.CVE: TEXT_OPERATORS,
    Kind.CWE: TEXT_OPERATORS,
    Kind.NAME: TEXT_OPERATORS,
    Kind.SCORE: ORDER_OPERATORS,
    Kind.PERCENT: ORDER_OPERATORS,
    Kind.FLAG: TEXT_OPERATORS,
    Kind.DATE: (":", *ORDER_OPERATORS),
    Kind.CONTEXT: TEXT_OPERATORS,
}
NEGATIONS = frozenset({"!:", "!="})

# Canonical spelling of every field (field names are matched case-insensitively).
FIELDS: dict[str, Kind] = {
    "description": Kind.TEXT,
    "title": Kind.TEXT,
    "cve": Kind.CVE,
    "cwe": Kind.CWE,
    "vendor": Kind.NAME,
    "product": Kind.NAME,
    "cvss20": Kind.SCORE,
    "cvss30": Kind.SCORE,
    "cvss31": Kind.SCORE,
    "cvss40": Kind.SCORE,
    "kev": Kind.FLAG,
    "epss": Kind.PERCENT,
    "created": Kind.DATE,
    "updated": Kind.DATE,
    "userTag": Kind.CONTEXT,
    "project": Kind.CONTEXT,
}
FIELD_BY_LOWER = {name.lower(): name for name in FIELDS}
CONTEXT_FIELDS = frozenset(name for name, kind in FIELDS.items() if kind is Kind.CONTEXT)

# A relative date's unit in days: a month is 30 days and a year 365, whatever the calendar says.
UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


@dataclass(frozen=True, slots=True)
class Span:
    """Where a part of the query is: 0-based offsets [start, end) in the query text."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Age:
    """A relative date: `30d` is an age of 30 days (`created<=30d`: created at most 30 days ago)."""

    days: int
    text: str


Value = str | float | bool | date | Age


@dataclass(frozen=True, slots=True)
class Comparison:
    """`field op value`; a bare word is `description:word`, a bare CVE id `cve=CVE-…` (bare=True)."""

    field: str
    op: str
    value: Value
    field_span: Span
    op_span: Span
    value_span: Span
    bare: bool = False


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = Comparison | And | Or | Not


def comparisons(node: Node) -> list[Comparison]:
    """Every comparison of a tree, left to right (iterative: trees are at most MAX_DEPTH deep anyway)."""
    found: list[Comparison] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Comparison):
            found.append(current)
        elif isinstance(current, Not):
            stack.append(current.item)
        else:
            stack.extend(reversed(current.items))
    return found
