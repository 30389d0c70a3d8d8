"""Mail end to end: a web request, the real local SMTP server (aiosmtpd) receiving the message, and the
link in it working. Django reaches the server only through what CVEWATCH_EMAIL_URL configures
(the `smtp_server` fixture in tests/conftest.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from cvewatch.core.mail import smtp_settings_from_url
from cvewatch.organizations.models import Invitation, Membership
from tests.support.mail import free_port
from tests.support.people import make_user
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

BASE = "https://cve.example.com"


def test_invitation_mail_goes_through_smtp_and_its_link_joins_the_organization(
    smtp_server, settings, owner_client, org
):
    settings.BASE_URL = BASE
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "internal.example"]  # e.g. a proxy's internal name
    response = owner_client.post(
        "/org/acme/invitations",
        {"email": "Newcomer@Example.com", "role": "owner"},
        follow=True,
        HTTP_HOST="internal.example:8000",
    )
    assert b"Invitation sent to newcomer@example.com." in response.content
    (received,) = smtp_server.inbox.wait_for(1)
    assert received.recipients == ["newcomer@example.com"]
    assert received.message["Subject"] == "cvewatch: invitation to acme"
    assert received.message["From"] == "cvewatch@example.org"
    assert "olivia invites you to join the organization acme on cvewatch as owner." in received.body
    # The link is built from CVEWATCH_BASE_URL, never from the Host the owner's request came with.
    link = received.link(r"https://cve\.example\.com/invitations/\S+")
    assert "internal.example" not in received.body

    path = link.removeprefix(BASE)
    newcomer = client_for(make_user("newcomer", email="newcomer@example.com"))
    page = newcomer.get(path)
    assert page.status_code == 200 and b"Join acme" in page.content
    joined = newcomer.post(path, {"action": "accept"})
    assert joined.status_code == 302 and joined["Location"] == "/org/acme/settings"
    assert Membership.objects.get(user__username="newcomer", organization=org).role == "owner"
    assert newcomer.get(path).status_code == 404  # used once


def test_invitation_mail_failure_keeps_the_invitation_and_shows_the_link(settings, owner_client):
    # CVEWATCH_EMAIL_URL pointing at a port nobody listens on.
    for name, value in smtp_settings_from_url(f"smtp://127.0.0.1:{free_port()}").items():
        setattr(settings, name, value)
    settings.BASE_URL = BASE
    response = owner_client.post(
        "/org/acme/invitations", {"email": "x@example.com", "role": "member"}, follow=True
    )
    text = response.content.decode()
    assert "the mail could not be sent" in text and f"{BASE}/invitations/" in text
    assert Invitation.objects.filter(email="x@example.com").exists()


def test_password_reset_mail_goes_through_smtp_and_its_link_sets_a_new_password(smtp_server, settings):
    settings.BASE_URL = BASE
    user = make_user("olivia", email="olivia@example.com")
    client = Client()
    response = client.post("/password-reset", {"email": "OLIVIA@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent"
    # An unknown address gets the same answer and no mail (no account enumeration).
    assert client.post("/password-reset", {"email": "nobody@example.com"})["Location"] == "/password-reset/sent"
    (received,) = smtp_server.inbox.wait_for(1)
    assert received.recipients == ["olivia@example.com"]
    assert received.message["Subject"] == "cvewatch: reset your password"
    assert received.message["From"] == "cvewatch@example.org"
    path = received.link(r"https://cve\.example\.com/password-reset/\S+").removeprefix(BASE)

    # The link leads to the form (Django swaps the token for a session marker and redirects once).
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and b"Choose a new password" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand new pass phrase", "new_password2": "brand new pass phrase"},
    )
    assert done.status_code == 302 and done["Location"] == "/password-reset/complete"
    user.refresh_from_db()
    assert user.check_password("brand new pass phrase")
    again = client.get(path, follow=True)
    assert b"This link is no longer valid" in again.content  # used once
    assert len(smtp_server.inbox.messages) == 1


def test_password_reset_with_the_mail_server_down_neither_crashes_nor_reveals_the_account(settings, caplog):
    make_user("olivia", email="olivia@example.com")
    for name, value in smtp_settings_from_url(f"smtp://127.0.0.1:{free_port()}").items():
        setattr(settings, name, value)
    response = Client().post("/password-reset", {"email": "olivia@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent"
    assert "Failed to send password reset email" in caplog.text
