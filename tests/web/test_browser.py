"""Real-browser flows: Playwright drives Debian's Chromium (headless) against the live test server.

Fixtures and helpers are in tests/support/browser.py; screenshots go to var/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, expect

from cvewatch.organizations.services import organizations, projects
from tests.support.browser import api_get, shot, shots, sign_in
from tests.support.people import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_token_lifecycle_in_the_browser(context: BrowserContext, live_server):
    owner = make_user("olivia")
    org = organizations.create_organization(name="acme", owner=owner)
    projects.create_project(organization=org, name="prod", description="Production", actor=owner)

    page = context.new_page()
    sign_in(page, "olivia")
    page.get_by_role("link", name="Organization", exact=True).click()
    expect(page.locator("#member-olivia")).to_contain_text("olivia")
    shot(page, "org-settings")
    page.get_by_role("link", name="API tokens").first.click()
    expect(page.get_by_role("heading", name=re.compile("API tokens"))).to_be_visible()
    page.get_by_label("Name").fill("ci-pipeline")
    page.get_by_label("Description").fill("Nightly export")
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    token = page.locator("#new-token-value").inner_text().strip()
    assert re.fullmatch(r"opc_org\.[A-Za-z0-9]{12}\.[A-Za-z0-9]{32}", token)
    token_id = token.split(".")[1]
    shots(page, "token-created")

    page.locator("#copy-token").click()
    expect(page.locator("#copy-token")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    # Where the browser withholds the Clipboard API (plain http), the token is selected for Ctrl+C instead.
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    page.evaluate("window.getSelection().removeAllRanges()")
    page.locator("#copy-token").click()
    assert page.evaluate("window.getSelection().toString().trim()") == token

    status, body = api_get(f"{live_server.url}/api/organizations/acme/projects", token)
    assert status == 200, body
    assert [p["name"] for p in body["results"]] == ["prod"]

    # Reloading the list never shows the secret again.
    page.goto("/org/acme/tokens")
    assert token not in page.content()
    row = page.locator(f"#token-{token_id}")
    expect(row).to_contain_text("active")
    row.get_by_role("link", name="Revoke").click()
    expect(page.get_by_text("stops working immediately")).to_be_visible()
    shot(page, "token-revoke-confirm")
    page.get_by_role("button", name="Revoke the token").click()
    expect(page.get_by_text("was revoked")).to_be_visible()
    expect(page.locator(f"#token-{token_id}")).to_contain_text("revoked")
    expect(page.locator("#token-audit")).to_contain_text("Revoked")
    shots(page, "tokens")

    status, body = api_get(f"{live_server.url}/api/organizations/acme/projects", token)
    assert (status, body) == (401, {"detail": "Invalid token."})


def test_search_a_cve_and_open_it(context: BrowserContext, catalog):
    make_user("reader")
    page = context.new_page()
    sign_in(page, "reader")
    shot(page, "dashboard")
    page.get_by_role("link", name="CVEs", exact=True).click()
    page.get_by_label("Search").fill("log4j2")
    page.get_by_label("CVSS").select_option("critical")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.cves tbody tr")).to_have_count(1)
    shot(page, "cve-list")
    page.get_by_role("link", name="CVE-2021-44228").click()
    expect(page.get_by_role("heading", name="CVE-2021-44228")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("Title set")
    expect(page.get_by_text("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")).to_be_visible()
    shot(page, "cve-detail")


def test_subscribe_by_searching_as_you_type(context: BrowserContext, catalog):
    owner = make_user("olivia")
    org = organizations.create_organization(name="acme", owner=owner)
    projects.create_project(organization=org, name="prod", actor=owner)
    page = context.new_page()
    sign_in(page, "olivia")
    page.goto("/org/acme/projects/prod")
    expect(page.get_by_text("No CVE matches the subscriptions")).to_be_visible()
    # Typing (no Enter, no submit) fetches the partial through htmx.
    page.get_by_label("Search vendors and products").press_sequentially("log4", delay=30)
    result = page.locator("#catalog-results .item", has_text="log4j")
    expect(result).to_be_visible()
    shot(page, "project-search")
    result.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("Subscribed to apache/log4j.")).to_be_visible()
    expect(page.locator("#project-cves")).to_contain_text("CVE-2021-44228")
    expect(page.locator("#subscriptions")).to_contain_text("log4j")
    shot(page, "project")
