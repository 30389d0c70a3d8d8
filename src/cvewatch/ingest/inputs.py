"""Which input files an import may skip unread, and recording the ones it read completely (ImportedInput).

The walker (sources.iter_items) gets the set of known digests up front and ends every regular file with an
InputRead marker; the importer holds a read file's marker until the batch carrying its last records commits
and records it in that batch's transaction. A file any of whose records hit a database error is not
recorded (it is read again next time); records skipped as malformed do not hold it back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, transaction
from django.utils import timezone

from cvewatch.catalog.models import ImportedInput, SourceRecord
from cvewatch.ingest import records
from cvewatch.ingest.records import InputRead

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Known:
    """The import that recorded a digest, and when."""

    run_id: int | None
    imported_at: datetime


def known_inputs() -> dict[str, Known]:
    """Every digest recorded under the current format version (one row per distinct input file ever read)."""
    rows = ImportedInput.objects.filter(format_version=records.INPUT_FORMAT_VERSION).values_list(
        "sha256", "import_run_id", "imported_at"
    )
    return {sha256: Known(run_id, at) for sha256, run_id, at in rows}


class InputLedger:
    """One run's inputs: those skipped as unchanged, and those read, waiting for their records to commit."""

    def __init__(self, *, run_id: int | None, reread: bool = False) -> None:
        self.run_id, self.reread = run_id, reread
        self._known: dict[str, Known] | None = None
        self.pending: list[InputRead] = []
        self.unchanged: list[InputRead] = []
        self.failed_origins: set[str] = set()  # origins of records refused by the database

    @property
    def known(self) -> dict[str, Known]:
        """The digests to skip, loaded on first use (import_items callers without a walker never pay for it)."""
        if self._known is None:
            # No source record at all: the catalog was emptied behind the ledger's back, so it cannot be trusted.
            trusted = not self.reread and SourceRecord.objects.exists()
            self._known = known_inputs() if trusted else {}
        return self._known

    def see(self, marker: InputRead) -> None:
        (self.unchanged if marker.unchanged else self.pending).append(marker)

    def take(self) -> list[InputRead]:
        """The markers seen so far: their files' records are all in the batch being written or before it."""
        taken, self.pending = self.pending, []
        return taken

    def failed(self, origin: str) -> None:
        self.failed_origins.add(origin)

    def record(self, markers: list[InputRead]) -> int:
        """Records the markers' files as imported, inside the caller's transaction; returns how many."""
        done = [m for m in markers if not self._refused(m.origin)]
        if not done:
            return 0
        now = timezone.now()
        rows = {
            m.sha256: ImportedInput(
                sha256=m.sha256,
                format_version=records.INPUT_FORMAT_VERSION,
                size=m.size,
                origin=m.origin,
                import_run_id=self.run_id,
                imported_at=now,
            )
            for m in done
        }
        ImportedInput.objects.bulk_create(
            list(rows.values()),
            update_conflicts=True,
            unique_fields=["sha256", "format_version"],
            update_fields=["size", "origin", "import_run", "imported_at"],
        )
        return len(done)

    def record_alone(self, markers: list[InputRead]) -> int:
        """record() in a transaction of its own; a failure costs only the skip next time, never the run."""
        if not markers:
            return 0
        try:
            with transaction.atomic():
                return self.record(markers)
        except DatabaseError as exc:
            log.warning(
                "could not record %d imported inputs (they are read again next time): %s", len(markers), exc
            )
            return 0

    def _refused(self, origin: str) -> bool:
        member = origin + "!"
        return any(o == origin or o.startswith(member) for o in self.failed_origins)

    def unchanged_summary(self) -> str:
        """'3 unchanged inputs skipped (already imported by run #12, 2026-11-20)', or ''."""
        if not self.unchanged:
            return ""
        known = [self.known[m.sha256] for m in self.unchanged if m.sha256 in self.known]
        runs = sorted({k.run_id for k in known if k.run_id is not None})
        days = sorted({timezone.localtime(k.imported_at).date().isoformat() for k in known})
        by = ""
        if runs:
            by = f"run{'s' if len(runs) > 1 else ''} " + ", ".join(f"#{r}" for r in runs[:5])
            by += ", …" if len(runs) > 5 else ""
        when = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}" if days else ""
        detail = ", ".join(part for part in (f"by {by}" if by else "", when) if part)
        count = len(self.unchanged)
        return (
            f"{count:,} unchanged input{'s' if count != 1 else ''} skipped "
            f"(already imported{' ' + detail if detail else ''})"
        )
