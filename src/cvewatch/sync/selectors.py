"""Reading the sync state: every source with its cursor, lease and last runs."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from cvewatch.sync.models import SyncRun, SyncSource
from cvewatch.sync.sources import SOURCES


@dataclass(frozen=True)
class SourceStatus:
    source: SyncSource  # unsaved (empty cursor, no lease) for a source that never ran
    enabled: bool
    url: str
    runs: list[SyncRun]


def source_statuses(*, runs: int = 3) -> list[SourceStatus]:
    """Every known source, enabled ones first in CVEWATCH_SOURCES order, with its `runs` latest runs."""
    rows = {row.name: row for row in SyncSource.objects.all()}
    enabled = list(settings.SYNC_SOURCES)
    names = enabled + [n for n in SOURCES if n not in enabled]
    result = []
    for name in names:
        row = rows.get(name) or SyncSource(name=name)
        latest = list(row.runs.order_by("-started_at", "-id")[:runs]) if row.pk else []
        result.append(
            SourceStatus(source=row, enabled=name in enabled, url=settings.SYNC_URLS[name], runs=latest)
        )
    return result
