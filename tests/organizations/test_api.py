"""The organization endpoints and token authentication, through the real URL conf and DRF stack.

The generic checks of every endpoint (401, 404 body, pagination, 405, query counts) are in
tests/api/test_endpoints.py."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cvewatch.organizations import selectors
from cvewatch.organizations.callers import TokenUser
from cvewatch.organizations.models import OrganizationToken
from cvewatch.organizations.services import organizations, projects, tokens
from tests.factories import CveFactory, ProductFactory, VendorFactory
from tests.organizations.conftest import Tenant, make_tenant

pytestmark = pytest.mark.django_db

CHALLENGE = 'Basic realm="api"'


def bearer(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    return client


@pytest.fixture
def acme(db) -> Tenant:
    apache = VendorFactory(name="apache")
    ProductFactory(vendor=apache, name="log4j")
    VendorFactory(name="fortinet")
    return make_tenant("acme", "alice", "production", vendors=["fortinet"], products=["apache/log4j"])


# --- token authentication edge cases --------------------------------------------------------------------


def test_a_valid_token_reads_the_catalog_and_its_organization(acme):
    client = acme.token_client()
    assert client.get("/api/cve").status_code == 200
    assert client.get("/api/cve?tag=anything").status_code == 200  # tags are a person's: ignored for tokens
    assert client.get("/api/vendors/fortinet").status_code == 200
    response = client.get("/api/organizations")
    assert response.status_code == 200
    assert [o["name"] for o in response.json()["results"]] == ["acme"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abcdef",  # not ours
        "Bearer opc_usr.abcdefghijkl.0123456789abcdefghijklmnopqrstuv",  # wrong prefix
        "Bearer opc_org.abcdefghijkl",  # two parts
        "Bearer opc_org.abcdefghijkl.0123456789abcdefghijklmnopqrstuv.more",  # four parts
        "Bearer",
        "Token opc_org.abcdefghijkl.0123456789abcdefghijklmnopqrstuv",  # another scheme
    ],
)
def test_bearer_values_that_are_not_ours_count_as_no_credentials(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/organizations")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == CHALLENGE


def _invalid(response) -> None:
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert response["WWW-Authenticate"] == CHALLENGE


def test_unknown_id_and_wrong_secret_are_invalid_tokens(acme):
    _, token_id, secret = acme.token.split(".")
    _invalid(bearer("opc_org.AAAAAAAAAAAA." + secret).get("/api/cve"))
    _invalid(bearer(f"opc_org.{token_id}.{secret[::-1]}").get("/api/cve"))
    _invalid(bearer(f"opc_org.{token_id}.short").get("/api/organizations"))
    _invalid(bearer(f"opc_org.{token_id}.{secret[:-1]}é").get("/api/organizations"))


def test_revoked_token_is_refused_on_the_next_request(acme):
    client = acme.token_client()
    assert client.get("/api/organizations/acme").status_code == 200
    tokens.revoke_token(organization=acme.org, token_id=acme.token.split(".")[1], actor=acme.user)
    _invalid(client.get("/api/organizations/acme"))
    _invalid(client.get("/api/cve"))


def test_expired_token_is_refused(acme):
    OrganizationToken.objects.filter(organization=acme.org).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    _invalid(acme.token_client().get("/api/organizations"))


def test_token_of_a_deleted_organization_is_refused(acme):
    organizations.delete_organization(organization=acme.org, actor=acme.user)
    _invalid(acme.token_client().get("/api/cve"))


def test_token_use_records_last_used_at(acme):
    assert OrganizationToken.objects.get().last_used_at is None
    acme.token_client().get("/api/organizations")
    assert OrganizationToken.objects.get().last_used_at is not None


def test_basic_and_session_callers_still_work(acme):
    assert acme.basic_client().get("/api/organizations/acme").status_code == 200
    assert acme.user_client().get("/api/organizations/acme").status_code == 200


# --- shapes ---------------------------------------------------------------------------------------------


def test_organization_list_and_detail_shapes(acme):
    organizations.create_organization(name="zeta", owner=acme.user)
    organizations.create_organization(name="beta", owner=acme.user)
    client = acme.basic_client()
    body = client.get("/api/organizations").json()
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    assert [o["name"] for o in body["results"]] == ["acme", "beta", "zeta"]
    detail = client.get("/api/organizations/acme").json()
    assert detail == body["results"][0]
    assert list(detail) == ["id", "created_at", "updated_at", "name"]
    assert detail["id"] == str(acme.org.uuid)
    assert detail["created_at"].endswith("Z")


def test_project_list_includes_inactive_projects_by_name(acme):
    projects.create_project(organization=acme.org, name="archive", active=False, actor=acme.user)
    projects.create_project(organization=acme.org, name="staging", description="pre-prod", actor=acme.user)
    body = acme.token_client().get("/api/organizations/acme/projects").json()
    assert [p["name"] for p in body["results"]] == ["archive", "production", "staging"]
    staging = body["results"][2]
    assert list(staging) == ["id", "created_at", "updated_at", "name", "description"]
    assert staging["description"] == "pre-prod"


def test_project_detail_groups_subscriptions(acme):
    ProductFactory(vendor=VendorFactory(name="apache"), name="airflow")
    projects.subscribe_project(project=acme.project, products=["apache/airflow"], actor=acme.user)
    detail = acme.token_client().get("/api/organizations/acme/projects/production").json()
    assert list(detail) == ["id", "created_at", "updated_at", "name", "description", "subscriptions"]
    assert detail["id"] == str(acme.project.uuid)
    assert detail["subscriptions"] == {"vendors": ["fortinet"], "products": {"apache": ["airflow", "log4j"]}}


def test_project_detail_without_subscriptions(acme):
    projects.create_project(organization=acme.org, name="empty", actor=acme.user)
    detail = acme.token_client().get("/api/organizations/acme/projects/empty").json()
    assert detail["subscriptions"] == {"vendors": [], "products": {}}


# --- the project's CVEs ---------------------------------------------------------------------------------


def _at(day: int) -> dt.datetime:
    return dt.datetime(2024, 3, day, tzinfo=dt.UTC)


@pytest.fixture
def cves(acme):
    """CVEs of fortinet (vendor subscription) and apache/log4j (product subscription), and others."""
    return {
        "forti_hi": CveFactory(
            cve_id="CVE-2024-0001",
            vendors=["fortinet"],
            updated_at=_at(5),
            cvss31_score=9.8,
            weaknesses=["CWE-787"],
        ),
        "log4j": CveFactory(
            cve_id="CVE-2021-44228",
            vendors=["apache", "apache$PRODUCT$log4j"],
            updated_at=_at(4),
            cvss31_score=10.0,
        ),
        "forti_lo": CveFactory(
            cve_id="CVE-2024-0002",
            vendors=["fortinet", "fortinet$PRODUCT$fortios"],
            updated_at=_at(3),
            cvss31_score=3.1,
            description="Remote overflow in FortiOS",
        ),
        "airflow": CveFactory(
            cve_id="CVE-2024-0003", vendors=["apache", "apache$PRODUCT$airflow"], updated_at=_at(9)
        ),
        "msft": CveFactory(cve_id="CVE-2024-0004", vendors=["microsoft"], updated_at=_at(10)),
    }


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["cve_id"] for c in response.json()["results"]]


def test_project_cves_are_the_subscribed_ones_newest_first(acme, cves):
    response = acme.token_client().get("/api/organizations/acme/projects/production/cve")
    assert _ids(response) == ["CVE-2024-0001", "CVE-2021-44228", "CVE-2024-0002"]
    assert response.json()["count"] == 3
    assert list(response.json()["results"][0]) == ["created_at", "updated_at", "cve_id", "description"]


def test_project_cves_take_the_cve_filters(acme, cves):
    client = acme.token_client()
    base = "/api/organizations/acme/projects/production/cve"
    assert _ids(client.get(base + "?cvss=critical")) == ["CVE-2024-0001", "CVE-2021-44228"]
    assert _ids(client.get(base + "?cvss=low")) == ["CVE-2024-0002"]
    assert _ids(client.get(base + "?vendor=apache")) == ["CVE-2021-44228"]
    assert _ids(client.get(base + "?vendor=fortinet&product=fortios")) == ["CVE-2024-0002"]
    assert _ids(client.get(base + "?search=overflow")) == ["CVE-2024-0002"]
    assert _ids(client.get(base + "?weakness=CWE-787")) == ["CVE-2024-0001"]
    assert _ids(client.get(base + "?vendor=microsoft")) == []  # exists in the catalog, not subscribed
    unknown = client.get(base + "?vendor=nosuchvendor")
    assert unknown.status_code == 404 and unknown.json() == {"detail": "No Vendor matches the given query."}


def test_project_without_subscriptions_has_no_cves(acme, cves):
    projects.create_project(organization=acme.org, name="empty", actor=acme.user)
    body = acme.token_client().get("/api/organizations/acme/projects/empty/cve").json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def test_the_secret_never_reaches_the_logs(acme, caplog):
    _, token_id, secret = acme.token.split(".")
    caplog.set_level(logging.DEBUG)
    with CaptureQueriesContext(connection) as queries:
        acme.token_client().get("/api/organizations/acme")
        bearer(f"opc_org.{token_id}.{secret[::-1]}").get("/api/organizations/acme")
        tokens.revoke_token(organization=acme.org, token_id=token_id, actor=acme.user)
        acme.token_client().get("/api/cve")
    assert not [q for q in queries.captured_queries if secret in q["sql"] or secret[::-1] in q["sql"]]
    assert caplog.records  # the 401s are logged by django.request...
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert secret not in logged and secret[::-1] not in logged  # ...without the secret


def test_token_user_behaves_like_an_unprivileged_authenticated_user(acme):
    token = tokens.authenticate_token(raw=acme.token)
    user = TokenUser(token)
    assert user.is_authenticated and not user.is_anonymous and user.is_active
    assert not (user.is_staff or user.is_superuser)
    assert user.pk is None and user.organization == acme.org and user.token == token
    assert user.get_username() == str(user) == f"token:{token.token_id}"
    assert not user.has_perm("organizations.add_organization") and not user.has_module_perms("organizations")
    assert user.get_all_permissions() == set() and list(user.groups.all()) == []
    assert user == TokenUser(token) and len({user, TokenUser(token)}) == 1
    # selectors scope it to its organization; person-scoped reads find nothing rather than crash
    assert list(selectors.organizations_for(caller=user)) == [acme.org]
    assert selectors.membership_of(organization=acme.org, user=user) is None
