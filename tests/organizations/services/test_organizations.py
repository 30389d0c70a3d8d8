"""Creating and deleting organizations; organization names."""

from __future__ import annotations

import pytest

from cvewatch.organizations import selectors
from cvewatch.organizations.choices import Role
from cvewatch.organizations.errors import (
    DuplicateName,
    InvalidName,
    NotAllowed,
)
from cvewatch.organizations.models import (
    Membership,
    Organization,
)
from cvewatch.organizations.services import organizations

pytestmark = pytest.mark.django_db


def test_create_organization_makes_the_creator_its_owner(owner):
    org = organizations.create_organization(name="acme-corp", owner=owner)
    assert Membership.objects.get(organization=org, user=owner).role == Role.OWNER
    assert list(selectors.organizations_for(caller=owner)) == [org]


def test_duplicate_organization_name_is_refused_case_insensitively(owner):
    organizations.create_organization(name="acme", owner=owner)
    with pytest.raises(DuplicateName, match="already exists"):
        organizations.create_organization(name="ACME", owner=owner)
    assert Organization.objects.count() == 1
    assert Membership.objects.count() == 1


def test_deleting_an_organization_needs_an_owner(org, owner, member):
    with pytest.raises(NotAllowed):
        organizations.delete_organization(organization=org, actor=member)
    organizations.delete_organization(organization=org, actor=owner)
    assert not Organization.objects.exists()


@pytest.mark.parametrize(
    "name", ["", "  ", "acme corp", "acme_corp", "-acme", "acmé", "a/b", "x" * 65, "a.b"]
)
def test_invalid_organization_names_are_refused(owner, name):
    with pytest.raises(InvalidName):
        organizations.create_organization(name=name, owner=owner)
    assert Organization.objects.count() == 0
