"""Preparing items to write: checked, turned into stored docs, sealed and compressed; then cut into batches.

Pure work (no database), so it can run in the import's reading process (ingest/pipeline.py) while the
parent writes. Everything it counts (items read, records, skips, warnings) goes into the Preparer's stats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

import orjson

from cvewatch.catalog import raw_copy
from cvewatch.catalog.models import Cve, SourceRecord, Vendor, Weakness
from cvewatch.catalog.names import is_cve_id, is_product, split_product
from cvewatch.ingest import merge
from cvewatch.ingest.records import CveRecord, CweEntry, EpssScore, InputRead, Item, KevEntry, Skipped
from cvewatch.ingest.stats import ImportStats
from cvewatch.ingest.writer import Prepared

MAX_CVE_ID = Cve._meta.get_field("cve_id").max_length or 32
MAX_NAME = Vendor._meta.get_field("name").max_length or 255
MAX_SOURCE = SourceRecord._meta.get_field("source").max_length or 32
MAX_CWE_ID = Weakness._meta.get_field("cwe_id").max_length or 32

# Why a record was imported without some of its names: a CNA put a whole list into one product field, say.
LEFT_OUT_GROUP = (
    f"vendor/product names over {MAX_NAME} characters or CWE ids over {MAX_CWE_ID} (often a list pasted "
    "into one field) are not stored"
)

# A batch to write, whether it is the run's last (it may be empty), and the InputRead markers of the files whose
# last records are in it or in an earlier batch (ingest/inputs.py records them in its transaction).
Batch = tuple[list[Prepared], bool, list[InputRead]]


def invalid_reason(item: Item) -> str | None:
    """Why an item cannot be stored at all, or None."""
    cve_id = getattr(item, "cve_id", None)
    if cve_id is not None and (len(cve_id) > MAX_CVE_ID or not is_cve_id(cve_id)):
        return f"invalid CVE id {cve_id[:60]!r}"
    if isinstance(item, CweEntry) and (not item.cwe_id or len(item.cwe_id) > MAX_CWE_ID):
        return f"invalid CWE id {item.cwe_id[:60]!r}"
    if isinstance(item, CveRecord) and (not item.source or len(item.source) > MAX_SOURCE):
        return f"{cve_id}: invalid source {item.source[:60]!r}"
    return None


def _storable_name(name: str) -> bool:
    parts = split_product(name) if is_product(name) else (name,)
    return all(0 < len(part) <= MAX_NAME for part in parts)


def _dropped_name(name: str) -> str:
    """A left-out name as a reader can place it: its kind, its start, and why."""
    if is_product(name):
        vendor, product = split_product(name)
        kind, text, length = "product", f"{vendor}/{product}", max(len(vendor), len(product))
    else:
        kind, text, length = ("CWE id" if name.upper().startswith("CWE-") else "vendor"), name, len(name)
    if not length:
        return f"an empty {kind} name"
    shown = text if len(text) <= 40 else text[:40].rstrip() + "…"
    return f"{kind} {shown!r} ({length:,} characters)"


def short(exc: BaseException) -> str:
    """An exception's first line, bounded: what a run's error list shows."""
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


class Preparer:
    """Turns items into Prepared ones, counting what it reads, skips and leaves out in stats."""

    def __init__(self, stats: ImportStats) -> None:
        self.stats = stats
        self.origin = ""  # the input being read, set by the walker's progress callback

    def prepare(self, item: Item) -> Prepared | None:
        """The item ready to write, or None when it is skipped (and counted as such)."""
        if isinstance(item, Skipped):
            self.stats.skip(item.origin, item.reason)
            return None
        origin = self.origin or getattr(item, "cve_id", None) or getattr(item, "cwe_id", "") or "?"
        if (reason := invalid_reason(item)) is not None:
            self.stats.skip(origin, reason)
            return None
        try:
            if isinstance(item, CveRecord):
                item = self.storable(item, origin)
                doc, raw, source = merge.cve_record_doc(item), item.raw, str(item.source)
            elif isinstance(item, KevEntry):
                doc, raw, source = merge.kev_entry_doc(item), b"", merge.KEV_SOURCE
            elif isinstance(item, EpssScore):
                doc, raw, source = merge.epss_score_doc(item), b"", merge.EPSS_SOURCE
            elif isinstance(item, CweEntry):
                self.stats.cwe_entries += 1
                return Prepared(key=item.cwe_id, origin=origin, cwe=item)
            else:
                self.stats.skip(origin, f"not an importable item: {type(item).__name__}")
                return None
            doc, digest = merge.seal(doc, raw)
            # The stored forms, made here (in the reading process when there is one), not by the writer.
            doc_json = orjson.dumps(doc).decode()
        except (TypeError, ValueError) as exc:  # e.g. a value JSON cannot hold
            self.stats.skip(origin, f"{item.cve_id}: unusable record: {short(exc)}")
            return None
        if isinstance(item, CveRecord):
            self.stats.cve_records += 1
        elif isinstance(item, KevEntry):
            self.stats.kev_entries += 1
        else:
            self.stats.epss_scores += 1
        return Prepared(
            key=item.cve_id, origin=origin, source=source, doc=doc, doc_json=doc_json,
            raw=raw_copy.compress(raw), digest=digest,
        )  # fmt: skip

    def storable(self, record: CveRecord, origin: str) -> CveRecord:
        """The record without names the catalog cannot hold (over-long vendor/product or CWE ids), with a warning."""
        if all(0 < len(n) <= MAX_NAME for n in record.vendors) and all(
            0 < len(w) <= MAX_CWE_ID for w in record.weaknesses
        ):
            return record  # the common case: nothing to check part by part
        vendors = tuple(n for n in record.vendors if _storable_name(n))
        weaknesses = tuple(w for w in record.weaknesses if 0 < len(w) <= MAX_CWE_ID)
        kept = {*vendors, *weaknesses}
        dropped = [n for n in (*record.vendors, *record.weaknesses) if n not in kept]
        if not dropped:
            return record
        self.stats.warn(
            origin,
            f"{record.cve_id}: imported without {', '.join(_dropped_name(n) for n in dropped)}",
            group=LEFT_OUT_GROUP,
        )
        return replace(record, vendors=vendors, weaknesses=weaknesses)


def without_docs(batch: list[Prepared]) -> list[Prepared]:
    """The batch as it crosses the pipe to the writing process: each record's doc as its encoded doc_json only.

    A str pickles far cheaper than the nested dict it encodes (in the reading process; the batch's pickle is
    about a third smaller), and the writer decodes a doc only where it merges (Prepared.document()): same values,
    lists where the doc held tuples, which JSON, merging and digests do not tell apart.
    """
    for prepared in batch:
        if prepared.doc_json is not None:
            prepared.doc = None
    return batch


def prepared_batches(
    items: Iterable[Item],
    preparer: Preparer,
    *,
    batch_size: int,
    after_item: Callable[[], None] | None = None,
) -> Iterator[Batch]:
    """Batches of at most about batch_size prepared items; the last one (flagged) may be empty.

    A batch is cut only between CVEs: a CVE's records from one file (CNA and ADP) stay in one batch.
    after_item runs after every item read (heartbeats, progress). The walker's InputRead markers are not items:
    each goes with the next batch cut, which holds (or follows) its file's last records.
    """
    batch: list[Prepared] = []
    markers: list[InputRead] = []
    for item in items:
        if isinstance(item, InputRead):
            markers.append(item)
            continue
        preparer.stats.read += 1
        prepared = preparer.prepare(item)
        if prepared is not None:
            if len(batch) >= batch_size and prepared.key != batch[-1].key:
                yield batch, False, markers
                batch, markers = [], []
            batch.append(prepared)
        if after_item is not None:
            after_item()
    yield batch, True, markers
