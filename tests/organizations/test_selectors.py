"""The project CVE selectors: which CVEs a project sees, and both page plans agree."""

from __future__ import annotations

import datetime as dt

import pytest

from cvewatch.catalog import selectors as catalog_selectors
from cvewatch.catalog.filters import CveFilter
from cvewatch.catalog.models import Cve
from cvewatch.organizations import selectors
from cvewatch.organizations.services import projects
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


def test_cves_for_project_covers_vendor_and_product_subscriptions(org, owner, catalog):
    newest = CveFactory(vendors=["fortinet"], updated_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    via_product = CveFactory(
        vendors=["apache", "apache$PRODUCT$log4j"], updated_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC)
    )
    CveFactory(
        vendors=["apache", "apache$PRODUCT$airflow"], updated_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    )
    CveFactory(vendors=["microsoft"], updated_at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
    project = projects.create_project(organization=org, name="prod", actor=owner)
    assert list(selectors.cves_for_project(project=project)) == []
    projects.subscribe_project(project=project, vendors=["fortinet"], products=["apache/log4j"], actor=owner)
    assert list(selectors.cves_for_project(project=project)) == [newest, via_product]
    projects.subscribe_project(project=project, vendors=["apache"], actor=owner)
    assert [c.cve_id for c in selectors.cves_for_project(project=project)] == [
        c.cve_id
        for c in sorted(selectors.cves_for_project(project=project), key=lambda c: c.updated_at, reverse=True)
    ]
    assert selectors.cves_for_project(project=project).count() == 3


def test_project_cve_listing_plans_agree(org, owner, catalog, monkeypatch):
    """Many matches → walk the updated_at index; few → fetch and sort: the same CVEs in the same order."""
    # The plan compares the match count with the catalog size, cached process-wide for a minute; pin the
    # size to this test's catalog so other tests' rows (ids keep growing) cannot change the plan.
    monkeypatch.setattr(catalog_selectors, "approximate_cve_total", lambda: 14)
    for n in range(12):
        CveFactory(vendors=["fortinet"], updated_at=dt.datetime(2024, 1, 1 + n, tzinfo=dt.UTC))
    CveFactory(
        vendors=["apache", "apache$PRODUCT$log4j"], updated_at=dt.datetime(2024, 1, 5, 12, tzinfo=dt.UTC)
    )
    CveFactory(vendors=["microsoft"])
    wide = projects.create_project(
        organization=org, name="wide", vendors=["fortinet"], products=["apache/log4j"]
    )
    narrow = projects.create_project(organization=org, name="narrow", products=["apache/log4j"])
    expected = list(selectors.cves_for_project(project=wide))
    assert len(expected) == 13

    listing = selectors.project_cve_listing(project=wide)
    assert listing.count() == 13
    walk = listing.queryset(rows_needed=10)
    assert "EXISTS" in str(walk.query)
    assert list(walk) == expected and listing[0:5] == expected[:5] and listing[10:20] == expected[10:]

    few = selectors.project_cve_listing(project=narrow)
    fetch = few.queryset(rows_needed=10)
    assert "EXISTS" not in str(fetch.query)
    assert few.count() == 1 and list(fetch) == list(selectors.cves_for_project(project=narrow))


def test_project_cve_listing_applies_the_filters_to_both_plans(org, owner, catalog, monkeypatch):
    CveFactory(vendors=["fortinet"], cvss31_score=9.9)
    CveFactory(vendors=["fortinet"], cvss31_score=1.0)
    project = projects.create_project(organization=org, name="p", vendors=["fortinet"])
    critical = selectors.project_cve_listing(project=project, cve_filter=CveFilter(cvss="critical"))
    assert critical.count() == 1
    for catalog_size, walks in [(0, True), (10**9, False)]:  # a small catalog → walk, a huge one → fetch
        monkeypatch.setattr(catalog_selectors, "approximate_cve_total", lambda size=catalog_size: size)
        queryset = critical.queryset(rows_needed=10)
        assert ("EXISTS" in str(queryset.query)) is walks
        assert [c.cvss31_score for c in queryset] == [9.9]
    bogus = CveFilter.from_params({"cvss": "bogus"})
    assert selectors.project_cve_listing(project=project, cve_filter=bogus).count() == 2


@pytest.mark.parametrize(
    ("vendors", "products"),
    [(["fortinet", "apache"], []), ([], ["apache/log4j", "apache/airflow"]), (["apache"], ["apache/log4j"])],
)
def test_a_cve_matching_several_subscriptions_counts_once(org, owner, catalog, vendors, products):
    CveFactory(vendors=["fortinet", "apache", "apache$PRODUCT$log4j", "apache$PRODUCT$airflow"])
    project = projects.create_project(organization=org, name="p", vendors=vendors, products=products)
    listing = selectors.project_cve_listing(project=project)
    assert listing.count() == 1 and len(listing[0:10]) == 1
    assert selectors.cves_for_project(project=project).count() == 1


@pytest.mark.parametrize(
    ("vendors", "products"),
    [
        (["fortinet"], []),
        ([], ["apache/log4j"]),
        (["fortinet", "apache"], []),
        ([], ["apache/log4j", "apache/airflow"]),
        (["fortinet"], ["apache/log4j", "apache/airflow"]),
        (["fortinet", "apache"], ["apache/log4j", "apache/airflow"]),
    ],
)
def test_the_unfiltered_list_in_sql_is_the_orm_list(org, owner, catalog, monkeypatch, vendors, products):
    """SubscribedCves (the hot path's own SQL, merging the subscriptions' list-order indexes) answers as the
    ORM's CountedCves, page by page, whatever the page plan."""
    day = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for n in range(9):  # ties on updated_at too: the id breaks them, descending
        CveFactory(vendors=["fortinet"], updated_at=day + dt.timedelta(days=n // 2))
    for n in range(4):
        CveFactory(vendors=["apache", "apache$PRODUCT$log4j"], updated_at=day + dt.timedelta(days=n, hours=1))
    CveFactory(vendors=["fortinet", "apache", "apache$PRODUCT$log4j", "apache$PRODUCT$airflow"])
    moved = CveFactory(vendors=["apache", "apache$PRODUCT$airflow"], updated_at=day)
    CveFactory(vendors=["microsoft"])
    # Moved into a tie after its links were written: the pages read the links' copy of updated_at.
    Cve.objects.filter(cve_id=moved.cve_id).update(updated_at=day + dt.timedelta(days=2))
    project = projects.create_project(organization=org, name="p", vendors=vendors, products=products)
    expected = list(selectors.cves_for_project(project=project))
    listing = selectors.project_cve_listing(project=project)
    assert isinstance(listing, selectors.SubscribedCves)
    assert listing.count() == len(expected) > 1
    for catalog_size in (0, 10**9):  # walk the index / fetch and sort
        monkeypatch.setattr(catalog_selectors, "approximate_cve_total", lambda size=catalog_size: size)
        for start in range(0, len(expected) + 3, 3):
            page = selectors.project_cve_listing(project=project)[start : start + 3]
            assert [c.cve_id for c in page] == [c.cve_id for c in expected[start : start + 3]]
            assert [(c.created_at, c.updated_at, c.description) for c in page] == [
                (c.created_at, c.updated_at, c.description) for c in expected[start : start + 3]
            ]
    for size in (1, 2, 5, len(expected)):  # every window of every size, the last (short) page included
        for start in range(0, len(expected) + 1):
            page = selectors.project_cve_listing(project=project)[start : start + size]
            assert [c.cve_id for c in page] == [c.cve_id for c in expected[start : start + size]]
    # The web list's columns (title, scores…) stay on the SQL path, loading what the ORM's only() loads.
    web = ("cve_id", "description", "created_at", "updated_at", "title", "cvss31_score", "kev_added", "state")
    shown = selectors.project_cve_listing(project=project).only(*web)
    assert isinstance(shown, selectors.SubscribedCves) and shown.count() == len(expected)
    orm = selectors.cves_for_project(project=project).only(*web)

    def rows(cves):
        return [(c.pk, c.get_deferred_fields(), *(getattr(c, f) for f in web)) for c in cves]

    for start in range(0, len(expected) + 1, 4):
        assert rows(shown[start : start + 4]) == rows(orm[start : start + 4])
    # Other fields or another order: the ORM's list, with the same count.
    assert not isinstance(listing.only("id", "vendor_links__vendor"), selectors.SubscribedCves)
    assert list(listing.only("id", "title").queryset(rows_needed=100)) == expected
    assert listing.order_by("-updated_at", "-id").count() == len(expected)


def test_a_project_with_query_subscriptions_or_a_filter_leaves_the_sql_path(org, owner, catalog):
    CveFactory(vendors=["fortinet"], cvss31_score=9.9)
    project = projects.create_project(organization=org, name="p", vendors=["fortinet"])
    assert isinstance(selectors.project_cve_listing(project=project), selectors.SubscribedCves)
    filtered = selectors.project_cve_listing(project=project, cve_filter=CveFilter(cvss="critical"))
    assert not isinstance(filtered, selectors.SubscribedCves) and filtered.count() == 1
