"""Real-browser flows: Playwright drives Debian's Chromium (headless) against the live test server.

Kept to a handful: each launches pages in a real browser. Set CVEWATCH_WEB_SCREENSHOTS=/some/dir to keep
screenshots of the pages visited (for looking at the UI during development).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from cvewatch.organizations.services import organizations, projects
from tests.support.people import PASSWORD, make_user

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test itself
# (fixtures, assertions) would otherwise be refused as "called from an async context".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = os.environ.get("CVEWATCH_WEB_SCREENSHOTS", "")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        base_url=live_server.url,
        permissions=["clipboard-read", "clipboard-write"],
        viewport={"width": 1280, "height": 900},
    )
    ctx.set_default_timeout(10_000)
    # Every page runs under the Content-Security-Policy (script-src 'self'): a page that breaks it (an
    # inline script or handler, an eval) is reported by Chromium on the console and fails the test.
    violations: list[str] = []

    def watch(page: Page) -> None:
        page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    ctx.on("page", watch)
    try:
        yield ctx
        assert violations == [], violations
    finally:
        ctx.close()


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def sign_in(page: Page, username: str) -> None:
    response = page.goto("/login")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    shot(page, "login")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def api_get(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


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
    shot(page, "token-created")

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
    shot(page, "tokens")

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
    expect(page.locator("#history")).to_contain_text("Title changed")
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
