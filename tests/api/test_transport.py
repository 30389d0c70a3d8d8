"""§1 transport: read-only methods, no trailing slashes, JSON; and pinned query counts (no N+1)."""

from __future__ import annotations

import pytest

from tests.factories import CveFactory, ProductFactory, VendorFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize(
    "path", ["/api/cve", "/api/cve/CVE-2021-44228", "/api/vendors", "/api/weaknesses/CWE-20"]
)
def test_writes_are_405(api, log4shell, method, path):
    response = getattr(api, method)(path, {}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}


def test_head_and_options_are_allowed(api, log4shell):
    assert api.head("/api/cve").status_code == 200
    response = api.options("/api/cve/CVE-2021-44228")
    assert response.status_code == 200
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    "path", ["/api/cve/", "/api/cve/CVE-2021-44228/", "/api/vendors/", "/api/weaknesses/"]
)
def test_trailing_slash_is_404_not_a_redirect(api, log4shell, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert "Location" not in response


def test_format_parameter_and_accept_header_do_not_change_json(api, log4shell):
    assert api.get("/api/cve?format=xml").json()["count"] == 1
    response = api.get("/api/cve/CVE-2021-44228", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_responses_are_json(api, log4shell):
    assert api.get("/api/cve").headers["Content-Type"] == "application/json"


@pytest.fixture
def busy_catalog(db):
    """Enough linked rows that an N+1 would show in the counts."""
    for n in range(15):
        CveFactory(
            cve_id=f"CVE-2024-{n:04d}",
            vendors=["acme", "acme$PRODUCT$rocket", f"other{n}"],
            weaknesses=["CWE-79"],
            cvss31_score=9.8,
        )
    ProductFactory(vendor=VendorFactory(name="acme"), name="anvil")


# Basic on a warm cache costs one query (the user); then the lookups, the count and the page.
@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/api/cve", 3),
        ("/api/cve?page=2", 3),
        ("/api/cve?vendor=acme", 4),
        ("/api/cve?vendor=acme&product=rocket", 5),
        ("/api/cve?weakness=CWE-79", 4),
        ("/api/cve?cvss=critical&search=description", 5),  # + the vendor and product name lookups
        ("/api/cve?search=acme", 5),
        ("/api/cve/CVE-2024-0001", 2),
        ("/api/vendors", 3),
        ("/api/vendors/acme", 2),
        ("/api/vendors/acme/products", 4),
        ("/api/vendors/acme/cve", 4),
        ("/api/vendors/acme/products/rocket/cve", 5),
        ("/api/weaknesses", 3),
        ("/api/weaknesses/CWE-79/cve", 4),
    ],
)
def test_query_counts_are_pinned(api, busy_catalog, django_assert_num_queries, path, queries):
    api.get("/api/weaknesses/CWE-79/cve")  # warms the credential cache and the plan estimate
    with django_assert_num_queries(queries):
        response = api.get(path)
    assert response.status_code == 200, response.content
