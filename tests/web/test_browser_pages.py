"""Screenshots of the main pages at desktop and phone widths, on a realistic catalog imported from the real
fixture files (CVE JSON 5 records, NVD, KEV, EPSS, CWE) through the real importer.

`shots` fails when a page is wider than the 390 px phone; the PNGs go to var/screenshots/ (README).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from cvewatch.ingest.services import import_paths
from cvewatch.organizations.services import organizations, projects
from tests.support.browser import shots, sign_in
from tests.support.people import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURES = ["cve5", "nvd-1.1/nvdcve-1.1-fixtures.json", "kev/kev_subset.json", "epss/epss_scores-2024-01-01.csv", "cwe"]


@pytest.fixture
def realistic(live_server):
    import_paths([DATA / name for name in FIXTURES])
    owner = make_user("olivia")
    org = organizations.create_organization(name="acme", owner=owner)
    projects.create_project(
        organization=org,
        name="production",
        description="What runs in production",
        vendors=["microsoft", "cisco"],
        actor=owner,
    )
    return org


def test_main_pages_at_desktop_and_phone_widths(context: BrowserContext, realistic):
    page = context.new_page()
    sign_in(page, "olivia")
    shots(page, "dashboard")
    expect(page.locator("#project-digests")).to_contain_text("production")
    expect(page.locator("svg.chart").first).to_be_visible()

    page.goto("/cve")
    expect(page.get_by_role("heading", name="CVEs")).to_be_visible()
    shots(page, "cve-list")
    page.get_by_role("link", name="CVSS").first.click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("CVSS")
    shots(page, "cve-list-by-cvss")

    page.locator("table.cves tbody a.mono").first.click()
    expect(page.locator("h1 .cve-id")).to_be_visible()
    shots(page, "cve-detail")

    page.goto("/org/acme/projects/production")
    shots(page, "project")

    page.goto("/vendors?search=micro")
    expect(page.get_by_role("link", name="microsoft", exact=True)).to_be_visible()
    shots(page, "vendors")
    page.get_by_role("link", name="microsoft", exact=True).click()
    expect(page.get_by_text("production follows")).to_be_visible()
    shots(page, "vendor")

    page.goto("/activity")
    shots(page, "activity")
    page.goto("/activity?scope=mine")
    shots(page, "activity-mine")


def test_the_navigation_fits_a_phone_and_works_from_the_keyboard(context: BrowserContext, realistic):
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "olivia")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Every navigation link sits inside the dark header, not spilled below it onto the light page.
    header = page.locator("header.topbar").bounding_box()
    for name in ("Dashboard", "CVEs", "Vendors", "Activity", "Projects", "Organization", "API tokens"):
        box = page.locator("header nav").get_by_role("link", name=name, exact=True).bounding_box()
        assert box is not None and box["y"] + box["height"] <= header["y"] + header["height"], name
    # The first Tab reaches the skip link, which takes the keyboard past the navigation.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    assert context.request.get(f"{page.url.split('/', 3)[0]}//{page.url.split('/', 3)[2]}/favicon.ico").ok
