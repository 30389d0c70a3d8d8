"""What an import run read and did: the counters every run reports and ImportRun records."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

MAX_RUN_ERRORS = 1000  # ImportRun.errors keeps the first ones; the counts keep the total


@dataclass
class WriteCounts:
    """What writing did: counted per batch, added to the run's stats once the batch committed."""

    records_stored: int = 0  # new or changed source records written
    records_unchanged: int = 0  # identical to the stored copy: nothing to do
    records_older: int = 0  # older than the stored copy of the same source: the newer one is kept
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # a source record changed but the served view did not
    pending: int = 0  # KEV/EPSS data kept for a CVE not imported yet
    changes: int = 0
    weaknesses_created: int = 0
    weaknesses_updated: int = 0
    cwe_ok: int = 0  # CWE entries written or already up to date


BATCH_COUNTERS = tuple(f.name for f in fields(WriteCounts))
COUNTERS = (
    "read", "cve_records", "kev_entries", "epss_scores", "cwe_entries", "skipped", "warnings", *BATCH_COUNTERS,
    "inputs_recorded", "inputs_unchanged",
)  # fmt: skip


@dataclass
class ImportStats(WriteCounts):
    """What an import read and did. Records are source items; CVEs are the merged Cve rows."""

    read: int = 0
    cve_records: int = 0
    kev_entries: int = 0
    epss_scores: int = 0
    cwe_entries: int = 0
    skipped: int = 0
    warnings: int = 0  # CVE records imported without a name too long to store (see left_out_line)
    inputs_recorded: int = 0  # input files read completely, recorded so that the next import skips them
    inputs_unchanged: int = 0  # input files not read: their bytes were already imported (ingest/inputs.py)
    unchanged_note: str = ""  # "3 unchanged inputs skipped (already imported by run #12, 2026-11-20)"
    skip_reasons: Counter[str] = field(default_factory=Counter)
    warning_reasons: Counter[str] = field(default_factory=Counter)
    skipped_items: list[dict[str, str]] = field(default_factory=list)  # the first MAX_RUN_ERRORS
    warning_items: list[dict[str, str]] = field(default_factory=list)  # the first MAX_RUN_ERRORS

    @property
    def imported(self) -> int:
        """Items that reached the database, changed or not."""
        return self.records_stored + self.records_unchanged + self.records_older + self.cwe_ok

    def counts(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in COUNTERS} | {
            "skip_reasons": dict(self.skip_reasons),
            "warning_reasons": dict(self.warning_reasons),
        }

    def add(self, counts: WriteCounts) -> None:
        """Adds what a committed batch did."""
        for name in BATCH_COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(counts, name))

    def absorb(self, other: ImportStats) -> None:
        """Adds what was counted elsewhere since (the import's reading process): as if counted here, in order."""
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.skip_reasons.update(other.skip_reasons)
        self.warning_reasons.update(other.warning_reasons)
        self.skipped_items.extend(other.skipped_items[: max(0, MAX_RUN_ERRORS - len(self.skipped_items))])
        self.warning_items.extend(other.warning_items[: max(0, MAX_RUN_ERRORS - len(self.warning_items))])

    def skip(self, origin: str, reason: str) -> None:
        self.skipped += 1
        self.skip_reasons[reason] += 1
        if len(self.skipped_items) < MAX_RUN_ERRORS:
            self.skipped_items.append({"path": origin, "reason": reason})

    def warn(self, origin: str, reason: str, *, group: str) -> None:
        """A record kept without a part: listed with its own reason, counted under group."""
        self.warnings += 1
        self.warning_reasons[group] += 1
        if len(self.warning_items) < MAX_RUN_ERRORS:
            self.warning_items.append({"path": origin, "reason": reason})


def left_out_line(records: int) -> str:
    """What the `warnings` counter means, in words that do not read as a failure (import and sync say it)."""
    return (
        f"{records:,} CVE record{'s' if records != 1 else ''} imported without a name too long to store "
        "(the rest of each record is in):"
    )
