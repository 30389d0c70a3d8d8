"""cvewatch org create NAME --owner USERNAME | org list | org add-member ORG USERNAME [--role owner|member]."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cvewatch.organizations import selectors, services
from cvewatch.organizations.choices import Role
from cvewatch.organizations.management.commands._common import (
    add_subcommands,
    domain_errors,
    organization_named,
)
from cvewatch.organizations.models import Organization


class Command(BaseCommand):
    help = "Manage organizations."

    def add_arguments(self, parser):
        subs = add_subcommands(
            parser, {"create": self.create, "list": self.list, "add-member": self.add_member}
        )
        subs["create"].add_argument("name", help="letters, digits and '-'")
        subs["create"].add_argument("--owner", required=True, help="username of the first owner")
        subs["add-member"].add_argument("org")
        subs["add-member"].add_argument("username")
        subs["add-member"].add_argument("--role", choices=Role.values, default=Role.MEMBER)

    def handle(self, *args, action: str, **options):
        {"create": self.create, "list": self.list, "add-member": self.add_member}[action](**options)

    def create(self, *, name: str, owner: str, **options) -> None:
        """Create an organization owned by an existing user."""
        with domain_errors():
            user = services.get_user_by_username(owner)
            organization = services.create_organization(name=name, owner=user)
        self.stdout.write(f"created organization {organization.name} (owner {user.get_username()})")

    def list(self, **options) -> None:
        """List organizations with their member and project counts."""
        for organization in Organization.objects.order_by("name"):
            members = selectors.members_of(organization=organization)
            owners = ", ".join(m.user.get_username() for m in members if m.role == Role.OWNER)
            projects = selectors.projects_of(organization=organization).count()
            self.stdout.write(
                f"{organization.name}\t{members.count()} members\t{projects} projects\towners: {owners}"
            )

    def add_member(self, *, org: str, username: str, role: str, **options) -> None:
        """Add an existing user to an organization."""
        organization = organization_named(org)
        with domain_errors():
            user = services.get_user_by_username(username)
            services.add_member(organization=organization, user=user, role=role, actor=None)
        self.stdout.write(f"added {user.get_username()} to {organization.name} as {role}")
