"""Sending through a real local HTTP receiver: retries, signatures, delivery ids, failures with reasons."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from cvewatch.alerts.channels.base import Message
from cvewatch.alerts.channels.http import Policy
from cvewatch.alerts.channels.webhook import WebhookChannel
from cvewatch.alerts.choices import Channel, DeliveryStatus
from cvewatch.alerts.models import Delivery
from cvewatch.alerts.services import sending
from cvewatch.alerts.services.matching import write_deliveries
from cvewatch.alerts.services.notifications import create_notification
from cvewatch.catalog.models import Change
from tests.alerts.conftest import always, failing_first, make_due
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


def _alerts(project, count=3):
    cves = [CveFactory(vendors=["microsoft"], cvss31_score=7.5) for _ in range(count)]
    changes = [Change.objects.create(cve=c, events=[{"type": "created", "details": {}}], types=["created"]) for c in cves]
    return write_deliveries(change_uuids=[c.uuid for c in changes])


def _create(project, name, channel, url):
    return create_notification(project=project, name=name, channel=channel, target=url)


def test_a_receiver_down_for_two_attempts_gets_every_alert_signed_once_per_delivery_id(project, receiver):
    url = receiver.url("/hook", failing_first(2))
    notification, secret = _create(project, "soc", Channel.WEBHOOK, url)
    for _ in range(3):  # three import batches: three deliveries
        _alerts(project, count=2)
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 3

    report = sending.send_due()
    # The first two requests got 503: those deliveries wait their backoff; the third went through.
    assert (report.attempted, report.delivered, report.retrying) == (3, 1, 2)
    make_due()
    sending.send_due()
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 3

    verifier = Webhook(secret)
    by_id: dict[str, list] = {}
    for request in receiver.at("/hook"):
        body = verifier.verify(request.body, request.headers)  # raises on a bad signature
        by_id.setdefault(request.headers["webhook-id"], []).append(body)
    assert set(by_id) == {str(d.uuid) for d in Delivery.objects.all()}
    # A retried delivery carries the same id and the same body each time: the receiver keeps it once.
    assert all(len({json.dumps(b, sort_keys=True) for b in bodies}) == 1 for bodies in by_id.values())
    assert sum(len(b[0]["changes"]) for b in by_id.values()) == 6
    first = receiver.at("/hook")[0]
    assert list(json.loads(first.body)) == [
        "organization", "project", "notification", "subscriptions", "matched_subscriptions", "title", "period",
        "changes",
    ]  # fmt: skip
    assert first.headers["content-type"] == "application/json"
    assert first.headers["webhook-signature"].startswith("v1,")
    retried = Delivery.objects.get(uuid=receiver.at("/hook")[0].headers["webhook-id"])
    assert retried.attempts == 2 and retried.last_status_code == 200 and retried.last_error == "thanks"


def test_backoff_doubles_from_the_base_and_stops_at_max_age(project, receiver, settings):
    settings.DELIVERY_RETRY_BASE = 30
    settings.DELIVERY_MAX_AGE = 600
    _create(project, "soc", Channel.WEBHOOK, receiver.url("/down", always(503, b"busy")))
    (delivery,) = _alerts(project, count=1)
    delays = []
    for _ in range(10):
        before = timezone.now()
        sending.send_due()
        delivery.refresh_from_db()
        if delivery.status != DeliveryStatus.PENDING:
            break
        delays.append(round((delivery.next_attempt_at - before).total_seconds()))
        # Jump the clock: pretend the wait has passed.
        Delivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now(),
            expires_at=delivery.expires_at - (delivery.next_attempt_at - before),
        )
    assert delays[:4] == [30, 60, 120, 240]
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_status_code == 503 and "HTTP 503: busy" in delivery.last_error
    assert delivery.next_attempt_at is None

    sending.retry_delivery(delivery=delivery)
    receiver.scripts["/down"] = always(200)
    sending.send_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_a_slack_url_that_404s_fails_with_its_reason_and_the_rest_proceeds(project, receiver):
    _create(project, "slack", Channel.SLACK, receiver.url("/slack", always(404, b"no_service")))
    _create(project, "teams", Channel.TEAMS, receiver.url("/teams", always(202, b"")))
    _create(project, "hook", Channel.WEBHOOK, receiver.url("/hook"))
    _alerts(project, count=2)
    report = sending.send_due()
    assert (report.delivered, report.failed) == (2, 1)
    slack = Delivery.objects.get(notification__name="slack")
    assert slack.status == DeliveryStatus.FAILED and slack.last_status_code == 404
    assert slack.last_error == "HTTP 404: no_service"
    # Slack got Block Kit, Teams an Adaptive Card.
    (posted,) = receiver.at("/slack")
    assert posted.json()["blocks"][0]["type"] == "header"
    assert "2 changes on Microsoft" in posted.json()["text"]
    card = receiver.at("/teams")[0].json()["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert Delivery.objects.get(notification__name="teams").status == DeliveryStatus.DELIVERED


def test_private_addresses_are_refused_unless_allowed(project, receiver, settings):
    settings.ALLOW_PRIVATE_WEBHOOKS = False
    _create(project, "hook", Channel.WEBHOOK, receiver.url("/hook"))
    _alerts(project, count=1)
    report = sending.send_due()
    assert report.failed == 1
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "resolves to the loopback address 127.0.0.1" in delivery.last_error
    assert receiver.received == []


@pytest.mark.parametrize(
    "location,reason",
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local address 169.254.169.254"),
        ("http://10.1.2.3/internal", "private address 10.1.2.3"),
        ("http://[::1]:9/", "loopback address ::1"),
    ],
)
def test_a_redirect_to_a_private_address_is_refused_with_its_reason(receiver, location, reason):
    # The receiver itself (127.0.0.1) is exempted so the first hop goes through; the redirect must not.
    url = receiver.url("/moved", lambda n, path: (307, {"location": location}, b""))
    channel = WebhookChannel(policy=Policy(allow_private=False, exempt=frozenset({"127.0.0.1"})))
    message = Message(delivery_id="msg_1", target=url, body={"changes": []}, secret="whsec_" + "A" * 44)
    outcome = channel.send(message, timeout=2)
    assert not outcome.delivered and outcome.permanent
    assert reason in outcome.detail
    assert len(receiver.at("/moved")) == 1


def test_redirects_are_followed_hop_by_hop_with_the_same_signed_body(receiver):
    url = receiver.url("/old", lambda n, path: (308, {"location": "/new"}, b""))
    receiver.url("/new", always(200))
    channel = WebhookChannel(policy=Policy(allow_private=True))
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    outcome = channel.send(Message(delivery_id="msg_2", target=url, body={"changes": []}, secret=secret), timeout=2)
    assert outcome.delivered
    (final,) = receiver.at("/new")
    Webhook(secret).verify(final.body, final.headers)
    assert final.headers["webhook-id"] == "msg_2"


def test_a_receiver_slower_than_the_timeout_is_a_retryable_failure(project, receiver, settings):
    settings.DELIVERY_TIMEOUT = 1
    receiver.delay = 2.5
    _create(project, "slow", Channel.WEBHOOK, receiver.url("/slow"))
    (delivery,) = _alerts(project, count=1)
    sending.send_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert "timed out after 1 s" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=25)


def test_a_claimed_delivery_is_not_claimed_twice_until_its_lease_expires(project, receiver):
    _create(project, "hook", Channel.WEBHOOK, receiver.url("/hook"))
    _alerts(project, count=1)
    first = sending.claim_due()
    assert len(first) == 1 and first[0].attempts == 1
    assert sending.claim_due() == []  # another worker finds nothing due
    # The first worker died: after the lease the row is due again and sent with the same id.
    Delivery.objects.update(next_attempt_at=timezone.now())
    sending.send_due()
    (request,) = receiver.at("/hook")
    assert request.headers["webhook-id"] == str(first[0].uuid)
    # The dead worker's late outcome does not overwrite the newer attempt's.
    sending.record_outcome(delivery=first[0], outcome=sending.Outcome.failure("late"))
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_secret_unreadable_after_a_key_change_fails_with_that_reason(project, receiver, settings):
    _create(project, "hook", Channel.WEBHOOK, receiver.url("/hook"))
    _alerts(project, count=1)
    settings.SECRET_KEY = "another-secret-key-that-is-long-enough-0123456789"
    sending.send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "cannot be decrypted" in delivery.last_error


def test_the_secret_is_shown_once_and_stored_encrypted(project):
    notification, secret = _create(project, "hook", Channel.WEBHOOK, "https://hooks.example.com/x")
    assert secret.startswith("whsec_")
    assert secret not in notification.secret_encrypted and secret[6:] not in notification.secret_encrypted
    Webhook(secret)  # the library accepts it
