"""Project pages: list, create, edit, (de)activate, delete with confirmation, catalog search, subscriptions, CVEs."""

from __future__ import annotations

import pytest

from cvewatch.organizations import selectors
from cvewatch.organizations.models import Project
from cvewatch.organizations.services import projects

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org, owner, catalog):
    return projects.create_project(organization=org, name="prod", description="Production stack", actor=owner)


def test_create_and_list(member_client, org, catalog):
    # Any member manages projects.
    assert member_client.get("/org/acme/new-project").status_code == 200
    created = member_client.post("/org/acme/new-project", {"name": "web-shop", "description": "The shop"})
    assert created.status_code == 302 and created["Location"] == "/org/acme/projects/web-shop"
    listing = member_client.get("/org/acme/projects").content.decode()
    assert "web-shop" in listing and "The shop" in listing and ">active<" in listing


def test_create_reports_the_services_errors(owner_client, project):
    invalid = owner_client.post("/org/acme/new-project", {"name": "no spaces please"})
    assert invalid.status_code == 400 and b"invalid project name" in invalid.content
    duplicate = owner_client.post("/org/acme/new-project", {"name": "PROD"})
    assert duplicate.status_code == 400 and b"already has a project named" in duplicate.content
    assert Project.objects.count() == 1


def test_edit_rename_and_deactivate(owner_client, project):
    form = owner_client.get("/org/acme/projects/prod/edit")
    assert form.status_code == 200 and b'value="prod"' in form.content
    saved = owner_client.post(
        "/org/acme/projects/prod/edit", {"name": "production", "description": "new", "active": ""}
    )
    assert saved.status_code == 302 and saved["Location"] == "/org/acme/projects/production"
    project.refresh_from_db()
    assert (project.name, project.description, project.active) == ("production", "new", False)
    owner_client.post("/org/acme/projects/production/active", {"active": "1"})
    project.refresh_from_db()
    assert project.active
    owner_client.post("/org/acme/projects/production/active", {"active": "0"})
    project.refresh_from_db()
    assert not project.active


def test_delete_needs_confirmation(owner_client, project):
    confirm = owner_client.get("/org/acme/projects/prod/delete")
    assert confirm.status_code == 200 and b"Delete prod?" in confirm.content
    assert Project.objects.filter(pk=project.pk).exists()
    done = owner_client.post("/org/acme/projects/prod/delete")
    assert done.status_code == 302 and done["Location"] == "/org/acme/projects"
    assert not Project.objects.filter(pk=project.pk).exists()
    assert owner_client.get("/org/acme/projects/prod").status_code == 404


def test_catalog_search_partial_for_htmx(owner_client, project):
    partial = owner_client.get("/org/acme/projects/prod/search", {"q": "log"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    text = partial.content.decode()
    assert "<html" not in text  # a fragment, not a page
    assert 'name="product" value="apache/log4j"' in text
    vendors = owner_client.get("/org/acme/projects/prod/search", {"q": "VMw"}).content.decode()
    assert 'name="vendor" value="vmware"' in vendors
    assert (
        "Nothing in the catalog matches"
        in owner_client.get("/org/acme/projects/prod/search", {"q": "zzz"}).content.decode()
    )
    assert (
        "at least two characters"
        in owner_client.get("/org/acme/projects/prod/search", {"q": "a"}).content.decode()
    )
    # Without JavaScript the same results are part of the page (`find`: `q` is the CVE list's query there).
    page = owner_client.get("/org/acme/projects/prod", {"find": "log"}).content.decode()
    assert 'value="apache/log4j"' in page


def test_subscribe_shows_cves_and_unsubscribe(owner_client, project):
    page = owner_client.get("/org/acme/projects/prod")
    assert page.context["page"].paginator.count == 0

    owner_client.post("/org/acme/projects/prod/subscribe", {"product": "apache/log4j"})
    owner_client.post("/org/acme/projects/prod/subscribe", {"vendor": "vmware"})
    assert selectors.project_subscriptions(project=project) == {
        "vendors": ["vmware"],
        "products": {"apache": ["log4j"]},
    }
    page = owner_client.get("/org/acme/projects/prod")
    assert [c.cve_id for c in page.context["page"].object_list] == ["CVE-2021-44228", "CVE-2022-22965"]
    filtered = owner_client.get("/org/acme/projects/prod", {"cvss": "critical"})
    assert [c.cve_id for c in filtered.context["page"].object_list] == ["CVE-2021-44228"]

    owner_client.post("/org/acme/projects/prod/unsubscribe", {"vendor": "vmware"})
    page = owner_client.get("/org/acme/projects/prod")
    assert [c.cve_id for c in page.context["page"].object_list] == ["CVE-2021-44228"]


def test_subscription_errors_are_shown(owner_client, project):
    unknown = owner_client.post("/org/acme/projects/prod/subscribe", {"vendor": "nosuchvendor"}, follow=True)
    assert b"unknown vendor: nosuchvendor" in unknown.content
    nothing = owner_client.post("/org/acme/projects/prod/subscribe", {}, follow=True)
    assert b"Choose a vendor or a product" in nothing.content
    bad = owner_client.post("/org/acme/projects/prod/subscribe", {"product": "log4j"}, follow=True)
    assert b"write it as VENDOR/PRODUCT" in bad.content
    assert selectors.project_subscriptions(project=project) == {"vendors": [], "products": {}}


def test_outsider_gets_404_for_every_project_page(outsider_client, project):
    base = "/org/acme/projects/prod"
    for path in (base, base + "/edit", base + "/delete", base + "/search?q=log", "/org/acme/projects"):
        assert outsider_client.get(path).status_code == 404, path
    for path, data in (
        (base + "/subscribe", {"vendor": "apache"}),
        (base + "/delete", {}),
        (base + "/active", {"active": "0"}),
        (base + "/edit", {"name": "x"}),
        ("/org/acme/new-project", {"name": "intruder"}),
    ):
        assert outsider_client.post(path, data).status_code == 404, path
    project.refresh_from_db()
    assert project.active and project.name == "prod" and Project.objects.count() == 2  # + globex's


def test_project_of_another_organization_is_404(owner_client, other_org, org):
    assert owner_client.get("/org/globex/projects/secret-plan").status_code == 404
    assert owner_client.get("/org/acme/projects/secret-plan").status_code == 404
