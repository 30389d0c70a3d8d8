"""A real (fast) password hasher that counts verifications, to observe the Basic credential cache."""

from __future__ import annotations

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingHasher(MD5PasswordHasher):
    algorithm = "counting_md5"
    verifications = 0

    def verify(self, password: str, encoded: str) -> bool:
        type(self).verifications += 1
        return super().verify(password, encoded)
