"""The project's notification and delivery-log pages (server-rendered), through Django's test client."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from standardwebhooks.webhooks import Webhook

from cvewatch.alerts.choices import DeliveryStatus
from cvewatch.alerts.models import Delivery, Notification
from cvewatch.alerts.services import sending
from cvewatch.alerts.services.matching import write_deliveries
from cvewatch.catalog.models import Change
from tests.alerts.conftest import always
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db
BASE = "/org/acme/projects/production"


@pytest.fixture
def client(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def test_create_a_webhook_see_its_secret_once_test_it_and_delete_it(client, project, receiver):
    response = client.post(
        f"{BASE}/notifications",
        {"name": "soc", "channel": "webhook", "target": receiver.url("/hook"), "event_types": ["created"],
         "min_cvss31": "7", "digest": "immediate"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("max-age=0")
    secret = re.search(r'id="new-secret-value">(whsec_[^<]+)<', response.content.decode()).group(1)
    notification = Notification.objects.get(name="soc")
    assert notification.event_types == ["created"] and notification.min_cvss31 == 7.0
    listing = client.get(f"{BASE}/notifications").content.decode()
    assert "soc" in listing and secret not in listing

    response = client.post(f"{BASE}/notifications/soc/test", follow=True)
    assert "Test sent to soc (status 200)" in response.content.decode()
    (request,) = receiver.at("/hook")
    Webhook(secret).verify(request.body, request.headers)

    client.post(f"{BASE}/notifications/soc/delete")
    assert not Notification.objects.filter(name="soc").exists()


def test_a_refused_notification_shows_why(client, project):
    response = client.post(
        f"{BASE}/notifications", {"name": "x", "channel": "webhook", "target": "ftp://nope", "digest": "immediate"}
    )
    assert response.status_code == 400
    assert "invalid webhook URL" in response.content.decode()


def test_the_delivery_log_shows_failures_and_retries_them(client, project, receiver):
    client.post(
        f"{BASE}/notifications",
        {"name": "soc", "channel": "webhook", "target": receiver.url("/hook", always(404, b"gone")),
         "digest": "immediate"},
    )  # fmt: skip
    cve = CveFactory(vendors=["microsoft"])
    change = Change.objects.create(cve=cve, events=[{"type": "created", "details": {}}], types=["created"])
    (delivery,) = write_deliveries(change_uuids=[change.uuid])
    sending.send_due()
    page = client.get(f"{BASE}/deliveries?status=failed").content.decode()
    assert f'id="delivery-{delivery.uuid}"' in page
    assert "HTTP 404: gone" in page and ">404<" in page and "1 change on Microsoft" in page
    assert f"deliveries/{delivery.uuid}/retry" in page

    receiver.scripts["/hook"] = always(200)
    response = client.post(f"{BASE}/deliveries/{delivery.uuid}/retry", follow=True)
    assert f"Delivery {delivery.uuid} delivered." in response.content.decode()
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED
    assert client.get(f"{BASE}/deliveries?status=failed").content.decode().count('id="delivery-') == 0


def test_outsiders_see_nothing(project, outsider):
    client = Client()
    client.force_login(outsider)
    assert client.get(f"{BASE}/notifications").status_code == 404
    assert client.get(f"{BASE}/deliveries").status_code == 404


def test_the_daily_report_lists_the_days_changes_that_touch_the_project(client, project):
    from datetime import UTC, datetime

    for cve_id, vendors, when in [
        ("CVE-2024-2001", ["microsoft"], datetime(2024, 3, 5, 9, 30, tzinfo=UTC)),
        ("CVE-2024-2002", ["apple"], datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("CVE-2024-2003", ["google", "google$PRODUCT$android"], datetime(2024, 3, 5, 11, 0, tzinfo=UTC)),
        ("CVE-2024-2004", ["microsoft"], datetime(2024, 3, 6, 0, 0, tzinfo=UTC)),
    ]:
        cve = CveFactory(cve_id=cve_id, vendors=vendors)
        Change.objects.create(cve=cve, created_at=when, events=[], types=["created"])
    page = client.get(f"{BASE}/report?day=2024-03-05").content.decode()
    assert "CVE-2024-2001" in page and "CVE-2024-2003" in page
    assert "CVE-2024-2002" not in page and "CVE-2024-2004" not in page
    assert "2 changes to CVEs this project watches" in page
