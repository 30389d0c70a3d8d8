"""CISA Known Exploited Vulnerabilities catalog (JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cvewatch.catalog.names import normalize_cve_id
from cvewatch.ingest.normalize import parse_date
from cvewatch.ingest.parsers._json import as_list, kind, load_json
from cvewatch.ingest.records import KevEntry, ParseError, Skipped


def parse_kev(data: bytes, *, origin: str = "") -> Iterator[KevEntry | Skipped]:
    """One KevEntry per catalog entry; a bad entry yields Skipped and the rest still come."""
    return kev_entries(load_json(data), origin=origin)


def kev_entries(doc: Any, *, origin: str = "") -> Iterator[KevEntry | Skipped]:
    if not isinstance(doc, dict) or "vulnerabilities" not in doc:
        raise ParseError("not a CISA KEV catalog: no 'vulnerabilities'")
    return _entries(as_list(doc["vulnerabilities"], "vulnerabilities"), origin)


def _entries(entries: list[Any], origin: str) -> Iterator[KevEntry | Skipped]:
    for index, entry in enumerate(entries):
        try:
            yield kev_entry(entry)
        except ParseError as exc:
            raw_id = entry.get("cveID") if isinstance(entry, dict) else None
            label = raw_id if isinstance(raw_id, str) and raw_id else f"vulnerabilities[{index}]"
            yield Skipped(f"{origin}#{label}", str(exc))


def kev_entry(entry: object) -> KevEntry:
    if not isinstance(entry, dict):
        raise ParseError(f"expected an object, got {kind(entry)}")
    cve_id = normalize_cve_id(entry.get("cveID"))
    if cve_id is None:
        raise ParseError(f"cveID {entry.get('cveID')!r} is missing or not a CVE id")
    date_added = parse_date(entry.get("dateAdded"))
    if date_added is None:
        raise ParseError(f"dateAdded {entry.get('dateAdded')!r} is missing or not a date")
    due = entry.get("dueDate")
    due_date = parse_date(due)
    if due not in (None, "") and due_date is None:
        raise ParseError(f"dueDate {due!r} is not a date")
    return KevEntry(
        cve_id=cve_id,
        date_added=date_added,
        due_date=due_date,
        vendor_project=_text(entry, "vendorProject"),
        product=_text(entry, "product"),
        name=_text(entry, "vulnerabilityName"),
        required_action=_text(entry, "requiredAction"),
        known_ransomware=_text(entry, "knownRansomwareCampaignUse"),
        notes=_text(entry, "notes"),
    )


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParseError(f"{key}: expected a string, got {kind(value)}")
    return value
