"""Pinned query counts of the web's busiest pages: the CVE list (plain and filtered), a CVE, a project.

Each page is read once to warm what is cached per process (the catalog-size estimate), then counted
exactly; the counts include the session and the user. An N+1 (one query per row) would break them, since
every list below holds more rows than a page shows.
"""

from __future__ import annotations

import pytest

from cvewatch.organizations.services import projects
from tests.factories import CveFactory
from tests.support.engines import UNFILED_COUNT
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

# Session and user; the page's lookups (project, a filter's names), count and page; on a project page its
# subscribed ids and their names (one statement each); the organization switcher's organizations, with the
# user's roles (the menu's owner links) and the project page's organization among them. The session that
# remembers the current organization is written only when it changes (not on these reloads).
# Workbench (wt-t): the CVE list reads the saved views (1); a CVE page reads the person's tags, the current
# organization's projects watching it, their triage rows and the assignable members (4); a project page
# reads its page's triage rows and the members of the assignee filter (2).
PAGES = [
    # The CVE list reads one row more than a page, and its total from the kept count (catalog/counts.py), not
    # COUNT(*); plus the person's saved views (workbench); a vendor's list keeps its cheap link-index count,
    # which also plans the page.
    ("/cve", 6),
    ("/cve?page=2", 6),
    ("/cve?vendor=acme", 7 + UNFILED_COUNT),
    ("/cve?search=rocket&cvss=critical", 7),
    ("/cve?sort=cvss", 6),
    ("/cve?sort=epss&dir=asc&page=2", 6),
    ("/cve?vendor=acme&sort=published", 7 + UNFILED_COUNT),
    ("/cve/CVE-2021-44228", 11),
    ("/org/acme/projects/production", 12 + UNFILED_COUNT),
    ("/org/acme/projects/production?cvss=critical&page=2", 12),
    ("/org/acme/projects/production?find=apache", 14 + UNFILED_COUNT),
    ("/cve?q=vendor:acme AND cvss31>=7", 8),  # + the vendor name looked up first, + a count for the page plan
    ("/org/acme/projects/production?q=kev:true", 12),
    # The dashboard, warm: the visit (one read: a reload within a minute of it writes nothing), the catalog's
    # version (runs, changes), the projects and their subscriptions (vendors, products); the digests, the worst
    # new CVEs, the latest KEV and the charts are remembered under that version; mail, invitations.
    ("/", 12),
    # Vendors: the page of names, their CVE counts, the total (not when searching), the projects and which
    # of the page's vendors the current one follows; a vendor: its products, their counts, its CVE count
    # and first CVEs, the subscribe box (projects, which follow).
    ("/vendors", 8),
    ("/vendors?search=other", 7),
    ("/vendors/acme", 10 + UNFILED_COUNT),  # its CVE count is reused per search generation
    ("/products?vendor=acme&product=rocket", 9 + UNFILED_COUNT),
    # Activity: a page of changes with their CVE (one join), all or the organization's projects' CVEs (after
    # counting their links, which picks the plan).
    ("/activity", 4),
    ("/activity?scope=mine", 6),
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
def test_the_pages_read_filters_as_the_api_does(busy, api_ids, query):
    """The web list and a project page show exactly the CVEs the API lists for the same query."""
    assert web_ids(busy, f"/cve?{query}") == api_ids(f"/api/cve?{query}")
    project = busy.get(f"/org/acme/projects/production?{query}").context["page"]
    assert project.paginator.count == len(api_ids(f"/api/organizations/acme/projects/production/cve?{query}"))


def web_ids(client, path: str) -> list[str]:
    """Every CVE id of a web list, following its Next links (the list does not count itself)."""
    found: list[str] = []
    for number in range(1, 20):
        page = client.get(f"{path}&page={number}").context["page"]
        found += [cve.cve_id for cve in page.object_list]
        if not page.has_next:
            return found
    raise AssertionError("too many pages")


@pytest.fixture
def api_ids(busy):
    def ids(path: str) -> list[str]:
        found: list[str] = []
        url = path
        while url:
            response = busy.get(url)
            assert response.status_code == 200, response.content
            body = response.json()
            found += [row["cve_id"] if "cve_id" in row else row["id"] for row in body["results"]]
            url = body["next"]
        return found

    return ids
