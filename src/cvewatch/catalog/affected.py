"""What a CVE affects, for reading: its vendors and products grouped, and the version ranges a CVE JSON 5
record's containers state (CVE JSON 5 `affected`: versions, lessThan, lessThanOrEqual, changes, defaultStatus).

Pure over plain data (no Django). A malformed `affected` entry is skipped, never raised: feeds carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cvewatch.catalog import names

# Placeholders CNAs write for "every version before": a range from them reads "before X".
_OPEN_START = frozenset({"", "0", "*", "-", "n/a", "unspecified", "0.0", "0.0.0"})


@dataclass(frozen=True, slots=True)
class VendorGroup:
    """One vendor of the CVE and its products (stored names: lower case, "_" for spaces)."""

    vendor: str
    products: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VersionRange:
    text: str  # "From 2.0-beta9 to before 2.15.0", "Up to and including 3.4", "1.57"
    status: str  # affected, unaffected, unknown
    changes: tuple[str, ...] = ()  # "from 2.3.1: unaffected"


@dataclass(frozen=True, slots=True)
class AffectedEntry:
    """One `affected` item as its container wrote it (original spelling), with its version ranges."""

    vendor: str
    product: str
    ranges: tuple[VersionRange, ...]
    default_status: str  # what versions not listed are ("" when the record does not say)
    package: str = ""
    platforms: tuple[str, ...] = ()
    product_key: str = ""  # the stored "vendor$PRODUCT$product" name, for links ("" when it names nothing)


@dataclass(frozen=True, slots=True)
class AffectedStatement:
    """The `affected` list of one container of the record: the CNA's or an ADP's (CISA's)."""

    source: str  # "CNA (apache)", "CISA ADP"
    entries: tuple[AffectedEntry, ...]


def vendor_groups(flat: list[str] | tuple[str, ...], *, first: frozenset[str] = frozenset()) -> list[VendorGroup]:
    """The contract's flat list ("apache", "apache$PRODUCT$log4j") as vendors with their products.

    The vendors in `first` (those the CNA names: what the CVE is about) lead, then the others by name; a
    product's vendor is listed even when the flat list omits it.
    """
    products: dict[str, list[str]] = {}
    for item in flat:
        if not isinstance(item, str) or not item:
            continue
        vendor, product = names.split_product(item)
        bucket = products.setdefault(vendor, [])
        if product:
            bucket.append(product)
    groups = [VendorGroup(v, tuple(sorted(set(p)))) for v, p in products.items()]
    return sorted(groups, key=lambda g: (g.vendor not in first, g.vendor))


def statements(record: Any) -> list[AffectedStatement]:
    """The `affected` statements of a decoded CVE JSON 5 record: the CNA's first, then each ADP's."""
    containers = record.get("containers") if isinstance(record, dict) else None
    if not isinstance(containers, dict):
        return []
    found = []
    cna = containers.get("cna")
    if isinstance(cna, dict):
        found.append(_statement(cna, "CNA"))
    adps = containers.get("adp")
    for adp in adps if isinstance(adps, list) else []:
        if isinstance(adp, dict):
            found.append(_statement(adp, "ADP"))
    return [s for s in found if s.entries]


def _statement(container: dict[str, Any], role: str) -> AffectedStatement:
    meta = container.get("providerMetadata")
    short_name = meta.get("shortName") if isinstance(meta, dict) else None
    if role == "ADP" and short_name == "CISA-ADP":
        label = "CISA ADP (vulnrichment)"
    else:
        label = f"{role} ({short_name})" if isinstance(short_name, str) and short_name else role
    items = container.get("affected")
    entries = [_entry(item) for item in (items if isinstance(items, list) else []) if isinstance(item, dict)]
    return AffectedStatement(label, tuple(e for e in entries if e is not None))


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _entry(item: dict[str, Any]) -> AffectedEntry | None:
    vendor, product = _text(item.get("vendor")), _text(item.get("product"))
    package = _text(item.get("packageName"))
    if not (vendor or product or package):
        return None
    versions = item.get("versions")
    ranges = tuple(r for r in (_range(v) for v in (versions if isinstance(versions, list) else [])) if r)
    platforms = item.get("platforms")
    keys = names.vendor_keys(vendor, product)
    return AffectedEntry(
        vendor=vendor,
        product=product,
        ranges=ranges,
        default_status=_text(item.get("defaultStatus")),
        package=package,
        platforms=tuple(p for p in (_text(x) for x in (platforms if isinstance(platforms, list) else [])) if p),
        product_key=keys[1] if len(keys) == 2 else "",
    )


def _range(version: Any) -> VersionRange | None:
    if not isinstance(version, dict):
        return None
    start = _text(version.get("version"))
    below, upto = _text(version.get("lessThan")), _text(version.get("lessThanOrEqual"))
    status = _text(version.get("status")) or "unknown"
    if below or upto:
        if start.lower() in _OPEN_START:
            text = f"Before {below}" if below else f"Up to and including {upto}"
        else:
            text = f"From {start} to before {below}" if below else f"From {start} through {upto}"
    elif start:
        text = start
    else:
        return None
    changes = version.get("changes")
    steps = tuple(
        f"from {_text(c.get('at'))}: {_text(c.get('status')) or 'unknown'}"
        for c in (changes if isinstance(changes, list) else [])
        if isinstance(c, dict) and _text(c.get("at"))
    )
    return VersionRange(text, status, steps)
