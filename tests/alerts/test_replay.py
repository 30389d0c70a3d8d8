"""The replay of NVD's `modified` snapshots as syncs, with projects watching some of their vendors: every change
that touches a project yields exactly the deliveries its notifications' filters allow."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from cvewatch.alerts.choices import Channel
from cvewatch.alerts.models import Delivery, Notification
from cvewatch.alerts.services.notifications import create_notification
from cvewatch.catalog.models import Change
from cvewatch.organizations.services import projects as org_projects
from tests.factories import ProductFactory, VendorFactory
from tests.sync.replay import modified_snapshots, replay_nvd_history

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cve_ids_as_before():
    """PostgreSQL sequences ignore rollbacks: put the CVE id sequence back where it was after this big replay.

    The catalog's page planner reads the highest CVE id as the catalog size; later tests count on small ids.
    """
    if connection.vendor != "postgresql":
        yield
        return
    sql = "SELECT pg_get_serial_sequence('catalog_cve', 'id')"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
        last_value, is_called = cursor.fetchone()
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(%s, %s, %s)", [sequence, last_value, is_called])

VENDORS = ["microsoft", "google", "apple", "adobe", "oracle"]


def _allowed(notification: Notification, change: Change) -> bool:
    """The filters, restated from the issue's words (not the code under test)."""
    score = change.cve.cvss31_score
    if notification.event_types and not set(notification.event_types) & set(change.types):
        return False
    if notification.min_cvss31 is not None and score is not None and score < notification.min_cvss31:
        return False  # a CVE without a v3.1 score is kept
    return not notification.kev_only or change.cve.kev_added is not None


def _expected(notification: Notification, changes: list[Change], subscriptions: set[str]) -> set[uuid.UUID]:
    """The oracle: the CVE's served vendor list (not the link tables) names a subscription, and the filters pass."""
    return {c.uuid for c in changes if subscriptions & set(c.cve.vendors) and _allowed(notification, c)}


def test_every_change_touching_a_project_yields_exactly_the_deliveries_its_filters_allow(org, settings, tmp_path):
    for name in VENDORS:
        VendorFactory(name=name)
    ProductFactory(vendor=VendorFactory(name="linux"), name="linux_kernel")
    big = org_projects.create_project(organization=org, name="big", vendors=VENDORS[:3])
    small = org_projects.create_project(
        organization=org, name="small", vendors=VENDORS[3:], products=["linux/linux_kernel"]
    )
    hook = {"channel": Channel.WEBHOOK, "target": "https://h.example/"}
    notifications = [
        create_notification(project=big, name="every", **hook)[0],
        create_notification(project=big, name="critical", min_cvss31=9.0, **hook)[0],
        create_notification(project=big, name="texts", event_types=["description", "title"], **hook)[0],
        create_notification(project=small, name="kev", kev_only=True, **hook)[0],
        create_notification(project=small, name="every", **hook)[0],
    ]
    subscriptions = {big.pk: set(VENDORS[:3]), small.pk: {*VENDORS[3:], "linux$PRODUCT$linux_kernel"}}
    feed_dir = tmp_path / "nvd-feeds"
    settings.SYNC_URLS = {**settings.SYNC_URLS, "nvd": str(feed_dir)}

    seen_changes: set[int] = set()
    seen_deliveries: set[int] = set()
    total = 0
    for step in replay_nvd_history(feed_dir, modified_snapshots()[:3]):
        assert step.run.status == "succeeded", step.snapshot
        changes = list(Change.objects.exclude(pk__in=seen_changes).select_related("cve"))
        deliveries = list(Delivery.objects.exclude(pk__in=seen_deliveries))
        seen_changes.update(c.pk for c in changes)
        seen_deliveries.update(d.pk for d in deliveries)
        for notification in notifications:
            reported = [uuid.UUID(i) for d in deliveries if d.notification_id == notification.pk for i in d.change_ids]
            assert len(reported) == len(set(reported)), (step.snapshot, notification.name)
            expected = _expected(notification, changes, subscriptions[notification.project_id])
            assert set(reported) == expected, (step.snapshot, notification.name)
            total += len(expected)
    assert total > 100  # the snapshots do touch these vendors
