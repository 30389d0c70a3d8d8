"""The notification and delivery commands, in their contract forms."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from standardwebhooks.webhooks import Webhook

from cvewatch.alerts.choices import DeliveryStatus
from cvewatch.alerts.models import Delivery, Notification
from cvewatch.alerts.services.matching import write_deliveries
from cvewatch.catalog.models import Change
from cvewatch.organizations.services import organizations as org_organizations
from tests.alerts.conftest import always
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _alert():
    cve = CveFactory(vendors=["microsoft"], cvss31_score=9.0)
    change = Change.objects.create(cve=cve, events=[{"type": "created", "details": {}}], types=["created"])
    return write_deliveries(change_uuids=[change.uuid])


def test_create_prints_the_webhook_secret_once_on_its_own_line(project, receiver):
    out = run(
        "notification", "create", "acme", "production", "soc", "--webhook", receiver.url("/hook"),
        "--types", "created,metrics", "--min-cvss", "7.5", "--kev-only",
    )  # fmt: skip
    secrets = [line for line in out.splitlines() if line.startswith("whsec_")]
    assert len(secrets) == 1 and secrets[0] == secrets[0].strip()
    notification = Notification.objects.get(name="soc")
    assert notification.event_types == ["created", "metrics"]
    assert notification.min_cvss31 == 7.5 and notification.kev_only
    assert secrets[0] not in run("notification", "list", "acme", "production")

    # `test` sends a signed test message now and reports it.
    out = run("notification", "test", "acme", "production", "soc")
    assert "delivered (status 200)" in out
    (request,) = receiver.at("/hook")
    body = Webhook(secrets[0]).verify(request.body, request.headers)
    assert body["changes"] == [] and body["notification"] == "soc"


def test_create_list_delete_each_channel(project):
    run("notification", "create", "acme", "production", "slack", "--slack", "https://hooks.slack.com/services/T/B/X")
    run("notification", "create", "acme", "production", "teams", "--teams", "https://example.webhook.office.com/x")
    run("notification", "create", "acme", "production", "daily", "--webhook", "https://h.example/", "--digest", "daily")
    listing = run("notification", "list", "acme", "production").splitlines()
    assert [line.split("\t")[:2] for line in listing] == [["daily", "webhook"], ["slack", "slack"], ["teams", "teams"]]
    assert listing[0].split("\t")[3] == "daily"
    assert "deleted" in run("notification", "delete", "acme", "production", "slack")
    assert not Notification.objects.filter(name="slack").exists()


def test_refusals_are_messages(project):
    run("notification", "create", "acme", "production", "soc", "--webhook", "https://h.example/")
    with pytest.raises(CommandError, match="already has a notification named 'soc'"):
        run("notification", "create", "acme", "production", "soc", "--webhook", "https://h.example/")
    with pytest.raises(CommandError, match="unknown event type nope"):
        run("notification", "create", "acme", "production", "x", "--webhook", "https://h.example/", "--types", "nope")
    with pytest.raises(CommandError, match="between 0 and 10"):
        run("notification", "create", "acme", "production", "x", "--webhook", "https://h.example/", "--min-cvss", "11")
    with pytest.raises(CommandError, match="invalid e-mail address"):
        run("notification", "create", "acme", "production", "x", "--email", "not-an-address")
    with pytest.raises(CommandError, match="no notification named 'ghost'"):
        run("notification", "delete", "acme", "production", "ghost")
    with pytest.raises(CommandError, match="no project named"):
        run("notification", "list", "acme", "nope")


def test_delivery_list_filters_and_retry_is_scoped_by_organization(project, receiver, owner):
    url = receiver.url("/hook", always(500, b"oops"))
    run("notification", "create", "acme", "production", "soc", "--webhook", url)
    (delivery,) = _alert()
    Delivery.objects.filter(pk=delivery.pk).update(expires_at=delivery.created_at)  # no retry window left
    assert "1 failed" in run("delivery", "send-due")

    rows = run("delivery", "list", "acme", "--status", "failed").splitlines()
    assert len(rows) == 1
    fields = rows[0].split("\t")
    assert fields[:6] == [str(delivery.uuid), "production", "soc", "failed", "1", "500"]
    assert "HTTP 500: oops" in rows[0]
    assert run("delivery", "list", "acme", "--status", "delivered") == ""
    assert run("delivery", "list", "acme", "--project", "production") != ""

    other = org_organizations.create_organization(name="other", owner=owner)
    with pytest.raises(CommandError, match="no delivery"):
        run("delivery", "retry", other.name, str(delivery.uuid))

    receiver.scripts["/hook"] = always(200)
    assert "delivered" in run("delivery", "retry", "acme", str(delivery.uuid))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    # Every attempt carried the same webhook-id.
    assert {r.headers["webhook-id"] for r in receiver.at("/hook")} == {str(delivery.uuid)}
