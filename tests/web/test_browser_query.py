"""The query language in a real browser: search the CVE list, see a bad query's error with its faulty part
marked, and subscribe a project to a query."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import BrowserContext, expect

from cvewatch.organizations.services import organizations, projects
from tests.factories import CveFactory
from tests.support.browser import DESKTOP, PHONE, assert_fits_phone, shot, sign_in
from tests.support.people import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shots_of_parts(page, name: str, *selectors: str) -> None:
    """Desktop and phone screenshots; on the phone, the page and these parts of it fit the screen."""
    page.set_viewport_size(DESKTOP)
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    shot(page, f"{name}-phone")
    assert_fits_phone(page, name)
    for selector in selectors:
        for box in [element.bounding_box() for element in page.locator(selector).all()]:
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], selector
    page.set_viewport_size(DESKTOP)


def test_search_with_the_query_language_and_see_a_bad_query(context: BrowserContext, live_server):
    owner = make_user("olivia")
    org = organizations.create_organization(name="acme", owner=owner)
    projects.create_project(organization=org, name="prod", actor=owner)
    CveFactory(
        cve_id="CVE-2021-44228",
        description="Apache Log4j2 JNDI features allow remote code execution.",
        vendors=["apache", "apache$PRODUCT$log4j"],
        cvss31_score=10.0,
        kev_added=date(2021, 12, 10),
    )
    CveFactory(cve_id="CVE-2024-1000", description="Airflow remote code execution.", vendors=["apache"], cvss31_score=7.2)
    CveFactory(cve_id="CVE-2024-2000", description="FortiOS heap overflow.", vendors=["fortinet"], cvss31_score=9.8)

    page = context.new_page()
    sign_in(page, "olivia")
    page.goto("/cve")
    query = page.get_by_label("Query", exact=True)
    query.fill('description:"remote code" AND cvss31>=9 OR kev:true')
    query.press("Enter")
    expect(page.locator("table")).to_contain_text("CVE-2021-44228")
    expect(page.locator("table")).not_to_contain_text("CVE-2024-1000")
    expect(page.locator("table")).not_to_contain_text("CVE-2024-2000")
    expect(query).to_have_value('description:"remote code" AND cvss31>=9 OR kev:true')
    shots_of_parts(page, "query-results", ".query-field")

    query.fill("vendor:apache AND epss>=150")
    page.get_by_role("button", name="Filter").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("150 is out of range: 0 to 100 for epss (column 25)")
    expect(alert.locator("mark")).to_have_text("150")
    expect(query).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("No CVE matches these filters.")).to_be_visible()
    shots_of_parts(page, "query-error", ".query-field", ".query-error")

    # The project page: subscribe to a query, a bad one first.
    page.goto("/org/acme/projects/prod")
    field = page.locator("#query-subscriptions").get_by_label("Query")
    field.fill("vendor:fortinet AND userTag:mine")
    page.get_by_role("button", name="Subscribe to this query").click()
    expect(page.locator("#subscription-error")).to_contain_text("userTag cannot be used in a subscription")
    expect(page.locator("#subscription-error mark")).to_have_text("userTag")
    field = page.locator("#query-subscriptions").get_by_label("Query")
    field.fill("vendor:fortinet AND cvss31>=9")
    page.locator("#query-subscriptions").get_by_label("Name").fill("Forti critical")
    page.get_by_role("button", name="Subscribe to this query").click()
    expect(page.locator("#query-subscriptions")).to_contain_text("Forti critical")
    expect(page.locator("#project-cves table")).to_contain_text("CVE-2024-2000")
    shots_of_parts(page, "project-query-subscriptions", "#query-subscriptions", ".query-field")
