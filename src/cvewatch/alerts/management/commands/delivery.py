"""cvewatch delivery list|retry|send-due|digest: the delivery log of an organization, sending by hand."""

from __future__ import annotations

import argparse
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cvewatch.alerts import selectors
from cvewatch.alerts.choices import DeliveryStatus
from cvewatch.alerts.management.commands._common import domain_errors, organization_named, project_named
from cvewatch.alerts.services import digests, sending


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (YYYY-MM-DD)") from None


def _when(value) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


class Command(BaseCommand):
    help = "List, retry and send alert deliveries."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        listing = actions.add_parser("list", help="the organization's deliveries, newest first")
        listing.add_argument("org")
        listing.add_argument("--project", default=None, metavar="P")
        listing.add_argument("--status", choices=DeliveryStatus.values, default=None)
        listing.add_argument("--limit", type=int, default=100)
        retry = actions.add_parser("retry", help="send a failed delivery again (a new retry window)")
        retry.add_argument("org")
        retry.add_argument("delivery_id", metavar="DELIVERY_ID")
        actions.add_parser("send-due", help="send every delivery that is due now, then exit")
        digest = actions.add_parser("digest", help="write the daily reports of a day (default: yesterday, UTC)")
        digest.add_argument("--day", type=_day, default=None, metavar="YYYY-MM-DD")

    def handle(self, *args, action: str, **options):
        if action == "digest":
            day = options["day"] or (timezone.now() - timedelta(days=1)).date()
            written = digests.write_daily_digests(day=day)
            self.stdout.write(f"{len(written)} daily reports written for {day.isoformat()}")
            return
        if action == "send-due":
            report = sending.send_due()
            self.stdout.write(
                f"attempted {report.attempted}: {report.delivered} delivered, {report.retrying} to retry, "
                f"{report.failed} failed"
            )
            return
        organization = organization_named(options["org"])
        if action == "list":
            project = project_named(organization, options["project"]) if options["project"] else None
            rows = selectors.deliveries_of(organization=organization, project=project, status=options["status"])
            for d in rows[: options["limit"]]:
                code = "-" if d.last_status_code is None else str(d.last_status_code)
                fields = [
                    str(d.uuid), d.notification.project.name, d.notification.name, d.status, str(d.attempts),
                    code, _when(d.created_at), _when(d.last_attempt_at), d.payload.get("title", ""),
                    (d.last_error or "-").replace("\n", " ")[:120],
                ]  # fmt: skip
                self.stdout.write("\t".join(fields))
            return
        delivery = selectors.delivery_for(organization=organization, delivery_id=options["delivery_id"])
        if delivery is None:
            raise CommandError(f"no delivery {options['delivery_id']!r} in {organization.name}")
        with domain_errors():
            sending.retry_delivery(delivery=delivery)
        status = sending.send_now(delivery=delivery)
        self.stdout.write(f"delivery {delivery.uuid}: {status}")
        if status != DeliveryStatus.DELIVERED:
            delivery.refresh_from_db()
            self.stdout.write(f"last error: {delivery.last_error or '-'}")
