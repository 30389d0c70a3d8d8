"""RSS/Atom feeds with feed keys: the documents (parsed back), the key's rules, the feed keys page."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from cvewatch.organizations.services import members, projects
from cvewatch.workbench.models import FeedKey
from cvewatch.workbench.services import feeds as feed_keys
from tests.factories import CveFactory
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def production(org, owner, catalog):
    return projects.create_project(
        organization=org, name="production", vendors=["apache", "vmware"], actor=owner
    )


@pytest.fixture
def key(production, member) -> str:
    return feed_keys.create_feed_key(organization=production.organization, user=member)[1]


def atom_entries(response) -> list[ET.Element]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def rss_items(response) -> list[ET.Element]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "rss"
    return root.findall("channel/item")


def test_a_project_atom_feed_lists_its_cves_newest_update_first(client, key, settings):
    settings.BASE_URL = "https://cve.example.com"
    entries = atom_entries(client.get(f"/feeds/{key}/projects/production.atom"))
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == [
        "CVE-2021-44228 (CVSS 10.0): Apache Log4j2 JNDI features do not protect against attacker controlled LDAP",
        "CVE-2022-22965 (CVSS 5.5): Spring4Shell",
    ]
    log4j = entries[0]
    assert log4j.find(f"{ATOM}link").get("href") == "https://cve.example.com/cve/CVE-2021-44228"
    assert log4j.findtext(f"{ATOM}id") == "https://cve.example.com/cve/CVE-2021-44228"
    assert log4j.findtext(f"{ATOM}updated") == "2024-07-24T00:00:00+00:00"
    assert log4j.findtext(f"{ATOM}summary").startswith(
        "Known exploited (CISA KEV) since 2021-12-10. Apache Log4j2"
    )


def test_the_rss_feed_and_the_query_feed_honour_the_list_filters(client, key):
    items = rss_items(client.get(f"/feeds/{key}/projects/production.rss?cvss=medium"))
    assert [i.findtext("title") for i in items] == ["CVE-2022-22965 (CVSS 5.5): Spring4Shell"]
    items = rss_items(client.get(f"/feeds/{key}/cve.rss"))
    assert [i.findtext("title").split()[0] for i in items] == [
        "CVE-2021-44228",
        "CVE-2022-22965",
        "CVE-2020-0001",
    ]
    entries = atom_entries(client.get(f"/feeds/{key}/cve.atom?vendor=apache"))
    assert [e.findtext(f"{ATOM}title").split()[0] for e in entries] == ["CVE-2021-44228"]
    refused = client.get(f"/feeds/{key}/cve.atom?vendor=nobody")
    assert refused.status_code == 404 and refused.content == b"No Vendor matches the given query.\n"


def test_a_feed_keeps_the_newest_hundred(client, key):
    for n in range(105):
        CveFactory(
            vendors=["vmware"], updated_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n)
        )
    entries = atom_entries(client.get(f"/feeds/{key}/projects/production.atom"))
    assert len(entries) == 100
    assert entries[0].findtext(f"{ATOM}updated") == "2025-01-05T08:00:00+00:00"


def test_hostile_text_still_makes_valid_xml(client, key):
    CveFactory(
        cve_id="CVE-2025-0001",
        title="Evil\x01\x0b\x1f <script>alert(1)</script> & \ufffe title",
        description="]]> <![CDATA[ \x08 bell\x07",
        vendors=["vmware"],
        cvss40_score=8.7,
        updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    for kind in ("atom", "rss"):
        response = client.get(f"/feeds/{key}/projects/production.{kind}")
        root = ET.fromstring(response.content)  # raises on anything XML cannot carry
        titles = [t.text for t in root.iter() if t.tag in ("title", f"{ATOM}title")]
        assert "CVE-2025-0001 (CVSS v4.0 8.7): Evil <script>alert(1)</script> &  title" in titles


@pytest.mark.parametrize(
    "bad",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # wrong secret
        lambda key: "ZZZZZZZZZZZZ" + key[12:],  # unknown id
        lambda key: key.split(".")[0] + ".short",  # malformed
        lambda key: key.replace(".", ""),  # no dot: no route
    ],
)
def test_a_wrong_key_is_a_plain_404(client, key, bad):
    assert client.get(f"/feeds/{bad(key)}/projects/production.atom").status_code == 404
    assert client.get(f"/feeds/{bad(key)}/cve.rss").status_code == 404


def test_a_key_stops_when_revoked_or_when_its_person_leaves_or_is_deactivated(
    client, key, org, owner, member
):
    url = f"/feeds/{key}/projects/production.atom"
    assert client.get(url).status_code == 200
    members.remove_member(organization=org, user=member, actor=owner)
    assert client.get(url).status_code == 404
    assert client.get(f"/feeds/{key}/cve.atom").status_code == 404
    members.add_member(organization=org, user=member, actor=owner)
    assert client.get(url).status_code == 200
    member.is_active = False
    member.save()
    assert client.get(url).status_code == 404
    member.is_active = True
    member.save()
    feed_keys.revoke_feed_key(organization=org, user=member, key_id=key.split(".")[0])
    assert client.get(url).status_code == 404


def test_a_key_reads_only_its_own_organization(client, key, other_org):
    assert client.get(f"/feeds/{key}/projects/secret-plan.atom").status_code == 404
    assert client.get(f"/feeds/{key}/projects/nothing.atom").status_code == 404


def test_last_used_is_written_at_most_once_a_minute(key):
    now = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    row = feed_keys.authenticate_feed_key(raw=key, now=now)
    assert FeedKey.objects.get(pk=row.pk).last_used_at == now
    feed_keys.authenticate_feed_key(raw=key, now=now + dt.timedelta(seconds=30))
    assert FeedKey.objects.get(pk=row.pk).last_used_at == now
    feed_keys.authenticate_feed_key(raw=key, now=now + dt.timedelta(seconds=61))
    assert FeedKey.objects.get(pk=row.pk).last_used_at == now + dt.timedelta(seconds=61)


def test_the_secret_is_stored_only_as_an_hmac(key):
    key_id, secret = key.split(".")
    row = FeedKey.objects.get(key_id=key_id)
    assert secret not in row.secret_digest and len(row.secret_digest) == 64


def test_a_keyed_feed_costs_few_queries(client, key, django_assert_num_queries):
    url = f"/feeds/{key}/projects/production.atom"
    client.get(url)
    # The key (with its organization, person and membership); the project; its subscribed ids; its query
    # subscriptions; the page (its own SQL, which needs no count and so no search generation: the same on
    # both engines).
    with django_assert_num_queries(5):
        assert client.get(url).status_code == 200


def test_signed_in_feeds_and_the_alternate_links(production, member_client, outsider_client, client):
    assert atom_entries(member_client.get("/org/acme/projects/production/feed.atom"))
    assert rss_items(member_client.get("/cve/feed.rss?cvss=low"))
    assert outsider_client.get("/org/acme/projects/production/feed.atom").status_code == 404
    assert client.get("/cve/feed.atom").status_code == 302
    page = member_client.get("/org/acme/projects/production").content.decode()
    assert (
        '<link rel="alternate" type="application/atom+xml" title="acme/production CVEs (Atom)" '
        'href="/org/acme/projects/production/feed.atom">' in page
    )
    assert 'href="/org/acme/feeds"' in page
    page = member_client.get("/cve?vendor=apache").content.decode()
    assert 'type="application/atom+xml" title="These CVEs (Atom)" href="/cve/feed.atom?vendor=apache"' in page


def test_the_feeds_page_shows_a_new_key_once_and_revokes_with_confirmation(
    member, production, client, settings
):
    settings.BASE_URL = "https://cve.example.com"
    browser = client_for(member)
    assert browser.get("/org/acme/feeds").status_code == 200
    created = browser.post("/org/acme/feeds")
    assert created.status_code == 200 and "no-store" in created["Cache-Control"]
    html = created.content.decode()
    key = re.search(r'id="new-feed-key-value">([^<]+)<', html).group(1)
    assert f"https://cve.example.com/feeds/{key}/projects/production.atom" in html
    assert f"https://cve.example.com/feeds/{key}/cve.rss" in html
    assert client.get(f"/feeds/{key}/projects/production.atom").status_code == 200
    listing = browser.get("/org/acme/feeds").content.decode()
    key_id = key.split(".")[0]
    assert key not in listing and f'id="feed-key-{key_id}"' in listing
    confirm = browser.get(f"/org/acme/feeds/{key_id}/revoke")
    assert confirm.status_code == 200 and "Revoke the feed key" in confirm.content.decode()
    assert client.get(f"/feeds/{key}/projects/production.atom").status_code == 200  # GET changed nothing
    done = browser.post(f"/org/acme/feeds/{key_id}/revoke")
    assert done.status_code == 302 and done["Location"] == "/org/acme/feeds"
    assert client.get(f"/feeds/{key}/projects/production.atom").status_code == 404


def test_people_manage_only_their_own_keys(key, owner_client, outsider_client, other_org):
    key_id = key.split(".")[0]  # the member's key
    assert key_id not in owner_client.get("/org/acme/feeds").content.decode()
    assert owner_client.get(f"/org/acme/feeds/{key_id}/revoke").status_code == 404
    assert owner_client.post(f"/org/acme/feeds/{key_id}/revoke").status_code == 404
    assert outsider_client.get("/org/acme/feeds").status_code == 404
    assert outsider_client.post("/org/acme/feeds").status_code == 404
    assert FeedKey.objects.get(key_id=key_id).revoked_at is None


def test_the_feeds_page_costs_few_queries(member, key, django_assert_num_queries):
    browser = client_for(member)
    browser.get("/org/acme/feeds")
    # Session and user; the keys; the user's organizations with their roles (the page's organization, the
    # navigation). The session remembering the current organization is not written again: it did not change.
    with django_assert_num_queries(4):
        assert browser.get("/org/acme/feeds").status_code == 200


def test_xml_text_drops_what_xml_cannot_carry():
    from cvewatch.web.feeds import xml_text

    assert xml_text("a\x00b\x08c\x0bd\x1fe\ud800f\ufffeg\uffffh\ti\nj\rk") == "abcdefgh\ti\nj\rk"
