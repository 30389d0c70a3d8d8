"""The batch writer: one batch of prepared items in one transaction, with bulk row writes (rows.py).

Everything a batch needs from the database is loaded in a few queries, merged in Python (merge.py) and
written back. The vendor, product and weakness ids the run has seen are cached; a batch's additions reach
the caches only once its transaction has committed (`remember`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from cvewatch.catalog.models import (
    Change,
    Cve,
    CveProduct,
    CveVendor,
    CveWeakness,
    Product,
    SourceRecord,
    Vendor,
    Weakness,
)
from cvewatch.catalog.names import is_product, split_product, vendor_of
from cvewatch.catalog.search import index_written_cves
from cvewatch.catalog.signals import changes_recorded  # alerts: see write_cves
from cvewatch.ingest import merge
from cvewatch.ingest.known_ids import KnownIds
from cvewatch.ingest.records import CweEntry
from cvewatch.ingest.rows import adapt_row, ids_for, insert_rows, update_rows
from cvewatch.ingest.stats import WriteCounts

CVE_VALUE_FIELDS = (
    "title", "description", "state", "created_at", "updated_at", "metrics", "vendors", "weaknesses", "cpes",
    "references", "providers", "cvss20_score", "cvss30_score", "cvss31_score", "cvss40_score", "kev_added",
    "epss_score",
)  # fmt: skip
CVE_INSERT_FIELDS = ("cve_id", *CVE_VALUE_FIELDS, "digest", "row_created_at", "row_updated_at")
CVE_UPDATE_FIELDS = (*CVE_VALUE_FIELDS, "digest", "row_updated_at")
SOURCE_FIELDS = ("cve_id", "source", "record", "raw", "digest", "origin", "created_at", "updated_at")
CHANGE_FIELDS = ("uuid", "cve", "created_at", "events", "types", "import_run")
_UPDATED_AT = 1 + CVE_VALUE_FIELDS.index("updated_at")  # in a row of CVE_INSERT_FIELDS
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


@dataclass(frozen=True)
class NewCve:
    """A CVE's row merged ahead of writing (ingest/premerge.py) from the run's first records of it.

    The writer takes it only for a CVE with nothing stored whose incoming records are exactly `sources`.
    """

    sources: frozenset[tuple[str, str]]  # (source, record digest) of the merged records
    values: tuple[Any, ...]  # CVE_VALUE_FIELDS and the view's digest, adapted for the engine (rows.adapt_row)
    vendors: list[str]
    weaknesses: list[str]


@dataclass
class Prepared:
    """One item ready to write: its stored doc and digest, computed before any transaction."""

    key: str  # the CVE id, or the CWE id of a catalog entry
    origin: str
    source: str = ""
    doc: merge.Doc | None = None  # None with doc_json set: decoded when needed (document())
    doc_json: str | None = None  # doc as SourceRecord.record stores it (None: encoded when written)
    raw: bytes = b""  # the source's own JSON as stored: compressed (catalog/raw_copy.py)
    digest: str = ""
    cwe: CweEntry | None = None
    new_cve: NewCve | None = None  # the CVE merged ahead (ingest/premerge.py), shared by its records

    def document(self) -> merge.Doc | None:
        """The doc, decoded from doc_json if it travelled without it (None for a CWE entry)."""
        if self.doc is None and self.doc_json is not None:
            self.doc = orjson.loads(self.doc_json)
        return self.doc


@dataclass
class BatchResult(WriteCounts):
    """What one batch did; applied to the run's stats and caches only once its transaction committed."""

    vendor_ids: dict[str, int] = field(default_factory=dict)
    product_ids: dict[str, int] = field(default_factory=dict)
    weakness_ids: dict[str, int] = field(default_factory=dict)
    seen_names: set[str] = field(default_factory=set)
    cve_ids: set[str] = field(default_factory=set)  # CVEs whose rows were written


class _Known:
    """Every vendor/product name seen before, for first_time events: the run's caches plus this batch."""

    def __init__(self, writer: BatchWriter, result: BatchResult) -> None:
        self.writer, self.result = writer, result

    def __contains__(self, name: object) -> bool:
        return (
            name in self.writer.vendor_ids
            or name in self.writer.product_ids
            or name in self.result.seen_names
        )


class BatchWriter:
    """Writes batches for one import run, keeping the run's vendor/product/weakness id caches."""

    def __init__(self, *, run_id: int | None, known: KnownIds | None = None) -> None:
        self.run_id = run_id
        known = (known or KnownIds()).load_once()  # shared by a sync's steps (ingest/known_ids.py)
        self.vendor_ids, self.product_ids, self.weakness_ids = known.vendor_ids, known.product_ids, known.weakness_ids
        # On a first import (no CVE and no source record yet) only the CVEs this run wrote can have stored
        # rows: the others' lookups are skipped, as they could only find nothing. None: look every CVE up.
        # A database error drops the shortcut for good (another writer may be filling the same catalog).
        self.stored_ids: set[str] | None = None if not catalog_is_empty() else set()

    def remember(self, result: BatchResult) -> None:
        """Keeps a committed batch's new ids."""
        self.vendor_ids.update(result.vendor_ids)
        self.product_ids.update(result.product_ids)
        self.weakness_ids.update(result.weakness_ids)
        if self.stored_ids is not None:
            self.stored_ids.update(result.cve_ids)

    def write(self, batch: list[Prepared], *, checkpoint: Callable[[], None] | None = None) -> BatchResult:
        """Writes one batch in one transaction, checkpoint last; raises DatabaseError with nothing written."""
        result = BatchResult()
        cwes: dict[str, CweEntry] = {}
        incoming: dict[tuple[str, str], Prepared] = {}
        for prepared in batch:
            if prepared.cwe is not None:
                cwes[prepared.key] = prepared.cwe
                continue
            key = (prepared.key, prepared.source)
            if key in incoming:  # the same source twice in one batch: the newer copy wins, the later on a tie
                if merge.is_older(prepared.document(), incoming[key].document()):
                    result.records_older += 1
                    continue
                result.records_unchanged += 1
            incoming[key] = prepared
        now = timezone.now()
        try:
            with transaction.atomic():
                if cwes:
                    self.upsert_weaknesses(list(cwes.values()), now=now, result=result)
                if incoming:
                    self.write_cves(incoming, now=now, result=result)
                if checkpoint is not None:
                    checkpoint()
        except DatabaseError:
            self.stored_ids = None
            raise
        return result

    def upsert_weaknesses(self, entries: list[CweEntry], *, now: datetime, result: BatchResult) -> None:
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
        self, incoming: dict[tuple[str, str], Prepared], *, now: datetime, result: BatchResult
    ) -> None:
        cve_ids = {cve_id for cve_id, _ in incoming}
        looked_up = cve_ids if self.stored_ids is None else cve_ids & self.stored_ids
        stored: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
        if looked_up:
            for pk, cve_id, source, digest in SourceRecord.objects.filter(cve_id__in=looked_up).values_list(
                "id", "cve_id", "source", "digest"
            ):
                stored[cve_id][source] = (pk, digest)
        changed = {
            key: prepared
            for key, prepared in incoming.items()
            if stored[key[0]].get(key[1], (0, ""))[1] != prepared.digest
        }
        result.records_unchanged += len(incoming) - len(changed)
        for key, reason in _stale_copies(changed, stored).items():
            del changed[key]
            if reason == merge.OLDER:
                result.records_older += 1
            else:
                result.records_unchanged += 1
        if not changed:
            return
        dirty = sorted({cve_id for cve_id, _ in changed})

        # Every source of a changed CVE takes part in its merge: this batch's copies, then the stored ones;
        # except for the new CVEs merged ahead from exactly these copies (premerged).
        dirty_set = set(dirty)
        premerged = self.premerged(incoming, dirty_set)
        docs: dict[str, dict[str, merge.Doc]] = defaultdict(dict)
        for (cve_id, source), prepared in incoming.items():
            if cve_id in dirty_set and cve_id not in premerged and (doc := prepared.document()) is not None:
                docs[cve_id][source] = doc
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
        old_views = dirty if self.stored_ids is None else [c for c in dirty if c in self.stored_ids]
        rows = {
            row[1]: dict(zip(OLD_VIEW_FIELDS, row, strict=True))
            # Every changed CVE, not only those with stored records: a row may come from elsewhere.
            for row in (
                Cve.objects.filter(cve_id__in=old_views).values_list(*OLD_VIEW_FIELDS) if old_views else ()
            )
        }

        known = _Known(self, result)
        new_rows: list[tuple[Any, ...]] = []
        updated_rows: list[tuple[Any, ...]] = []
        events_by_cve: dict[str, list[merge.Event]] = {}
        relink_vendors: dict[str, list[str]] = {}  # cve_id -> vendors, for CVEs whose links change
        relink_weaknesses: dict[str, list[str]] = {}
        pks: dict[str, int] = {}
        adapt_new = adapt_row(Cve, CVE_INSERT_FIELDS)
        adapt_updated_at = adapt_row(Cve, ("updated_at",))
        stamps_of: dict[str, Any] = {}  # cve_id -> its updated_at as stored, for its link rows (link_order.py)
        stamps = adapt_row(Cve, ("row_created_at", "row_updated_at"))((now, now))
        for cve_id in dirty:
            ahead = premerged.get(cve_id)
            if ahead is not None:  # a new CVE: its events are created and first_time (merge.diff_views)
                events_by_cve[cve_id] = merge.diff_views(
                    None, {"vendors": ahead.vendors}, known_vendors=known
                )
                result.seen_names.update(ahead.vendors)
                new_rows.append((cve_id, *ahead.values, *stamps))
                relink_vendors[cve_id], relink_weaknesses[cve_id] = ahead.vendors, ahead.weaknesses
                continue
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
                new_rows.append(adapt_new((cve_id, *value_tuple, digest, now, now)))
                relink_vendors[cve_id], relink_weaknesses[cve_id] = view["vendors"], view["weaknesses"]
            else:
                pks[cve_id] = row["id"]
                updated_rows.append((*value_tuple, digest, now, row["id"]))
                stamps_of[cve_id] = adapt_updated_at((values["updated_at"],))[0]
                if set(row["vendors"]) != set(view["vendors"]):
                    relink_vendors[cve_id] = view["vendors"]
                if set(row["weaknesses"]) != set(view["weaknesses"]):
                    relink_weaknesses[cve_id] = view["weaknesses"]
            if events:
                events_by_cve[cve_id] = events

        replaced = [stored[cve_id][source][0] for cve_id, source in changed if source in stored[cve_id]]
        if replaced:
            SourceRecord.objects.filter(pk__in=replaced).delete()
        result.cve_ids.update(cve_id for cve_id, _ in changed)
        result.records_stored += insert_rows(
            SourceRecord,
            SOURCE_FIELDS,
            (
                (cve_id, source, _record_json(p), p.raw, p.digest, p.origin, now, now)
                for (cve_id, source), p in changed.items()
            ),
            encoded=("record",),
        )
        # One statement in the order of dirty, merged ahead or not: ids (the API's tie-breaker) as before.
        result.created += insert_rows(Cve, CVE_INSERT_FIELDS, new_rows, ready=True)
        result.updated += update_rows(Cve, CVE_UPDATE_FIELDS, updated_rows)
        if new_rows:
            pks.update(ids_for(Cve, "cve_id", [r[0] for r in new_rows]))
        stamps_of.update((r[0], r[_UPDATED_AT]) for r in new_rows)
        # An initial load's search rows (SQLite, no triggers meanwhile): in this transaction.
        index_written_cves([pks[r[0]] for r in new_rows], [r[-1] for r in updated_rows])
        self.write_links(
            pks, relink_vendors, relink_weaknesses, now=now, result=result, new={r[0] for r in new_rows},
            stamps={pks[cve_id]: stamp for cve_id, stamp in stamps_of.items()},
        )  # fmt: skip
        # alerts: the Change rows are built as a list so their uuids can be announced (see below).
        change_rows = [
            (uuid.uuid4(), pks[cve_id], now, events, [e["type"] for e in events], self.run_id)
            for cve_id, events in events_by_cve.items()
        ]
        result.changes += insert_rows(Change, CHANGE_FIELDS, change_rows)
        if change_rows:  # alerts: receivers write their deliveries in this batch's transaction
            changes_recorded.send(sender=Change, change_uuids=[row[0] for row in change_rows])

    def premerged(self, incoming: dict[tuple[str, str], Prepared], dirty: set[str]) -> dict[str, NewCve]:
        """The dirty CVEs merged ahead whose merge still holds: nothing stored (first-import shortcut) and
        exactly the records merged ahead arriving, so merging here would give the same view."""
        if self.stored_ids is None:
            return {}
        arriving: dict[str, set[tuple[str, str]]] = defaultdict(set)
        ahead: dict[str, NewCve] = {}
        for (cve_id, source), prepared in incoming.items():
            if cve_id in dirty and cve_id not in self.stored_ids:
                arriving[cve_id].add((source, prepared.digest))
                if prepared.new_cve is not None:
                    ahead[cve_id] = prepared.new_cve
        return {cve_id: new for cve_id, new in ahead.items() if new.sources == arriving[cve_id]}

    def write_links(
        self,
        pks: dict[str, int],
        vendors: dict[str, list[str]],
        weaknesses: dict[str, list[str]],
        *,
        now: datetime,
        result: BatchResult,
        new: set[str],
        stamps: Mapping[int, Any],
    ) -> None:
        """Rebuilds the link rows of the CVEs whose vendor or weakness lists changed (a new CVE has none yet).

        stamps: each CVE's updated_at as stored (by pk), the link rows' copy (catalog/link_order.py) written
        with them, so neither the triggers nor an initial load's final recompute rewrite a row.
        """
        product_names = {n for names in vendors.values() for n in names if is_product(n)}
        vendor_names = {n for names in vendors.values() for n in names if not is_product(n)}
        vendor_names.update(vendor_of(n) for n in product_names)
        vendor_ids = self.ensure_ids(
            Vendor, vendor_names, self.vendor_ids, result.vendor_ids,
            fields=("uuid", "name", "created_at", "updated_at"),
            new_row=lambda name: (uuid.uuid4(), name, now, now),
            stored=lambda names: ids_for(Vendor, "name", names),
        )  # fmt: skip
        product_ids = self.ensure_ids(
            Product, product_names, self.product_ids, result.product_ids,
            fields=("uuid", "vendor", "name", "created_at", "updated_at"),
            new_row=lambda name: (uuid.uuid4(), vendor_ids[vendor_of(name)], split_product(name)[1], now, now),
            stored=lambda names: _stored_products(names, vendor_ids),
        )  # fmt: skip
        weakness_ids = self.ensure_ids(
            Weakness, {w for names in weaknesses.values() for w in names}, self.weakness_ids, result.weakness_ids,
            # Seen on a CVE before the CWE catalog: the catalog import fills in name and description.
            fields=("cwe_id", "name", "description", "created_at", "updated_at"),
            new_row=lambda cwe_id: (cwe_id, "", "", now, now),
            stored=lambda cwe_ids: ids_for(Weakness, "cwe_id", cwe_ids),
        )  # fmt: skip

        stale_vendors = [pks[cve_id] for cve_id in vendors if cve_id not in new]
        if stale_vendors:
            CveVendor.objects.filter(cve_id__in=stale_vendors).delete()
            CveProduct.objects.filter(cve_id__in=stale_vendors).delete()
        stale_weaknesses = [pks[cve_id] for cve_id in weaknesses if cve_id not in new]
        if stale_weaknesses:
            CveWeakness.objects.filter(cve_id__in=stale_weaknesses).delete()
        # ready=True: ids and stamps are stored values already.
        insert_rows(
            CveVendor, ("cve", "vendor", "cve_updated_at"),
            ((pk, vendor_ids[n], stamps[pk]) for c, names in vendors.items() for pk in [pks[c]] for n in names
             if not is_product(n)),
            ready=True,
        )  # fmt: skip
        insert_rows(
            CveProduct, ("cve", "product", "cve_updated_at"),
            ((pk, product_ids[n], stamps[pk]) for c, names in vendors.items() for pk in [pks[c]] for n in names
             if is_product(n)),
            ready=True,
        )  # fmt: skip
        insert_rows(
            CveWeakness, ("cve", "weakness", "cve_updated_at"),
            ((pk, weakness_ids[w], stamps[pk]) for c, names in weaknesses.items() for pk in [pks[c]] for w in names),
            ready=True,
        )  # fmt: skip

    @staticmethod
    def ensure_ids(
        model: type[models.Model],
        names: set[str],
        cached: Mapping[str, int],
        added: dict[str, int],
        *,
        fields: tuple[str, ...],
        new_row: Callable[[str], tuple[Any, ...]],
        stored: Callable[[list[str]], Iterable[tuple[str, int]]],
    ) -> dict[str, int]:
        """The ids of catalog rows named names, creating the missing ones (new_row); new ids go into added.

        cached holds the run's committed ids, added this batch's. ON CONFLICT DO NOTHING because another
        import may have created the same name since this run loaded its caches; stored then reads the ids
        of the names now in the table.
        """
        ids = {n: pk for n in names if (pk := cached.get(n) or added.get(n))}
        missing = sorted(names - ids.keys())
        if missing:
            insert_rows(model, fields, (new_row(n) for n in missing), ignore_conflicts=True)
            found = dict(stored(missing))
            added.update(found)
            ids.update(found)
        return ids


def catalog_is_empty() -> bool:
    """No CVE and no source record yet: a first import, whose records can only meet their own run's."""
    return not (Cve.objects.exists() or SourceRecord.objects.exists())


def _record_json(prepared: Prepared) -> str:
    """The doc as stored: encoded by the preparer unless the writer changed it since (merge.stale_copy)."""
    doc = prepared.doc
    if prepared.doc_json is not None and (doc is None or merge.SUPERSEDED_KEY not in doc):
        return prepared.doc_json
    return orjson.dumps(doc).decode()


def _stored_products(names: list[str], vendor_ids: Mapping[str, int]) -> Iterable[tuple[str, int]]:
    """(name, pk) of the stored products among names ("vendor$PRODUCT$product"): plain SQL, as rows.ids_for."""
    keys = {
        (vendor_ids[vendor], product): name for name in names for vendor, product in [split_product(name)]
    }
    found: list[tuple[str, int]] = []
    pairs = list(keys)
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), 400):  # two parameters a pair: within SQLite's limit
            chunk = pairs[start : start + 400]
            # One probe of the (vendor, name) unique index per pair; `vendor_id IN (…) AND name IN (…)` read
            # every product of every vendor in the chunk (4% of the writer's time on the full corpus).
            cursor.execute(
                f"WITH v(vendor_id, name) AS (VALUES {', '.join(['(CAST(%s AS BIGINT), %s)'] * len(chunk))}) "
                f"SELECT p.vendor_id, p.name, p.id FROM v JOIN {Product._meta.db_table} p "
                "ON p.vendor_id = v.vendor_id AND p.name = v.name",
                [value for pair in chunk for value in pair],
            )
            found.extend((keys[(v, p)], pk) for v, p, pk in cursor.fetchall() if (v, p) in keys)
    return found


def _stale_copies(
    changed: dict[tuple[str, str], Prepared], stored: dict[str, dict[str, tuple[int, str]]]
) -> dict[tuple[str, str], str]:
    """The changed records not to apply, each with merge.stale_copy's reason (the rule lives in merge.py)."""
    candidates = {
        stored[cve_id][source][0]: (cve_id, source)
        for (cve_id, source), prepared in changed.items()
        if source in stored[cve_id] and (doc := prepared.document()) is not None and doc.get("updated")
    }
    stale: dict[tuple[str, str], str] = {}
    if not candidates:
        return stale
    for pk, record in SourceRecord.objects.filter(pk__in=list(candidates)).values_list("pk", "record"):
        key = candidates[pk]
        prepared = changed[key]
        doc = prepared.document()
        assert doc is not None  # a candidate has a doc
        reason = merge.stale_copy(
            doc, prepared.digest, stored=record or {}, stored_digest=stored[key[0]][key[1]][1]
        )
        if reason is not None:
            stale[key] = reason
    return stale
