"""cvewatch org create NAME --owner USERNAME | org list | org add-member ORG USERNAME [--role owner|member]
| org invite ORG EMAIL [--role owner|member]."""

from __future__ import annotations

from cvewatch.core.management.base import DomainCommand
from cvewatch.organizations import selectors
from cvewatch.organizations.choices import Role
from cvewatch.organizations.management.commands._common import add_subcommands, organization_named, user_named
from cvewatch.organizations.services import invitations, members, organizations


class Command(DomainCommand):
    help = "Manage organizations."

    def add_arguments(self, parser):
        self.actions = {
            "create": self.create,
            "list": self.list,
            "add-member": self.add_member,
            "invite": self.invite,
        }
        subs = add_subcommands(parser, self.actions)
        subs["create"].add_argument("name", help="letters, digits and '-'")
        subs["create"].add_argument("--owner", required=True, help="username of the first owner")
        subs["add-member"].add_argument("org")
        subs["add-member"].add_argument("username")
        subs["add-member"].add_argument("--role", choices=Role.values, default=Role.MEMBER)
        subs["invite"].add_argument("org")
        subs["invite"].add_argument("email")
        subs["invite"].add_argument("--role", choices=Role.values, default=Role.MEMBER)

    def handle(self, *args, action: str, **options):
        self.actions[action](**options)

    def create(self, *, name: str, owner: str, **options) -> None:
        """Create an organization owned by an existing user."""
        user = user_named(owner)
        organization = organizations.create_organization(name=name, owner=user)
        self.stdout.write(f"created organization {organization.name} (owner {user.get_username()})")

    def list(self, **options) -> None:
        """List organizations with their member and project counts."""
        for organization in selectors.all_organizations():
            members_ = selectors.members_of(organization=organization)
            owners = ", ".join(m.user.get_username() for m in members_ if m.role == Role.OWNER)
            projects = selectors.projects_of(organization=organization).count()
            self.stdout.write(
                f"{organization.name}\t{members_.count()} members\t{projects} projects\towners: {owners}"
            )

    def add_member(self, *, org: str, username: str, role: str, **options) -> None:
        """Add an existing user to an organization."""
        organization = organization_named(org)
        user = user_named(username)
        members.add_member(organization=organization, user=user, role=role, actor=None)
        self.stdout.write(f"added {user.get_username()} to {organization.name} as {role}")

    def invite(self, *, org: str, email: str, role: str, **options) -> None:
        """Invite an e-mail address: mail them the link, and print it."""
        organization = organization_named(org)
        sent = invitations.invite_member(organization=organization, email=email, role=role, actor=None)
        if sent.mailed:
            self.stderr.write(f"invited {sent.invitation.email} to {organization.name} as {role}; mail sent.")
        else:
            self.stderr.write(
                f"invited {sent.invitation.email} to {organization.name} as {role}, but no mail was sent "
                f"({sent.mail_error}): pass the link on yourself."
            )
        self.stdout.write(sent.link)
