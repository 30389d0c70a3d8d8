"""E-mail alerts through a real SMTP server (aiosmtpd): confirmation, refusals, unsubscribe, a hanging server."""

from __future__ import annotations

import email
import re
import socket
import threading
from email import policy

import pytest
from django.test import Client
from django.utils import timezone

from cvewatch.alerts.choices import Channel, DeliveryStatus
from cvewatch.alerts.models import Delivery, Notification
from cvewatch.alerts.services import sending
from cvewatch.alerts.services.matching import write_deliveries
from cvewatch.alerts.services.notifications import create_notification
from cvewatch.catalog.models import Change
from tests.alerts.conftest import free_port, make_due
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


def _parse(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=policy.default)


def _confirm(smtp, client: Client) -> Notification:
    (mail,) = [_parse(m) for m in smtp.messages]
    link = re.search(r"https://cve\.example\.com(/alerts/email/\S+/confirm)", mail.get_content()).group(1)
    response = client.get(link)
    assert response.status_code == 200 and b"Address confirmed" in response.content
    return Notification.objects.get(channel=Channel.EMAIL)


def _alerts(scores):
    changes = []
    for score in scores:
        cve = CveFactory(vendors=["microsoft"], cvss31_score=score)
        changes.append(Change.objects.create(cve=cve, events=[{"type": "created", "details": {}}], types=["created"]))
    return write_deliveries(change_uuids=[c.uuid for c in changes])


def test_an_address_confirms_once_then_receives_alerts_grouped_by_severity(project, smtp):
    notification, secret = create_notification(
        project=project, name="mail", channel=Channel.EMAIL, target="SOC@Example.com"
    )
    assert secret is None and notification.target == "soc@example.com"
    assert _alerts([9.8]) == []  # nothing before the address is confirmed

    notification = _confirm(smtp, Client())
    assert notification.confirmed_at is not None
    smtp.messages.clear()
    _alerts([9.8, 5.0, None])
    assert sending.send_due().delivered == 1

    (envelope,) = smtp.messages
    assert envelope.rcpt_tos == ["soc@example.com"]
    mail = _parse(envelope)
    assert mail["Subject"] == "[cvewatch] acme/production: 3 changes on Microsoft"
    unsubscribe = f"https://cve.example.com/alerts/email/{notification.email_token}/unsubscribe"
    assert mail["List-Unsubscribe"].strip() == f"<{unsubscribe}>"  # long headers are folded
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert text.index("Critical (1)") < text.index("Medium (1)") < text.index("None (1)")
    assert "<h3>Critical (1)</h3>" in html and unsubscribe in html

    # One-click unsubscribe: the mail client POSTs without any session or CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        unsubscribe.removeprefix("https://cve.example.com"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    notification.refresh_from_db()
    assert not notification.enabled and notification.unsubscribed_at is not None
    assert _alerts([9.0]) == []


def test_an_smtp_server_that_refuses_then_accepts_gets_every_alert_once(project, smtp):
    create_notification(project=project, name="mail", channel=Channel.EMAIL, target="soc@example.com")
    _confirm(smtp, Client())
    smtp.messages.clear()
    smtp.refusals, smtp.attempts = 2, 0
    for _ in range(3):
        _alerts([7.5])
    sending.send_due()
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 2
    refused = Delivery.objects.filter(status=DeliveryStatus.PENDING).first()
    assert refused.last_status_code == 451 and "try again later" in refused.last_error
    make_due()
    sending.send_due()
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 3
    ids = [_parse(m)["X-Cvewatch-Delivery"] for m in smtp.messages]
    assert sorted(ids) == sorted(str(d.uuid) for d in Delivery.objects.all())


def test_an_smtp_server_that_hangs_is_a_failure_with_its_reason(project, smtp, settings):
    create_notification(project=project, name="mail", channel=Channel.EMAIL, target="soc@example.com")
    _confirm(smtp, Client())
    # A server that accepts the connection and never says a word.
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", free_port()))
    hanging.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(hanging.accept()[0]), daemon=True)
    thread.start()
    settings.EMAIL_PORT = hanging.getsockname()[1]
    settings.DELIVERY_TIMEOUT = 1
    try:
        (delivery,) = _alerts([8.0])
        sending.send_due()
    finally:
        for conn in accepted:
            conn.close()
        hanging.close()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert "timed out" in delivery.last_error


def test_an_unknown_link_is_404(db):
    assert Client().get("/alerts/email/nope/confirm").status_code == 404
    assert Client().post("/alerts/email/nope/unsubscribe").status_code == 404


def test_notification_test_mails_the_confirmation_again_then_a_test_once_confirmed(project, smtp):
    import io

    from django.core.management import call_command

    create_notification(project=project, name="mail", channel=Channel.EMAIL, target="soc@example.com")
    out = io.StringIO()
    call_command("notification", "test", "acme", "production", "mail", stdout=out)
    assert "not confirmed yet" in out.getvalue()
    assert len(smtp.messages) == 2 and all("/confirm" in _parse(m).get_content() for m in smtp.messages)

    Notification.objects.update(confirmed_at=timezone.now())
    out = io.StringIO()
    call_command("notification", "test", "acme", "production", "mail", stdout=out)
    assert "delivered" in out.getvalue()
    test_mail = _parse(smtp.messages[-1])
    assert "This is a test message" in test_mail.get_body(preferencelist=("plain",)).get_content()
    assert Delivery.objects.get(is_test=True).status == DeliveryStatus.DELIVERED
