"""Creating and deleting organizations."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from cvewatch.organizations.choices import Role
from cvewatch.organizations.errors import DuplicateName
from cvewatch.organizations.models import Membership, Organization
from cvewatch.organizations.names import validate_name
from cvewatch.organizations.services.access import User, require_owner


def create_organization(*, name: str, owner: User) -> Organization:
    """Create an organization with `owner` as its first owner. Names are unique, case-insensitively."""
    name = validate_name(name, what="organization name")
    with transaction.atomic():
        if Organization.objects.filter(name__iexact=name).exists():
            raise DuplicateName(f"an organization named {name!r} already exists")
        try:
            with transaction.atomic():
                organization = Organization.objects.create(name=name)
        except IntegrityError:
            raise DuplicateName(f"an organization named {name!r} already exists") from None
        Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    return organization


def delete_organization(*, organization: Organization, actor: User | None) -> None:
    """Delete an organization with its projects, memberships, invitations and tokens (owners only)."""
    require_owner(organization, actor)
    with transaction.atomic():
        organization.delete()
