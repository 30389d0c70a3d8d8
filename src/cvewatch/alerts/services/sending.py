"""Sending deliveries so that none is lost: claim, send with a timeout, record, retry with backoff.

A claim pushes the row's next_attempt_at a lease ahead and counts the attempt, in one short transaction
(`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent workers never claim the same row; SQLite
has one writer). The request is made outside any transaction. If the worker dies mid-send, the lease expires
and another worker sends again with the same `webhook-id`, which receivers use to drop the duplicate.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cvewatch.alerts.channels import Message, Outcome, channel_for
from cvewatch.alerts.channels.http import MAX_REDIRECTS
from cvewatch.alerts.choices import Channel, DeliveryStatus
from cvewatch.alerts.crypto import SecretUnreadable, decrypt_secret
from cvewatch.alerts.errors import DeliveryNotRetryable
from cvewatch.alerts.models import Delivery
from cvewatch.alerts.services.links import unsubscribe_url

MAX_DELAY = timedelta(hours=6)  # backoff stops doubling here
CONCURRENCY = 8  # requests in flight per sweep; they wait on the network, not the CPU


def lease() -> timedelta:
    """How long a claimed delivery is left alone: longer than any attempt can take."""
    return timedelta(seconds=settings.DELIVERY_TIMEOUT * (MAX_REDIRECTS + 1) + 30)


def retry_delay(attempts: int) -> timedelta:
    """CVEWATCH_DELIVERY_RETRY_BASE seconds after the first failed attempt, doubling after each, capped."""
    seconds = settings.DELIVERY_RETRY_BASE * 2 ** max(0, min(attempts - 1, 20))
    return min(timedelta(seconds=seconds), MAX_DELAY)


@dataclass
class SendReport:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, status: str) -> None:
        self.attempted += 1
        if status == DeliveryStatus.DELIVERED:
            self.delivered += 1
        elif status == DeliveryStatus.FAILED:
            self.failed += 1
        else:
            self.retrying += 1


def claim_due(*, limit: int = 50, now: datetime | None = None) -> list[Delivery]:
    """Claims up to `limit` due pending deliveries for this worker (see the module docstring)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "id"
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        Delivery.objects.filter(id__in=ids).update(
            next_attempt_at=now + lease(), attempts=F("attempts") + 1, last_attempt_at=now
        )
    return list(
        Delivery.objects.filter(id__in=ids)
        .select_related("notification__project__organization")
        .order_by("next_attempt_at", "id")
    )


def seconds_until_next_due(*, now: datetime | None = None) -> float | None:
    """Seconds until the earliest pending delivery is due (0 if one is due now); None when none is pending."""
    now = now or timezone.now()
    first = (
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__isnull=False)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return None if first is None else max(0.0, (first - now).total_seconds())


def message_for(delivery: Delivery) -> Message | Outcome:
    """The message to send, or the Outcome that says why it cannot be sent at all."""
    notification = delivery.notification
    if not notification.enabled and not delivery.is_test:
        return Outcome.failure("the notification is disabled", permanent=True)
    secret = unsubscribe = ""
    if notification.channel == Channel.WEBHOOK:
        try:
            secret = decrypt_secret(notification.secret_encrypted)
        except SecretUnreadable as exc:
            return Outcome.failure(str(exc), permanent=True)
    if notification.channel == Channel.EMAIL:
        if notification.confirmed_at is None:
            return Outcome.failure("the e-mail address is not confirmed", permanent=True)
        unsubscribe = unsubscribe_url(notification)
    return Message(
        delivery_id=str(delivery.uuid),
        target=notification.target,
        body=delivery.payload,
        secret=secret,
        unsubscribe_url=unsubscribe,
        is_test=delivery.is_test,
    )


def attempt(delivery: Delivery) -> Outcome:
    """One attempt through the delivery's channel; never raises for a channel's failure."""
    message = message_for(delivery)
    if isinstance(message, Outcome):
        return message
    try:
        return channel_for(delivery.notification.channel).send(message, timeout=settings.DELIVERY_TIMEOUT)
    except Exception as exc:  # a bug in a channel must not stop the other deliveries
        return Outcome.failure(f"internal error: {type(exc).__name__}: {exc}")


def record_outcome(*, delivery: Delivery, outcome: Outcome, now: datetime | None = None) -> str:
    """Stores the attempt's outcome; returns the new status. A stale claim (re-claimed since) changes nothing."""
    now = now or timezone.now()
    values: dict[str, object] = {
        "last_status_code": outcome.status_code,
        "last_error": outcome.detail,
        "last_attempt_at": now,
    }
    if outcome.delivered:
        values.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif outcome.permanent or now >= delivery.expires_at:
        values.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        values.update(next_attempt_at=min(now + retry_delay(delivery.attempts), delivery.expires_at))
    Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    ).update(**values)
    status = str(values.get("status", DeliveryStatus.PENDING))
    for name, value in values.items():
        setattr(delivery, name, value)
    return status


def _attempt_all(deliveries: list[Delivery]) -> Iterator[tuple[Delivery, Outcome]]:
    """Attempts in parallel, yielding each outcome as soon as it is known (to be recorded at once: a worker
    killed while one receiver hangs must not take the other receivers' answers with it)."""
    if len(deliveries) == 1:
        yield deliveries[0], attempt(deliveries[0])
        return
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(deliveries))) as pool:
        futures = {pool.submit(attempt, delivery): delivery for delivery in deliveries}
        for future in as_completed(futures):
            yield futures[future], future.result()


def send_due(*, batch: int = 50, max_batches: int = 1000) -> SendReport:
    """Sends every delivery due now, batch by batch, until none is left (or max_batches)."""
    report = SendReport()
    for _ in range(max_batches):
        claimed = claim_due(limit=batch)
        if not claimed:
            break
        for delivery, outcome in _attempt_all(claimed):
            report.add(record_outcome(delivery=delivery, outcome=outcome))
    return report


def send_now(*, delivery: Delivery) -> str:
    """Claims and sends this one delivery at once (tests of a notification); returns its status."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        next_attempt_at=now + lease(), attempts=F("attempts") + 1, last_attempt_at=now
    )
    if not claimed:
        return delivery.status
    delivery.refresh_from_db()
    return record_outcome(delivery=delivery, outcome=attempt(delivery))


def retry_delivery(*, delivery: Delivery, now: datetime | None = None) -> Delivery:
    """A failed delivery goes back to pending, due now, with a new CVEWATCH_DELIVERY_MAX_AGE window."""
    now = now or timezone.now()
    if delivery.status == DeliveryStatus.DELIVERED:
        raise DeliveryNotRetryable(f"delivery {delivery.uuid} was delivered already")
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.expires_at = now + timedelta(seconds=settings.DELIVERY_MAX_AGE)
    delivery.save(update_fields=["status", "next_attempt_at", "expires_at"])
    from cvewatch.alerts.dispatch import deliveries_written

    transaction.on_commit(deliveries_written)
    return delivery
