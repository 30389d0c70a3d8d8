"""Sign-in, sign-out, the sign-up switch and password change (the reset mail is in test_mail.py)."""

from __future__ import annotations

import pytest
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
    assert "The two password fields didn’t match." in text
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
