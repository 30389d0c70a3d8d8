"""Item 5 of issue 10: an invitation creates its account, and only a verified address answers one."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cvewatch.organizations import selectors
from cvewatch.organizations.models import Membership
from cvewatch.organizations.services import invitations
from tests.support.people import make_user
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough pass phrase"


def _invite(org, owner, email="newcomer@example.com") -> str:
    return invitations.invite_member(organization=org, email=email, actor=owner).token


def test_an_invitation_creates_its_account_with_the_invited_address_verified(org, owner):
    path = f"/invitations/{_invite(org, owner)}"
    client = Client()
    mismatch = client.post(path, {"username": "newcomer", "password1": PASSWORD, "password2": "other"})
    assert mismatch.status_code == 400 and not get_user_model().objects.filter(username="newcomer").exists()
    joined = client.post(path, {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD})
    assert joined.status_code == 302 and joined["Location"] == "/org/acme/settings"
    user = get_user_model().objects.get(username="newcomer")
    assert user.email == "newcomer@example.com" and selectors.email_is_verified(user=user)
    assert Membership.objects.get(user=user, organization=org).role == "member"
    assert client.get("/org/acme/settings").status_code == 200  # signed in
    assert Client().get(path).status_code == 404  # used once


def test_a_registered_but_unverified_address_cannot_answer_an_invitation(org, owner):
    # The attack: register the invited address (sign-up open, another case) and accept with a leaked link.
    squatter = make_user("mallory", email="NewComer@example.com", verified=False)
    token = _invite(org, owner)
    client = client_for(squatter)
    page = client.get(f"/invitations/{token}")
    assert b"Confirm your e-mail address before you answer" in page.content
    refused = client.post(f"/invitations/{token}", {"action": "accept"})
    assert refused.status_code == 400 and b"confirm your e-mail address" in refused.content
    assert client.post(f"/invitations/{token}", {"action": "decline"}).status_code == 400
    assert not Membership.objects.filter(user=squatter).exists()
    # Nor does the dashboard list what was sent to the address.
    assert list(selectors.invitations_for_user(user=squatter)) == []


def test_an_invitation_cannot_create_a_second_account_for_a_registered_address(org, owner):
    make_user("newcomer", email="newcomer@example.com")
    path = f"/invitations/{_invite(org, owner)}"
    refused = Client().post(path, {"username": "other", "password1": PASSWORD, "password2": PASSWORD})
    assert refused.status_code == 400 and b"an account already uses this e-mail address" in refused.content
    assert not get_user_model().objects.filter(username="other").exists()


def test_a_password_reset_proves_the_address(settings, mailoutbox):
    import re

    settings.BASE_URL = "https://cve.example.com"
    user = make_user("olivia", email="olivia@example.com", verified=False)
    client = Client()
    client.post("/password-reset", {"email": "olivia@example.com"})
    path = re.search(r"https://cve\.example\.com(/password-reset/\S+)", mailoutbox[0].body).group(1)
    form = client.get(path, follow=True)
    done = client.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302
    assert selectors.email_is_verified(user=user)


def test_the_dashboard_offers_a_confirmation_link_to_an_unverified_address(settings, mailoutbox):
    settings.BASE_URL = "https://cve.example.com"
    client = client_for(make_user("olivia", verified=False))
    assert b"is not confirmed yet" in client.get("/").content
    assert client.post("/account/verify-email").status_code == 302
    (mail,) = mailoutbox
    assert mail.to == ["olivia@example.com"] and "https://cve.example.com/account/verify-email/" in mail.body
