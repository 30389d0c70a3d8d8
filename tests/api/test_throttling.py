"""Failed-login lock-out (django-axes) on API Basic and /login, and the API's rate limits (DRF throttles).

Without them, 30 wrong passwords in a row were all tried, each costing a full password hash.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import redis
from axes.handlers.proxy import AxesProxyHandler
from django.test import Client, override_settings
from rest_framework.test import APIClient

from cvewatch import config
from cvewatch.organizations.services import organizations, tokens
from tests.api.conftest import PASSWORD, basic_header
from tests.support.people import CountingHasher, make_user

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(seconds=600)
    settings.API_RATE_LIMIT = (3, 60)
    settings.PASSWORD_HASHERS = ["tests.support.people.CountingHasher"]
    CountingHasher.verifications = 0
    return settings


def basic(username: str, password: str, address: str = "127.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=basic_header(username, password))
    return client


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert response.json() == {
        "detail": "Too many failed logins for this account or address. Expected available in 600 seconds."
    }
    assert response["Retry-After"] == "600"


def test_basic_locks_an_account_out_after_the_limit_without_hashing_again(limits, user):
    wrong = basic("alice", "wrong password")
    assert wrong.get("/api/cve").status_code == 401
    assert wrong.get("/api/cve").status_code == 401
    assert_locked_out(wrong.get("/api/cve"))  # the third failure reaches the limit
    hashed = CountingHasher.verifications
    # The right password from another address is refused too (per account), and costs no hash.
    assert_locked_out(basic("alice", PASSWORD, "10.0.0.2").get("/api/cve"))
    for _ in range(20):
        assert_locked_out(wrong.get("/api/cve"))
    assert CountingHasher.verifications == hashed
    # Another account from another address is not affected.
    make_user("bob")
    assert basic("bob", PASSWORD, "10.0.0.3").get("/api/cve").status_code == 200


def test_basic_locks_an_address_out_whatever_the_usernames(limits, user):
    for name in ["x1", "x2", "x3"]:
        basic(name, "guess", "10.0.0.9").get("/api/cve")
    assert_locked_out(basic("alice", PASSWORD, "10.0.0.9").get("/api/cve"))
    assert basic("alice", PASSWORD, "10.0.0.10").get("/api/cve").status_code == 200


def test_failures_below_the_limit_do_not_lock(limits, user):
    basic("alice", "wrong").get("/api/cve")
    basic("alice", "wrong").get("/api/cve")
    assert basic("alice", PASSWORD).get("/api/cve").status_code == 200


def test_the_address_is_the_connection_not_a_forged_forwarded_for(limits, user):
    for n in range(3):
        client = basic("nobody", "guess", "10.0.0.9")
        client.get("/api/cve", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert_locked_out(basic("alice", PASSWORD, "10.0.0.9").get("/api/cve"))


def test_behind_proxies_the_address_comes_from_forwarded_for(limits, user):
    limits.REST_FRAMEWORK = {**limits.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for _ in range(3):
        basic(f"nobody{_}", "guess").get("/api/cve", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert_locked_out(basic("alice", PASSWORD).get("/api/cve", HTTP_X_FORWARDED_FOR="198.51.100.7"))
    assert basic("alice", PASSWORD).get("/api/cve", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200


def test_the_login_page_locks_out_with_a_429_page(limits, user):
    browser = Client()
    for _ in range(2):
        response = browser.post("/login", {"username": "alice", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    response = browser.post("/login", {"username": "alice", "password": "wrong"})
    assert response.status_code == 429
    assert response["Retry-After"] == "600"
    assert b"Too many failed sign-ins" in response.content
    response = browser.post("/login", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session
    # The web and the API share the count: alice is locked out of Basic as well.
    assert_locked_out(basic("alice", PASSWORD, "10.0.0.5").get("/api/cve"))


def test_rate_limit_headers_and_429(limits, user):
    client = basic("alice", PASSWORD)
    for remaining in (2, 1, 0):
        response = client.get("/api/cve")
        assert response.status_code == 200
        assert response["RateLimit-Policy"] == '"api";q=3;w=60'
        quota_left, seconds = re.fullmatch(r'"api";r=(\d+);t=(\d+)', response["RateLimit"]).groups()
        assert int(quota_left) == remaining and 1 <= int(seconds) <= 60
    response = client.get("/api/cve")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Request was throttled. Expected available in ")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["RateLimit"].startswith('"api";r=0;t=')
    assert response["RateLimit-Policy"] == '"api";q=3;w=60'


def test_rate_limits_count_per_caller(limits, user):
    for _ in range(3):
        basic("alice", PASSWORD).get("/api/vendors")
    assert basic("alice", PASSWORD).get("/api/cve").status_code == 429
    make_user("bob")
    assert basic("bob", PASSWORD).get("/api/cve").status_code == 200
    organization = organizations.create_organization(name="acme", owner=user)
    _, secret = tokens.create_token(organization=organization, name="ci", actor=user)
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert bearer.get("/api/cve").status_code == 200  # a token has its own quota


def test_rate_limit_off(limits, user):
    limits.API_RATE_LIMIT = None
    client = basic("alice", PASSWORD)
    for _ in range(5):
        response = client.get("/api/cve")
        assert response.status_code == 200
        assert "RateLimit" not in response


def test_default_rate_limit_is_announced(user):
    response = basic("alice", PASSWORD).get("/api/cve")
    assert response["RateLimit-Policy"] == '"api";q=1200;w=60'


def test_counters_in_redis_when_configured(limits, user):
    """With CVEWATCH_REDIS_URL the counters live in Redis, shared by every process."""
    conf = config.caches(REDIS_URL)
    prefix = f"cvewatch-test-{uuid.uuid4().hex}"
    conf["throttle"]["KEY_PREFIX"] = prefix
    server = redis.Redis.from_url(REDIS_URL)
    try:
        with override_settings(CACHES=conf):
            AxesProxyHandler.get_implementation(force=True)  # axes keeps the cache it was started with
            client = basic("alice", PASSWORD)
            for _ in range(3):
                assert client.get("/api/cve").status_code == 200
            assert client.get("/api/cve").status_code == 429
            wrong = basic("alice", "wrong", "10.0.0.7")
            wrong.get("/api/cve")
            wrong.get("/api/cve")
            assert_locked_out(wrong.get("/api/cve"))
        keys = [key.decode() for key in server.scan_iter(f"{prefix}:*")]
        assert len(keys) == 3  # alice's rate window, and the failures of alice and of 10.0.0.7
    finally:
        AxesProxyHandler.get_implementation(force=True)
        for key in server.scan_iter(f"{prefix}:*"):
            server.delete(key)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1200/minute", (1200, 60)), ("5/SECOND", (5, 1)), ("10/day", (10, 86400)), ("off", None)],
)
def test_rate_limit_setting(monkeypatch, value, expected):
    monkeypatch.setenv("CVEWATCH_API_RATE_LIMIT", value)
    assert config.api_rate_limit() == expected


@pytest.mark.parametrize("value", ["1200", "x/minute", "10/fortnight", "-1/minute", ""])
def test_rate_limit_setting_refuses_nonsense(monkeypatch, value):
    monkeypatch.setenv("CVEWATCH_API_RATE_LIMIT", value)
    with pytest.raises(config.ConfigError, match="CVEWATCH_API_RATE_LIMIT"):
        config.api_rate_limit()


def test_caches_follow_the_redis_url():
    assert config.caches("")["throttle"]["BACKEND"].endswith("LocMemCache")
    assert config.caches(REDIS_URL)["throttle"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cvewatch",
    }
