"""Importing parsed items into the catalog: per-source records, the merged Cve rows, links and changes.

Items are written in batches, one transaction per batch. Everything a batch needs from the database is
loaded in a few queries, merged in Python (merge.py) and written with bulk row writes (rows.py). A batch
that fails in the database is retried CVE by CVE so one bad record costs only itself.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cvewatch.catalog.choices import ImportStatus
from cvewatch.catalog.models import (
    Change,
    Cve,
    CveProduct,
    CveVendor,
    CveWeakness,
    ImportRun,
    Product,
    SourceRecord,
    Vendor,
    Weakness,
)
from cvewatch.catalog.search import SEARCH_TABLE, ensure_sqlite_search_table
from cvewatch.catalog.signals import changes_recorded  # alerts: see write_cves
from cvewatch.ingest import merge
from cvewatch.ingest.records import CveRecord, CweEntry, EpssScore, Item, KevEntry, Skipped
from cvewatch.ingest.rows import insert_rows, update_rows

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 2000
ANALYZE_FIRST_AT = 10_000  # rows written before statistics are refreshed; then at twice as many, and so on
MAX_RUN_ERRORS = 1000  # ImportRun.errors keeps the first ones; the counts keep the total
CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}\Z")
MAX_CVE_ID = Cve._meta.get_field("cve_id").max_length or 32
MAX_NAME = Vendor._meta.get_field("name").max_length or 255
MAX_SOURCE = SourceRecord._meta.get_field("source").max_length or 32
MAX_CWE_ID = Weakness._meta.get_field("cwe_id").max_length or 32
CVE_VALUE_FIELDS = (
    "title", "description", "state", "created_at", "updated_at", "metrics", "vendors", "weaknesses", "cpes",
    "references", "providers", "cvss20_score", "cvss30_score", "cvss31_score", "cvss40_score", "kev_added",
    "epss_score",
)  # fmt: skip
CVE_INSERT_FIELDS = ("cve_id", *CVE_VALUE_FIELDS, "digest", "row_created_at", "row_updated_at")
CVE_UPDATE_FIELDS = (*CVE_VALUE_FIELDS, "digest", "row_updated_at")
SOURCE_FIELDS = ("cve_id", "source", "record", "raw", "digest", "origin", "created_at", "updated_at")
CHANGE_FIELDS = ("uuid", "cve", "created_at", "events", "types", "import_run")
OLD_VIEW_FIELDS = (
    "id",
    "cve_id",
    "digest",
    "created_at",
    "title",
    "description",
    "metrics",
    *merge.UNION_FIELDS,
)
@dataclass
class _WriteCounts:
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


BATCH_COUNTERS = tuple(f.name for f in fields(_WriteCounts))
COUNTERS = (
    "read", "cve_records", "kev_entries", "epss_scores", "cwe_entries", "skipped", "warnings", *BATCH_COUNTERS,
)  # fmt: skip


@dataclass
class ImportStats(_WriteCounts):
    """What an import read and did. Records are source items; CVEs are the merged Cve rows."""

    read: int = 0
    cve_records: int = 0
    kev_entries: int = 0
    epss_scores: int = 0
    cwe_entries: int = 0
    skipped: int = 0
    warnings: int = 0  # records kept without a part that could not be stored
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


@dataclass
class _Prepared:
    """One item ready to write: its stored doc and digest, computed before any transaction."""

    key: str  # the CVE id, or the CWE id of a catalog entry
    origin: str
    source: str = ""
    doc: merge.Doc | None = None
    raw: bytes = b""
    digest: str = ""
    cwe: CweEntry | None = None


@dataclass
class _BatchResult(_WriteCounts):
    """What one batch did; applied to the run's stats and caches only once its transaction committed."""

    vendor_ids: dict[str, int] = field(default_factory=dict)
    product_ids: dict[str, int] = field(default_factory=dict)
    weakness_ids: dict[str, int] = field(default_factory=dict)
    seen_names: set[str] = field(default_factory=set)


class _Known:
    """Every vendor/product name seen before, for first_time events: the run's caches plus this batch."""

    def __init__(self, importer: _Importer, result: _BatchResult) -> None:
        self.importer, self.result = importer, result

    def __contains__(self, name: object) -> bool:
        return (
            name in self.importer.vendor_ids
            or name in self.importer.product_ids
            or name in self.result.seen_names
        )


def invalid_reason(item: Item) -> str | None:
    """Why an item cannot be stored at all, or None."""
    cve_id = getattr(item, "cve_id", None)
    if cve_id is not None and (len(cve_id) > MAX_CVE_ID or not CVE_ID.match(cve_id)):
        return f"invalid CVE id {cve_id[:60]!r}"
    if isinstance(item, CweEntry) and (not item.cwe_id or len(item.cwe_id) > MAX_CWE_ID):
        return f"invalid CWE id {item.cwe_id[:60]!r}"
    if isinstance(item, CveRecord) and (not item.source or len(item.source) > MAX_SOURCE):
        return f"{cve_id}: invalid source {item.source[:60]!r}"
    return None


def _storable_name(name: str) -> bool:
    parts = name.split(merge.PRODUCT_SEPARATOR, 1)
    return all(0 < len(part) <= MAX_NAME for part in parts)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


class _Importer:
    """One import run: caches of vendor/product/weakness ids, and the batch writer."""

    def __init__(
        self,
        *,
        stats: ImportStats,
        run: ImportRun | None,
        batch_size: int,
        on_progress: Callable[[ImportStats], None] | None,
        progress_interval: float,
    ) -> None:
        self.stats, self.run, self.batch_size = stats, run, batch_size
        self.on_progress, self.progress_interval = on_progress, progress_interval
        self.origin = ""  # the input being read, set by the walker's progress callback
        self.vendor_ids: dict[str, int] = dict(Vendor.objects.values_list("name", "id"))
        self.product_ids: dict[str, int] = {
            f"{vendor}{merge.PRODUCT_SEPARATOR}{name}": pk
            for vendor, name, pk in Product.objects.values_list("vendor__name", "name", "id")
        }
        self.weakness_ids: dict[str, int] = dict(Weakness.objects.values_list("cwe_id", "id"))
        self.written_since_analyze = 0
        self.next_analyze = ANALYZE_FIRST_AT

    # --- reading --------------------------------------------------------------------------------------------

    def consume(self, items: Iterable[Item]) -> None:
        stats = self.stats
        batch: list[_Prepared] = []
        next_progress = time.monotonic() + self.progress_interval
        for item in items:
            stats.read += 1
            prepared = self.prepare(item)
            if prepared is not None:
                # Flush only between CVEs: a CVE's records from one file (CNA and ADP) stay in one batch.
                if len(batch) >= self.batch_size and prepared.key != batch[-1].key:
                    self.flush(batch)
                    batch = []
                batch.append(prepared)
            if self.on_progress is not None and time.monotonic() >= next_progress:
                self.on_progress(stats)
                next_progress = time.monotonic() + self.progress_interval
        if batch:
            self.flush(batch)
        if self.stats.records_stored + self.stats.created >= ANALYZE_FIRST_AT:
            self.analyze(vacuum=True)

    def analyze(self, *, vacuum: bool = False) -> None:
        """Refreshes PostgreSQL's statistics of the tables a large import grew.

        Without them the planner takes a freshly loaded table for tiny and answers each batch's lookups with
        a sequential scan, so every batch costs more than the one before. SQLite keeps its own heuristics.
        At the end of a large import, VACUUM too: it sets the visibility map, without which the API's counts
        cannot use index-only scans and read the whole freshly written heap (55 ms instead of 15 ms for
        /api/cve on the full corpus) until autovacuum gets round to it.
        """
        self.written_since_analyze = 0
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return
        command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
        with connection.cursor() as cursor:
            for model in (SourceRecord, Cve, CveVendor, CveProduct, CveWeakness, Change, Vendor, Product):
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")

    def prepare(self, item: Item) -> _Prepared | None:
        """The item ready to write, or None when it is skipped (and counted as such)."""
        if isinstance(item, Skipped):
            self.skip(item.origin, item.reason)
            return None
        origin = self.origin or getattr(item, "cve_id", None) or getattr(item, "cwe_id", "") or "?"
        if (reason := invalid_reason(item)) is not None:
            self.skip(origin, reason)
            return None
        try:
            if isinstance(item, CveRecord):
                item = self.storable(item, origin)
                doc, raw, source = merge.cve_record_doc(item), item.raw, item.source
            elif isinstance(item, KevEntry):
                doc, raw, source = merge.kev_entry_doc(item), b"", merge.KEV_SOURCE
            elif isinstance(item, EpssScore):
                doc, raw, source = merge.epss_score_doc(item), b"", merge.EPSS_SOURCE
            elif isinstance(item, CweEntry):
                self.stats.cwe_entries += 1
                return _Prepared(key=item.cwe_id, origin=origin, cwe=item)
            else:
                self.skip(origin, f"not an importable item: {type(item).__name__}")
                return None
            doc, digest = merge.seal(doc, raw)
        except (TypeError, ValueError) as exc:  # e.g. a value JSON cannot hold
            self.skip(origin, f"{item.cve_id}: unusable record: {_short(exc)}")
            return None
        if isinstance(item, CveRecord):
            self.stats.cve_records += 1
        elif isinstance(item, KevEntry):
            self.stats.kev_entries += 1
        else:
            self.stats.epss_scores += 1
        return _Prepared(key=item.cve_id, origin=origin, source=source, doc=doc, raw=raw, digest=digest)

    def storable(self, record: CveRecord, origin: str) -> CveRecord:
        """The record without names the catalog cannot hold (over-long vendor/product or CWE ids), with a warning."""
        if all(0 < len(n) <= MAX_NAME for n in record.vendors) and all(
            0 < len(w) <= MAX_CWE_ID for w in record.weaknesses
        ):
            return record  # the common case: nothing to check part by part
        vendors = tuple(n for n in record.vendors if _storable_name(n))
        weaknesses = tuple(w for w in record.weaknesses if 0 < len(w) <= MAX_CWE_ID)
        dropped = len(record.vendors) - len(vendors) + len(record.weaknesses) - len(weaknesses)
        if not dropped:
            return record
        self.warn(
            origin,
            f"{record.cve_id}: {dropped} vendor/product or CWE name(s) empty or too long dropped",
            group=f"vendor/product names longer than {MAX_NAME} or CWE ids longer than {MAX_CWE_ID} characters "
            "dropped (records kept)",
        )
        return replace(record, vendors=vendors, weaknesses=weaknesses)

    def skip(self, origin: str, reason: str) -> None:
        stats = self.stats
        stats.skipped += 1
        stats.skip_reasons[reason] += 1
        if len(stats.skipped_items) < MAX_RUN_ERRORS:
            stats.skipped_items.append({"path": origin, "reason": reason})

    def warn(self, origin: str, reason: str, *, group: str) -> None:
        stats = self.stats
        stats.warnings += 1
        stats.warning_reasons[group] += 1
        if len(stats.warning_items) < MAX_RUN_ERRORS:
            stats.warning_items.append({"path": origin, "reason": reason})

    # --- writing --------------------------------------------------------------------------------------------

    def flush(self, batch: list[_Prepared]) -> None:
        try:
            result = self.write(batch)
        except DatabaseError as exc:
            log.warning("import batch of %d items failed (%s); retrying CVE by CVE", len(batch), _short(exc))
            self.write_one_by_one(batch)
        else:
            self.apply(result)

    def write_one_by_one(self, batch: list[_Prepared]) -> None:
        groups: dict[str, list[_Prepared]] = defaultdict(list)
        for prepared in batch:
            groups[prepared.key].append(prepared)
        for key, group in groups.items():
            try:
                result = self.write(group)
            except DatabaseError as exc:
                for prepared in group:
                    self.skip(prepared.origin, f"{key}: database error: {_short(exc)}")
            else:
                self.apply(result)

    def apply(self, result: _BatchResult) -> None:
        for name in BATCH_COUNTERS:
            setattr(self.stats, name, getattr(self.stats, name) + getattr(result, name))
        self.vendor_ids.update(result.vendor_ids)
        self.product_ids.update(result.product_ids)
        self.weakness_ids.update(result.weakness_ids)
        self.written_since_analyze += result.records_stored + result.created
        if self.written_since_analyze >= self.next_analyze:
            self.analyze()
            self.next_analyze *= 2

    def write(self, batch: list[_Prepared]) -> _BatchResult:
        """Writes one batch in one transaction; raises DatabaseError with nothing written."""
        result = _BatchResult()
        cwes: dict[str, CweEntry] = {}
        incoming: dict[tuple[str, str], _Prepared] = {}
        for prepared in batch:
            if prepared.cwe is not None:
                cwes[prepared.key] = prepared.cwe
                continue
            key = (prepared.key, prepared.source)
            if key in incoming:  # the same source twice in one batch: the newer copy wins, the later on a tie
                if _is_older(prepared.doc, incoming[key].doc):
                    result.records_older += 1
                    continue
                result.records_unchanged += 1
            incoming[key] = prepared
        now = timezone.now()
        with transaction.atomic():
            if cwes:
                self.upsert_weaknesses(list(cwes.values()), now=now, result=result)
            if incoming:
                self.write_cves(incoming, now=now, result=result)
        return result

    def upsert_weaknesses(self, entries: list[CweEntry], *, now: datetime, result: _BatchResult) -> None:
        existing = {w.cwe_id: w for w in Weakness.objects.filter(cwe_id__in=[e.cwe_id for e in entries])}
        new: list[Weakness] = []
        changed: list[Weakness] = []
        for entry in entries:
            row = existing.get(entry.cwe_id)
            if row is None:
                new.append(
                    Weakness(
                        cwe_id=entry.cwe_id, name=entry.name, description=entry.description, created_at=now,
                        updated_at=now,
                    )
                )  # fmt: skip
            elif (row.name, row.description) != (entry.name, entry.description):
                row.name, row.description, row.updated_at = entry.name, entry.description, now
                changed.append(row)
        Weakness.objects.bulk_create(new)
        Weakness.objects.bulk_update(changed, ["name", "description", "updated_at"])
        result.weakness_ids.update(
            Weakness.objects.filter(cwe_id__in=[w.cwe_id for w in new]).values_list("cwe_id", "id")
        )
        result.weaknesses_created += len(new)
        result.weaknesses_updated += len(changed)
        result.cwe_ok += len(entries)

    def write_cves(
        self, incoming: dict[tuple[str, str], _Prepared], *, now: datetime, result: _BatchResult
    ) -> None:
        cve_ids = {cve_id for cve_id, _ in incoming}
        stored: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
        for pk, cve_id, source, digest in SourceRecord.objects.filter(cve_id__in=cve_ids).values_list(
            "id", "cve_id", "source", "digest"
        ):
            stored[cve_id][source] = (pk, digest)
        changed = {
            key: prepared
            for key, prepared in incoming.items()
            if stored[key[0]].get(key[1], (0, ""))[1] != prepared.digest
        }
        result.records_unchanged += len(incoming) - len(changed)
        older, replaced_before = _stale_copies(changed, stored)
        for key in older:
            del changed[key]
        for key in replaced_before:
            del changed[key]
        result.records_older += len(older)
        result.records_unchanged += len(replaced_before)
        if not changed:
            return
        dirty = sorted({cve_id for cve_id, _ in changed})

        # Every source of a changed CVE takes part in its merge: this batch's copies, then the stored ones.
        dirty_set = set(dirty)
        docs: dict[str, dict[str, merge.Doc]] = defaultdict(dict)
        for (cve_id, source), prepared in incoming.items():
            if cve_id in dirty_set and prepared.doc is not None:
                docs[cve_id][source] = prepared.doc
        other_pks = [
            pk
            for cve_id in dirty
            for source, (pk, _) in stored[cve_id].items()
            if (cve_id, source) not in incoming
        ]
        if other_pks:
            for cve_id, source, record in SourceRecord.objects.filter(pk__in=other_pks).values_list(
                "cve_id", "source", "record"
            ):
                docs[cve_id][source] = record
        rows = {
            row[1]: dict(zip(OLD_VIEW_FIELDS, row, strict=True))
            # Every changed CVE, not only those with stored records: a row may come from elsewhere.
            for row in Cve.objects.filter(cve_id__in=dirty).values_list(*OLD_VIEW_FIELDS)
        }

        known = _Known(self, result)
        new_rows: list[tuple[Any, ...]] = []
        updated_rows: list[tuple[Any, ...]] = []
        events_by_cve: dict[str, list[merge.Event]] = {}
        relink_vendors: dict[str, list[str]] = {}  # cve_id -> vendors, for CVEs whose links change
        relink_weaknesses: dict[str, list[str]] = {}
        pks: dict[str, int] = {}
        for cve_id in dirty:
            row = rows.get(cve_id)
            view = merge.merge_docs(docs[cve_id], fallback_time=row["created_at"] if row else now)
            if view is None:
                result.pending += 1
                continue
            digest = merge.view_digest(view)
            if row is not None and row["digest"] == digest:
                result.unchanged += 1
                continue
            events = merge.diff_views(row, view, known_vendors=known)
            result.seen_names.update(view["vendors"])
            values = merge.row_values(view)
            value_tuple = tuple(values[name] for name in CVE_VALUE_FIELDS)
            if row is None:
                new_rows.append((cve_id, *value_tuple, digest, now, now))
                relink_vendors[cve_id], relink_weaknesses[cve_id] = view["vendors"], view["weaknesses"]
            else:
                pks[cve_id] = row["id"]
                updated_rows.append((*value_tuple, digest, now, row["id"]))
                if set(row["vendors"]) != set(view["vendors"]):
                    relink_vendors[cve_id] = view["vendors"]
                if set(row["weaknesses"]) != set(view["weaknesses"]):
                    relink_weaknesses[cve_id] = view["weaknesses"]
            if events:
                events_by_cve[cve_id] = events

        replaced = [stored[cve_id][source][0] for cve_id, source in changed if source in stored[cve_id]]
        if replaced:
            SourceRecord.objects.filter(pk__in=replaced).delete()
        result.records_stored += insert_rows(
            SourceRecord,
            SOURCE_FIELDS,
            (
                (
                    cve_id,
                    source,
                    p.doc,
                    zlib.compress(p.raw, 1) if p.raw else b"",
                    p.digest,
                    p.origin,
                    now,
                    now,
                )
                for (cve_id, source), p in changed.items()
            ),
        )
        result.created += insert_rows(Cve, CVE_INSERT_FIELDS, new_rows)
        result.updated += update_rows(Cve, CVE_UPDATE_FIELDS, updated_rows)
        if new_rows:
            pks.update(Cve.objects.filter(cve_id__in=[r[0] for r in new_rows]).values_list("cve_id", "id"))
        self.write_links(
            pks, relink_vendors, relink_weaknesses, now=now, result=result, new={r[0] for r in new_rows}
        )
        run_id = self.run.pk if self.run is not None else None
        # alerts: the Change rows are built as a list so their uuids can be announced (see below).
        change_rows = [
            (uuid.uuid4(), pks[cve_id], now, events, [e["type"] for e in events], run_id)
            for cve_id, events in events_by_cve.items()
        ]
        result.changes += insert_rows(Change, CHANGE_FIELDS, change_rows)
        if change_rows:  # alerts: receivers write their deliveries in this batch's transaction
            changes_recorded.send(sender=Change, change_uuids=[row[0] for row in change_rows])

    def write_links(
        self,
        pks: dict[str, int],
        vendors: dict[str, list[str]],
        weaknesses: dict[str, list[str]],
        *,
        now: datetime,
        result: _BatchResult,
        new: set[str],
    ) -> None:
        """Rebuilds the link rows of the CVEs whose vendor or weakness lists changed (a new CVE has none yet)."""
        product_names = {n for names in vendors.values() for n in names if merge.is_product(n)}
        vendor_names = {n for names in vendors.values() for n in names if not merge.is_product(n)}
        vendor_names.update(merge.vendor_of(n) for n in product_names)
        vendor_ids = self.ensure_vendors(vendor_names, now=now, result=result)
        product_ids = self.ensure_products(product_names, vendor_ids, now=now, result=result)
        weakness_ids = self.ensure_weaknesses(
            {w for names in weaknesses.values() for w in names}, now=now, result=result
        )

        stale_vendors = [pks[cve_id] for cve_id in vendors if cve_id not in new]
        if stale_vendors:
            CveVendor.objects.filter(cve_id__in=stale_vendors).delete()
            CveProduct.objects.filter(cve_id__in=stale_vendors).delete()
        stale_weaknesses = [pks[cve_id] for cve_id in weaknesses if cve_id not in new]
        if stale_weaknesses:
            CveWeakness.objects.filter(cve_id__in=stale_weaknesses).delete()
        insert_rows(
            CveVendor,
            ("cve", "vendor"),
            (
                (pks[c], vendor_ids[n])
                for c, names in vendors.items()
                for n in names
                if not merge.is_product(n)
            ),
        )
        insert_rows(
            CveProduct,
            ("cve", "product"),
            ((pks[c], product_ids[n]) for c, names in vendors.items() for n in names if merge.is_product(n)),
        )
        insert_rows(
            CveWeakness,
            ("cve", "weakness"),
            ((pks[c], weakness_ids[w]) for c, names in weaknesses.items() for w in names),
        )

    # Catalog rows are created on first sight; ON CONFLICT DO NOTHING because another import may have created
    # the same name since this run loaded its caches.

    def ensure_vendors(self, names: set[str], *, now: datetime, result: _BatchResult) -> dict[str, int]:
        ids = {n: pk for n in names if (pk := self.vendor_ids.get(n) or result.vendor_ids.get(n))}
        missing = sorted(names - ids.keys())
        if missing:
            insert_rows(
                Vendor,
                ("uuid", "name", "created_at", "updated_at"),
                ((uuid.uuid4(), n, now, now) for n in missing),
                ignore_conflicts=True,
            )
            found = dict(Vendor.objects.filter(name__in=missing).values_list("name", "id"))
            result.vendor_ids.update(found)
            ids.update(found)
        return ids

    def ensure_products(
        self, names: set[str], vendor_ids: dict[str, int], *, now: datetime, result: _BatchResult
    ) -> dict[str, int]:
        ids = {n: pk for n in names if (pk := self.product_ids.get(n) or result.product_ids.get(n))}
        missing = sorted(names - ids.keys())
        if missing:
            keys = {(vendor_ids[merge.vendor_of(n)], merge.product_name(n)): n for n in missing}
            insert_rows(
                Product,
                ("uuid", "vendor", "name", "created_at", "updated_at"),
                ((uuid.uuid4(), v, p, now, now) for v, p in keys),
                ignore_conflicts=True,
            )
            found = {
                keys[(v, p)]: pk
                for v, p, pk in Product.objects.filter(
                    vendor_id__in={v for v, _ in keys}, name__in={p for _, p in keys}
                ).values_list("vendor_id", "name", "id")
                if (v, p) in keys
            }
            result.product_ids.update(found)
            ids.update(found)
        return ids

    def ensure_weaknesses(self, cwe_ids: set[str], *, now: datetime, result: _BatchResult) -> dict[str, int]:
        ids = {w: pk for w in cwe_ids if (pk := self.weakness_ids.get(w) or result.weakness_ids.get(w))}
        missing = sorted(cwe_ids - ids.keys())
        if missing:
            # Seen on a CVE before the CWE catalog: the catalog import fills in name and description.
            insert_rows(
                Weakness,
                ("cwe_id", "name", "description", "created_at", "updated_at"),
                ((w, "", "", now, now) for w in missing),
                ignore_conflicts=True,
            )
            found = dict(Weakness.objects.filter(cwe_id__in=missing).values_list("cwe_id", "id"))
            result.weakness_ids.update(found)
            ids.update(found)
        return ids


# Digests of copies a same-dated copy replaced, kept in the stored record (not part of its digest).
SUPERSEDED_KEY = "superseded_digests"
MAX_SUPERSEDED = 4


def _stale_copies(
    changed: dict[tuple[str, str], _Prepared], stored: dict[str, dict[str, tuple[int, str]]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Changed records not to apply: (older than the copy kept, copies already replaced by a same-dated one).

    Sources modify records in place, so a copy older than the stored one (an old feed replayed late) must
    not roll the CVE back. Two different copies with the same date (two feeds rendering one record) would
    flip the CVE on every re-import of both; the stored record remembers what it replaced, so they do not.
    """
    candidates = {
        stored[cve_id][source][0]: (cve_id, source)
        for (cve_id, source), prepared in changed.items()
        if source in stored[cve_id] and prepared.doc is not None and prepared.doc.get("updated")
    }
    older: list[tuple[str, str]] = []
    replaced_before: list[tuple[str, str]] = []
    if not candidates:
        return older, replaced_before
    for pk, record in SourceRecord.objects.filter(pk__in=list(candidates)).values_list("pk", "record"):
        key = candidates[pk]
        prepared, record = changed[key], record or {}
        if _is_older(prepared.doc, record):
            older.append(key)
        elif prepared.doc.get("updated") == record.get("updated"):  # type: ignore[union-attr]
            history = list(record.get(SUPERSEDED_KEY, []))
            if prepared.digest in history:
                replaced_before.append(key)
            else:
                prepared.doc[SUPERSEDED_KEY] = [*history, stored[key[0]][key[1]][1]][-MAX_SUPERSEDED:]  # type: ignore[index]
    return older, replaced_before


def _is_older(doc: merge.Doc | None, than: merge.Doc | None) -> bool:
    """Whether a source record's own last-modified date is earlier than another copy's (unknown: not older)."""
    new, kept = (doc or {}).get("updated"), (than or {}).get("updated")
    return bool(new and kept) and datetime.fromisoformat(new) < datetime.fromisoformat(kept)


@contextmanager
def _search_index_deferred() -> Iterator[None]:
    """On SQLite, an initial load fills the CVE search table once at the end, not row by row in triggers.

    The FTS5 trigram triggers (catalog/search.py) cost more than the rest of a Cve insert; rebuilding the
    table from a full catalog takes seconds. Any later import keeps the triggers: there the rows are few.
    """
    if connection.vendor != "sqlite" or Cve.objects.exists():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name LIKE %s",
            [Cve._meta.db_table, f"{SEARCH_TABLE}%"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP TRIGGER IF EXISTS {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        ensure_sqlite_search_table()  # sees the missing triggers: refills the table and puts them back


# --- Public entry points ----------------------------------------------------------------------------------


def import_items(
    items: Iterable[Item],
    *,
    run: ImportRun | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[ImportStats], None] | None = None,
    progress_interval: float = 2.0,
) -> ImportStats:
    """Imports parsed items (CVE records, KEV entries, EPSS scores, CWE entries; Skipped ones are counted).

    Idempotent: items identical to what is stored change nothing. Changes are recorded against run.
    """
    stats = ImportStats()
    importer = _Importer(
        stats=stats, run=run, batch_size=max(1, batch_size), on_progress=on_progress,
        progress_interval=progress_interval,
    )  # fmt: skip
    with _search_index_deferred():
        importer.consume(items)
    return stats


def import_paths(
    paths: Sequence[str | Path],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[ImportStats], None] | None = None,
    progress_interval: float = 2.0,
) -> tuple[ImportRun, ImportStats]:
    """Imports files, directories and bundles (format detected per file) and records the run in ImportRun."""
    from cvewatch.ingest.sources import iter_items

    run = ImportRun.objects.create(paths=[str(p) for p in paths], status=ImportStatus.RUNNING)
    stats = ImportStats()
    importer = _Importer(
        stats=stats, run=run, batch_size=max(1, batch_size), on_progress=on_progress,
        progress_interval=progress_interval,
    )  # fmt: skip

    def seen(origin: str) -> None:
        importer.origin = origin

    try:
        with _search_index_deferred():
            importer.consume(iter_items(paths, on_progress=seen))
    except BaseException as exc:
        finish_run(run, stats=stats, error=f"import interrupted: {_short(exc) or type(exc).__name__}")
        raise
    finish_run(run, stats=stats)
    return run, stats


def finish_run(run: ImportRun, *, stats: ImportStats, error: str | None = None) -> None:
    """Records the outcome: failed when nothing could be imported (or the run broke), partial when items were skipped."""
    if error is not None or stats.imported == 0:
        run.status = ImportStatus.FAILED
    elif stats.skipped:
        run.status = ImportStatus.PARTIAL
    else:
        run.status = ImportStatus.SUCCEEDED
    run.counts = stats.counts()
    run.errors = (
        list(stats.skipped_items)
        + [{**w, "warning": True} for w in stats.warning_items]
        + ([{"path": "", "reason": error}] if error else [])
    )
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "counts", "errors", "finished_at"])
