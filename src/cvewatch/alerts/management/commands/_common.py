"""Shared bits of the notification and delivery commands: org-scoped lookups and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError

from cvewatch.core.errors import DomainError
from cvewatch.organizations import selectors as org_selectors
from cvewatch.organizations.models import Organization, Project


def organization_named(name: str) -> Organization:
    organization = Organization.objects.filter(name__iexact=(name or "").strip()).first()
    if organization is None:
        raise CommandError(f"no organization named {name!r}")
    return organization


def project_named(organization: Organization, name: str) -> Project:
    project = org_selectors.project_for(organization=organization, name=(name or "").strip())
    if project is None:
        raise CommandError(f"no project named {name!r} in {organization.name}")
    return project


@contextmanager
def domain_errors() -> Iterator[None]:
    """A service's refusal becomes a CommandError carrying its message."""
    try:
        yield
    except DomainError as exc:
        raise CommandError(str(exc)) from None
