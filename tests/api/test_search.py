"""The substring `search` seam (catalog/search.py): same answers as icontains on both engines, kept in step."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from cvewatch.catalog import search
from cvewatch.catalog.models import Cve
from tests.factories import CveFactory
from tests.support.engines import postgresql_only, sqlite_only

pytestmark = pytest.mark.django_db

TERMS = [
    "log4j",
    "LOG4J2",
    "Spring",
    "remote code",
    "cve-2022",
    "2021-4",
    "xz",
    "e",
    "flex_appliance",
    "100%",
    "a\\b",
    "no such text",
    "ClamAV",
    "  ",
]


def fast_ids(term: str) -> set[int]:
    return set(
        Cve.objects.filter(pk__in=RawSQL(*search.substring_ids_sql(term))).values_list("pk", flat=True)
    )


def icontains_ids(term: str) -> set[int]:
    return set(
        Cve.objects.filter(Q(cve_id__icontains=term) | Q(description__icontains=term)).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.parametrize("term", TERMS)
def test_the_seam_answers_exactly_what_icontains_answers(kb_all, term):
    CveFactory(cve_id="CVE-2024-0100", description="Discount of 100% on a\\b paths and xz archives")
    assert fast_ids(term) == icontains_ids(term)


def test_updates_and_deletes_reach_the_search_structure(api):
    cve = CveFactory(cve_id="CVE-2024-0200", description="An old heap overflow")
    assert fast_ids("heap overflow") == {cve.pk}
    Cve.objects.filter(pk=cve.pk).update(description="A fresh stack exhaustion")
    assert fast_ids("heap overflow") == set()
    assert fast_ids("stack exhaustion") == {cve.pk}
    ids = [item["cve_id"] for item in api.get("/api/cve?search=STACK exhaustion").json()["results"]]
    assert ids == ["CVE-2024-0200"]
    cve.delete()
    assert fast_ids("stack exhaustion") == set()


def test_bulk_writes_reach_the_search_structure():
    Cve.objects.bulk_create(
        [Cve(cve_id=f"CVE-2024-03{n:02d}", description=f"bulk written text {n}", created_at=c.created_at,
             updated_at=c.updated_at) for n, c in enumerate(CveFactory.build_batch(3))]
    )  # fmt: skip
    assert len(fast_ids("bulk written")) == 3


@sqlite_only
def test_the_search_structure_heals_itself_after_a_table_rebuild():
    cve = CveFactory(description="survives a rebuild")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {search.SEARCH_TABLE}_insert")
    assert search.ensure_sqlite_search_table() is True
    assert search.ensure_sqlite_search_table() is False
    assert fast_ids("survives a rebuild") == {cve.pk}
    assert fast_ids("added after") == set()
    later = CveFactory(description="added after healing")
    assert fast_ids("added after") == {later.pk}


@postgresql_only
def test_postgresql_has_no_search_table_to_heal_and_keeps_its_trigram_indexes():
    assert search.ensure_sqlite_search_table() is False
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'catalog_cve'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"cve_cve_id_trgm", "cve_description_trgm"} <= names


@pytest.mark.parametrize("term", ["log4j", "spring", "oracle", "CVE-2022", "flex_appliance", "zzzz"])
def test_search_alone_counts_and_pages_the_same_with_either_plan(kb_all, term):
    from cvewatch.catalog import selectors
    from cvewatch.catalog.filters import CveFilter

    expected = list(CveFilter(search=term).apply(selectors.cve_list()).values_list("cve_id", flat=True))
    listing = selectors.searched_cves(term=term)
    assert listing.count() == len(expected)
    walk = listing.queryset(rows_needed=1)
    fetch = listing.queryset(rows_needed=10**9)
    assert [c.cve_id for c in walk] == [c.cve_id for c in fetch] == expected


@postgresql_only
def test_postgresql_fetches_a_few_matches_by_their_ids_first(kb_all):
    """`id = ANY(ARRAY(...))`: the ids come from the trigram indexes before any CVE row is read. As `IN (...)`
    the planner could walk the updated_at index and test every row (366 ms for one term on the full corpus)."""
    from cvewatch.catalog import selectors

    listing = selectors.searched_cves(term="CVE-2022")
    fetch = listing.queryset(rows_needed=10**9)
    assert "= ANY(ARRAY(" in str(fetch.query)
    assert [c.cve_id for c in fetch] == [c.cve_id for c in listing.queryset(rows_needed=1)]
