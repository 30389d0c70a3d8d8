"""Projects and their subscriptions: every refusal writes nothing."""

from __future__ import annotations

import pytest

from cvewatch.organizations import selectors
from cvewatch.organizations.errors import (
    DuplicateName,
    InvalidName,
    NotAllowed,
    UnknownProduct,
    UnknownVendor,
)
from cvewatch.organizations.models import (
    Project,
    ProjectProduct,
    ProjectVendor,
)
from cvewatch.organizations.services import organizations, projects

pytestmark = pytest.mark.django_db


def test_create_project_with_subscriptions(org, member, catalog):
    project = projects.create_project(
        organization=org,
        name="production",
        description=" servers ",
        vendors=["Fortinet"],
        products=["apache/log4j", "apache$PRODUCT$airflow", ("apache", "log4j")],
        actor=member,
    )
    assert project.description == "servers" and project.active
    assert selectors.project_subscriptions(project=project) == {
        "vendors": ["fortinet"],
        "products": {"apache": ["airflow", "log4j"]},
    }


def test_project_refusals_write_nothing(org, owner, outsider, catalog):
    projects.create_project(organization=org, name="prod", actor=owner)
    with pytest.raises(DuplicateName, match="already has a project"):
        projects.create_project(organization=org, name="PROD", actor=owner)
    with pytest.raises(InvalidName):
        projects.create_project(organization=org, name="my project", actor=owner)
    with pytest.raises(UnknownVendor, match="unknown vendors: nope, nada"):
        projects.create_project(organization=org, name="web", vendors=["apache", "nope", "nada"], actor=owner)
    with pytest.raises(UnknownProduct, match="unknown product: apache/tomcat"):
        projects.create_project(organization=org, name="web", products=["apache/tomcat"], actor=owner)
    with pytest.raises(UnknownProduct, match="VENDOR/PRODUCT"):
        projects.create_project(organization=org, name="web", products=["log4j"], actor=owner)
    with pytest.raises(NotAllowed):
        projects.create_project(organization=org, name="web", actor=outsider)
    assert list(Project.objects.values_list("name", flat=True)) == ["prod"]
    assert not ProjectVendor.objects.exists() and not ProjectProduct.objects.exists()


def test_same_project_name_in_two_organizations_is_fine(org, owner, outsider):
    other = organizations.create_organization(name="globex", owner=outsider)
    projects.create_project(organization=org, name="prod", actor=owner)
    projects.create_project(organization=other, name="prod", actor=outsider)
    assert Project.objects.filter(name="prod").count() == 2


def test_update_subscribe_and_unsubscribe(org, owner, catalog):
    project = projects.create_project(organization=org, name="prod", actor=owner)
    other = projects.create_project(organization=org, name="dev", actor=owner)
    projects.subscribe_project(project=project, vendors=["apache"], products=["apache/log4j"], actor=owner)
    projects.subscribe_project(project=project, vendors=["apache"], actor=owner)  # idempotent
    with pytest.raises(UnknownVendor):
        projects.subscribe_project(project=project, vendors=["fortinet", "ghost"], actor=owner)
    assert selectors.project_subscriptions(project=project) == {
        "vendors": ["apache"],
        "products": {"apache": ["log4j"]},
    }
    projects.unsubscribe_project(project=project, products=["apache/log4j"], actor=owner)
    assert selectors.project_subscriptions(project=project) == {"vendors": ["apache"], "products": {}}
    projects.update_project(project=project, description="new", active=False, actor=owner)
    project.refresh_from_db()
    assert (project.description, project.active) == ("new", False)
    with pytest.raises(DuplicateName):
        projects.update_project(project=project, name="dev", actor=owner)
    projects.delete_project(project=other, actor=owner)
    assert list(selectors.projects_of(organization=org)) == [project]
