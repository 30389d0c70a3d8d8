"""`last_used_at` of a credential (API token, feed key): written at most once a minute, not on every use."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone

LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


def record_use(row: Any, *, now: dt.datetime | None = None) -> bool:
    """Set `row.last_used_at` unless it was set less than a minute ago; True when a row was written."""
    now = now or timezone.now()
    threshold = now - LAST_USED_RESOLUTION
    if row.last_used_at is not None and row.last_used_at >= threshold:
        return False
    # Conditional, so concurrent requests with a stale copy of the row still write at most once.
    written = (
        type(row)
        .objects.filter(pk=row.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=threshold))
        .update(last_used_at=now)
    )
    row.last_used_at = now
    return bool(written)
