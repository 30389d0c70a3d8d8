"""The CVE list's orders and cheap paging, vendors and products with counts and the subscribe buttons,
the favicon."""

from __future__ import annotations

import pytest

from cvewatch.catalog.models import Cve
from cvewatch.organizations.models import ProjectProduct, ProjectVendor
from cvewatch.organizations.services import projects
from tests.factories import CveFactory
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    return [cve.cve_id for cve in response.context["page"].object_list]


@pytest.fixture
def scored(db):
    """Five CVEs with distinct dates, some without CVSS v3.1 or EPSS."""
    rows = [
        ("CVE-2024-0001", 9.8, 0.5),
        ("CVE-2024-0002", None, 0.9),
        ("CVE-2024-0003", 5.0, None),
        ("CVE-2024-0004", 9.8, 0.01),
        ("CVE-2024-0005", 7.5, None),
    ]
    for cve_id, cvss, epss in rows:
        CveFactory(cve_id=cve_id, cvss31_score=cvss, epss_score=epss, vendors=["acme"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["5", "4", "3", "2", "1"]),  # last modified first
        ({"sort": "published", "dir": "asc"}, ["1", "2", "3", "4", "5"]),
        # Highest first, ties by the newest id, no score last; lowest first puts no score first.
        ({"sort": "cvss"}, ["4", "1", "5", "3", "2"]),
        ({"sort": "cvss", "dir": "asc"}, ["2", "3", "5", "1", "4"]),
        ({"sort": "epss"}, ["2", "1", "4", "5", "3"]),
        ({"sort": "epss", "dir": "asc"}, ["3", "5", "4", "1", "2"]),
        ({"sort": "nonsense", "dir": "sideways"}, ["5", "4", "3", "2", "1"]),
        ({"sort": "cvss", "vendor": "acme"}, ["4", "1", "5", "3", "2"]),  # a vendor's list sorts too
    ],
)
def test_cve_list_sorts_with_a_stable_tie_break(owner_client, scored, query, expected):
    response = owner_client.get("/cve", query)
    assert response.status_code == 200
    assert ids(response) == [f"CVE-2024-000{n}" for n in expected]


def test_sort_headers_flip_the_direction_and_keep_the_filters(owner_client, scored):
    text = owner_client.get("/cve", {"vendor": "acme", "sort": "cvss"}).content.decode()
    assert 'aria-sort="descending"' in text
    assert 'href="?vendor=acme&amp;sort=cvss&amp;dir=asc"' in text  # the active column flips
    assert 'href="?vendor=acme&amp;sort=epss"' in text  # another column starts from the highest
    assert "sorted by CVSS v3.1, highest first" in text


def test_cve_rows_show_severity_kev_and_epss(owner_client, catalog):
    Cve.objects.filter(cve_id="CVE-2021-44228").update(epss_score=0.97431)
    text = owner_client.get("/cve").content.decode()
    assert "97.4%" in text and 'title="EPSS 0.97431' in text
    assert "In CISA's Known Exploited Vulnerabilities catalog since 2021-12-10" in text
    assert 'class="badge critical"' in text and 'class="badge medium"' in text


def test_the_plain_list_never_counts_rows(owner_client, catalog, django_assert_num_queries):
    # Its total is the count the triggers keep (catalog/counts.py): exact, and no COUNT(*) over the CVEs.
    owner_client.get("/cve")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get("/cve", {"sort": "epss"})
    assert response.context["page"].count == Cve.objects.count()
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_vendor_list_counts_cves_with_thousands_separators(owner_client, org):
    CveFactory.create_batch(3, vendors=["acme", "acme$PRODUCT$rocket"])
    CveFactory(vendors=["globex"])
    page = owner_client.get("/vendors").context
    assert [(v.name, n) for v, n, _ in page["rows"]] == [("acme", 3), ("globex", 1)]
    from cvewatch.web.templatetags.cvewatch_lists import thousands

    assert thousands(213629) == "213,629" and thousands(None) == "" and thousands("x") == "x"


def test_subscribe_the_current_project_from_vendor_and_product_pages(owner_client, org, owner):
    CveFactory(vendors=["acme", "acme$PRODUCT$rocket"])
    project = projects.create_project(organization=org, name="production", actor=owner)
    page = owner_client.get("/vendors/acme")
    assert page.context["subscribe"]["current"] == project
    assert b"Subscribe production" in page.content

    response = owner_client.post(
        "/subscriptions", {"project": "production", "vendor": "acme", "next": "/vendors/acme"}
    )
    assert response.status_code == 302 and response["Location"] == "/vendors/acme"
    assert ProjectVendor.objects.filter(project=project, vendor__name="acme").exists()
    after = owner_client.get("/vendors/acme").content.decode()
    assert "✓ production follows" in after and "Unsubscribe production" in after
    listing = owner_client.get("/vendors").content.decode()
    assert "✓ subscribed" in listing

    product = owner_client.get("/products", {"vendor": "acme", "product": "rocket"})
    assert product.status_code == 200 and ids(product) == [Cve.objects.get().cve_id]
    owner_client.post("/subscriptions", {"project": "production", "vendor": "acme", "product": "rocket"})
    assert ProjectProduct.objects.filter(project=project, product__name="rocket").exists()

    owner_client.post("/subscriptions", {"project": "production", "vendor": "acme", "action": "unsubscribe"})
    assert not ProjectVendor.objects.filter(project=project).exists()


def test_subscribe_refuses_what_it_should(owner_client, outsider_client, org, owner, other_org):
    CveFactory(vendors=["acme"])
    projects.create_project(organization=org, name="production", actor=owner)
    # Another organization's project is not found from eve's current organization (globex).
    assert outsider_client.post("/subscriptions", {"project": "production", "vendor": "acme"}).status_code == 404
    # An unknown vendor is the service's refusal, shown as a message; a foreign `next` is not followed.
    response = owner_client.post(
        "/subscriptions", {"project": "production", "vendor": "nobody", "next": "https://evil.example/"}, follow=True
    )
    assert response.redirect_chain[0][0] == "/vendors"
    assert "unknown vendor: nobody" in response.content.decode()
    assert owner_client.get("/subscriptions").status_code == 405
    assert owner_client.get("/products", {"vendor": "acme", "product": "nope"}).status_code == 404


def test_a_person_without_organization_is_told_how_to_subscribe(db, catalog):
    from tests.support.people import make_user

    client = client_for(make_user("loner"))
    assert b"Create an organization</a> to follow this vendor" in client.get("/vendors/apache").content
    assert client.post("/subscriptions", {"project": "x", "vendor": "apache"}).status_code == 404


def test_vendor_paging_reads_one_row_more_and_survives_bad_pages(owner_client, org):
    for n in range(55):
        CveFactory(vendors=[f"vendor{n:02d}"])
    first = owner_client.get("/vendors").context["page"]
    assert len(first.object_list) == 50 and first.has_next
    second = owner_client.get("/vendors", {"page": "2"}).context["page"]
    assert len(second.object_list) == 5 and not second.has_next
    for bad in ("0", "abc", "٣", "99999999999"):
        assert owner_client.get("/vendors", {"page": bad}).status_code == 200
    # The search travels encoded in the page links.
    for n in range(51):
        CveFactory(vendors=[f"r&d{n:02d}"])
    assert b'href="?search=r%26d&amp;page=2"' in owner_client.get("/vendors", {"search": "r&d"}).content


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("cvewatch/favicon.svg")
