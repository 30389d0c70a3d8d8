"""Memberships: adding a user directly, changing roles, removing and leaving. Never without an owner."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cvewatch.organizations.choices import Role
from cvewatch.organizations.errors import LastOwner, MembershipError
from cvewatch.organizations.models import Membership, Organization
from cvewatch.organizations.services.access import User, check_role, lock_owners, require_owner


def add_member(
    *, organization: Organization, user: User, role: str = Role.MEMBER, actor: User | None = None
) -> Membership:
    """Add an existing user directly (operator or owner); invitations are the usual way in."""
    check_role(role)
    require_owner(organization, actor)
    with transaction.atomic():
        if Membership.objects.filter(organization=organization, user_id=user.pk).exists():
            raise MembershipError(f"{user.get_username()} is already a member of {organization.name!r}")
        return Membership.objects.create(organization=organization, user=user, role=role)


def change_member_role(
    *, organization: Organization, user: User, role: str, actor: User | None
) -> Membership:
    """Change a member's role (owners only). The last owner cannot be demoted."""
    check_role(role)
    with transaction.atomic():
        owners = lock_owners(organization)
        require_owner(organization, actor)
        membership = (
            Membership.objects.select_for_update().filter(organization=organization, user_id=user.pk).first()
        )
        if membership is None:
            raise MembershipError(f"{user.get_username()} is not a member of {organization.name!r}")
        if membership.role == role:
            return membership
        if membership.role == Role.OWNER and len(owners) <= 1:
            raise LastOwner(
                f"{user.get_username()} is the last owner of {organization.name!r} and cannot be demoted"
            )
        membership.role = role
        membership.updated_at = timezone.now()
        membership.save(update_fields=["role", "updated_at"])
        return membership


def remove_member(*, organization: Organization, user: User, actor: User | None) -> None:
    """Remove a member: owners may remove anyone, a member may remove themself (leave). Never the last owner."""
    with transaction.atomic():
        owners = lock_owners(organization)
        if actor is None or actor.pk != user.pk:
            require_owner(organization, actor)
        membership = (
            Membership.objects.select_for_update().filter(organization=organization, user_id=user.pk).first()
        )
        if membership is None:
            raise MembershipError(f"{user.get_username()} is not a member of {organization.name!r}")
        if membership.role == Role.OWNER and len(owners) <= 1:
            raise LastOwner(
                f"{user.get_username()} is the last owner of {organization.name!r}: "
                "make another member an owner first"
            )
        membership.delete()
