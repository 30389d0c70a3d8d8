"""API authentication for people: HTTP Basic with a short verification cache, and the browser session.

Bearer organization tokens live in cvewatch.organizations.api.authentication.

Password hashers are deliberately slow (their defence against guessing), which made OpenCVE's
Basic-authenticated API slow on every request. A successful verification is remembered for a few minutes in
process memory, keyed by an HMAC of "username:password" under SECRET_KEY (never the password nor an unkeyed
hash of it). A hit still loads the user and is accepted only if the account is active and its stored password
hash is the one we verified against, so a password change or a deactivation takes effect on the next request.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication, SessionAuthentication

from cvewatch.api.throttling import lockout_seconds

LOCKED_OUT = "Too many failed logins for this account or address."

# The contract's challenge for a request without (usable) credentials; the exception handler uses it too.
BASIC_CHALLENGE = 'Basic realm="api"'


def _keyed_digest(value: str) -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), value.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).digest()


@dataclass(frozen=True, slots=True)
class _Verified:
    user_pk: Any
    password_fingerprint: bytes  # keyed digest of the stored hash at verification time
    expires_at: float  # time.monotonic()


class VerifiedCredentialCache:
    """A bounded, thread-safe LRU of recently verified credentials with a time-to-live."""

    def __init__(self, *, max_entries: int = 1024, ttl_seconds: float = 300.0) -> None:
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._entries: OrderedDict[bytes, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> _Verified | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires_at <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: bytes, *, user_pk: Any, password_hash: str) -> None:
        entry = _Verified(user_pk, _keyed_digest(password_hash), time.monotonic() + self.ttl_seconds)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, key: bytes) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


credential_cache = VerifiedCredentialCache()


class CachedBasicAuthentication(BasicAuthentication):
    """HTTP Basic; wrong credentials → 401 {"detail": "Invalid username/password."}."""

    www_authenticate_realm = "api"

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> tuple[Any, None]:
        if "\x00" in userid or "\x00" in password:
            # No account can hold a NUL, and PostgreSQL refuses one in a query: wrong credentials.
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        key = _keyed_digest(f"{userid}:{password}")
        user = self._user_from_cache(key)
        if user is not None:
            return (user, None)
        try:
            user, auth = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            # django-axes (settings.AUTHENTICATION_BACKENDS) counted the failure, or refused a locked-out
            # account or address before hashing anything: that is a 429, not a wrong password.
            if getattr(request, "axes_locked_out", False):
                raise exceptions.Throttled(wait=lockout_seconds(), detail=LOCKED_OUT) from None
            raise
        credential_cache.put(key, user_pk=user.pk, password_hash=user.password)
        return (user, auth)

    @staticmethod
    def _user_from_cache(key: bytes) -> Any | None:
        entry = credential_cache.get(key)
        if entry is None:
            return None
        user = _load_user(entry.user_pk)
        if (
            user is None
            or not user.is_active
            or not hmac.compare_digest(_keyed_digest(user.password), entry.password_fingerprint)
        ):
            credential_cache.discard(key)
            return None
        return user

    def authenticate_header(self, request: Any) -> str:
        return BASIC_CHALLENGE


@functools.cache
def _user_by_pk_sql(vendor: str) -> str:
    """The ORM's own SELECT of one user by primary key, compiled once per engine instead of per request."""
    sql, _ = get_user_model()._default_manager.filter(pk=0).query.sql_with_params()
    return sql


def _load_user(pk: Any) -> Any | None:
    """The user row, as `filter(pk=pk).first()` loads it (every field), or None."""
    manager = get_user_model()._default_manager
    return next(iter(manager.raw(_user_by_pk_sql(connection.vendor), [pk])), None)


class CsrfSessionAuthentication(SessionAuthentication):
    """The logged-in browser. DRF enforces CSRF for unsafe methods only (all of them 405 on the catalog)."""
