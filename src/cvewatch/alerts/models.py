"""Notifications (a project's channel and filters) and deliveries (one row per message to send).

A Delivery row is the truth about an alert: it is written in the transaction that records the changes it
reports, and the queue only hurries it along. Its uuid is the `webhook-id` every attempt carries.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from cvewatch.alerts.choices import Channel, DeliveryStatus, Digest
from cvewatch.organizations.models import Project


class Notification(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="notifications")
    name = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.TextField()  # the URL (webhook, slack, teams) or the e-mail address
    # Filters. No event types means every type; a CVE without a CVSS v3.1 score passes min_cvss31.
    event_types = models.JSONField(default=list)
    min_cvss31 = models.FloatField(null=True, blank=True)
    kev_only = models.BooleanField(default=False)
    digest = models.CharField(max_length=16, choices=Digest.choices, default=Digest.IMMEDIATE)
    enabled = models.BooleanField(default=True)
    # Webhooks: the signing secret "whsec_<base64>", Fernet-encrypted with a key derived from SECRET_KEY
    # (it must be readable to compute HMACs, so it cannot be hashed). See alerts/secrets.py.
    secret_encrypted = models.TextField(blank=True, default="")
    # E-mail: the address receives nothing until confirmed; the token is in the confirm and unsubscribe links.
    email_token = models.CharField(max_length=64, blank=True, default="", db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="notification_unique_per_project")]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.name} ({self.channel})"


class Delivery(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # the `webhook-id`
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    is_test = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    # While pending: when the next attempt is due (a claimed row is pushed a lease ahead). Null otherwise.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Retries stop after this (created_at + CVEWATCH_DELIVERY_MAX_AGE; a retry by hand starts a new window).
    expires_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")  # an excerpt of the response, or the error
    payload = models.JSONField(default=dict)  # the contract's webhook body (§8); other channels render it
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    change_ids = models.JSONField(default=list)  # uuids of the Change rows it reports
    # A daily report's day (UTC); null for immediate alerts. One report per notification and day.
    digest_day = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["notification", "-created_at"], name="delivery_notification"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["notification", "digest_day"], name="delivery_one_digest_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.uuid} ({self.status})"
