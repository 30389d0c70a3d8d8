"""Public links in e-mails, built from CVEWATCH_BASE_URL."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from cvewatch.alerts.models import Notification


def _absolute(path: str) -> str:
    return f"{settings.BASE_URL}{path}" if settings.BASE_URL else path


def confirm_url(notification: Notification) -> str:
    return _absolute(reverse("alerts:confirm", args=[notification.email_token]))


def unsubscribe_url(notification: Notification) -> str:
    return _absolute(reverse("alerts:unsubscribe", args=[notification.email_token]))
