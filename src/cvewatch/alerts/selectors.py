"""Read-side queries of the alerts app; every read is scoped by an organization or a project."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from cvewatch.alerts.models import Delivery, Notification
from cvewatch.organizations.models import Organization, Project


def notifications_of(*, project: Project) -> QuerySet[Notification]:
    return Notification.objects.filter(project=project).order_by("name")


def notification_named(*, project: Project, name: str) -> Notification | None:
    return Notification.objects.filter(project=project, name__iexact=(name or "").strip()).first()


def deliveries_of(
    *, organization: Organization, project: Project | None = None, status: str | None = None
) -> QuerySet[Delivery]:
    """The organization's deliveries, newest first, optionally of one project and one status."""
    rows = Delivery.objects.filter(notification__project__organization=organization)
    if project is not None:
        rows = rows.filter(notification__project=project)
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("notification__project").order_by("-created_at", "-id")


def delivery_for(*, organization: Organization, delivery_id: str) -> Delivery | None:
    """The delivery with this id (the `webhook-id`) if it belongs to the organization."""
    try:
        key = uuid.UUID(str(delivery_id).strip())
    except ValueError:
        return None
    return (
        Delivery.objects.filter(uuid=key, notification__project__organization=organization)
        .select_related("notification__project__organization")
        .first()
    )
