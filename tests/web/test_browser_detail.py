"""The CVE page and the weaknesses pages in a real browser, on real records imported through the importer.

Screenshots (desktop and phone): var/screenshots/cve-detail-*.png, cve-ranges-*.png, weaknesses-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.support.browser import shots, sign_in
from tests.support.people import make_user
from tests.support.real_cves import LOG4SHELL, RANGES, import_real_cves

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log4shell_page_in_the_browser(context: BrowserContext, tmp_path):
    make_user("olivia")
    import_real_cves(tmp_path / "feeds")
    page = context.new_page()
    sign_in(page, "olivia")
    page.goto(f"/cve/{LOG4SHELL}")

    expect(page.get_by_role("heading", name=LOG4SHELL)).to_be_visible()
    v31 = page.get_by_role("article", name="CVSS 3.1")
    expect(v31.get_by_role("row", name="Attack Vector Network")).to_be_visible()
    expect(v31.get_by_role("row", name="Privileges Required None")).to_be_visible()
    expect(page.get_by_role("article", name="CISA KEV")).to_contain_text("Required action")

    # Beyond the first vendors, the product list is folded; opening it shows the rest.
    more = page.locator("#affected details.more").first
    expect(more.locator("ul.vendor-groups")).to_be_hidden()
    page.get_by_text("Show 7 more vendors").click()
    expect(more.locator("ul.vendor-groups")).to_be_visible()
    cisco = page.locator("#affected li", has=page.get_by_role("link", name="cisco", exact=True))
    expect(cisco.get_by_role("link", name="webex meetings server")).to_be_hidden()  # past the first eight
    cisco.get_by_text("86 more").click()
    expect(cisco.get_by_role("link", name="webex meetings server")).to_be_visible()

    history = page.locator("#history")
    expect(history).to_contain_text("Added to the catalog")
    expect(history).to_contain_text("CISA KEV entry added (since 2021-12-10)")
    names = history.locator("details").first
    expect(names.locator("p.names").first).to_be_hidden()
    names.locator("summary").click()
    expect(names.locator("p.names").first).to_be_visible()
    page.goto(f"/cve/{LOG4SHELL}")
    shots(page, "cve-detail")

    page.goto(f"/cve/{RANGES}")
    expect(page.get_by_text("Versions stated by the CNA")).to_be_visible()
    shots(page, "cve-ranges")

    # The weakness linked from the CVE page, and back to the list by the navigation.
    page.goto(f"/cve/{LOG4SHELL}")
    page.get_by_role("link", name="CWE-502").click()
    expect(page.get_by_role("heading", name="CWE-502 Deserialization of Untrusted Data")).to_be_visible()
    expect(page.get_by_role("link", name=LOG4SHELL)).to_be_visible()
    shots(page, "weakness-detail")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Weaknesses").click()
    page.get_by_label("Search by CWE id or name").fill("deserial")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row", name="CWE-502 Deserialization of Untrusted Data 1")).to_be_visible()
    shots(page, "weaknesses")
