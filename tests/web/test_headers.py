"""Item 6 of issue 10: deployment headers. An https CVEWATCH_BASE_URL makes cookies Secure and sends HSTS;
the Content-Security-Policy `script-src 'self'` is always sent (the browser tests check that no page breaks
it); `cvewatch check --deploy` is clean for an https deployment."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.support.processes import cvewatch, settings_under

pytestmark = pytest.mark.django_db

HTTPS = "https://cve.example.com"
COOKIES = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS")


def test_check_deploy_is_clean_for_an_https_deployment(tmp_path):
    done = cvewatch("check", "--deploy", env={"CVEWATCH_DATA_DIR": str(tmp_path), "CVEWATCH_BASE_URL": HTTPS})
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout, done.stdout + done.stderr
    # A plain-http deployment is not, and says why: the test can fail.
    plain = cvewatch("check", "--deploy", env={"CVEWATCH_DATA_DIR": str(tmp_path)})
    assert "security.W012" in plain.stdout + plain.stderr


def test_https_makes_cookies_secure_and_turns_hsts_on(tmp_path):
    https = settings_under({"CVEWATCH_DATA_DIR": str(tmp_path), "CVEWATCH_BASE_URL": HTTPS}, *COOKIES)
    assert https == ["True", "True", "31536000", "True"]
    plain = settings_under({"CVEWATCH_DATA_DIR": str(tmp_path)}, *COOKIES)
    assert plain == ["False", "False", "0", "False"]
    (origins,) = settings_under(
        {"CVEWATCH_DATA_DIR": str(tmp_path), "CVEWATCH_BASE_URL": HTTPS + "/"}, "CSRF_TRUSTED_ORIGINS"
    )
    assert origins == f"[{HTTPS!r}]"


def test_every_answer_carries_the_csp_and_no_hsts_over_http():
    client = Client()
    for path in ("/login", "/api/cve", "/static/cvewatch/app.js", "/no-such-page"):
        response = client.get(path)
        assert "script-src 'self'" in response["Content-Security-Policy"], path
        assert "Strict-Transport-Security" not in response, path


def test_an_https_deployment_sends_hsts_and_secure_cookies(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.CSRF_COOKIE_SECURE = True
    # Through a proxy that does not pass the scheme on, the request looks like plain http: HSTS still goes.
    response = Client().get("/login")
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response.cookies["csrftoken"]["secure"] is True
    secure = Client().get("/login", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
