"""Generic checks every API endpoint gets, as NetBox's API test cases do: one row per endpoint.

Each row names an existing object's path (or a list's), the same endpoint for a missing object, whether it
is a list, and its pinned query counts. Every row is checked for: authentication required (401 body and
challenge), the 404 body of a missing object, the pagination envelope and a 404 past the last page (lists),
405 for every write method, and its exact query count for a person (Basic, warm cache) and for an
organization token. Adding an endpoint = adding a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from cvewatch.organizations.services import organizations, projects, tokens
from tests.factories import CveFactory, ProductFactory, VendorFactory, WeaknessFactory
from tests.support.engines import UNFILED_COUNT

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    path: str  # an existing object, or a list with at least two items
    queries: int  # a person with HTTP Basic, on a warm credential cache
    token_queries: int  # an organization token (acme's)
    missing: str = ""  # the same endpoint for an object that does not exist ("" for top-level lists)
    model: str = ""  # the model named by the missing object's 404
    lists: bool = False


# Basic costs one query (the user) once its verification is cached; a token one (the token and its
# organization). Then the lookups of the path, and a list's count and page. A list of one vendor's, product's
# or project's CVEs first reads the search generation (catalog.search), then counts on a cold cache only.
ENDPOINTS = [
    Endpoint("/api/cve", 3, 3, lists=True),
    Endpoint("/api/cve/CVE-2024-0001", 2, 2, "/api/cve/CVE-1999-0000", "Cve"),
    Endpoint("/api/vendors", 3, 3, lists=True),
    Endpoint("/api/vendors/acme", 2, 2, "/api/vendors/nobody", "Vendor"),
    # The vendor and its products' count in one statement, then the page.
    Endpoint("/api/vendors/acme/products", 3, 3, "/api/vendors/nobody/products", "Vendor", lists=True),
    Endpoint("/api/vendors/acme/products/rocket", 3, 3, "/api/vendors/acme/products/nothing", "Product"),
    Endpoint("/api/vendors/acme/cve", 5, 5, "/api/vendors/nobody/cve", "Vendor", lists=True),
    Endpoint(
        "/api/vendors/acme/products/rocket/cve",
        6,
        6,
        "/api/vendors/acme/products/nothing/cve",
        "Product",
        lists=True,
    ),
    Endpoint("/api/weaknesses", 3, 3, lists=True),
    Endpoint("/api/weaknesses/CWE-79", 2, 2, "/api/weaknesses/CWE-0", "Weakness"),
    Endpoint(
        "/api/weaknesses/CWE-79/cve",
        4 + UNFILED_COUNT,
        4 + UNFILED_COUNT,
        "/api/weaknesses/CWE-0/cve",
        "Weakness",
        lists=True,
    ),
    Endpoint("/api/organizations", 3, 3, lists=True),
    Endpoint("/api/organizations/acme", 2, 2, "/api/organizations/globex", "Organization"),
    Endpoint(
        "/api/organizations/acme/projects",
        4,
        4,
        "/api/organizations/globex/projects",
        "Organization",
        lists=True,
    ),
    Endpoint(  # the project (with its organization), its subscriptions' names in one statement
        "/api/organizations/acme/projects/production",
        3,
        3,
        "/api/organizations/acme/projects/nothing",
        "Project",
    ),
    Endpoint(  # the project (with its organization), its subscribed ids, its query subscriptions (workbench)
        "/api/organizations/acme/projects/production/cve",
        7,
        7,
        "/api/organizations/acme/projects/nothing/cve",
        "Project",
        lists=True,
    ),
]
LISTS = [e for e in ENDPOINTS if e.lists]
WITH_MISSING = [e for e in ENDPOINTS if e.missing]


def ids(endpoints: list[Endpoint]) -> list[str]:
    return [e.path for e in endpoints]


@pytest.fixture
def world(user):
    """A catalog where an N+1 would show, and alice's organizations acme (two projects) and beta."""
    for n in range(15):
        CveFactory(
            cve_id=f"CVE-2024-{n:04d}",
            vendors=["acme", "acme$PRODUCT$rocket", f"other{n}"],
            weaknesses=["CWE-79"],
            cvss31_score=9.8,
        )
    ProductFactory(vendor=VendorFactory(name="acme"), name="anvil")
    WeaknessFactory(cwe_id="CWE-20")
    acme = organizations.create_organization(name="acme", owner=user)
    projects.create_project(organization=acme, name="production", vendors=["acme"], actor=user)
    projects.create_project(organization=acme, name="archive", actor=user)
    organizations.create_organization(name="beta", owner=user)
    _, secret = tokens.create_token(organization=acme, name="ci", actor=user)
    return secret


@pytest.fixture
def token(world) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world}")
    return client


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids(ENDPOINTS))
def test_authentication_is_required(anon, world, endpoint):
    response = anon.get(endpoint.path)
    assert response.status_code == 401
    assert response.content == b'{"detail":"Authentication credentials were not provided."}'
    assert response["WWW-Authenticate"] == 'Basic realm="api"'


@pytest.mark.parametrize("endpoint", WITH_MISSING, ids=ids(WITH_MISSING))
def test_a_missing_object_is_a_404_naming_its_model(api, world, endpoint):
    response = api.get(endpoint.missing)
    assert response.status_code == 404
    assert response.json() == {"detail": f"No {endpoint.model} matches the given query."}


@pytest.mark.parametrize("endpoint", LISTS, ids=ids(LISTS))
def test_lists_have_the_pagination_envelope(api, world, endpoint, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 1}
    first = api.get(endpoint.path).json()
    assert list(first) == ["count", "next", "previous", "results"]
    assert first["count"] >= 2 and len(first["results"]) == 1
    assert first["next"] == f"http://testserver{endpoint.path}?page=2"
    assert first["previous"] is None
    second = api.get(f"{endpoint.path}?page=2").json()
    assert second["previous"] == f"http://testserver{endpoint.path}"
    assert second["results"] != first["results"]
    past = api.get(f"{endpoint.path}?page={first['count'] + 1}")
    assert past.status_code == 404
    assert past.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids(ENDPOINTS))
def test_write_methods_are_405(api, world, endpoint, method):
    response = getattr(api, method)(endpoint.path, {}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids(ENDPOINTS))
def test_query_count_is_pinned_for_a_person(api, world, endpoint, django_assert_num_queries):
    api.get("/api/weaknesses/CWE-79/cve")  # warms the credential cache
    api.get("/api/cve?page=2")  # and the plan estimate
    with django_assert_num_queries(endpoint.queries):
        response = api.get(endpoint.path)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids(ENDPOINTS))
def test_query_count_is_pinned_for_a_token(token, endpoint, django_assert_num_queries):
    token.get("/api/weaknesses/CWE-79/cve")  # records the token's first use
    token.get("/api/cve?page=2")  # and warms the plan estimate
    with django_assert_num_queries(endpoint.token_queries):
        response = token.get(endpoint.path)
    assert response.status_code == 200, response.content


# The filters of a CVE list add their own lookups (a vendor, a product, a weakness, or the two name
# lookups of `search`) and nothing per row.
FILTERED = [
    ("/api/cve?page=2", 3),
    ("/api/cve?vendor=acme", 5),  # + the search generation read before its first count, as `search`
    ("/api/cve?vendor=acme&product=rocket", 6),
    ("/api/cve?weakness=CWE-79", 4 + UNFILED_COUNT),  # its count filed by the warm-up (SQLite)
    ("/api/cve?cvss=critical&search=description", 5),
    ("/api/cve?search=acme", 6),  # + the search generation read (catalog.search) before its first count
    ("/api/cve?tag=mine&cvss=critical", 4),  # a token's tag is ignored; + the search generation read
    ("/api/organizations/acme/projects/production/cve?cvss=critical", 6),
    ("/api/organizations/acme/projects/production/cve?vendor=acme&search=rocket", 9),
    # The query language: the vendor name looked up, the page plan's estimate, one count statement (no match:
    # no page read).
    ("/api/cve?q=vendor:acme AND cvss31>=7 AND created<=7d", 4),
    ("/api/organizations/acme/projects/production/cve?q=kev:true", 5),
]


@pytest.mark.parametrize(("path", "queries"), FILTERED)
def test_query_count_of_filtered_cve_lists(token, path, queries, django_assert_num_queries):
    token.get("/api/weaknesses/CWE-79/cve")
    token.get("/api/cve?page=2")  # warms the plan estimate (a one-target list's page no longer reads it)
    with django_assert_num_queries(queries):
        response = token.get(path)
    assert response.status_code == 200, response.content
