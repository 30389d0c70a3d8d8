"""Sign-in, sign-out, sign-up switch, password change and password reset through a real SMTP server."""

from __future__ import annotations

import re
import socket
import time
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from tests.support.people import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_pages_need_sign_in():
    client = Client()
    for path in ("/", "/cve", "/vendors", "/org/new", "/account/password"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login?next="), path


def test_sign_in_and_out():
    make_user("olivia")
    client = Client()
    page = client.get("/login")
    assert (
        page.status_code == 200
        and b'name="username"' in page.content
        and b"csrfmiddlewaretoken" in page.content
    )

    wrong = client.post("/login", {"username": "olivia", "password": "nope"})
    assert wrong.status_code == 200
    assert b"Please enter a correct username and password" in wrong.content

    ok = client.post("/login", {"username": "olivia", "password": PASSWORD, "next": "/cve"})
    assert ok.status_code == 302 and ok["Location"] == "/cve"
    assert client.get("/").status_code == 200

    # A link cannot sign anyone out: GET is refused, POST signs out.
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_forms_are_csrf_protected():
    make_user("olivia")
    client = Client(enforce_csrf_checks=True)
    assert client.post("/login", {"username": "olivia", "password": PASSWORD}).status_code == 403


@override_settings(ALLOW_SIGNUP=True)
def test_sign_up_creates_the_account_and_signs_in():
    client = Client()
    assert b'href="/signup"' in client.get("/login").content
    response = client.post(
        "/signup",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password1": "plenty of entropy here",
            "password2": "plenty of entropy here",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(username="newbie")
    assert user.email == "newbie@example.com" and user.check_password("plenty of entropy here")
    assert b"Create an organization" in client.get("/").content


@override_settings(ALLOW_SIGNUP=True)
def test_sign_up_returns_to_the_page_that_asked_for_it():
    client = Client()
    login_page = client.get("/login?next=/invitations/abc").content.decode()
    assert 'href="/signup?next=/invitations/abc"' in login_page
    assert b'name="next" value="/invitations/abc"' in client.get("/signup?next=/invitations/abc").content
    data = {
        "username": "a",
        "email": "a@example.com",
        "password1": "plenty of entropy",
        "password2": "plenty of entropy",
    }
    response = client.post("/signup", {**data, "next": "/invitations/abc"})
    assert response["Location"] == "/invitations/abc"
    other = Client().post(
        "/signup", {**data, "username": "b", "email": "b@example.com", "next": "https://evil.example/"}
    )
    assert other["Location"] == "/"


@override_settings(ALLOW_SIGNUP=True)
def test_sign_up_shows_validation_errors():
    make_user("taken")
    response = Client().post(
        "/signup",
        {
            "username": "taken",
            "email": "taken@example.com",
            "password1": "short",
            "password2": "other",
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "A user with that username already exists." in text
    assert "An account already uses this email address." in text
    assert "didn’t match" in text or "didn't match" in text
    assert get_user_model().objects.count() == 1


@override_settings(ALLOW_SIGNUP=False)
def test_sign_up_disabled_is_404_and_not_linked():
    client = Client()
    assert client.get("/signup").status_code == 404
    assert client.post("/signup", {"username": "x"}).status_code == 404
    assert b"/signup" not in client.get("/login").content
    assert get_user_model().objects.count() == 0


def test_password_change():
    user = make_user("olivia")
    client = Client()
    client.force_login(user)
    bad = client.post(
        "/account/password",
        {
            "old_password": "wrong",
            "new_password1": "another long phrase",
            "new_password2": "another long phrase",
        },
    )
    assert bad.status_code == 200 and b"Your old password was entered incorrectly" in bad.content
    ok = client.post(
        "/account/password",
        {
            "old_password": PASSWORD,
            "new_password1": "another long phrase",
            "new_password2": "another long phrase",
        },
    )
    assert ok.status_code == 302 and ok["Location"] == "/account/password/done"
    user.refresh_from_db()
    assert user.check_password("another long phrase")
    assert client.get("/").status_code == 200  # the session survives its own password change


class Inbox:
    """aiosmtpd handler keeping every received message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def _smtp_settings(controller: Controller) -> dict[str, object]:
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": controller.port,
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "DEFAULT_FROM_EMAIL": "cvewatch@example.org",
    }


def _wait_for(inbox: Inbox, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_password_reset_mail_through_real_smtp(smtp_server):
    controller, inbox = smtp_server
    user = make_user("olivia", email="olivia@example.com")
    client = Client()
    with override_settings(**_smtp_settings(controller), BASE_URL="https://cve.example.com"):
        response = client.post("/password-reset", {"email": "OLIVIA@example.com"})
        assert response.status_code == 302 and response["Location"] == "/password-reset/sent"
        # An unknown address gets the same answer and no mail (no account enumeration).
        assert (
            client.post("/password-reset", {"email": "nobody@example.com"})["Location"]
            == "/password-reset/sent"
        )
    _wait_for(inbox, 1)
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["olivia@example.com"]
    assert message["Subject"] == "cvewatch: reset your password"
    assert message["From"] == "cvewatch@example.org"
    body = message.get_payload(decode=True).decode()
    link = re.search(r"https://cve\.example\.com(/password-reset/\S+)", body)
    assert link, body

    # The link leads to the form (Django swaps the token for a session marker and redirects once).
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200 and b"Choose a new password" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {
            "new_password1": "brand new pass phrase",
            "new_password2": "brand new pass phrase",
        },
    )
    assert done.status_code == 302 and done["Location"] == "/password-reset/complete"
    user.refresh_from_db()
    assert user.check_password("brand new pass phrase")
    # Used once: the same link is now invalid.
    again = client.get(link.group(1), follow=True)
    assert b"This link is no longer valid" in again.content


def test_password_reset_with_the_mail_server_down_neither_crashes_nor_reveals_the_account(caplog):
    make_user("olivia", email="olivia@example.com")
    down = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": _free_port(),
        "EMAIL_TIMEOUT": 2,
    }
    with override_settings(**down):
        response = Client().post("/password-reset", {"email": "olivia@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent"
    assert "Failed to send password reset email" in caplog.text
