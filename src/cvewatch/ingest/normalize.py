"""Small pure helpers shared by the parsers: CPEs, timestamps, CWE ids (CVE ids and names: catalog.names)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote

from cvewatch.catalog.names import vendor_keys

_CWE_RE = re.compile(r"(?:CWE-)?(\d+)", re.IGNORECASE)
_CWE_PREFIX_RE = re.compile(r"CWE-(\d+)(?!\d)", re.IGNORECASE)
# A ':' that is not escaped by a backslash separates CPE 2.3 fields.
_CPE23_SPLIT_RE = re.compile(r"(?<!\\):")
_CPE23_UNESCAPE_RE = re.compile(r"\\(.)")


class Cpe(NamedTuple):
    part: str
    vendor: str
    product: str


def split_cpe(cpe: object) -> Cpe | None:
    """Part, vendor and product of a CPE 2.3 formatted string or an old 'cpe:/a:vendor:product' URI.

    Escapes are undone ('\\:' -> ':', '%21' -> '!'); None when the string is not a CPE.
    """
    if not isinstance(cpe, str):
        return None
    if cpe.startswith("cpe:2.3:"):
        if "\\" in cpe:
            fields = [_CPE23_UNESCAPE_RE.sub(r"\1", f) for f in _CPE23_SPLIT_RE.split(cpe)]
        else:
            fields = cpe.split(":")
        if len(fields) < 5:
            return None
        return Cpe(fields[2], fields[3], fields[4])
    if cpe.startswith("cpe:/"):
        fields = cpe[5:].split(":")
        if len(fields) < 3:
            return None
        return Cpe(unquote(fields[0]), unquote(fields[1]), unquote(fields[2]))
    return None


def cpe_vendor_keys(cpe: object) -> tuple[str, ...]:
    """Vendors-list entries named by a CPE; wildcards ('*') and 'not applicable' ('-') name nothing."""
    if isinstance(cpe, str) and cpe.startswith("cpe:2.3:") and "\\" not in cpe:
        # Fast path for the common unescaped form: NVD feeds carry millions of CPEs over few (vendor, product).
        fields = cpe.split(":", 5)
        return _pair_keys(fields[3], fields[4]) if len(fields) >= 5 else ()
    parts = split_cpe(cpe)
    if parts is None:
        return ()
    return _pair_keys(parts.vendor, parts.product)


@lru_cache(maxsize=1 << 16)
def _pair_keys(vendor: str, product: str) -> tuple[str, ...]:
    return tuple(vendor_keys(vendor, product))


def parse_timestamp(value: object) -> datetime | None:
    """Aware UTC datetime from NVD ('2021-12-10T10:15Z'), ISO 8601 (Z, offset, fractions) or a date.

    Naive values are taken as UTC (NVD and many CNAs write UTC without saying so). None when absent or
    unparseable: a bad timestamp must not cost the rest of the record.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: object) -> date | None:
    """A calendar date from 'YYYY-MM-DD' or a full timestamp; None when absent or unparseable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def normalize_cwe_id(value: object) -> str | None:
    """'CWE-79', 'cwe-79', '79' or 79 -> 'CWE-79'; None for anything else (NVD-CWE-Other, text...)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"CWE-{value}" if value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _CWE_RE.fullmatch(value.strip())
    return f"CWE-{int(match.group(1))}" if match else None


def leading_cwe_id(text: object) -> str | None:
    """The CWE id a free-text problem type starts with ('CWE-79 Improper ...' -> 'CWE-79')."""
    if not isinstance(text, str):
        return None
    match = _CWE_PREFIX_RE.match(text.strip())
    return f"CWE-{int(match.group(1))}" if match else None


def unique(values: list[str]) -> tuple[str, ...]:
    """Values without duplicates, in first-seen order (dict keeps insertion order)."""
    return tuple(dict.fromkeys(values))
