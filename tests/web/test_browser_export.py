"""Real-browser flows of lane x: filter the CVE list and download its CSV; create a feed key and read the
project's feed with the URL the page shows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from cvewatch.organizations.services import organizations, projects
from tests.factories import CveFactory
from tests.support.browser import PHONE, assert_fits_phone, shot, sign_in
from tests.support.people import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def phone_shots(page: Page, name: str, *selectors: str) -> None:
    """Desktop and phone screenshots; on the phone, the page and these parts of it fit the screen."""
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    assert_fits_phone(page, name)
    for selector in selectors:
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], (selector, box)
    shot(page, f"{name}-phone")


@pytest.fixture
def acme():
    owner = make_user("olivia")
    org = organizations.create_organization(name="acme", owner=owner)
    CveFactory(
        cve_id="CVE-2021-44228",
        title="Apache Log4j2 JNDI",
        vendors=["apache", "apache$PRODUCT$log4j"],
        weaknesses=["CWE-502"],
        cvss31_score=10.0,
        kev_added=dt.date(2021, 12, 10),
        updated_at=dt.datetime(2024, 7, 24, tzinfo=dt.UTC),
    )
    CveFactory(cve_id="CVE-2024-0001", title="=cmd|' /C calc'!A0", vendors=["apache"], cvss31_score=5.0)
    CveFactory(cve_id="CVE-2022-22965", title="Spring4Shell", vendors=["vmware"], cvss31_score=9.8)
    projects.create_project(organization=org, name="production", vendors=["apache"], actor=owner)
    return org


def test_filter_the_list_and_export_its_csv(context: BrowserContext, acme):
    page = context.new_page()
    sign_in(page, "olivia")
    page.goto("/cve")
    page.get_by_label("Vendor").fill("apache")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("2 CVEs match")).to_be_visible()
    phone_shots(page, "cve-list-export", "text=Export CSV")
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("cves-") and download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert sorted(r["cve_id"] for r in rows) == ["CVE-2021-44228", "CVE-2024-0001"]
    by_id = {r["cve_id"]: r for r in rows}
    assert by_id["CVE-2021-44228"]["severity"] == "critical"
    assert by_id["CVE-2021-44228"]["kev_added"] == "2021-12-10"
    assert by_id["CVE-2024-0001"]["title"] == "'=cmd|' /C calc'!A0"  # shown as text, never run

    page.goto("/org/acme/projects/production")
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    assert info.value.suggested_filename.startswith("acme-production-cves-")


def test_create_a_feed_key_and_read_the_feed(context: BrowserContext, acme, live_server):
    page = context.new_page()
    sign_in(page, "olivia")
    page.goto("/org/acme/projects/production")
    page.get_by_role("link", name="Feeds").click()
    expect(page.get_by_role("heading", name="Feeds")).to_be_visible()
    page.get_by_role("button", name="Create a feed key").click()
    expect(page.get_by_text("they will not be shown again")).to_be_visible()
    url = page.locator("#feed-atom-1").inner_text().strip()
    assert "/feeds/" in url and url.endswith("/projects/production.atom")
    phone_shots(page, "feed-key-created", "#new-feed-key", "#feed-keys", "#feed-keys >> text=Revoke")
    # A feed reader: no session, only the URL (the live server's origin, as CVEWATCH_BASE_URL is unset).
    with urllib.request.urlopen(live_server.url + url[url.index("/feeds/") :], timeout=10) as response:
        assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        root = ET.fromstring(response.read())
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in root]
    assert any(t and t.startswith("CVE-2021-44228 (CVSS 10.0)") for t in titles)


def test_an_operator_retries_a_delivery_in_the_admin(context: BrowserContext, acme):
    """The admin under the CSP (its scripts are static files): sign in, filter failed deliveries, retry one."""
    from django.utils import timezone

    from cvewatch.alerts.models import Delivery, Notification
    from cvewatch.organizations.models import Project

    root = make_user("root")
    root.is_staff = root.is_superuser = True
    root.save()
    notification = Notification.objects.create(
        project=Project.objects.get(name="production"),
        name="hook",
        channel="webhook",
        target="https://example.org/h",
    )
    now = timezone.now()
    delivery = Delivery.objects.create(
        notification=notification, status="failed", expires_at=now, period_start=now, period_end=now
    )
    page = context.new_page()
    page.goto("/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    shot(page, "admin-index")
    page.get_by_role("link", name="Deliveries").click()
    page.get_by_role("link", name="Failed").click()
    page.locator(f'input[name="_selected_action"][value="{delivery.pk}"]').check()
    page.locator('select[name="action"]').select_option("retry_deliveries")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("1 delivery queued to be sent again.")).to_be_visible()
    shot(page, "admin-deliveries")
    delivery.refresh_from_db()
    assert delivery.status == "pending"
