"""The access checks every write shares: who the actor is in the organization, and the owner locks.

`actor` is the user doing the action; `actor=None` is the operator (the CLI), who may do everything and
whom the audit trail records as "cli". Owners manage members, invitations and tokens; any member manages
projects.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from cvewatch.organizations.choices import Role
from cvewatch.organizations.errors import InvalidValue, NotAllowed
from cvewatch.organizations.models import Membership, Organization

User = AbstractBaseUser  # any Django user model instance

CLI_ACTOR = "cli"


def _role_of(organization: Organization, user: User) -> str | None:
    return (
        Membership.objects.filter(organization=organization, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )


def require_member(organization: Organization, actor: User | None) -> None:
    if actor is not None and _role_of(organization, actor) is None:
        raise NotAllowed(f"you are not a member of the organization {organization.name!r}")


def require_owner(organization: Organization, actor: User | None) -> None:
    if actor is None:
        return
    role = _role_of(organization, actor)
    if role != Role.OWNER:
        if role is None:
            raise NotAllowed(f"you are not a member of the organization {organization.name!r}")
        raise NotAllowed(f"only an owner of {organization.name!r} may do this")


def actor_label(actor: User | None) -> str:
    """How the audit trail names the actor: a username, or "cli" for the operator."""
    return CLI_ACTOR if actor is None else actor.get_username()


def check_role(role: str) -> str:
    if role not in Role.values:
        raise InvalidValue(f"unknown role {role!r}: use one of {', '.join(Role.values)}")
    return role


def lock_owners(organization: Organization) -> set[object]:
    """Lock the organization's owner memberships and return the owners' user ids.

    Every role change and removal takes these locks first, in primary-key order, so two concurrent
    demotions cannot both see "another owner is left", and cannot deadlock each other (PostgreSQL). On
    SQLite the IMMEDIATE transaction already serialises writers.
    """
    return set(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Role.OWNER)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )
