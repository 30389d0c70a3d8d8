"""Real-browser support: Playwright drives Debian's Chromium (headless) against the live test server.

The fixtures `browser` and `context` are registered by tests/web/conftest.py. Every page a test opens runs
under the Content-Security-Policy: a page that breaks it (an inline script or handler, an eval) is reported
by Chromium on the console and fails the test.

Screenshots: `shot(page, name)` writes `<name>.png`; `shots(page, name)` writes `<name>-desktop.png`
(1280 px) and `<name>-phone.png` (390 px). They go to `var/screenshots/` (or CVEWATCH_WEB_SCREENSHOTS), the
folder the README names; look at them after a UI change.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support.people import PASSWORD

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
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("CVEWATCH_WEB_SCREENSHOTS") or REPO / "var" / "screenshots")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run ./scripts/browser-deps (apt-get install chromium)")
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
        viewport=DESKTOP,
    )
    ctx.set_default_timeout(10_000)
    violations: list[str] = []

    def watch(page: Page) -> None:
        page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    ctx.on("page", watch)
    try:
        yield ctx
        assert violations == [], violations
    finally:
        ctx.close()


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot of what `page` shows now, at its current width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_fits_phone(page: Page, name: str) -> None:
    """At the current (phone) viewport, the page is no wider than the screen: nothing scrolls sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width} px wide on a {PHONE['width']} px phone"


def shots(page: Page, name: str) -> None:
    """Screenshots at desktop and phone widths; fails when the page is wider than the phone's screen."""
    page.set_viewport_size(DESKTOP)
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)
    assert width <= PHONE["width"], f"{name}: the page is {width} px wide on a {PHONE['width']} px phone"


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    response = page.goto("/login")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def api_get(url: str, token: str) -> tuple[int, dict]:
    """GET an API URL with a Bearer token: (status, JSON body)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
