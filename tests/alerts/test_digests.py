"""Daily reports: one delivery per daily notification with the day's changes that touch its project."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from cvewatch.alerts.choices import Channel, Digest
from cvewatch.alerts.models import Delivery
from cvewatch.alerts.services.digests import write_daily_digests
from cvewatch.alerts.services.notifications import create_notification
from cvewatch.catalog.models import Change
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db
DAY = date(2024, 3, 5)


def _change(cve_id, vendors, when, score=None):
    cve = CveFactory(cve_id=cve_id, vendors=vendors, cvss31_score=score)
    return Change.objects.create(
        cve=cve, created_at=when, events=[{"type": "created", "details": {}}], types=["created"]
    )


def _notification(project, name, **kwargs):
    notification, _ = create_notification(
        project=project, name=name, channel=Channel.WEBHOOK, target="https://h.example/", **kwargs
    )
    return notification


def test_a_daily_report_holds_the_days_changes_once_per_notification(project):
    daily = _notification(project, "daily", digest=Digest.DAILY)
    serious = _notification(project, "serious", digest=Digest.DAILY, min_cvss31=9.0)
    immediate = _notification(project, "now")
    _change("CVE-2024-1001", ["microsoft"], datetime(2024, 3, 5, 0, 0, tzinfo=UTC), 9.8)
    _change("CVE-2024-1002", ["samsung_mobile"], datetime(2024, 3, 5, 23, 59, 59, tzinfo=UTC), 5.0)
    _change("CVE-2024-1003", ["apple"], datetime(2024, 3, 5, 12, 0, tzinfo=UTC), 9.9)  # not watched
    _change("CVE-2024-1004", ["microsoft"], datetime(2024, 3, 6, 0, 0, tzinfo=UTC), 9.9)  # the next day

    written = write_daily_digests(day=DAY)
    assert {d.notification.name for d in written} == {"daily", "serious"}
    report = Delivery.objects.get(notification=daily)
    assert report.digest_day == DAY
    assert [c["cve"]["cve_id"] for c in report.payload["changes"]] == ["CVE-2024-1001", "CVE-2024-1002"]
    assert report.payload["title"] == "2 changes on Microsoft, Samsung Mobile"
    assert report.payload["period"] == {
        "start": "2024-03-05T00:00:00+00:00",
        "end": "2024-03-05T23:59:59.999999+00:00",
    }
    assert [c["cve"]["cve_id"] for c in Delivery.objects.get(notification=serious).payload["changes"]] == [
        "CVE-2024-1001"
    ]
    assert not immediate.deliveries.exists()

    assert write_daily_digests(day=DAY) == []  # idempotent: the hourly job may run it again
    assert Delivery.objects.filter(digest_day=DAY).count() == 2


def test_the_digest_command_writes_a_given_day(project):
    _notification(project, "daily", digest=Digest.DAILY)
    _change("CVE-2024-1001", ["microsoft"], datetime(2024, 3, 5, 8, 0, tzinfo=UTC))
    out = io.StringIO()
    call_command("delivery", "digest", "--day", "2024-03-05", stdout=out)
    assert out.getvalue().strip() == "1 daily reports written for 2024-03-05"
