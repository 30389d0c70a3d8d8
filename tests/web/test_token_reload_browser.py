"""In a real browser: reloading the page that showed a new token shows no secret and creates no token."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, expect

from cvewatch.organizations.models import OrganizationToken
from cvewatch.organizations.services import organizations
from tests.support.browser import DESKTOP, PHONE, shot, sign_in
from tests.support.people import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reloading_after_creating_a_token_mints_no_second_one(context: BrowserContext, live_server):
    owner = make_user("olivia")
    organizations.create_organization(name="acme", owner=owner)
    page = context.new_page()
    sign_in(page, "olivia")
    page.goto("/org/acme/tokens")
    page.get_by_label("Name").fill("siem")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token-value").inner_text().strip()
    assert re.fullmatch(r"opc_org\.[A-Za-z0-9]{12}\.[A-Za-z0-9]{32}", token)
    assert page.url.endswith(f"/org/acme/tokens/{token.split('.')[1]}/created")

    page.reload()  # a GET of the page the POST redirected to: no "resend the form?" and no new token
    expect(page.locator("#token-already-shown")).to_contain_text("was already shown")
    assert token not in page.content() and page.locator("#new-token-value").count() == 0
    # Not `shots`: the navigation bar of base.html is wider than a phone for now (lane l's phone-width fix).
    page.set_viewport_size(PHONE)
    shot(page, "token-reloaded-phone")
    page.set_viewport_size(DESKTOP)
    shot(page, "token-reloaded-desktop")
    assert OrganizationToken.objects.count() == 1

    # Sending the same name again is refused on the form, with the way out.
    page.get_by_label("Name").fill("SIEM")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".errorlist")).to_contain_text("already has an active token named 'siem'")
    assert OrganizationToken.objects.count() == 1
