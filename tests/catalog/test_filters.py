"""CveFilter: the one reading of a CVE list's query parameters (API, project lists, web pages)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import QueryDict

from cvewatch.catalog import names, selectors
from cvewatch.catalog.filters import NO_FILTER, CveFilter
from cvewatch.core.errors import NotFound
from tests.factories import CveFactory
from tests.support.engines import sqlite_only
from tests.support.people import make_user


class Person:
    is_authenticated = True


def test_values_are_trimmed_and_names_normalised_as_the_contract_says():
    cve_filter = CveFilter.from_params(
        {"search": "  log4j ", "vendor": " VM Ware ", "product": "Spring Framework", "weakness": " CWE-79 "}
    )
    assert cve_filter == CveFilter(
        search="log4j", vendor="vmware", product="spring_framework", weakness="CWE-79"
    )
    assert cve_filter.active == {"search", "vendor", "weakness"}


@pytest.mark.parametrize(
    ("vendor", "product"), [("Palo\tAlto  Networks", "Webex\t Meetings"), ("Cisco", "IOS   XE"), ("Linux", "")]
)
def test_names_are_spelled_by_catalog_names_query_rules(vendor, product):
    # One home: the filter spells names exactly as catalog.names' query rules do, any whitespace included.
    cve_filter = CveFilter.from_params({"vendor": vendor, "product": product})
    assert cve_filter.vendor == names.vendor_from_query(vendor)
    assert cve_filter.product == names.product_from_query(product)
    assert " " not in cve_filter.vendor + cve_filter.product and "\t" not in cve_filter.vendor + cve_filter.product


def test_a_query_dict_reads_like_a_mapping():
    query = QueryDict("vendor=apache&vendor=oracle&cvss=HIGH&page=2&foo=bar")
    assert CveFilter.from_params(query) == CveFilter(vendor="oracle", cvss="high")


@pytest.mark.parametrize(
    ("params", "active"),
    [
        ({}, set()),
        ({"search": "", "vendor": " ", "cvss": "", "weakness": "", "tag": ""}, set()),
        ({"product": "log4j"}, set()),  # a product without a vendor is ignored
        ({"vendor": "apache", "product": "log4j"}, {"vendor"}),
        ({"cvss": "bogus"}, set()),  # unknown cvss values are ignored
        ({"cvss": " Empty "}, {"cvss"}),
        ({"cvss": "critical", "weakness": "CWE-20"}, {"cvss", "weakness"}),
    ],
)
def test_which_parameters_are_active(params, active):
    cve_filter = CveFilter.from_params(params)
    assert cve_filter.active == active
    assert cve_filter.is_active is bool(active)


def test_product_and_bad_cvss_are_not_kept():
    assert CveFilter.from_params({"product": "log4j", "cvss": "bogus"}) == NO_FILTER


@pytest.mark.parametrize(("user", "kept"), [(None, False), (AnonymousUser(), False), (Person(), True)])
def test_tag_is_a_persons_only(user, kept):
    cve_filter = CveFilter.from_params({"tag": "mine"}, user=user)
    assert cve_filter.tag == ("mine" if kept else "")
    assert cve_filter.is_active is kept


@pytest.mark.django_db
def test_apply_filters_and_refuses_unknown_names():
    hit = CveFactory(vendors=["apache", "apache$PRODUCT$log4j"], cvss31_score=10.0, weaknesses=["CWE-20"])
    CveFactory(vendors=["apache"], cvss31_score=5.0)
    CveFactory(vendors=["oracle"])
    every = selectors.cve_list()

    def ids(**params: str) -> list[str]:
        return [c.cve_id for c in CveFilter.from_params(params).apply(every)]

    assert ids(vendor="Apache", product="LOG4J") == [hit.cve_id]
    assert ids(cvss="critical") == ids(weakness="CWE-20") == [hit.cve_id]
    assert len(ids(cvss="empty")) == 1 and ids(weakness="CWE-0") == []
    assert len(ids()) == 3
    with pytest.raises(NotFound, match="No Vendor matches"):
        ids(vendor="nobody")
    with pytest.raises(NotFound, match="No Product matches"):
        ids(vendor="apache", product="nothing")
    with pytest.raises(NotFound, match="No UserTag matches"):
        CveFilter.from_params({"tag": "mine"}, user=make_user("alice")).apply(every)


@pytest.mark.django_db
@pytest.mark.parametrize("cvss", ["critical", "high", "medium", "low", "empty"])
def test_the_score_walk_selects_and_orders_as_the_score_index_does(cvss):
    # Scores on every range edge, ties in updated_at, and CVEs without a CVSS 3.1 score.
    scores = [None, 0.0, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 9.8, 10.0, None, 9.0, 4.0]
    for number, score in enumerate(scores):
        CveFactory(cve_id=f"CVE-2024-{1000 + number}", cvss31_score=score)
    cve_filter = CveFilter.from_params({"cvss": cvss})
    by_index = list(cve_filter.apply(selectors.cve_list()).values_list("cve_id", flat=True))
    walked = list(cve_filter.apply(selectors.cve_list(), score_index=False).values_list("cve_id", flat=True))
    assert walked == by_index and by_index


@sqlite_only  # SQLite plans without statistics; PostgreSQL chooses by its own
@pytest.mark.django_db
@pytest.mark.parametrize("cvss", ["critical", "empty"])
def test_a_score_page_on_sqlite_walks_the_list_order_instead_of_sorting_the_range(cvss):
    CveFactory(cve_id="CVE-2024-0001", cvss31_score=9.8)
    listing = selectors.cve_listing(cve_filter=CveFilter.from_params({"cvss": cvss}))
    walk = listing._walk  # the plan CountedCves takes when the range holds many CVEs
    sql, params = walk[:10].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "cve_updated_desc" in plan and "TEMP B-TREE" not in plan, plan
