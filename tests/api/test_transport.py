"""Transport: HEAD and OPTIONS, no trailing slashes, JSON whatever is asked (the generic checks of every
endpoint, 405s and query counts included, are in test_endpoints.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_head_and_options_are_allowed(api, log4shell):
    assert api.head("/api/cve").status_code == 200
    response = api.options("/api/cve/CVE-2021-44228")
    assert response.status_code == 200
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    "path",
    [
        "/api/cve/",
        "/api/cve/CVE-2021-44228/",
        "/api/vendors/",
        "/api/weaknesses/",
        "/api/organizations/",
        "/api/organizations/acme/projects/",
        "/api/",
        "/api",
        "/api/no-such-thing",
    ],
)
def test_trailing_slash_is_404_not_a_redirect(api, log4shell, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert "Location" not in response


def test_format_parameter_and_accept_header_do_not_change_json(api, log4shell):
    assert api.get("/api/cve?format=xml").json()["count"] == 1
    response = api.get("/api/cve/CVE-2021-44228", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_responses_are_json(api, log4shell):
    assert api.get("/api/cve").headers["Content-Type"] == "application/json"
