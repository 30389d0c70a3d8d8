"""Notifications and their deliveries in the operators' admin: read-only, with a retry action.

A notification's target can be a secret (a Slack or Teams webhook URL is its own credential), so only its
scheme and host are shown; signing secrets and e-mail tokens never are. Retrying goes through the alerts
service (`sending.retry_delivery`), exactly as `cvewatch delivery retry` and the delivery log's button do.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from cvewatch.alerts.choices import Channel
from cvewatch.alerts.models import Delivery, Notification
from cvewatch.alerts.services import sending
from cvewatch.core.admin import ReadOnlyAdmin
from cvewatch.core.errors import DomainError

# The model's Meta has no plural ("Deliverys"); the display name is the admin's only use of it, so it is set
# here rather than through a migration of the alerts app.
Delivery._meta.verbose_name_plural = "deliveries"


def redacted_target(notification: Notification) -> str:
    if notification.channel == Channel.EMAIL:
        return notification.target
    parts = urlsplit(notification.target)
    return f"{parts.scheme}://{parts.hostname or ''}/…"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "project",
        "organization",
        "channel",
        "target_redacted",
        "digest",
        "enabled",
        "confirmed_at",
    )
    list_filter = ("channel", "digest", "enabled")
    list_select_related = ("project__organization",)
    search_fields = ("name", "project__name", "project__organization__name")
    fields = (
        "uuid", "project", "name", "channel", "target_redacted", "event_types", "min_cvss31", "kev_only", "digest",
        "enabled", "confirmed_at", "unsubscribed_at", "created_at", "updated_at",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="organization", ordering="project__organization__name")
    def organization(self, notification: Notification) -> str:
        return notification.project.organization.name

    @admin.display(description="target")
    def target_redacted(self, notification: Notification) -> str:
        return redacted_target(notification)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "uuid", "notification", "project", "status", "is_test", "attempts", "last_status_code", "created_at",
        "last_attempt_at", "delivered_at",
    )  # fmt: skip
    list_filter = ("status", "is_test", "notification__channel")
    list_select_related = ("notification__project__organization",)
    search_fields = ("=uuid", "notification__name", "notification__project__name")
    date_hierarchy = "created_at"
    raw_id_fields = ("notification",)
    actions = ("retry_deliveries",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The retry action needs the change right; the form itself stays read-only.
        return request.user.has_perm("alerts.change_delivery")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    @admin.display(description="project", ordering="notification__project__name")
    def project(self, delivery: Delivery) -> str:
        project = delivery.notification.project
        return f"{project.organization.name}/{project.name}"

    @admin.action(description="Retry the selected deliveries (send again now)", permissions=["change"])
    def retry_deliveries(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        done = 0
        for delivery in queryset:
            try:
                sending.retry_delivery(delivery=delivery)
                done += 1
            except DomainError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        if done:
            self.message_user(
                request,
                f"{done} deliver{'ies' if done != 1 else 'y'} queued to be sent again.",
                messages.SUCCESS,
            )
