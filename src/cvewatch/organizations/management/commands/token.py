"""cvewatch token create ORG NAME [--expires YYYY-MM-DD] [--description D] | revoke ORG TOKEN_ID | list ORG.

The CLI is the operator: its tokens have no creating user and the audit trail records "cli".
"""

from __future__ import annotations

from django.utils import timezone

from cvewatch.core.management.base import DomainCommand
from cvewatch.organizations import selectors
from cvewatch.organizations.choices import TokenStatus
from cvewatch.organizations.management.commands._common import (
    add_subcommands,
    organization_named,
    parse_date,
    when,
)
from cvewatch.organizations.services import tokens


class Command(DomainCommand):
    help = "Manage organization API tokens."

    def add_arguments(self, parser):
        subs = add_subcommands(parser, {"create": self.create, "revoke": self.revoke, "list": self.list})
        create = subs["create"]
        create.add_argument("org")
        create.add_argument("name")
        create.add_argument(
            "--expires", default=None, metavar="YYYY-MM-DD", help="last day the token works (UTC)"
        )
        create.add_argument("--description", default="")
        subs["revoke"].add_argument("org")
        subs["revoke"].add_argument("token_id", help="the 12-character id (the part after 'opc_org.')")
        subs["list"].add_argument("org")

    def handle(self, *args, action: str, **options):
        {"create": self.create, "revoke": self.revoke, "list": self.list}[action](**options)

    def create(self, *, org: str, name: str, expires: str | None, description: str, **options) -> None:
        """Create a token and print it once."""
        organization = organization_named(org)
        expiry = parse_date(expires) if expires else None
        token, raw = tokens.create_token(
            organization=organization, name=name, description=description, expires=expiry, actor=None
        )
        self.stderr.write(
            f"created token {token.token_id} ({token.name}) for {organization.name}"
            + (f", valid through {expiry.isoformat()} (UTC)" if expiry else "")
            + ". This is the only time it is shown:"
        )
        self.stdout.write(raw)

    def revoke(self, *, org: str, token_id: str, **options) -> None:
        """Revoke a token now."""
        organization = organization_named(org)
        token = tokens.revoke_token(organization=organization, token_id=token_id, actor=None)
        self.stdout.write(f"revoked token {token.token_id} ({token.name}) of {organization.name}")

    def list(self, *, org: str, **options) -> None:
        """List the tokens of an organization (never their secrets)."""
        organization = organization_named(org)
        now = timezone.now()
        self.stdout.write("ID\tNAME\tSTATUS\tCREATED\tEXPIRES\tLAST USED\tCREATED BY")
        for token in selectors.tokens_of(organization=organization):
            status = token.status_at(now)
            shown = status.value
            if status == TokenStatus.REVOKED:
                shown += f" {when(token.revoked_at)}"
            creator = token.created_by.get_username() if token.created_by else "cli"
            self.stdout.write(
                f"{token.token_id}\t{token.name}\t{shown}\t{when(token.created_at)}\t{when(token.expires_at)}"
                f"\t{when(token.last_used_at)}\t{creator}"
            )
