"""Daily reports: one delivery per daily notification with the day's changes that touch its project."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db import IntegrityError, transaction

from cvewatch.alerts.models import Delivery
from cvewatch.alerts.services.matching import DigestDay, write_deliveries
from cvewatch.catalog.models import Change


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of a UTC day; a report's period ends one microsecond before the next day."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def write_daily_digests(*, day: date) -> list[Delivery]:
    """The day's reports for the daily notifications that have none yet; idempotent (safe to run hourly)."""
    start, end = day_bounds(day)
    done = frozenset(Delivery.objects.filter(digest_day=day).values_list("notification_id", flat=True))
    change_uuids = list(Change.objects.filter(created_at__gte=start, created_at__lt=end).values_list("uuid", flat=True))
    if not change_uuids:
        return []
    report = DigestDay(day=day, start=start, end=end - timedelta(microseconds=1), done=done)
    try:
        with transaction.atomic():
            return write_deliveries(change_uuids=change_uuids, digest=report)
    except IntegrityError:  # another worker wrote them first
        return []
