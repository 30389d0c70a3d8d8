"""Dashboard, CVE list with the API's filters, CVE detail, vendors."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.factories import CveFactory
from tests.support.people import make_user
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(db):
    return client_for(make_user("reader"))


def ids(response) -> list[str]:
    return [cve.cve_id for cve in response.context["page"].object_list]


def test_dashboard_without_an_organization_shows_the_catalog_and_points_to_organizations(client, catalog):
    response = client.get("/")
    assert response.status_code == 200
    # Nothing was published in the last week: the worst CVEs of the catalog's newest month stand in.
    assert response.context["worst_fallback"]
    assert [c.cve_id for c in response.context["worst"]] == ["CVE-2021-44228", "CVE-2022-22965", "CVE-2020-0001"]
    assert [c.cve_id for c in response.context["kev"]] == ["CVE-2021-44228"]
    assert b"Create an organization" in response.content
    assert response.content.count(b'<svg class="chart"') == 4


def test_cve_list_filters_like_the_api(client, catalog):
    assert ids(client.get("/cve")) == ["CVE-2021-44228", "CVE-2022-22965", "CVE-2020-0001"]
    assert ids(client.get("/cve", {"search": "spring mvc"})) == ["CVE-2022-22965"]
    assert ids(client.get("/cve", {"search": "apache"})) == ["CVE-2021-44228"]  # exact vendor name
    assert ids(client.get("/cve", {"vendor": "VMware"})) == ["CVE-2022-22965"]
    assert ids(client.get("/cve", {"vendor": "apache", "product": "log4j"})) == ["CVE-2021-44228"]
    assert ids(client.get("/cve", {"cvss": "critical"})) == ["CVE-2021-44228"]
    assert ids(client.get("/cve", {"cvss": "medium"})) == ["CVE-2022-22965"]
    assert ids(client.get("/cve", {"weakness": "CWE-94"})) == ["CVE-2022-22965"]
    assert ids(client.get("/cve", {"cvss": "low", "search": "low one"})) == ["CVE-2020-0001"]


def test_cve_list_unknown_vendor_is_a_message_not_a_crash(client, catalog):
    response = client.get("/cve", {"vendor": "foobar"})
    assert response.status_code == 200
    assert ids(response) == []
    assert b"No Vendor matches the given query." in response.content
    product = client.get("/cve", {"vendor": "apache", "product": "nope"})
    assert b"No Product matches the given query." in product.content


def test_cve_list_paginates_and_keeps_filters(client, catalog):
    CveFactory.create_batch(30, vendors=["acme"])
    first = client.get("/cve", {"vendor": "acme"})
    page = first.context["page"]
    # A vendor's list has a cheap count (its link index), so it is shown; the next page is known without it.
    assert len(ids(first)) == 25 and page.count == 30 and page.has_next and not page.has_previous
    assert b"?vendor=acme&amp;page=2" in first.content
    assert "1–25 of 30" in first.content.decode()
    second = client.get("/cve", {"vendor": "acme", "page": "2"})
    assert len(ids(second)) == 5 and not second.context["page"].has_next
    assert not set(ids(first)) & set(ids(second))
    # A bad page number is the first page; one past the end says so and links back.
    assert client.get("/cve", {"page": "abc"}).context["page"].number == 1
    assert client.get("/cve", {"page": "-3"}).context["page"].number == 1
    late = client.get("/cve", {"page": "999"})
    assert late.status_code == 200 and ids(late) == []
    assert b"past the end of the list" in late.content


def test_cve_detail_shows_everything(client, catalog):
    response = client.get("/cve/CVE-2021-44228")
    assert response.status_code == 200
    text = response.content.decode()
    for expected in (
        "Apache Log4j2 JNDI features do not protect",  # title
        "remote code execution",  # description
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",  # metric vector
        "<th scope=\"row\">Attack Vector</th><td>Network</td>",  # explained metric by metric
        "Known exploited · since 2021-12-10",  # KEV badge
        '<dt>Due date</dt><dd class="nowrap">2021-12-24</dd>',  # KEV card
        '?vendor=apache&amp;product=log4j">log4j</a>',  # products under their vendor
        'href="/weaknesses/CWE-502"',
        'href="https://logging.apache.org/log4j/2.x/security.html"',
        "cpe:2.3:a:apache:log4j",
        "Title set",  # change history
        "Weaknesses: 1 added",
    ):
        assert expected in text, expected
    # A reference from a feed is never turned into a script link.
    assert 'href="javascript:alert(1)"' not in text
    assert client.get("/cve/cve-2021-44228").status_code == 200
    assert client.get("/cve/CVE-1999-0000").status_code == 404


def test_a_cve_id_with_non_ascii_digits_is_a_404(client):
    # Mathematical bold digits: \d takes them, the CVE JSON 5 schema's [0-9] does not. The row is written
    # past the importer (which never stores such an id) so only the page's refusal makes this a 404.
    CveFactory(cve_id="CVE-𝟐𝟎𝟐𝟏-𝟒𝟒𝟐𝟐𝟖")
    assert client.get(f"/cve/{quote('CVE-𝟐𝟎𝟐𝟏-𝟒𝟒𝟐𝟐𝟖')}").status_code == 404


def test_metrics_change_events_read_well(client, catalog):
    from cvewatch.catalog.models import Change

    Change.objects.create(
        cve=catalog["spring"],
        events=[
            {
                "type": "metrics",
                "details": {"added": {}, "removed": {}, "updated": {"kev": {"old": {}, "new": {}}}},
            },
            {"type": "metrics", "details": {"added": {"kev": {}, "ssvc": {}}, "removed": {"epss": {}}}},
        ],
    )
    text = client.get("/cve/CVE-2022-22965").content.decode()
    assert '<span class="summary">CISA KEV entry changed</span>' in text
    assert '<span class="summary">CISA KEV entry added; SSVC decision added; EPSS score removed</span>' in text


def test_cvss_badge_falls_back_to_other_versions(client, catalog):
    CveFactory(cve_id="CVE-2025-0001", cvss40_score=6.9, vendors=["fallback"])
    CveFactory(cve_id="CVE-2025-0002", cvss20_score=9.3, vendors=["fallback"])
    CveFactory(cve_id="CVE-2025-0003", vendors=["fallback"])
    text = client.get("/cve", {"vendor": "fallback"}).content.decode()
    assert 'title="CVSS v4.0 medium">v4.0 6.9 medium</span>' in text
    assert 'title="CVSS v2 critical">v2 9.3 critical</span>' in text
    assert 'title="No CVSS score">n/a</span>' in text
    assert 'title="CVSS v3.1 critical">10.0 critical</span>' in client.get("/cve").content.decode()


def test_vendor_search_and_detail(client, catalog):
    response = client.get("/vendors", {"search": "VM"})
    assert [v.name for v in response.context["page"].object_list] == ["vmware"]
    assert [v.name for v in client.get("/vendors").context["page"].object_list] == ["apache", "vmware"]
    detail = client.get("/vendors/apache")
    assert detail.status_code == 200 and b"log4j" in detail.content
    assert client.get("/vendors/nobody").status_code == 404


def test_list_pages_use_few_queries(client, catalog, django_assert_max_num_queries):
    CveFactory.create_batch(20, vendors=["acme"])
    with django_assert_max_num_queries(8):
        client.get("/cve", {"vendor": "acme"})
    # The dashboard of a person without an organization, once the visit exists and the statistics are
    # cached: the visit, the worst new CVEs, KEV, the statistics' version.
    client.get("/")
    with django_assert_max_num_queries(18):
        client.get("/")


def test_vendor_search_ranks_exact_and_prefix_matches_first(client):
    for name in ("compaq_microcom", "microsoft_partner", "microsoft", "amicrosoft"):
        CveFactory(vendors=[name])
    names = [v.name for v in client.get("/vendors", {"search": "Microsoft"}).context["page"].object_list]
    assert names == ["microsoft", "microsoft_partner", "amicrosoft"]


def test_vendor_names_with_url_characters(client):
    # Real CPE vendor names include "/", "?" and "%": every page and link must still work.
    for name in ("/n_software", "a?b#c", "100%_secure"):
        CveFactory(vendors=[name, f"{name}$PRODUCT$thing"])
    listing = client.get("/vendors")
    assert listing.status_code == 200
    for name in ("/n_software", "a?b#c", "100%_secure"):
        detail = client.get("/vendors/" + quote(name, safe="/"))
        assert detail.status_code == 200 and detail.context["vendor"].name == name, name
        assert len(ids(client.get("/cve", {"vendor": name}))) == 1, name
