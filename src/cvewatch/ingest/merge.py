"""Merging one CVE's per-source records into the served view, diffing two views into change events, and
the rule for copies older than the one kept.

Pure functions over plain JSON-able dicts, no ORM: a "doc" is one source's normalised record as stored in
SourceRecord.record; a "view" is what the Cve row serves. The rules are documented in docs/import.md; keep
the two in step.
"""

from __future__ import annotations

import functools
import hashlib
import math
import operator
from collections.abc import Container, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import orjson

from cvewatch.catalog.names import PRODUCT_SEPARATOR, vendor_of
from cvewatch.catalog.vocabulary import CVSS_METRICS, METRIC_NAMES, ChangeType, CveState, Source
from cvewatch.ingest.records import CveRecord, EpssScore, KevEntry, Metric

# Plain strings, not the enum members: they become dict keys of stored JSON, which orjson wants as str.
MITRE, VULNRICHMENT, NVD, REDHAT, OPENCVE = (
    Source.MITRE.value, Source.VULNRICHMENT.value, Source.NVD.value, Source.REDHAT.value, Source.OPENCVE.value
)  # fmt: skip
KEV_SOURCE = Source.KEV.value
EPSS_SOURCE = Source.EPSS.value
# Scalars (title, description) and metrics: the first source in this order that has a value wins.
SOURCE_PRIORITY: tuple[str, ...] = (MITRE, VULNRICHMENT, NVD, REDHAT, OPENCVE)
# Metrics with an authoritative source of their own put it first.
METRIC_PRIORITY: dict[str, tuple[str, ...]] = {
    "kev": (KEV_SOURCE, VULNRICHMENT, MITRE, NVD, REDHAT, OPENCVE),
    "epss": (EPSS_SOURCE, *SOURCE_PRIORITY),
}
KIND_CVE = "cve"
KIND_KEV = "kev"
KIND_EPSS = "epss"
UNION_FIELDS = ("vendors", "cpes", "references", "weaknesses")
# EPSS moves every day for every CVE: an event per CVE per day would drown the changes people act on.
METRICS_WITHOUT_EVENTS = frozenset({"epss"})

Doc = dict[str, Any]
View = dict[str, Any]
Event = dict[str, Any]


# --- Records as stored docs -------------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    """Canonical timestamp text: aware UTC, ISO 8601 (naive values are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _metric_doc(metric: Metric) -> dict[str, Any]:
    return {"data": metric.data, "provider": metric.provider}


def cve_record_doc(record: CveRecord) -> Doc:
    return {
        "kind": KIND_CVE,
        "state": str(record.state),
        "published": iso(record.published),
        "updated": iso(record.updated),
        "title": record.title or "",
        "description": record.description or "",
        "metrics": {name: _metric_doc(m) for name, m in sorted(record.metrics.items())},
        "vendors": sorted(set(record.vendors)),
        "cpes": sorted(set(record.cpes)),
        "weaknesses": sorted(set(record.weaknesses)),
        "references": sorted(set(record.references)),
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def kev_entry_doc(entry: KevEntry) -> Doc:
    return {
        "kind": KIND_KEV,
        "metrics": {
            "kev": {
                "data": {"dateAdded": _day(entry.date_added), "dueDate": _day(entry.due_date)},
                "provider": KEV_SOURCE,
            }
        },
        "kev": {
            "vendorProject": entry.vendor_project,
            "product": entry.product,
            "vulnerabilityName": entry.name,
            "requiredAction": entry.required_action,
            "knownRansomwareCampaignUse": entry.known_ransomware,
            "notes": entry.notes,
        },
    }


def epss_score_doc(score: EpssScore) -> Doc:
    return {
        "kind": KIND_EPSS,
        "metrics": {
            "epss": {"data": {"score": score.score, "percentile": score.percentile}, "provider": EPSS_SOURCE}
        },
        "date": _day(score.score_date),
    }


def canonical_json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def seal(doc: Doc, raw: bytes = b"") -> tuple[Doc, str]:
    """The doc ready to store (NUL characters removed: PostgreSQL refuses them in text) and its digest.

    Equal digests mean re-importing the record would change nothing.
    """
    blob = canonical_json(doc)
    if b"\\u0000" in blob:
        doc = _without_nul(doc)
        blob = canonical_json(doc)
    h = hashlib.sha256(blob)
    h.update(b"\0")
    h.update(raw)
    return doc, h.hexdigest()


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    return value


def view_digest(view: View) -> str:
    return hashlib.sha256(canonical_json(view)).hexdigest()


# --- Merge ------------------------------------------------------------------------------------------------


def _ordered(sources: Iterable[str], priority: tuple[str, ...]) -> tuple[str, ...]:
    """Sources in priority order; unknown ones after, alphabetically, so the result never depends on input order."""
    return _ordered_cached(frozenset(sources), priority)


@functools.lru_cache(maxsize=1024)
def _ordered_cached(sources: frozenset[str], priority: tuple[str, ...]) -> tuple[str, ...]:
    rank = {s: i for i, s in enumerate(priority)}
    return tuple(sorted(sources, key=lambda s: (rank.get(s, len(rank)), s)))


_ABSENT = (None, {}, "", [])  # metric data that is no value (compared with ==: never mutate these)


def metric_present(data: Any) -> bool:
    return data not in _ABSENT


def empty_metric(name: str) -> dict[str, Any]:
    return {"data": None if name == "threat_severity" else {}, "provider": None}


def merge_docs(docs: Mapping[str, Doc], *, fallback_time: datetime) -> View | None:
    """The served view of one CVE from its source docs ({source: doc}); None if no source describes the CVE.

    KEV and EPSS docs only contribute metrics. fallback_time dates a CVE no source dates.
    """
    cve_sources = _ordered(
        (s for s, d in docs.items() if d.get("kind", KIND_CVE) == KIND_CVE), SOURCE_PRIORITY
    )
    if not cve_sources:
        return None
    providers: dict[str, Any] = {"sources": sorted(docs)}

    title, providers["title"] = _first_text(docs, cve_sources, "title")
    description, providers["description"] = _first_text(docs, cve_sources, "description")

    if MITRE in docs and docs[MITRE].get("kind", KIND_CVE) == KIND_CVE:
        state, providers["state"] = docs[MITRE].get("state") or CveState.PUBLISHED, MITRE
    else:
        rejecting = [s for s in cve_sources if docs[s].get("state") == CveState.REJECTED]
        state = CveState.REJECTED if rejecting else CveState.PUBLISHED
        providers["state"] = rejecting[0] if rejecting else cve_sources[0]

    parse = datetime.fromisoformat
    published = [(parse(t), s) for s in cve_sources if (t := docs[s].get("published"))]
    updated = [(parse(t), s) for s in cve_sources if (t := docs[s].get("updated"))]
    created_at, providers["created_at"] = min(published or updated or [(fallback_time, None)], key=_FIRST)
    updated_at, providers["updated_at"] = max(updated or [(created_at, providers["created_at"])], key=_FIRST)
    if updated_at < created_at:
        updated_at, providers["updated_at"] = created_at, providers["created_at"]

    metrics: dict[str, Any] = {}
    present = frozenset(docs)
    doc_metrics = {source: doc.get("metrics") or {} for source, doc in docs.items()}
    named = set().union(*doc_metrics.values())  # the metrics some doc names: the others are empty at once
    for name in METRIC_NAMES:
        if name in named:
            for source in _ordered_cached(present, METRIC_PRIORITY.get(name, SOURCE_PRIORITY)):
                metric = doc_metrics[source].get(name)
                if metric and metric.get("data") not in _ABSENT:
                    metrics[name] = {"data": metric["data"], "provider": metric.get("provider") or source}
                    break
            else:
                metrics[name] = empty_metric(name)
        else:
            metrics[name] = empty_metric(name)

    unions: dict[str, set[str]] = {field: set() for field in UNION_FIELDS}
    for source in cve_sources:
        doc = docs[source]
        for field in UNION_FIELDS:
            unions[field].update(filter(None, doc.get(field) or ()))  # filter(None, ...): the non-empty ones
    # A product implies its vendor, whatever the source listed (a vendor's own vendor is itself).
    unions["vendors"].update([vendor_of(v) for v in unions["vendors"] if PRODUCT_SEPARATOR in v])

    return {
        "state": str(state),
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
        "title": title,
        "description": description,
        "metrics": metrics,
        **{field: sorted(values) for field, values in unions.items()},
        "providers": providers,
    }


_FIRST = operator.itemgetter(0)  # a (datetime, source) pair's datetime


def _first_text(docs: Mapping[str, Doc], sources: list[str], field: str) -> tuple[str, str | None]:
    for source in sources:
        value = docs[source].get(field)
        if value:
            return value, source
    return "", None


# --- The Cve row ------------------------------------------------------------------------------------------


def _score(metric: Mapping[str, Any]) -> float | None:
    data = metric.get("data")
    if not isinstance(data, dict):
        return None
    value = data.get("score")
    if value is None:  # the common case: no such metric
        return None
    if value.__class__ is float:  # the next common one (float() would return it as it is)
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


# "cvssV3_1" -> "cvss31_score"
_SCORE_COLUMNS = tuple((f"cvss{name[5]}{name[7]}_score", name) for name in CVSS_METRICS)


def row_values(view: View) -> dict[str, Any]:
    """The Cve model's column values for a view (denormalised scores and dates included)."""
    metrics = view["metrics"]
    kev = metrics["kev"].get("data")
    return {
        "title": view["title"],
        "description": view["description"],
        "state": view["state"],
        "created_at": datetime.fromisoformat(view["created_at"]),
        "updated_at": datetime.fromisoformat(view["updated_at"]),
        "metrics": metrics,
        "vendors": view["vendors"],
        "weaknesses": view["weaknesses"],
        "cpes": view["cpes"],
        "references": view["references"],
        "providers": view["providers"],
        **{column: _score(metrics[name]) for column, name in _SCORE_COLUMNS},
        "kev_added": _date(kev.get("dateAdded")) if isinstance(kev, dict) else None,
        "epss_score": _score(metrics["epss"]),
    }


# --- Diff -------------------------------------------------------------------------------------------------


def diff_views(
    old: Mapping[str, Any] | None, new: Mapping[str, Any], *, known_vendors: Container[str]
) -> list[Event]:
    """The change events (docs/import.md) turning old into new; old None means the CVE is new.

    known_vendors holds every vendor and "vendor$PRODUCT$product" name seen before; the new view's names
    outside it make the first_time event. A new CVE gets only created and first_time: its full content is
    the CVE itself.
    """
    events: list[Event] = []
    if old is None:
        events.append({"type": ChangeType.CREATED.value, "details": {}})
    first_time = [name for name in new["vendors"] if name not in known_vendors]
    if first_time:
        events.append({"type": ChangeType.FIRST_TIME.value, "details": first_time})
    if old is None:
        return events

    for field in ("description", "title"):
        before, after = old.get(field) or "", new.get(field) or ""
        if before != after:
            events.append({"type": ChangeType(field).value, "details": {"old": before or None, "new": after}})
    for field in UNION_FIELDS:
        before_set, after_set = set(old.get(field) or ()), set(new.get(field) or ())
        if before_set != after_set:
            events.append(
                {
                    "type": ChangeType(field).value,
                    "details": {
                        "added": sorted(after_set - before_set),
                        "removed": sorted(before_set - after_set),
                    },
                }
            )
    metrics = diff_metrics(old.get("metrics") or {}, new.get("metrics") or {})
    if metrics is not None:
        events.append({"type": ChangeType.METRICS.value, "details": metrics})
    return events


def diff_metrics(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any] | None:
    """{"added", "removed", "updated"} between two metric maps, or None when the data did not change."""
    added: dict[str, Any] = {}
    removed: dict[str, Any] = {}
    updated: dict[str, Any] = {}
    for name in sorted(set(old) | set(new)):
        if name in METRICS_WITHOUT_EVENTS:
            continue
        before = (old.get(name) or {}).get("data")
        after = (new.get(name) or {}).get("data")
        had, has = metric_present(before), metric_present(after)
        if has and not had:
            added[name] = after
        elif had and not has:
            removed[name] = before
        elif had and has and before != after:
            updated[name] = {"old": before, "new": after}
    if not (added or removed or updated):
        return None
    return {"added": added, "removed": removed, "updated": updated}



# --- Stale copies -----------------------------------------------------------------------------------------

# Digests of copies a same-dated copy replaced, kept in the stored record (not part of its digest).
SUPERSEDED_KEY = "superseded_digests"
MAX_SUPERSEDED = 4


def is_older(doc: Doc | None, than: Doc | None) -> bool:
    """Whether a source record's own last-modified date is earlier than another copy's (unknown: not older)."""
    new, kept = (doc or {}).get("updated"), (than or {}).get("updated")
    return bool(new and kept) and datetime.fromisoformat(new) < datetime.fromisoformat(kept)


OLDER = "older"
SUPERSEDED = "superseded"


def stale_copy(doc: Doc, digest: str, *, stored: Doc, stored_digest: str) -> str | None:
    """Why a changed copy of a source record must not replace the stored one (OLDER, SUPERSEDED), or None.

    Sources modify records in place, so a copy older than the stored one (an old feed replayed late) must
    not roll the CVE back. Two different copies with the same date (two feeds rendering one record) would
    flip the CVE on every re-import of both: the stored record remembers the digests it replaced, and a copy
    among them is superseded. A copy that replaces a same-dated one gets that history in doc.
    """
    if is_older(doc, stored):
        return OLDER
    if doc.get("updated") == stored.get("updated"):
        history = list(stored.get(SUPERSEDED_KEY, []))
        if digest in history:
            return SUPERSEDED
        doc[SUPERSEDED_KEY] = [*history, stored_digest][-MAX_SUPERSEDED:]
    return None
