"""The query language compiled to one condition: the same CVEs on SQLite and PostgreSQL (run both engines)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cvewatch.catalog import search, selectors
from cvewatch.catalog.filters import CveFilter
from cvewatch.catalog.models import Cve
from cvewatch.catalog.query.compiler import compile_query, follows_search_generation
from cvewatch.catalog.query.parser import parse
from cvewatch.core.errors import InvalidQuery
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog() -> dict[str, Cve]:
    now = timezone.now()
    return {
        "c1": CveFactory(
            cve_id="CVE-2024-0001",
            description="Remote code execution in Foo.",
            title="Overflow in foo",
            vendors=["microsoft", "microsoft$PRODUCT$windows"],
            weaknesses=["CWE-79"],
            cvss31_score=9.8,
            epss_score=0.6,
            kev_added=date(2024, 2, 1),
            created_at=now - timedelta(days=3),
            updated_at=now - timedelta(days=1),
        ),
        "c2": CveFactory(
            cve_id="CVE-2024-0002",
            description="SQL injection in the portal.",
            title="sqli",
            vendors=["acme", "acme$PRODUCT$web_portal"],
            weaknesses=["CWE-89"],
            cvss31_score=7.5,
            epss_score=0.1,
            created_at=now - timedelta(days=40),
            updated_at=now - timedelta(days=2),
        ),
        "c3": CveFactory(
            cve_id="CVE-2023-0003",
            description="A remote code flaw in bar.",
            title="bar",
            vendors=["microsoft_corp"],
            created_at=datetime(2023, 5, 5, 12, tzinfo=UTC),
            updated_at=datetime(2023, 6, 1, tzinfo=UTC),
        ),
        "c4": CveFactory(
            cve_id="CVE-2021-44228",
            description="Apache Log4j2 JNDI features allow remote code execution.",
            title="Log4Shell",
            vendors=["apache", "apache$PRODUCT$log4j"],
            weaknesses=["CWE-502"],
            cvss31_score=10.0,
            cvss40_score=9.3,
            kev_added=date(2021, 12, 10),
            created_at=datetime(2021, 12, 10, tzinfo=UTC),
            updated_at=datetime(2024, 1, 1, tzinfo=UTC),
        ),
    }


CASES = [
    ("vendor:microsoft AND cvss31>=8 AND created<=7d", {"c1"}),
    ('description:"remote code" OR title:overflow', {"c1", "c3", "c4"}),
    ("cwe:CWE-79 AND epss>=50", {"c1"}),
    ("kev:true", {"c1", "c4"}),
    ("kev:false", {"c2", "c3"}),
    ("CVE-2021-44228", {"c4"}),
    ("cve:2024", {"c1", "c2"}),
    ("cve=CVE-2024-0002", {"c2"}),
    ("cvss31!=9.8", {"c2", "c4"}),  # a CVE without the score matches no comparison
    ("NOT cvss31>=8", {"c2", "c3"}),  # NOT is every CVE the inner query does not match
    ("cvss31<8", {"c2"}),
    ("cvss40>9", {"c4"}),
    ("vendor=microsoft", {"c1"}),
    ("vendor:microsoft", {"c1", "c3"}),
    ("vendor!:microsoft", {"c2", "c4"}),
    ('vendor:"Apache"', {"c4"}),
    ("product:windows", {"c1"}),
    ("product=log4j", {"c4"}),
    ("created=2023-05-05", {"c3"}),
    ("created:2023-05-05", {"c3"}),
    ("created!=2023-05-05", {"c1", "c2", "c4"}),
    ("created>2023-05-05", {"c1", "c2"}),
    ("created>=2023-05-05", {"c1", "c2", "c3"}),
    ("created<2023-05-05", {"c4"}),
    ("created<=2023-05-05", {"c3", "c4"}),
    ("created>30d", {"c2", "c3", "c4"}),
    ("created<30d", {"c1"}),
    ("updated>=2024-01-01 AND updated<2024-01-02", {"c4"}),
    ("epss<20", {"c2"}),
    ("title=SQLI", {"c2"}),
    ("title:flow", {"c1"}),
    ("description!:remote", {"c2"}),
    ("description=sql injection in the portal.", set()),  # two words: description=sql AND bare words
    ('description="sql injection in the portal."', {"c2"}),
    ("(kev:true OR cwe:CWE-89) AND NOT vendor:acme", {"c1", "c4"}),
    ("kev:true OR cwe:89 AND vendor:acme", {"c1", "c2", "c4"}),
    ("log4j", {"c4"}),
    ("remote execution", {"c1", "c4"}),
    ("cwe:CWE-1", set()),  # an unknown weakness matches nothing
    ("vendor:nosuchvendor", set()),
]


def names_of(listing, catalog) -> set[str]:
    """The catalog keys of a queryset's or a CountedCves' CVEs."""
    by_pk = {cve.pk: key for key, cve in catalog.items()}
    rows = listing.values_list("pk", flat=True) if hasattr(listing, "values_list") else [c.pk for c in listing[:100]]
    return {by_pk[pk] for pk in rows}


@pytest.mark.parametrize("text, expected", CASES)
def test_same_answer_on_both_engines(catalog, text, expected):
    assert names_of(Cve.objects.filter(compile_query(parse(text))), catalog) == expected


@pytest.mark.parametrize("text, expected", CASES[:6])
def test_through_the_cve_filter_one_statement_for_the_count_one_for_the_page(catalog, text, expected):
    cve_filter = CveFilter.from_params({"q": text})
    listing = selectors.cve_listing(cve_filter=cve_filter)
    selectors.approximate_cve_total()  # the page plan's estimate, cached for a minute
    with CaptureQueriesContext(connection) as queries:
        count = listing.count()
        found = {cve.pk for cve in listing[:10]}
    assert count == len(expected)
    assert found == {catalog[key].pk for key in expected}
    # A query on text and names alone reads the search generation first (catalog.search), to reuse its count.
    statements = [
        q for q in queries if search.PG_GENERATION not in q["sql"] and search.GENERATION_TABLE not in q["sql"]
    ]
    assert len(statements) == 2
    assert len(queries) - len(statements) == follows_search_generation(parse(text))


@pytest.mark.parametrize("text, expected", CASES)
def test_walking_in_list_order_finds_the_same(catalog, text, expected):
    """The row-by-row form (search_index=False) a CountedCves walks answers as the indexed one."""
    condition = compile_query(parse(text), search_index=False)
    assert names_of(Cve.objects.filter(condition), catalog) == expected


def test_q_and_other_parameters_combine_by_and(catalog):
    cve_filter = CveFilter.from_params({"q": "kev:true", "vendor": "apache"})
    assert names_of(selectors.cve_listing(cve_filter=cve_filter), catalog) == {"c4"}
    cve_filter = CveFilter.from_params({"q": "remote", "cvss": "critical"})
    assert names_of(selectors.cve_listing(cve_filter=cve_filter), catalog) == {"c1", "c4"}


def test_a_context_field_needs_a_resolver(catalog):
    with pytest.raises(InvalidQuery, match=r"userTag is not available here \(column 10\)") as caught:
        compile_query(parse("kev:true userTag:mine"))
    assert (caught.value.position, caught.value.length) == (9, 7)


def test_resolvers_compile_context_fields(catalog):
    def tag(name: str) -> Q | None:
        return Q(pk=catalog["c2"].pk) if name == "mine" else None

    resolvers = {"userTag": tag}
    found = names_of(Cve.objects.filter(compile_query(parse("userTag:mine OR kev:true"), resolvers=resolvers)), catalog)
    assert found == {"c1", "c2", "c4"}
    found = names_of(Cve.objects.filter(compile_query(parse("userTag!=mine"), resolvers=resolvers)), catalog)
    assert found == {"c1", "c3", "c4"}
    with pytest.raises(InvalidQuery, match=r"No tag named 'other' \(column 9\)"):
        compile_query(parse("userTag:other"), resolvers=resolvers)


def test_relative_dates_count_from_now(catalog):
    later = timezone.now() + timedelta(days=10)  # c1 (3 days old today) is 13 days old then
    assert names_of(Cve.objects.filter(compile_query(parse("created<=7d"), now=later)), catalog) == set()
    assert names_of(Cve.objects.filter(compile_query(parse("created<=14d"), now=later)), catalog) == {"c1"}
