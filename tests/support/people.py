"""People for tests: one password, one way to make a user, and the fast password hasher."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

PASSWORD = "correct horse battery staple"

# PBKDF2 at its production cost (~0.25 s a user) would dominate the suite; no test is about its cost.
# Tests that count verifications set their own hasher on top (tests/api/hashers.py).
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(username: str, *, email: str | None = None) -> AbstractBaseUser:
    return get_user_model().objects.create_user(
        username=username, email=email if email is not None else f"{username}@example.com", password=PASSWORD
    )
