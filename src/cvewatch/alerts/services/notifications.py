"""Notifications: create (validated, secret generated), delete, e-mail confirmation and unsubscribe, tests."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from cvewatch.alerts.channels.base import Outcome
from cvewatch.alerts.channels.email import send_mail
from cvewatch.alerts.choices import Channel, Digest
from cvewatch.alerts.crypto import encrypt_secret, new_webhook_secret
from cvewatch.alerts.errors import DuplicateNotification, InvalidNotification, NotificationNotFound
from cvewatch.alerts.models import Delivery, Notification
from cvewatch.alerts.services import payloads, sending
from cvewatch.alerts.services.links import confirm_url
from cvewatch.catalog.vocabulary import ChangeType
from cvewatch.organizations.models import Project

log = logging.getLogger(__name__)
_CHANGE_TYPES = [t.value for t in ChangeType]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _validate_target(channel: str, target: str) -> str:
    target = (target or "").strip()
    if channel == Channel.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise InvalidNotification(f"invalid e-mail address {target!r}") from None
        return target.lower()
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidNotification(f"invalid {channel} URL {target!r}: use http(s)://host/...")
    return target


def _validate_types(types: Iterable[str]) -> list[str]:
    chosen = sorted({t.strip() for t in types if t.strip()})
    unknown = [t for t in chosen if t not in _CHANGE_TYPES]
    if unknown:
        raise InvalidNotification(
            f"unknown event type {', '.join(unknown)}: choose from {', '.join(_CHANGE_TYPES)}"
        )
    return chosen


def create_notification(
    *,
    project: Project,
    name: str,
    channel: str,
    target: str,
    event_types: Iterable[str] = (),
    min_cvss31: float | None = None,
    kev_only: bool = False,
    digest: str = Digest.IMMEDIATE,
) -> tuple[Notification, str | None]:
    """Creates the notification; returns it with its webhook secret (shown once; None for other channels).

    An e-mail notification receives nothing until its address is confirmed: the confirmation mail is sent.
    """
    name = (name or "").strip()
    if not _NAME.match(name):
        raise InvalidNotification(f"invalid notification name {name!r}: letters, digits, '-', '_', '.'; 64 at most")
    if channel not in Channel.values:
        raise InvalidNotification(f"unknown channel {channel!r}")
    if digest not in Digest.values:
        raise InvalidNotification(f"unknown digest {digest!r}: immediate or daily")
    if min_cvss31 is not None and not 0.0 <= min_cvss31 <= 10.0:
        raise InvalidNotification(f"the minimum CVSS score must be between 0 and 10, not {min_cvss31}")
    notification = Notification(
        project=project,
        name=name,
        channel=channel,
        target=_validate_target(channel, target),
        event_types=_validate_types(event_types),
        min_cvss31=min_cvss31,
        kev_only=kev_only,
        digest=digest,
    )
    secret = None
    if channel == Channel.WEBHOOK:
        secret = new_webhook_secret()
        notification.secret_encrypted = encrypt_secret(secret)
    if channel == Channel.EMAIL:
        notification.email_token = secrets.token_urlsafe(32)
    if Notification.objects.filter(project=project, name__iexact=name).exists():
        raise DuplicateNotification(f"the project {project.name!r} already has a notification named {name!r}")
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        raise DuplicateNotification(
            f"the project {project.name!r} already has a notification named {name!r}"
        ) from None
    if channel == Channel.EMAIL:
        outcome = send_confirmation(notification=notification)
        if not outcome.delivered:  # the notification stays; `notification test` mails the link again
            log.warning("confirmation mail to %s failed: %s", notification.target, outcome.detail)
    return notification, secret


def delete_notification(*, notification: Notification) -> None:
    """Deletes the notification and its delivery log."""
    notification.delete()


def send_confirmation(*, notification: Notification) -> Outcome:
    """Mails the confirmation link to an e-mail notification's address."""
    project = notification.project
    context = {
        "organization": project.organization.name,
        "project": project.name,
        "name": notification.name,
        "confirm_url": confirm_url(notification),
    }
    return send_mail(
        to=notification.target,
        subject=f"[cvewatch] confirm alerts for {project.organization.name}/{project.name}",
        text=render_to_string("alerts/mail/confirm.txt", context),
        html=None,
        headers={},
        timeout=settings.DELIVERY_TIMEOUT,
    )


def _by_token(token: str) -> Notification:
    notification = (
        Notification.objects.filter(channel=Channel.EMAIL, email_token=token).exclude(email_token="").first()
        if token
        else None
    )
    if notification is None:
        raise NotificationNotFound()
    return notification


def confirm_email(*, token: str) -> Notification:
    """The address behind the link is confirmed (again): alerts start."""
    notification = _by_token(token)
    notification.confirmed_at = notification.confirmed_at or timezone.now()
    notification.enabled = True
    notification.unsubscribed_at = None
    notification.save(update_fields=["confirmed_at", "enabled", "unsubscribed_at"])
    return notification


def unsubscribe_email(*, token: str) -> Notification:
    """One-click unsubscribe: the notification is disabled (confirming again re-enables it)."""
    notification = _by_token(token)
    notification.enabled = False
    notification.unsubscribed_at = timezone.now()
    notification.save(update_fields=["enabled", "unsubscribed_at"])
    return notification


def sample_body(notification: Notification) -> dict[str, object]:
    project = notification.project
    now = timezone.now()
    body = payloads.notification_body(
        organization=project.organization.name,
        project=project.name,
        notification=notification.name,
        subscriptions=(),
        changes=[],
        period_start=now,
        period_end=now,
    )
    body["title"] = f"Test notification from cvewatch for {project.organization.name}/{project.name}"
    return body


def send_test(*, notification: Notification) -> Delivery:
    """Sends a test message (no changes) through the notification's channel at once, logged as a delivery.

    Attempted once: it is not left to the sweeper (no next attempt) and fails at once rather than retrying.
    """
    now = timezone.now()
    delivery = Delivery.objects.create(
        notification=notification,
        is_test=True,
        next_attempt_at=None,
        created_at=now,
        expires_at=now,
        payload=sample_body(notification),
        period_start=now,
        period_end=now,
        change_ids=[],
    )
    sending.send_now(delivery=delivery)
    delivery.refresh_from_db()
    return delivery
