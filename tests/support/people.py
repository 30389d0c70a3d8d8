"""People for tests: one password, one way to make a user, and the fast password hasher."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import AbstractBaseUser

from cvewatch.organizations.services import accounts

PASSWORD = "correct horse battery staple"

# PBKDF2 at its production cost (~0.25 s a user) would dominate the suite; no test is about its cost.
# Tests that count verifications put CountingHasher first instead.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class CountingHasher(MD5PasswordHasher):
    """A real (fast) password hasher that counts verifications, to observe the Basic credential cache."""

    algorithm = "counting_md5"
    verifications = 0

    def verify(self, password: str, encoded: str) -> bool:
        type(self).verifications += 1
        return super().verify(password, encoded)


def make_user(username: str, *, email: str | None = None, verified: bool = True) -> AbstractBaseUser:
    """A user with PASSWORD; their e-mail address is verified unless `verified=False`."""
    user = get_user_model().objects.create_user(
        username=username, email=email if email is not None else f"{username}@example.com", password=PASSWORD
    )
    if verified and user.email:
        accounts.mark_email_verified(user=user)
    return user
