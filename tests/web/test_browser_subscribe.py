"""Real browser: subscribe the current project to a product from the product page, and see its CVEs arrive."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, expect

from cvewatch.organizations.services import organizations, projects
from tests.support.browser import shots, sign_in
from tests.support.people import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_subscribe_the_project_from_the_product_page(context: BrowserContext, catalog):
    owner = make_user("olivia")
    org = organizations.create_organization(name="acme", owner=owner)
    projects.create_project(organization=org, name="prod", actor=owner)
    page = context.new_page()
    sign_in(page, "olivia")

    page.get_by_role("link", name="Vendors", exact=True).click()
    page.locator("#vendor-search").fill("apache")
    page.locator("#vendor-search").press("Enter")
    page.get_by_role("link", name="apache", exact=True).first.click()
    page.get_by_role("link", name="log4j", exact=True).first.click()
    expect(page.get_by_role("heading", name="log4j")).to_be_visible()
    shots(page, "product")

    page.get_by_role("button", name="Subscribe prod").click()
    expect(page.get_by_text("✓ prod follows")).to_be_visible()
    expect(page.get_by_role("button", name="Unsubscribe prod")).to_be_visible()

    page.goto("/org/acme/projects/prod")
    expect(page.locator("#subscriptions")).to_contain_text("log4j")
    expect(page.locator("#project-cves")).to_contain_text("CVE-2021-44228")
    expect(page.locator("#project-cves")).not_to_contain_text("CVE-2022-22965")
