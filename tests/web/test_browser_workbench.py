"""Real-browser flows of the workbench: tag a CVE and follow the tag to the filtered list; set a triage
status on a project CVE and filter the project list by it; save a view and reopen it."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from cvewatch.organizations.services import members, organizations, projects
from cvewatch.workbench.models import TriageEvent
from tests.support.browser import DESKTOP, PHONE, assert_fits_phone, shot, sign_in
from tests.support.people import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shots(page: Page, name: str, part: str = "main", *, scrolls: bool = False) -> None:
    """Desktop and phone screenshots; on the phone the page fits the screen, and so does `part` (the
    workbench's own UI). `scrolls`: the part is a table panel that may scroll sideways inside itself.
    """
    page.set_viewport_size(DESKTOP)
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    shot(page, f"{name}-phone")
    assert_fits_phone(page, name)
    box = page.locator(part).first.evaluate(
        "e => ({right: e.getBoundingClientRect().right, overflow: e.scrollWidth - e.clientWidth})"
    )
    page.set_viewport_size(DESKTOP)
    assert box["right"] <= PHONE["width"] + 1 and (scrolls or box["overflow"] <= 0), (
        f"{name}: {part} is wider than a phone: {box}"
    )


@pytest.fixture
def acme(catalog):
    owner = make_user("olivia")
    organization = organizations.create_organization(name="acme", owner=owner)
    members.add_member(organization=organization, user=make_user("max"), actor=owner)
    projects.create_project(
        organization=organization, name="production", vendors=["apache", "vmware"], actor=owner
    )
    return organization


def test_tag_a_cve_then_follow_the_tag(context: BrowserContext, acme):
    page = context.new_page()
    sign_in(page, "olivia")
    page.goto("/cve/CVE-2021-44228")
    panel = page.locator("#workbench-panel")
    panel.get_by_label("Add a tag").fill("patch-now")
    panel.get_by_role("button", name="Add tag").click()
    expect(panel.get_by_role("button", name="Remove tag patch-now")).to_be_visible()
    expect(panel.get_by_role("status")).to_contain_text("Tagged patch-now")
    shots(page, "workbench-cve-panel", "#workbench-panel")

    page.get_by_role("link", name="Tags", exact=True).click()
    row = page.locator("#tag-patch-now")
    expect(row).to_contain_text("1")
    row.get_by_role("link", name="Edit").click()
    page.get_by_label("Description").fill("Patch before Friday")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#tag-patch-now")).to_contain_text("Patch before Friday")
    shots(page, "workbench-tags", "#tags")

    page.locator("#tag-patch-now").get_by_role("link", name="patch-now", exact=True).click()
    expect(page).to_have_url(re.compile(r"/cve\?tag=patch-now$"))
    expect(page.locator("#tag-filter")).to_contain_text("Only CVEs you tagged")
    rows = page.locator("table.cves tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("CVE-2021-44228")

    # The API's `tag` filter gives the same CVEs to the same person (Basic auth), and a 404 for a tag they lack.
    base = page.url.split("/cve")[0]
    status, body = api_get_basic(f"{base}/api/cve?tag=patch-now", "olivia")
    assert status == 200 and [c["cve_id"] for c in body["results"]] == ["CVE-2021-44228"], body
    assert api_get_basic(f"{base}/api/cve?tag=no-such-tag", "olivia") == (
        404,
        {"detail": "No UserTag matches the given query."},
    )

    # Take it off again from the CVE page: the panel updates in place.
    page.goto("/cve/CVE-2021-44228")
    page.get_by_role("button", name="Remove tag patch-now").click()
    expect(page.locator("#workbench-panel")).to_contain_text("No tags of yours on this CVE")


def test_triage_a_project_cve_and_filter_by_status(context: BrowserContext, acme):
    page = context.new_page()
    sign_in(page, "olivia")
    page.goto("/cve/CVE-2021-44228")
    triage = page.locator("#triage-production")
    expect(triage).to_contain_text("To evaluate")
    triage.get_by_label("Status").select_option(label="Remediation in progress")
    triage.get_by_label("Assignee").select_option("max")
    triage.get_by_role("button", name="Save triage").click()
    triage = page.locator("#triage-production")
    expect(triage.locator(".badge")).to_have_text("Remediation in progress")
    triage.get_by_text("History (2)").click()
    expect(triage).to_contain_text("set assignee from nobody to max")
    shots(page, "workbench-cve-triage", "#workbench-panel")
    assert TriageEvent.objects.count() == 2

    page.goto("/org/acme/projects/production")
    cves = page.locator("#project-cves")
    expect(cves.locator("table.cves tbody tr")).to_have_count(2)
    cves.get_by_label("Triage status", exact=True).select_option(label="Remediation in progress")
    cves.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=remediation_in_progress"))
    rows = page.locator("#project-cves table.cves tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("CVE-2021-44228")
    expect(rows.first).to_contain_text("max")
    page.locator("#project-cves").get_by_label("Triage status", exact=True).select_option(label="To evaluate")
    page.locator("#project-cves").get_by_role("button", name="Filter").click()
    expect(page.locator("#project-cves table.cves tbody tr").first).to_contain_text("CVE-2022-22965")
    shots(page, "workbench-project-triage", "#project-cves", scrolls=True)
    # Set a status right in the list: the select submits on change and the list keeps its filter.
    page.get_by_label("Triage status of CVE-2022-22965").select_option(label="Not applicable")
    expect(page.get_by_text("Triage of CVE-2022-22965 in production saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"status=to_evaluate"))
    expect(page.locator("#project-cves table.cves tbody tr")).to_contain_text(["No CVE matches"])


def test_save_a_view_and_reopen_it(context: BrowserContext, acme):
    page = context.new_page()
    sign_in(page, "olivia")
    page.get_by_role("link", name="CVEs", exact=True).click()
    page.get_by_label("CVSS").select_option("critical")
    page.get_by_role("button", name="Filter").click()
    box = page.locator("#saved-views-box")
    box.get_by_label("View name").fill("Critical CVEs")
    box.get_by_label("Share with acme").check()
    box.get_by_role("button", name="Save this view").click()
    expect(page.get_by_text("View Critical CVEs saved.")).to_be_visible()
    expect(page.locator("table.cves tbody tr")).to_have_count(1)
    shots(page, "workbench-saved-view", "#saved-views-box")

    # Another member of acme sees the shared view and reopens it.
    member = context.browser.new_context(
        base_url=page.url.split("/cve")[0], viewport={"width": 1280, "height": 900}
    )
    try:
        other = member.new_page()
        sign_in(other, "max")
        other.goto("/cve")
        other.locator("#saved-views-box").get_by_role("link", name="Critical CVEs").click()
        expect(other).to_have_url(re.compile(r"/cve\?cvss=critical(&sort=updated&dir=desc)?&view=\d+$"))
        expect(other.get_by_label("CVSS")).to_have_value("critical")
        expect(other.locator("table.cves tbody tr")).to_have_count(1)
    finally:
        member.close()

    page.goto("/views")
    row = page.locator("table#saved-views tbody tr").first
    row.get_by_label("New name of Critical CVEs").fill("Critical only")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_text("View Critical only saved.")).to_be_visible()
    shots(page, "workbench-views", "#saved-views")
    page.once(
        "dialog", lambda dialog: dialog.accept()
    )  # "Delete the view Critical only for everyone in acme?"
    page.locator("table#saved-views tbody tr").first.get_by_role(
        "button", name="Delete view Critical only"
    ).click()
    expect(page.get_by_text("No saved views yet")).to_be_visible()


def api_get_basic(url: str, username: str) -> tuple[int, dict]:
    """GET an API URL as a person (HTTP Basic with the test password): (status, JSON body)."""
    credentials = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {credentials}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
