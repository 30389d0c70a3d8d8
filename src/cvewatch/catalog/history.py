"""A CVE's recorded changes (Change.events, docs/import.md) as readable differences, for its timeline.

Pure over plain data (no Django). Long lists are grouped and counted, never repeated whole: a product list
is grouped by vendor, a description change is a word diff with the unchanged stretches shortened.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from cvewatch.catalog import names
from cvewatch.catalog.cvss import VERSIONS

# Names a person reads in a timeline for each Cve.metrics key.
METRIC_LABELS = {
    **{key: f"CVSS {version}" for key, version in VERSIONS.items()},
    "kev": "CISA KEV entry",
    "ssvc": "SSVC decision",
    "epss": "EPSS score",
    "threat_severity": "Red Hat severity",
}
_WORDS_KEPT = 6  # unchanged words shown either side of a difference
MAX_DIFF_WORDS = 2000  # longer texts are shown old and new, not diffed


@dataclass(frozen=True, slots=True)
class NameGroup:
    """Names grouped under a heading: a vendor and its products, or one list (heading "")."""

    heading: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Difference:
    """One readable difference: a summary line, and optionally what it lists or a word diff."""

    kind: str  # the event type
    summary: str
    added: tuple[NameGroup, ...] = ()
    removed: tuple[NameGroup, ...] = ()
    diff: tuple[tuple[str, str], ...] = ()  # (op, text), op in equal / insert / delete / skip
    link_kind: str = ""  # "vendors", "weaknesses": what the item names link to
    size: int = 0  # how many names it lists, to collapse long lists

    @property
    def long(self) -> bool:
        return self.size > 8


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    when: Any  # the Change's created_at
    differences: tuple[Difference, ...] = field(default_factory=tuple)


def timeline(changes: list[Any]) -> list[TimelineEntry]:
    """Each Change (anything with created_at and events) as a timeline entry, in the given order."""
    return [TimelineEntry(c.created_at, tuple(differences(c.events))) for c in changes]


def differences(events: Any) -> list[Difference]:
    found = []
    for event in events if isinstance(events, list) else []:
        if isinstance(event, dict):
            found.append(_difference(str(event.get("type") or ""), event.get("details")))
    return found


def _difference(kind: str, details: Any) -> Difference:
    if kind == "created":
        return Difference(kind, "Added to the catalog")
    if kind == "first_time":
        groups = _name_groups(details if isinstance(details, list) else [])
        return Difference(kind, f"First CVE of {_count_names(details)}", added=groups, link_kind="vendors",
                          size=len(details or []))  # fmt: skip
    if kind in ("description", "title"):
        return _text_change(kind, details if isinstance(details, dict) else {})
    if kind == "metrics":
        return Difference(kind, _metrics_summary(details if isinstance(details, dict) else {}))
    details = details if isinstance(details, dict) else {}
    added, removed = _strings(details.get("added")), _strings(details.get("removed"))
    noun = {"vendors": "vendors and products", "cpes": "CPEs", "references": "references",
            "weaknesses": "weaknesses"}.get(kind, kind)  # fmt: skip
    parts = []
    if added:
        parts.append(f"{_count_names(added) if kind == 'vendors' else len(added)} added")
    if removed:
        parts.append(f"{_count_names(removed) if kind == 'vendors' else len(removed)} removed")
    group = _name_groups if kind == "vendors" else _one_group
    return Difference(
        kind,
        f"{noun.capitalize()}: {', '.join(parts) or 'changed'}",
        added=group(added),
        removed=group(removed),
        link_kind=kind if kind in ("vendors", "weaknesses", "references") else "",
        size=len(added) + len(removed),
    )


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _one_group(items: list[str]) -> tuple[NameGroup, ...]:
    return (NameGroup("", tuple(items)),) if items else ()


def _name_groups(flat: list[Any]) -> tuple[NameGroup, ...]:
    """Vendors-list names grouped by vendor: ("apache", ("log4j",)); a bare vendor has no items."""
    grouped: dict[str, list[str]] = {}
    for item in _strings(flat):
        vendor, product = names.split_product(item)
        bucket = grouped.setdefault(vendor, [])
        if product:
            bucket.append(product)
    return tuple(NameGroup(v, tuple(sorted(p))) for v, p in sorted(grouped.items()))


def _count_names(flat: Any) -> str:
    """ "3 products of 2 vendors" / "1 vendor" for a vendors-list."""
    items = _strings(flat)
    vendors = {names.vendor_of(i) for i in items}
    products = sum(1 for i in items if names.is_product(i))
    vendor_part = f"{len(vendors)} vendor{'s' if len(vendors) != 1 else ''}"
    if not products:
        return vendor_part
    return f"{products} product{'s' if products != 1 else ''} of {vendor_part}"


def _text_change(kind: str, details: dict[str, Any]) -> Difference:
    old, new = details.get("old") or "", details.get("new") or ""
    if not isinstance(old, str) or not isinstance(new, str):
        return Difference(kind, f"{kind.capitalize()} changed")
    if not old:
        return Difference(kind, f"{kind.capitalize()} set", diff=(("insert", new),))
    return Difference(kind, f"{kind.capitalize()} changed", diff=tuple(word_diff(old, new)))


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(op, text) runs turning old into new, word by word; long unchanged runs keep a few words each side."""
    before, after = old.split(), new.split()
    if len(before) + len(after) > MAX_DIFF_WORDS:
        return [("delete", old), ("insert", new)]
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            runs.extend(_shortened(before[i1:i2], first=i1 == 0, last=i2 == len(before)))
            continue
        if op in ("delete", "replace"):
            runs.append(("delete", " ".join(before[i1:i2])))
        if op in ("insert", "replace"):
            runs.append(("insert", " ".join(after[j1:j2])))
    return runs


def _shortened(words: list[str], *, first: bool, last: bool) -> list[tuple[str, str]]:
    head = 0 if first else _WORDS_KEPT
    tail = 0 if last else _WORDS_KEPT
    if len(words) <= head + tail + 3:
        return [("equal", " ".join(words))]
    runs = []
    if head:
        runs.append(("equal", " ".join(words[:head])))
    runs.append(("skip", f"{len(words) - head - tail} unchanged words"))
    if tail:
        runs.append(("equal", " ".join(words[-tail:])))
    return runs


def _metrics_summary(details: dict[str, Any]) -> str:
    parts = []
    for name, data in sorted((details.get("added") or {}).items()):
        parts.append(f"{METRIC_LABELS.get(name, name)} added{_metric_value(data, ' ')}")
    for name, change in sorted((details.get("updated") or {}).items()):
        change = change if isinstance(change, dict) else {}
        old, new = _metric_value(change.get("old"), ""), _metric_value(change.get("new"), "")
        arrow = f" {old or '?'} → {new or '?'}" if (old or new) and old != new else " changed"
        parts.append(f"{METRIC_LABELS.get(name, name)}{arrow}")
    for name in sorted(details.get("removed") or {}):
        parts.append(f"{METRIC_LABELS.get(name, name)} removed")
    return "; ".join(parts) or "Metrics changed"


def _metric_value(data: Any, prefix: str) -> str:
    """A metric's data in a few characters: a CVSS score, a KEV date, a severity word."""
    if isinstance(data, str):
        return f"{prefix}{data}".rstrip() if prefix else data
    if not isinstance(data, dict):
        return ""
    if data.get("score") is not None:
        return f"{prefix}({data['score']})" if prefix else str(data["score"])
    if data.get("dateAdded"):
        return f"{prefix}(since {data['dateAdded']})" if prefix else str(data["dateAdded"])
    return ""
