"""cvewatch notification create|list|test|delete: a project's alert channels (see docs/alerts.md)."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError

from cvewatch.alerts import selectors
from cvewatch.alerts.choices import Channel, DeliveryStatus, Digest
from cvewatch.alerts.management.commands._common import domain_errors, organization_named, project_named
from cvewatch.alerts.models import Notification
from cvewatch.alerts.services import notifications


def _score(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a score: {value!r}") from None


class Command(BaseCommand):
    summary = "a project's alert channels: webhook, e-mail, Slack, Teams"  # its line in `cvewatch help`
    help = "Manage a project's notifications (webhook, e-mail, Slack, Teams)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        create = actions.add_parser("create", help="create a notification")
        for name in ("org", "project", "name"):
            create.add_argument(name)
        channel = create.add_mutually_exclusive_group(required=True)
        channel.add_argument("--webhook", metavar="URL")
        channel.add_argument("--email", metavar="ADDRESS")
        channel.add_argument("--slack", metavar="URL")
        channel.add_argument("--teams", metavar="URL")
        create.add_argument("--types", default="", metavar="T[,T...]", help="event types (default: all)")
        create.add_argument("--min-cvss", type=_score, default=None, metavar="SCORE", dest="min_cvss")
        create.add_argument("--kev-only", action="store_true", dest="kev_only")
        create.add_argument("--digest", choices=[Digest.DAILY], default=None, help="a daily report instead")
        for name in ("list", "test", "delete"):
            sub = actions.add_parser(name, help=f"{name} notifications")
            sub.add_argument("org")
            sub.add_argument("project")
            if name != "list":
                sub.add_argument("name")

    def handle(self, *args, action: str, **options):
        organization = organization_named(options["org"])
        project = project_named(organization, options["project"])
        if action == "create":
            self.create(project, options)
        elif action == "list":
            for n in selectors.notifications_of(project=project):
                self.stdout.write("\t".join(self.row(n)))
        else:
            notification = selectors.notification_named(project=project, name=options["name"])
            if notification is None:
                raise CommandError(f"no notification named {options['name']!r} in {organization.name}/{project.name}")
            if action == "delete":
                notifications.delete_notification(notification=notification)
                self.stdout.write(f"deleted notification {notification.name}")
            else:
                self.test(notification)

    def create(self, project, options) -> None:
        channel, target = next(
            (kind, options[kind]) for kind in Channel.values if options.get(kind) is not None
        )
        with domain_errors():
            notification, secret = notifications.create_notification(
                project=project,
                name=options["name"],
                channel=channel,
                target=target,
                event_types=options["types"].split(","),
                min_cvss31=options["min_cvss"],
                kev_only=options["kev_only"],
                digest=options["digest"] or Digest.IMMEDIATE,
            )
        self.stdout.write(f"created notification {notification.name} ({channel} to {notification.target})")
        if secret is not None:
            self.stdout.write("webhook signing secret (shown once; receivers verify webhook-signature with it):")
            self.stdout.write(secret)
        if channel == Channel.EMAIL:
            self.stdout.write(
                f"a confirmation link was mailed to {notification.target}; nothing is sent before it is confirmed "
                "(`cvewatch notification test` mails it again)"
            )

    def test(self, notification: Notification) -> None:
        if notification.channel == Channel.EMAIL and notification.confirmed_at is None:
            outcome = notifications.send_confirmation(notification=notification)
            if not outcome.delivered:
                raise CommandError(f"the address is not confirmed and the confirmation mail failed: {outcome.detail}")
            self.stdout.write("the address is not confirmed yet: the confirmation link was mailed again")
            return
        delivery = notifications.send_test(notification=notification)
        if delivery.status != DeliveryStatus.DELIVERED:
            code = f" (status {delivery.last_status_code})" if delivery.last_status_code else ""
            raise CommandError(f"test delivery {delivery.uuid} failed{code}: {delivery.last_error}")
        self.stdout.write(f"test delivery {delivery.uuid} delivered (status {delivery.last_status_code})")

    @staticmethod
    def row(n: Notification) -> list[str]:
        filters = []
        if n.event_types:
            filters.append("types=" + ",".join(n.event_types))
        if n.min_cvss31 is not None:
            filters.append(f"min-cvss={n.min_cvss31:g}")
        if n.kev_only:
            filters.append("kev-only")
        state = "enabled" if n.enabled else "disabled"
        if n.channel == Channel.EMAIL and n.confirmed_at is None:
            state = "unconfirmed"
        return [n.name, n.channel, n.target, n.digest, state, " ".join(filters) or "-"]
