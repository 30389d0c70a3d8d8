"""Token format, generation and hashing for organization API tokens and invitation links.

Secrets are 32 random [A-Za-z0-9] characters (~190 bits), so a slow password hash buys nothing: we store
HMAC-SHA256(server key, secret), where the server key is derived from SECRET_KEY with a purpose string so a
hash leaked from one purpose is useless for another. Comparisons use hmac.compare_digest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

PREFIX = "opc_org"
TOKEN_ID_LENGTH = 12
SECRET_LENGTH = 32
ALPHABET = string.ascii_letters + string.digits
_ALPHABET_SET = frozenset(ALPHABET)

API_TOKEN_PURPOSE = "cvewatch.organizations.api-token"
INVITATION_PURPOSE = "cvewatch.organizations.invitation"


@dataclass(frozen=True)
class ParsedToken:
    token_id: str
    secret: str


def random_string(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def generate_token_parts() -> tuple[str, str]:
    """A fresh (token_id, secret) pair from the OS CSPRNG."""
    return random_string(TOKEN_ID_LENGTH), random_string(SECRET_LENGTH)


def format_token(*, token_id: str, secret: str) -> str:
    return f"{PREFIX}.{token_id}.{secret}"


def looks_like_token(raw: str) -> bool:
    """Whether a Bearer value is meant for us: `opc_org.` prefix and exactly three dot-separated parts."""
    return raw.startswith(PREFIX + ".") and raw.count(".") == 2


def parse_token(raw: str) -> ParsedToken | None:
    """Split a token; None when its id or secret has the wrong length or alphabet (it cannot exist)."""
    if not looks_like_token(raw):
        return None
    _, token_id, secret = raw.split(".")
    if len(token_id) != TOKEN_ID_LENGTH or len(secret) != SECRET_LENGTH:
        return None
    if not (_ALPHABET_SET.issuperset(token_id) and _ALPHABET_SET.issuperset(secret)):
        return None
    return ParsedToken(token_id=token_id, secret=secret)


@lru_cache(maxsize=8)
def _derived_key(secret_key: str, purpose: str) -> bytes:
    # Keyed by SECRET_KEY too, so tests that override the setting get a matching key.
    return hashlib.sha256(f"{purpose}\x00{secret_key}".encode()).digest()


def hash_secret(secret: str, *, purpose: str = API_TOKEN_PURPOSE) -> str:
    """Hex HMAC-SHA256 of a secret under the server key for `purpose`."""
    key = _derived_key(settings.SECRET_KEY, purpose)
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str, *, purpose: str = API_TOKEN_PURPOSE) -> bool:
    return hmac.compare_digest(hash_secret(secret, purpose=purpose), stored_hash)
