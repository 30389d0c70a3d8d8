"""A NUL in a path, a parameter, a form field, a cookie or a credential is refused cleanly on both engines.

PostgreSQL answered every one of these with a 500 (even before login) and SQLite's `search=%00` matched
every CVE. One middleware (`web/nul_bytes.py`) and the Basic authentication class refuse them now: 404 for a
path, 400 for a parameter, 401 for a credential.
"""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cvewatch.organizations.services import projects
from tests.factories import CveFactory
from tests.support.people import PASSWORD
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

NUL_400 = {"detail": "Null characters are not allowed."}

API_PARAMETERS = [
    "/api/cve?search=%00",
    "/api/cve?search=log%00j",
    "/api/cve?vendor=%00",
    "/api/cve?vendor=apache&product=%00",
    "/api/cve?weakness=CWE-%00",
    "/api/cve?cvss=%00",
    "/api/cve?tag=%00",
    "/api/cve?page=%00",
    "/api/cve?%00=1",
    "/api/vendors?page=%00",
    "/api/organizations/acme/projects/web/cve?search=%00",
    "/api/organizations/acme/projects/web/cve?vendor=%00",
]

API_PATHS = [
    "/api/cve/CVE-2021-44228%00",
    "/api/cve/%00",
    "/api/vendors/%00",
    "/api/vendors/apache%00/products",
    "/api/vendors/apache/products/%00",
    "/api/vendors/apache/products/log4j%00/cve",
    "/api/vendors/%00/cve",
    "/api/weaknesses/CWE-%00",
    "/api/weaknesses/CWE-502%00/cve",
    "/api/organizations/%00",
    "/api/organizations/acme%00/projects",
    "/api/organizations/acme/projects/%00",
    "/api/organizations/acme/projects/web%00/cve",
    "/api/%00",
]

WEB_PATHS = [
    "/cve/CVE-2021-44228%00",
    "/cve/%00",
    "/vendors/%00",
    "/org/acme%00/projects",
    "/org/acme/projects/web%00",
    "/invitations/%00",
    "/%00",
]

WEB_PARAMETERS = [
    "/cve?search=%00",
    "/cve?vendor=%00",
    "/cve?weakness=CWE-%00",
    "/vendors?search=%00",
    "/org/acme/projects/web?search=%00",
    "/org/acme/projects/web/search?q=%00",
    "/login?next=%00",
]


@pytest.fixture
def acme_web(org, owner):
    """acme's project `web`, and a CVE so that `search=%00` matching everything would show."""
    CveFactory(cve_id="CVE-2021-44228", vendors=["apache", "apache$PRODUCT$log4j"], weaknesses=["CWE-502"])
    projects.create_project(organization=org, name="web", actor=owner, vendors=["apache"])
    return org


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
def api_as_owner(owner, acme_web) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(owner.get_username(), PASSWORD))
    return client


@pytest.mark.parametrize("url", API_PARAMETERS)
def test_a_nul_in_an_api_parameter_is_400(api_as_owner, url):
    response = api_as_owner.get(url)
    assert (response.status_code, response.json()) == (400, NUL_400)
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("url", API_PATHS)
def test_a_nul_in_an_api_path_is_the_json_404(api_as_owner, url):
    response = api_as_owner.get(url)
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


@pytest.mark.parametrize("url", ["/api/cve?search=%00", "/api/vendors/%00", "/api/cve/CVE-2021-44228%00"])
def test_before_login_too(acme_web, url):
    response = APIClient().get(url)
    assert response.status_code in (400, 404)
    assert "detail" in response.json()


@pytest.mark.parametrize(
    ("username", "password"),
    [("\x00", "x"), ("olivia\x00", PASSWORD), ("olivia", PASSWORD + "\x00"), ("\x00olivia", "\x00")],
)
def test_a_nul_in_a_basic_credential_is_401(acme_web, username, password):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(username, password))
    response = client.get("/api/cve")
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid username/password."})
    assert response["WWW-Authenticate"] == 'Basic realm="api"'


def test_a_nul_in_a_bearer_token_is_401(acme_web):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer opc_org.abcdefghijk\x00.abcdefghijklmnopqrstuvwxyz01234\x00")
    response = client.get("/api/cve")
    assert response.status_code == 401


def test_the_same_requests_without_a_nul_still_answer(api_as_owner):
    assert api_as_owner.get("/api/cve?search=log4j").json()["count"] == 1
    assert api_as_owner.get("/api/cve?search=nothing-like-this").json()["count"] == 0
    assert api_as_owner.get("/api/organizations/acme/projects/web/cve").json()["count"] == 1


@pytest.mark.parametrize("url", WEB_PATHS)
def test_a_nul_in_a_page_path_is_the_404_page(owner, acme_web, url):
    response = client_for(owner).get(url)
    assert response.status_code == 404
    assert b"Not found" in response.content


@pytest.mark.parametrize("url", WEB_PARAMETERS)
def test_a_nul_in_a_page_parameter_is_400(owner, acme_web, url):
    assert client_for(owner).get(url).status_code == 400


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/login", {"username": "olivia\x00", "password": PASSWORD}),
        ("/org/switch", {"organization": "acme\x00"}),
        ("/org/acme/projects/web/subscribe", {"vendor": "apache\x00"}),
    ],
)
def test_a_nul_in_a_form_field_is_400(owner, acme_web, url, data):
    client = Client() if url == "/login" else client_for(owner)
    assert client.post(url, data).status_code == 400


def test_a_nul_in_the_session_cookie_is_no_session(acme_web):
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00"
    response = client.get("/cve")
    assert response.status_code == 302  # to the login page: no session, no 500
    response = APIClient(HTTP_COOKIE='sessionid="\\000abcdefgh"').get("/api/cve")
    assert response.status_code == 401
