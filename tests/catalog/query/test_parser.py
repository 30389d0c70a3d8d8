"""The query language's parser (catalog/query/parser.py): pure, no database."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvewatch.catalog.query.parser import MAX_DEPTH, MAX_LENGTH, parse
from cvewatch.catalog.query.syntax import Age, And, Comparison, Not, comparisons
from cvewatch.core.errors import InvalidInput, InvalidQuery


def shape(node):
    """A compact form of a tree: ("and", ...), ("or", ...), ("not", x) or (field, op, value)."""
    if isinstance(node, Comparison):
        return (node.field, node.op, node.value)
    if isinstance(node, Not):
        return ("not", shape(node.item))
    return ("and" if isinstance(node, And) else "or", *(shape(item) for item in node.items))


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "vendor:microsoft AND cvss31>=8 AND created<=7d",
            ("and", ("vendor", ":", "microsoft"), ("cvss31", ">=", 8.0), ("created", "<=", Age(7, "7d"))),
        ),
        (
            'description:"remote code" OR title:overflow',
            ("or", ("description", ":", "remote code"), ("title", ":", "overflow")),
        ),
        ("cwe:CWE-79 AND epss>=50", ("and", ("cwe", ":", "CWE-79"), ("epss", ">=", 50.0))),
        ("kev:true", ("kev", ":", True)),
        ("CVE-2021-44228", ("cve", "=", "CVE-2021-44228")),
        ("cve-2021-44228", ("cve", "=", "CVE-2021-44228")),
        ('"CVE-2021-44228"', ("description", ":", "CVE-2021-44228")),  # quoted: a description search
        ("log4j", ("description", ":", "log4j")),
        ("remote code", ("and", ("description", ":", "remote"), ("description", ":", "code"))),
        ("cwe:79", ("cwe", ":", "CWE-79")),
        ("cwe=cwe-0079", ("cwe", "=", "CWE-79")),
        ('vendor:"Palo Alto Networks"', ("vendor", ":", "paloaltonetworks")),
        ('product="Webex Meetings"', ("product", "=", "webex_meetings")),
        ("created>=2024-01-31", ("created", ">=", date(2024, 1, 31))),
        ("updated<2w", ("updated", "<", Age(14, "2w"))),
        ("created>3m", ("created", ">", Age(90, "3m"))),
        ("created>=1Y", ("created", ">=", Age(365, "1Y"))),
        ("epss<0.5", ("epss", "<", 0.5)),
        ("kev!=FALSE", ("kev", "!=", False)),
        ("title!:draft", ("title", "!:", "draft")),
        ("userTag:triage", ("userTag", ":", "triage")),
        ("USERTAG=x", ("userTag", "=", "x")),
        ("Description:x", ("description", ":", "x")),
        ("project:web-prod", ("project", ":", "web-prod")),
        ("NOT kev:true", ("not", ("kev", ":", True))),
        ("not kev:true", ("not", ("kev", ":", True))),
        ('title:"say \\"hi\\" \\\\ now"', ("title", ":", 'say "hi" \\ now')),
        ('"and"', ("description", ":", "and")),
        ("ANDROID", ("description", ":", "ANDROID")),
        ("title:AND", ("title", ":", "AND")),
    ],
)
def test_parses(text, expected):
    assert shape(parse(text)) == expected


def test_and_binds_tighter_than_or():
    assert shape(parse("a OR b AND c")) == (
        "or",
        ("description", ":", "a"),
        ("and", ("description", ":", "b"), ("description", ":", "c")),
    )
    assert shape(parse("a and b or c")) == (
        "or",
        ("and", ("description", ":", "a"), ("description", ":", "b")),
        ("description", ":", "c"),
    )
    assert shape(parse("(a OR b) AND c")) == (
        "and",
        ("or", ("description", ":", "a"), ("description", ":", "b")),
        ("description", ":", "c"),
    )


def test_positions_of_parts():
    node = parse("vendor:acme AND cvss31>=7")
    first, second = comparisons(node)
    assert (first.field_span.start, first.op_span.start, first.value_span.start) == (0, 6, 7)
    assert (second.field_span.start, second.op_span.start, second.value_span.start) == (16, 22, 24)


@pytest.mark.parametrize(
    "text, position, words",
    [
        ("foo:bar", 0, "Unknown field 'foo'"),
        ("kev:true AND colour:red", 13, "Unknown field 'colour'"),
        ("kev>3", 3, "kev does not take '>'"),
        ("cvss31:8", 6, "cvss31 does not take ':'"),
        ("epss>=150", 6, "150 is out of range: 0 to 100 for epss"),
        ("cvss31>11", 7, "11 is out of range: 0 to 10 for cvss31"),
        ("cvss31>high", 7, "'high' is not a number"),
        ("created<=2024-13-01", 9, "'2024-13-01' is not a valid date"),
        ("created<=yesterday", 9, "not a date (YYYY-MM-DD, or Nd, Nw, Nm, Ny)"),
        ("created=30d", 8, "A relative date (30d) compares with <, <=, > or >="),
        ("created<=999999y", 9, "too far back"),
        ("kev:maybe", 4, "'maybe' is not true or false"),
        ("cwe:XSS", 4, "'XSS' is not a CWE id"),
        ('title:""', 6, "Empty value"),
        ('""', 0, "Empty quoted value"),
        ('description:"remote code', 12, "Unterminated quoted value"),
        ("vendor:", 7, "A value is missing after the operator"),
        ("(kev:true", 9, "expected ')'"),
        ("kev:true)", 8, "Unexpected ')'"),
        ("kev:true OR", 11, "The query ends too early"),
        ("cvss31>=>=8", 8, "Unexpected operator '>='"),
        (":x", 0, "Unexpected operator ':'"),
        ("a ! b", 2, "Unexpected character '!'"),
        ("", 0, "The query is empty."),
        ("   ", 0, "The query is empty."),
    ],
)
def test_errors_name_the_part_and_its_column(text, position, words):
    with pytest.raises(InvalidQuery) as caught:
        parse(text)
    assert words in str(caught.value)
    assert caught.value.position == position
    if text.strip():
        assert f"(column {position + 1})" in str(caught.value)
    assert isinstance(caught.value, InvalidInput)  # the edges' 400


def test_error_length_covers_the_faulty_part():
    with pytest.raises(InvalidQuery) as caught:
        parse("kev:true AND colour:red")
    assert (caught.value.position, caught.value.length) == (13, 6)


def test_limits():
    with pytest.raises(InvalidQuery, match="too long"):
        parse("a " * MAX_LENGTH)
    with pytest.raises(InvalidQuery, match="nests too deeply"):
        parse("NOT " * (MAX_DEPTH + 1) + "a")
    parse("(" * 200 + "a" + ")" * 200)  # parentheses alone add no depth


QUERY_ALPHABET = st.sampled_from(
    list("abcCVE-0123456789 ()\":=!<>\\.'\t")
    + ["AND ", "OR ", "NOT ", "vendor", "cvss31", "created", "kev", "epss", "userTag", "7d", "2024-01-01"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(QUERY_ALPHABET, max_size=30).map("".join))
def test_fuzz_only_the_query_error(text):
    try:
        parse(text)
    except InvalidQuery as exc:
        assert 0 <= exc.position <= len(text) and exc.length >= 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_any_text(text):
    try:
        parse(text)
    except InvalidQuery:
        pass
