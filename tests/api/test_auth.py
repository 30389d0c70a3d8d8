"""Authentication of people: Basic (with the verification cache) and session; 401 bodies and header."""

from __future__ import annotations

import hashlib

import pytest
from rest_framework.test import APIClient

from cvewatch.api.authentication import VerifiedCredentialCache, credential_cache
from tests.api.conftest import basic_header
from tests.support.people import PASSWORD, CountingHasher

pytestmark = pytest.mark.django_db


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.support.people.CountingHasher"]
    CountingHasher.verifications = 0
    return CountingHasher


def assert_401(response, detail: str) -> None:
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response["WWW-Authenticate"] == 'Basic realm="api"'


def test_a_bearer_value_that_is_not_an_organization_token_is_no_credentials(anon):
    for value in ["Bearer something", "Bearer opc_org.onlytwo", "Token abc"]:
        anon.credentials(HTTP_AUTHORIZATION=value)
        assert_401(anon.get("/api/cve"), "Authentication credentials were not provided.")


def test_wrong_basic_credentials(anon, user):
    anon.credentials(HTTP_AUTHORIZATION=basic_header("alice", "wrong password"))
    assert_401(anon.get("/api/cve"), "Invalid username/password.")
    anon.credentials(HTTP_AUTHORIZATION=basic_header("nobody", PASSWORD))
    assert_401(anon.get("/api/cve"), "Invalid username/password.")


def test_malformed_basic_header_is_401_with_a_reason(anon):
    anon.credentials(HTTP_AUTHORIZATION="Basic !!!notbase64")
    response = anon.get("/api/cve")
    assert response.status_code == 401
    assert "base64" in response.json()["detail"]


def test_session_auth_for_a_logged_in_browser(user):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get("/api/cve").status_code == 200
    assert browser.get("/api/cve?tag=x").json() == {"detail": "No UserTag matches the given query."}
    # CSRF is enforced for unsafe methods: without a token a POST is refused before reaching the view.
    assert browser.post("/api/cve").status_code == 403


def test_basic_verification_is_cached(anon, user, counting_hasher):
    user.set_password(PASSWORD)
    user.save()
    anon.credentials(HTTP_AUTHORIZATION=basic_header("alice", PASSWORD))
    for _ in range(5):
        assert anon.get("/api/cve").status_code == 200
    assert counting_hasher.verifications == 1
    assert len(credential_cache) == 1


def test_wrong_password_is_never_cached(anon, user, counting_hasher):
    user.set_password(PASSWORD)
    user.save()
    anon.credentials(HTTP_AUTHORIZATION=basic_header("alice", "wrong password"))
    for _ in range(3):
        assert anon.get("/api/cve").status_code == 401
    assert counting_hasher.verifications == 3
    assert len(credential_cache) == 0


def test_password_change_invalidates_the_cache_immediately(api, user):
    assert api.get("/api/cve").status_code == 200
    user.set_password("a brand new passphrase")
    user.save()
    assert_401(api.get("/api/cve"), "Invalid username/password.")
    api.credentials(HTTP_AUTHORIZATION=basic_header("alice", "a brand new passphrase"))
    assert api.get("/api/cve").status_code == 200


def test_deactivation_invalidates_the_cache_immediately(api, user):
    assert api.get("/api/cve").status_code == 200
    user.is_active = False
    user.save()
    assert_401(api.get("/api/cve"), "Invalid username/password.")


def test_deleted_user_is_refused(api, user):
    assert api.get("/api/cve").status_code == 200
    user.delete()
    assert_401(api.get("/api/cve"), "Invalid username/password.")


def test_cache_keys_are_keyed_digests_not_passwords(api, user):
    api.get("/api/cve")
    (key,) = list(credential_cache._entries)
    assert len(key) == 32
    assert key != hashlib.sha256(f"alice:{PASSWORD}".encode()).digest()
    assert PASSWORD.encode() not in key


def test_cache_is_a_bounded_lru_with_expiry():
    cache = VerifiedCredentialCache(max_entries=2, ttl_seconds=60)
    cache.put(b"a", user_pk=1, password_hash="h")
    cache.put(b"b", user_pk=2, password_hash="h")
    assert cache.get(b"a") is not None  # a is now the most recent
    cache.put(b"c", user_pk=3, password_hash="h")
    assert cache.get(b"b") is None and cache.get(b"a") is not None and cache.get(b"c") is not None
    expired = VerifiedCredentialCache(max_entries=2, ttl_seconds=0)
    expired.put(b"a", user_pk=1, password_hash="h")
    assert expired.get(b"a") is None


@pytest.fixture
def bearer(user) -> APIClient:
    """A client with a real organization API token (cvewatch.organizations)."""
    from cvewatch.organizations.services import organizations, tokens

    organization = organizations.create_organization(name="acme", owner=user)
    secret = tokens.create_token(organization=organization, name="ci", actor=user)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_tokens_read_the_catalog_and_their_tag_parameter_is_ignored(bearer, log4shell):
    assert bearer.get("/api/cve/CVE-2021-44228").status_code == 200
    response = bearer.get("/api/cve?tag=anything")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_wrong_token_secret_is_401_invalid_token(anon, bearer):
    token = bearer._credentials["HTTP_AUTHORIZATION"]
    anon.credentials(HTTP_AUTHORIZATION=token[:-4] + "AAAA")
    response = anon.get("/api/cve")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
