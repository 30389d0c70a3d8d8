"""Read-side queries of the alerts app; every read is scoped by an organization or a project."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from cvewatch.alerts.models import Delivery, Notification
from cvewatch.catalog.models import Change, CveProduct, CveVendor
from cvewatch.organizations.models import Organization, Project, ProjectProduct, ProjectVendor


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


def project_changes_between(*, project: Project, start: datetime, end: datetime) -> QuerySet[Change]:
    """The changes recorded in [start, end) whose CVE touches a subscription of the project, newest first."""
    vendor_ids = ProjectVendor.objects.filter(project=project).values("vendor_id")
    product_ids = ProjectProduct.objects.filter(project=project).values("product_id")
    touching = Q(Exists(CveVendor.objects.filter(cve=OuterRef("cve_id"), vendor_id__in=vendor_ids))) | Q(
        Exists(CveProduct.objects.filter(cve=OuterRef("cve_id"), product_id__in=product_ids))
    )
    return (
        Change.objects.filter(created_at__gte=start, created_at__lt=end)
        .filter(touching)
        .select_related("cve")
        .order_by("-created_at", "-id")
    )
