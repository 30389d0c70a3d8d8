"""Roles, removal and the last-owner rule."""

from __future__ import annotations

import pytest

from cvewatch.organizations import selectors
from cvewatch.organizations.choices import Role
from cvewatch.organizations.errors import (
    InvalidValue,
    LastOwner,
    MembershipError,
    NotAllowed,
)
from cvewatch.organizations.models import (
    Membership,
)
from cvewatch.organizations.services import members

pytestmark = pytest.mark.django_db


def test_owner_promotes_and_demotes_members(org, owner, member):
    members.change_member_role(organization=org, user=member, role=Role.OWNER, actor=owner)
    assert selectors.membership_of(organization=org, user=member).role == Role.OWNER
    # with two owners, the first one may now be demoted (by the other)
    members.change_member_role(organization=org, user=owner, role=Role.MEMBER, actor=member)
    assert selectors.membership_of(organization=org, user=owner).role == Role.MEMBER


def test_members_cannot_change_roles_or_remove_others(org, owner, member, outsider):
    with pytest.raises(NotAllowed, match="only an owner"):
        members.change_member_role(organization=org, user=member, role=Role.OWNER, actor=member)
    with pytest.raises(NotAllowed, match="only an owner"):
        members.remove_member(organization=org, user=owner, actor=member)
    with pytest.raises(NotAllowed, match="not a member"):
        members.remove_member(organization=org, user=member, actor=outsider)
    assert Membership.objects.filter(organization=org).count() == 2


def test_the_last_owner_can_neither_be_demoted_nor_leave_nor_be_removed(org, owner, member):
    with pytest.raises(LastOwner):
        members.change_member_role(organization=org, user=owner, role=Role.MEMBER, actor=owner)
    with pytest.raises(LastOwner):
        members.remove_member(organization=org, user=owner, actor=owner)
    with pytest.raises(LastOwner):
        members.remove_member(organization=org, user=owner, actor=None)
    assert selectors.membership_of(organization=org, user=owner).role == Role.OWNER


def test_owner_removes_a_member_and_a_member_may_leave(org, owner, member, outsider):
    members.add_member(organization=org, user=outsider, actor=owner)
    members.remove_member(organization=org, user=member, actor=owner)
    members.remove_member(organization=org, user=outsider, actor=outsider)  # leaving
    assert [m.user for m in selectors.members_of(organization=org)] == [owner]
    with pytest.raises(MembershipError, match="not a member"):
        members.remove_member(organization=org, user=member, actor=owner)


def test_unknown_role_and_duplicate_member_are_refused(org, owner, member):
    with pytest.raises(InvalidValue, match="unknown role"):
        members.change_member_role(organization=org, user=member, role="admin", actor=owner)
    with pytest.raises(MembershipError, match="already a member"):
        members.add_member(organization=org, user=member, actor=owner)
