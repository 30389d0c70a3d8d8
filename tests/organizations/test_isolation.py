"""The isolation matrix: two organizations, a user and a token of each (plus an outsider), and every
cross-organization request answered with the same 404 as a missing object, never a 403 or data."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cvewatch.organizations.services import members, projects
from tests.factories import CveFactory, VendorFactory
from tests.organizations.conftest import Tenant, make_tenant
from tests.support.people import PASSWORD, make_user

pytestmark = pytest.mark.django_db

NO_ORG = {"detail": "No Organization matches the given query."}
NO_PROJECT = {"detail": "No Project matches the given query."}


@pytest.fixture
def tenants(db) -> dict[str, Tenant]:
    VendorFactory(name="fortinet")
    VendorFactory(name="cisco")
    CveFactory(cve_id="CVE-2024-1111", vendors=["fortinet"])
    CveFactory(cve_id="CVE-2024-2222", vendors=["cisco"])
    acme = make_tenant("acme", "alice", "production", vendors=["fortinet"])
    globex = make_tenant("globex", "bob", "research", vendors=["cisco"])
    # the same project name in both organizations must not leak either
    projects.create_project(organization=acme.org, name="shared", vendors=["fortinet"], actor=acme.user)
    projects.create_project(organization=globex.org, name="shared", vendors=["cisco"], actor=globex.user)
    return {"acme": acme, "globex": globex}


def callers(tenant: Tenant) -> dict[str, APIClient]:
    return {"session": tenant.user_client(), "basic": tenant.basic_client(), "token": tenant.token_client()}


def own_paths(tenant: Tenant) -> list[str]:
    org, project = tenant.org.name, tenant.project.name
    return [
        f"/api/organizations/{org}",
        f"/api/organizations/{org}/projects",
        f"/api/organizations/{org}/projects/{project}",
        f"/api/organizations/{org}/projects/{project}/cve",
        f"/api/organizations/{org}/projects/shared",
        f"/api/organizations/{org}/projects/shared/cve",
    ]


PAIRS = [("acme", "globex"), ("globex", "acme")]


@pytest.mark.parametrize("kind", ["session", "basic", "token"])
@pytest.mark.parametrize(("me", "them"), PAIRS)
def test_each_caller_reaches_its_own_organization(tenants, kind, me, them):
    client = callers(tenants[me])[kind]
    listing = client.get("/api/organizations")
    assert listing.status_code == 200
    assert [o["name"] for o in listing.json()["results"]] == [me]
    for path in own_paths(tenants[me]):
        assert client.get(path).status_code == 200, path
    own_cves = client.get(f"/api/organizations/{me}/projects/shared/cve").json()["results"]
    expected = "CVE-2024-1111" if me == "acme" else "CVE-2024-2222"
    assert [c["cve_id"] for c in own_cves] == [expected]


@pytest.mark.parametrize("kind", ["session", "basic", "token"])
@pytest.mark.parametrize(("me", "them"), PAIRS)
def test_every_cross_organization_request_is_a_404(tenants, kind, me, them):
    client = callers(tenants[me])[kind]
    for path in own_paths(tenants[them]):
        response = client.get(path)
        assert response.status_code == 404, (kind, path)
        assert response.json() == NO_ORG, (kind, path)
    # the other organization's project names under my own organization are simply not there
    for suffix in ["", "/cve"]:
        response = client.get(f"/api/organizations/{me}/projects/{tenants[them].project.name}{suffix}")
        assert response.status_code == 404 and response.json() == NO_PROJECT


@pytest.mark.parametrize("kind", ["session", "basic", "token"])
def test_a_foreign_organization_looks_exactly_like_a_missing_one(tenants, kind):
    client = callers(tenants["acme"])[kind]
    foreign = client.get("/api/organizations/globex/projects")
    missing = client.get("/api/organizations/no-such-org/projects")
    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json()) == (404, NO_ORG)


def test_an_outsider_sees_no_organization(tenants):
    make_user("eve")
    client = APIClient()
    assert client.login(username="eve", password=PASSWORD)
    assert client.get("/api/organizations").json()["count"] == 0
    for tenant in tenants.values():
        for path in own_paths(tenant):
            assert client.get(path).json() == NO_ORG


def test_a_member_of_both_sees_both_and_loses_access_on_removal(tenants):
    acme, globex = tenants["acme"], tenants["globex"]
    members.add_member(organization=globex.org, user=acme.user, actor=globex.user)
    client = acme.basic_client()
    assert [o["name"] for o in client.get("/api/organizations").json()["results"]] == ["acme", "globex"]
    assert client.get("/api/organizations/globex/projects/research/cve").status_code == 200
    members.remove_member(organization=globex.org, user=acme.user, actor=globex.user)
    assert client.get("/api/organizations/globex/projects/research/cve").json() == NO_ORG
    # the token of acme never sees globex, whatever its creator can see
    assert acme.token_client().get("/api/organizations").json()["count"] == 1
