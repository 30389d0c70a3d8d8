"""Pinned query counts of the web's busiest pages: the CVE list (plain and filtered), a CVE, a project.

Each page is read once to warm what is cached per process (the catalog-size estimate), then counted
exactly; the counts include the session and the user. An N+1 (one query per row) would break them, since
every list below holds more rows than a page shows.
"""

from __future__ import annotations

import pytest

from cvewatch.organizations.services import projects
from tests.factories import CveFactory
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

# Session and user; the page's lookups (organization, project, a filter's names), count and page; on a
# project page its subscribed ids and names, then the organization switcher (organizations, membership)
# and the session write that remembers the current organization (savepoint, update, release).
PAGES = [
    ("/cve", 6),
    ("/cve?page=2", 6),
    ("/cve?vendor=acme", 7),
    ("/cve?search=rocket&cvss=critical", 8),
    ("/cve/CVE-2021-44228", 6),
    # Project pages read the project's query subscriptions twice: for its CVEs and for their panel.
    ("/org/acme/projects/production", 17),
    ("/org/acme/projects/production?cvss=critical&page=2", 17),
    ("/org/acme/projects/production?find=apache", 19),
    ("/cve?q=vendor:acme AND cvss31>=7", 8),  # + the vendor name looked up first, + a count for the page plan
    ("/org/acme/projects/production?q=kev:true", 17),
]


@pytest.fixture
def busy(catalog, org, owner):
    for n in range(30):
        CveFactory(
            vendors=["acme", "acme$PRODUCT$rocket", f"other{n}"], weaknesses=["CWE-79"], cvss31_score=9.8
        )
    projects.create_project(
        organization=org, name="production", vendors=["acme"], products=["apache/log4j"], actor=owner
    )
    return client_for(owner)


@pytest.mark.parametrize(("path", "queries"), PAGES)
def test_page_query_count_is_pinned(busy, path, queries, django_assert_num_queries):
    assert busy.get(path).status_code == 200
    with django_assert_num_queries(queries):
        response = busy.get(path)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    ["vendor=acme&cvss=bogus", "vendor=ACME&product=Rocket", "product=rocket", "weakness=CWE-79&search=desc"],
)
def test_the_pages_read_filters_as_the_api_does(busy, api_counts, query):
    """The web list and a project page show exactly the CVEs the API lists for the same query."""
    page = busy.get(f"/cve?{query}").context["page"]
    assert page.paginator.count == api_counts(f"/api/cve?{query}")
    project = busy.get(f"/org/acme/projects/production?{query}").context["page"]
    assert project.paginator.count == api_counts(f"/api/organizations/acme/projects/production/cve?{query}")


@pytest.fixture
def api_counts(busy):
    def count(path: str) -> int:
        response = busy.get(path)
        assert response.status_code == 200, response.content
        return response.json()["count"]

    return count
