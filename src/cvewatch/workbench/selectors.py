"""Reads of the workbench, each scoped by the person or organization asking."""

from __future__ import annotations

from django.db.models import QuerySet

from cvewatch.organizations.models import Organization
from cvewatch.workbench.models import FeedKey

# --- feed keys (lane x) ---------------------------------------------------------------------------------


def feed_keys_of(*, organization: Organization, user: object) -> QuerySet[FeedKey]:
    """This person's feed keys of this organization (revoked ones too), newest first."""
    return FeedKey.objects.filter(organization=organization, user_id=getattr(user, "pk", None)).order_by(
        "-created_at", "-id"
    )
