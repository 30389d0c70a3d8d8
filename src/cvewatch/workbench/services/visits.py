"""Dashboard visits: when a person last looked, so the dashboard can show what changed since."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cvewatch.workbench.models import DashboardVisit

# Views closer together than this are one sitting: reloading the dashboard keeps "since your last visit"
# pointing at the visit before the sitting, instead of at a few seconds ago.
SITTING = dt.timedelta(minutes=30)
# A visit's time is kept to this precision: views closer to the last recorded one write nothing (the digests'
# "since" is rounded down to the minute anyway), so a busy dashboard is not a write per view.
PRECISION = dt.timedelta(minutes=1)


def record_dashboard_visit(*, user: object, now: dt.datetime | None = None) -> DashboardVisit:
    """Note a dashboard view; `previous_seen_at` becomes the last view when it was in an earlier sitting.

    A view within PRECISION of the recorded one changes nothing and writes nothing."""
    now = now or timezone.now()
    recent = DashboardVisit.objects.filter(user_id=user.pk).first()  # type: ignore[attr-defined]
    if recent is not None and dt.timedelta(0) <= now - recent.seen_at < PRECISION:
        return recent
    with transaction.atomic():
        visit, created = DashboardVisit.objects.select_for_update().get_or_create(
            user_id=user.pk,  # type: ignore[attr-defined]
            defaults={"seen_at": now, "previous_seen_at": None},
        )
        if not created:
            if now - visit.seen_at > SITTING:
                visit.previous_seen_at = visit.seen_at
            visit.seen_at = now
            visit.save(update_fields=["seen_at", "previous_seen_at"])
    return visit
