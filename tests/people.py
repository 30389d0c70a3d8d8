"""People for tests: one password and one way to make a user, shared by every test package."""

from __future__ import annotations

from django.contrib.auth import get_user_model

PASSWORD = "correct horse battery staple"


def make_user(username: str, *, email: str | None = None):
    return get_user_model().objects.create_user(
        username=username, email=email if email is not None else f"{username}@example.com", password=PASSWORD
    )
