"""Sign-in, sign-out, the sign-up switch and password change (the reset mail is in test_mail.py)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from cvewatch.organizations import selectors
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


def test_sign_up_is_off_by_default():
    # A self-hosted install is closed unless the operator opens it (CVEWATCH_ALLOW_SIGNUP=true).
    assert settings.ALLOW_SIGNUP is False
    assert Client().get("/signup").status_code == 404


def _sign_up(client: Client, username: str, email: str):
    password = "plenty of entropy here"
    return client.post(
        "/signup", {"username": username, "email": email, "password1": password, "password2": password}
    )


def _page(response, email: str) -> str:
    """The page without what differs by nature: the address typed in and the per-session CSRF token."""
    text = response.content.decode().replace(email, "ADDRESS")
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", text)


@override_settings(ALLOW_SIGNUP=True, BASE_URL="https://cve.example.com")
def test_sign_up_answers_the_same_whether_or_not_the_address_is_registered(mailoutbox):
    make_user("olivia", email="olivia@example.com")
    fresh = _sign_up(Client(), "newbie", "newbie@example.com")
    taken = _sign_up(Client(), "someone", "Olivia@Example.com")
    assert fresh.status_code == taken.status_code == 200
    assert _page(fresh, "newbie@example.com") == _page(taken, "Olivia@Example.com")
    assert b"Check your mail" in fresh.content
    # No account for the registered address; each address got one mail, which tells its owner what happened.
    assert not get_user_model().objects.filter(username="someone").exists()
    confirm, note = mailoutbox
    assert confirm.to == ["newbie@example.com"] and note.to == ["olivia@example.com"]
    assert "already has one" in note.body and "https://cve.example.com/password-reset" in note.body

    newbie = get_user_model().objects.get(username="newbie")
    assert not selectors.email_is_verified(user=newbie)
    path = re.search(r"https://cve\.example\.com(/account/verify-email/\S+)", confirm.body).group(1)
    client = Client()
    assert b"Confirm my address" in client.get(path).content
    assert not selectors.email_is_verified(user=newbie)  # opening the link (a mail scanner) proves nothing
    assert client.post(path).status_code == 302
    assert selectors.email_is_verified(user=newbie)
    assert client.post(path[:-3] + "xyz").status_code == 400  # a tampered link


@override_settings(ALLOW_SIGNUP=True)
def test_sign_up_shows_validation_errors_but_never_whether_the_address_is_taken():
    make_user("taken")
    response = Client().post(
        "/signup",
        {"username": "taken", "email": "taken@example.com", "password1": "short", "password2": "other"},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "A user with that username already exists." in text
    assert "The two password fields didn’t match." in text
    assert "already uses this email address" not in text
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
