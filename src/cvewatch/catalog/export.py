"""CSV export of a CVE list: the columns, the rows, and the CSV text, streamed without a row cap.

The rows come from one query read in chunks of EXPORT_CHUNK, as `.iterator(chunk_size=…)` reads them: a
server-side cursor on PostgreSQL (server-side cursors are not disabled; the read runs in its own transaction,
see `_driver_rows`), a stepping cursor on SQLite; memory holds one chunk of rows and one small text
buffer however long the list is. The same list plans as the page shows it (`catalog.selectors.cve_listing`, a project's listing): any
CveFilter the list takes, a future `q` included, filters the export alike.

Every text cell is guarded against spreadsheet formula injection: a cell that starts with = + - @ or a tab
or carriage return is prefixed with an apostrophe, so spreadsheets show it as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from datetime import date, datetime
from typing import Any

import orjson
from django.db import connections, transaction
from django.db.models import QuerySet
from django.db.models.sql.constants import MULTI

from cvewatch.catalog import names, vocabulary
from cvewatch.catalog.models import Cve
from cvewatch.catalog.selectors import CountedCves

# Rows fetched per round trip (PostgreSQL) / cursor step batch (SQLite); text is flushed every FLUSH_BYTES.
EXPORT_CHUNK = 2000
FLUSH_BYTES = 64 * 1024

COLUMNS = (
    "cve_id",
    "title",
    "published",
    "updated",
    "cvss_v2",
    "cvss_v3_0",
    "cvss_v3_1",
    "cvss_v4_0",
    "severity",
    "kev_added",
    "epss",
    "cwes",
    "vendors_products",
    "url",
)
# What the rows read: no description and no JSON but the two link lists (the other JSON columns are large).
_FIELDS = (
    "cve_id",
    "title",
    "created_at",
    "updated_at",
    "cvss20_score",
    "cvss30_score",
    "cvss31_score",
    "cvss40_score",
    "kev_added",
    "epss_score",
    "weaknesses",
    "vendors",
)
# The list badge's rule: the v3.1 score (the one the filters use), else the newest other version's.
_SEVERITY_ORDER = ("cvss31_score", "cvss40_score", "cvss30_score", "cvss20_score")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


severity = vocabulary.severity


def safe_cell(value: str) -> str:
    """The text as a spreadsheet shows it literally: a leading formula character gets an apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def compact_vendors(flat: Iterable[str]) -> str:
    """The contract's flat list as one cell: `apache: log4j, struts; microsoft` (a bare vendor: all products)."""
    vendors: dict[str, list[str]] = {}
    for item in flat or ():
        if names.is_product(item):
            vendor, product = names.split_product(item)
            vendors.setdefault(vendor, []).append(product)
        else:
            vendors.setdefault(item, [])
    return "; ".join(f"{v}: {', '.join(products)}" if products else v for v, products in vendors.items())


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _when(value: date | datetime | str | None) -> str:
    """A date or a UTC datetime as ISO 8601 (`2024-07-24T00:00:00Z`), from either driver's value.

    SQLite's driver hands back a naive datetime (Django stores UTC), PostgreSQL's an aware one in the
    connection's time zone (UTC): both print the same.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text + "Z" if value.tzinfo is None else text.replace("+00:00", "Z")
    if isinstance(value, str):  # a driver without converters: Django's stored text
        return value.replace(" ", "T") + "Z" if " " in value else value
    return value.isoformat()


def _json_list(value: Any) -> list[str]:
    """A JSON list column as the driver returns it (text, or already decoded)."""
    if value is None:
        return []
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def export_queryset(listing: QuerySet[Cve] | CountedCves) -> QuerySet[Cve]:
    """Every CVE of a list (a queryset, or a CountedCves planned for all its rows), newest update first."""
    if isinstance(listing, CountedCves):
        listing = listing.queryset(rows_needed=listing.count())
    return listing.order_by("-updated_at", "-id")


def _driver_rows(queryset: QuerySet[Cve]) -> Iterator[tuple[Any, ...]]:
    """The rows of a values_list queryset as the database driver returns them, a chunk per round trip.

    This is what `.iterator(chunk_size=EXPORT_CHUNK)` runs (the same chunked fetch, a named cursor on
    PostgreSQL), minus Django's per-value converters: at 200,000 rows those cost half the export's time,
    and the cells are text again right after (`_when`, `_json_list` read both engines' raw values).

    On PostgreSQL the read runs in a transaction: in autocommit Django declares the cursor WITH HOLD, which
    the server computes in full at the implicit commit before the first row comes back (2 s and a server-side
    copy of the whole catalog); inside a transaction the cursor streams. Not on SQLite, where a transaction
    (BEGIN IMMEDIATE here) would hold the write lock for the whole download.
    """
    in_transaction = connections[queryset.db].vendor == "postgresql"
    with transaction.atomic(using=queryset.db) if in_transaction else nullcontext():
        compiler = queryset.query.get_compiler(using=queryset.db)
        chunks = compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=EXPORT_CHUNK)
        for chunk in chunks or ():
            yield from chunk


def export_rows(
    listing: QuerySet[Cve] | CountedCves, *, cve_url: Callable[[str], str]
) -> Iterator[list[str]]:
    """One list of cells per CVE, in COLUMNS order, streamed from the database a chunk at a time."""
    values = export_queryset(listing).values_list(*_FIELDS)
    index = {name: i for i, name in enumerate(_FIELDS)}
    severity_at = [index[name] for name in _SEVERITY_ORDER]
    for row in _driver_rows(values):
        score = next((row[i] for i in severity_at if row[i] is not None), None)
        cve_id = row[0]
        yield [
            safe_cell(cve_id),
            safe_cell(row[1] or ""),
            _when(row[2]),
            _when(row[3]),
            _score(row[4]),
            _score(row[5]),
            _score(row[6]),
            _score(row[7]),
            severity(score),
            _when(row[8]),
            "" if row[9] is None else f"{row[9]:.5f}",
            safe_cell(" ".join(_json_list(row[10]))),
            safe_cell(compact_vendors(_json_list(row[11]))),
            cve_url(cve_id),
        ]


def csv_chunks(rows: Iterable[list[str]], *, flush_bytes: int = FLUSH_BYTES) -> Iterator[bytes]:
    """The header and the rows as UTF-8 CSV (RFC 4180 quoting, CRLF), in pieces of about flush_bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= flush_bytes:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def export_filename(*parts: str, today: date) -> str:
    """`acme-production-cves-2026-11-28.csv`: the list's names (made safe for a file name) and the day."""
    safe = ["".join(c if c.isalnum() or c in "-_" else "_" for c in part) for part in parts if part]
    return "-".join([*safe, "cves", today.isoformat()]) + ".csv"


def export_csv(listing: Any, *, cve_url: Callable[[str], str]) -> Iterator[bytes]:
    """The whole CSV of a list, lazily: nothing is read before the first piece is asked for."""
    return csv_chunks(export_rows(listing, cve_url=cve_url))
