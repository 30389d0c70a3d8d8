"""What the parsers produce: frozen dataclasses, no ORM. The ingest service merges and writes them.

Names in `vendors` are already normalised: lower case, spaces as "_", a vendor as "vendor" and a product as
"vendor$PRODUCT$product" (see catalog/names.py). Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cvewatch.catalog.vocabulary import CveState


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric as the API serves it: data in the contract's shape, and who provided it.

    cvssV*: data {"score": float, "vector": str}; kev: {"dateAdded": "YYYY-MM-DD", "dueDate": ...};
    ssvc: {"options": {...}, "version": "2.0.3"}; epss: {"score": float, "percentile": float};
    threat_severity: a string such as "Critical".
    """

    data: Any
    provider: str


@dataclass(frozen=True, slots=True)
class CveRecord:
    """One source's view of one CVE (source: a catalog.vocabulary.Source value)."""

    cve_id: str
    source: str
    state: str = CveState.PUBLISHED
    published: datetime | None = None
    updated: datetime | None = None
    title: str | None = None
    description: str | None = None
    metrics: dict[str, Metric] = field(default_factory=dict)  # keys from catalog.vocabulary.METRIC_NAMES
    vendors: tuple[str, ...] = ()
    cpes: tuple[str, ...] = ()
    weaknesses: tuple[str, ...] = ()  # "CWE-79"; placeholders like NVD-CWE-Other are dropped
    references: tuple[str, ...] = ()
    raw: bytes = b""  # the source's own JSON for this CVE, for provenance


@dataclass(frozen=True, slots=True)
class KevEntry:
    cve_id: str
    date_added: date
    due_date: date | None
    vendor_project: str = ""
    product: str = ""
    name: str = ""
    required_action: str = ""
    known_ransomware: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class EpssScore:
    cve_id: str
    score: float
    percentile: float
    score_date: date | None = None


@dataclass(frozen=True, slots=True)
class CweEntry:
    cwe_id: str  # "CWE-79"
    name: str
    description: str


class ParseError(ValueError):
    """A record or file that cannot be used; the message is the reason shown to the operator."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input that was skipped, with where it was and why.

    transient: the reason may not hold next time (a limit, memory, an I/O error), so the file that held it
    is not recorded as imported and the next import reads it again.
    """

    origin: str
    reason: str
    transient: bool = False


# The version of what the parsers make of an input's bytes. Bump it when a parser reads more or differently
# (a new field, a fixed rule): inputs recorded as imported under another version are read again.
INPUT_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class InputRead:
    """A top-level input file the walker is done with, after all of its items.

    sha256 is the digest of the file's raw bytes as read (before decompression). unchanged: the file was
    not parsed at all, because those bytes were already imported under INPUT_FORMAT_VERSION; otherwise it
    was read completely (no transient skip) and may be recorded as imported once its items are committed.
    """

    origin: str
    sha256: str
    size: int
    unchanged: bool = False


Item = CveRecord | KevEntry | EpssScore | CweEntry | Skipped | InputRead
