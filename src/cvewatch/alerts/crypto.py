"""Webhook signing secrets: generated as `whsec_<base64>`, kept Fernet-encrypted at rest.

The secret must be readable to compute each HMAC, so it cannot be hashed like API tokens. The Fernet key is
derived (HKDF-SHA256) from Django's SECRET_KEY: changing SECRET_KEY makes stored secrets unreadable, and their
deliveries fail with that reason until the notification is recreated.
"""

from __future__ import annotations

import base64
import secrets
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SECRET_PREFIX = "whsec_"


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with the current SECRET_KEY."""


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cvewatch alerts webhook secret").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str) -> str:
    return _fernet(settings.SECRET_KEY).encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet(settings.SECRET_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "the webhook secret cannot be decrypted (was CVEWATCH_SECRET_KEY changed?); recreate the notification"
        ) from None
