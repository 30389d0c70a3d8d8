"""Importing parsed items into the catalog: the public entry points and the run that feeds the batch writer.

Items are read, checked and prepared (doc and digest) outside any transaction, then written in batches by
writer.BatchWriter, one transaction per batch. A batch that fails in the database is retried CVE by CVE so
one bad record costs only itself.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import cached_property
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
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
    this_process,
)
from cvewatch.catalog.names import is_cve_id, is_product, split_product
from cvewatch.catalog.search import search_index_deferred
from cvewatch.ingest import merge
from cvewatch.ingest.inputs import InputLedger
from cvewatch.ingest.records import CveRecord, CweEntry, EpssScore, InputRead, Item, KevEntry, Skipped
from cvewatch.ingest.stats import ImportStats
from cvewatch.ingest.writer import BatchResult, BatchWriter, Prepared

__all__ = [
    "DEFAULT_BATCH_SIZE", "ImportStats", "finish_run", "import_items", "import_paths", "mark_interrupted_runs",
    "record_heartbeat",
]

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 2000
ANALYZE_FIRST_AT = 10_000  # rows written before statistics are refreshed; then at twice as many, and so on
MAX_CVE_ID = Cve._meta.get_field("cve_id").max_length or 32
MAX_NAME = Vendor._meta.get_field("name").max_length or 255
MAX_SOURCE = SourceRecord._meta.get_field("source").max_length or 32
MAX_CWE_ID = Weakness._meta.get_field("cwe_id").max_length or 32
HEARTBEAT_SECONDS = 30.0  # a running import writes ImportRun.heartbeat_at at most this often
# A running import silent for this long is interrupted, whatever its host. Far above the longest pause of a
# live run (one file parsed whole, the VACUUM a large import ends with, a sync's download between steps,
# which beats through the sync's lease heartbeat); a live run wrongly marked records its real outcome anyway.
STALE_AFTER = timedelta(minutes=10)

Checkpoint = Callable[[], None]


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


# Why a record was imported without some of its names: a CNA put a whole list into one product field, say.
LEFT_OUT_GROUP = (
    f"vendor/product names over {MAX_NAME} characters or CWE ids over {MAX_CWE_ID} (often a list pasted "
    "into one field) are not stored"
)


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


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


class _Importer:
    """One import run: reads and prepares items, hands batches to the writer, keeps the run's stats."""

    def __init__(
        self,
        *,
        stats: ImportStats,
        run: ImportRun | None,
        batch_size: int,
        on_progress: Callable[[ImportStats], None] | None,
        progress_interval: float,
        checkpoint: Checkpoint | None = None,
        reread: bool = False,
    ) -> None:
        self.stats, self.batch_size = stats, max(1, batch_size)
        self.on_progress, self.progress_interval = on_progress, progress_interval
        self.checkpoint = checkpoint
        # A failing checkpoint is the caller's error: never retried, never counted as a skipped record.
        self.checkpoint_failed = False
        self.origin = ""  # the input being read, set by the walker's progress callback
        self.written_since_analyze = 0
        self.next_analyze = ANALYZE_FIRST_AT
        self.run_id = run.pk if run is not None else None
        self.next_beat = time.monotonic() + HEARTBEAT_SECONDS
        self.inputs = InputLedger(run_id=self.run_id, reread=reread)

    @cached_property
    def writer(self) -> BatchWriter:
        """Made at the first batch: its id caches (every vendor and product) cost a run with nothing to write."""
        return BatchWriter(run_id=self.run_id)

    def beat(self) -> None:
        """The run's heartbeat, when it is due: other hosts tell a live run from a dead one by it."""
        if self.run_id is not None and time.monotonic() >= self.next_beat:
            record_heartbeat(run_id=self.run_id)
            self.next_beat = time.monotonic() + HEARTBEAT_SECONDS

    # --- reading --------------------------------------------------------------------------------------------

    def consume(self, items: Iterable[Item]) -> None:
        stats = self.stats
        batch: list[Prepared] = []
        next_progress = time.monotonic() + self.progress_interval
        for item in items:
            if isinstance(item, InputRead):
                self.inputs.see(item)
                continue
            stats.read += 1
            self.beat()
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
            self.flush(batch, last=True)
        elif self.checkpoint is not None:
            markers = self.inputs.take()
            with transaction.atomic():
                recorded = self.inputs.record(markers)
                self.run_checkpoint()
            stats.inputs_recorded += recorded
        else:
            stats.inputs_recorded += self.inputs.record_alone(self.inputs.take())
        stats.inputs_unchanged = len(self.inputs.unchanged)
        stats.unchanged_note = self.inputs.unchanged_summary()
        if self.stats.records_stored + self.stats.created >= ANALYZE_FIRST_AT:
            self.beat()
            self.analyze(vacuum=True)

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
        except (TypeError, ValueError) as exc:  # e.g. a value JSON cannot hold
            self.stats.skip(origin, f"{item.cve_id}: unusable record: {_short(exc)}")
            return None
        if isinstance(item, CveRecord):
            self.stats.cve_records += 1
        elif isinstance(item, KevEntry):
            self.stats.kev_entries += 1
        else:
            self.stats.epss_scores += 1
        return Prepared(key=item.cve_id, origin=origin, source=source, doc=doc, raw=raw, digest=digest)

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

    # --- writing --------------------------------------------------------------------------------------------

    def flush(self, batch: list[Prepared], *, last: bool = False) -> None:
        """Writes a batch; the last one of the call carries the checkpoint into its transaction."""
        checkpoint = self.run_checkpoint if last and self.checkpoint is not None else None
        # Files whose last records are in this batch are recorded as imported in its transaction.
        markers, recorded = self.inputs.take(), 0

        def inside() -> None:
            nonlocal recorded
            recorded = self.inputs.record(markers)
            if checkpoint is not None:
                checkpoint()

        try:
            result = self.writer.write(batch, checkpoint=inside if markers or checkpoint else None)
        except DatabaseError as exc:
            if self.checkpoint_failed:
                raise
            log.warning("import batch of %d items failed (%s); retrying CVE by CVE", len(batch), _short(exc))
            self.write_one_by_one(batch, checkpoint=checkpoint)
            # After the retry, which knows the files whose records the database refused: those stay unrecorded.
            self.stats.inputs_recorded += self.inputs.record_alone(markers)
        else:
            self.apply(result)
            self.stats.inputs_recorded += recorded

    def write_one_by_one(self, batch: list[Prepared], *, checkpoint: Checkpoint | None) -> None:
        groups: dict[str, list[Prepared]] = defaultdict(list)
        for prepared in batch:
            groups[prepared.key].append(prepared)
        last_key = next(reversed(groups))
        for key, group in groups.items():
            try:
                result = self.writer.write(group, checkpoint=checkpoint if key == last_key else None)
            except DatabaseError as exc:
                if self.checkpoint_failed:
                    raise
                for prepared in group:
                    self.stats.skip(prepared.origin, f"{key}: database error: {_short(exc)}")
                    self.inputs.failed(prepared.origin)
                if checkpoint is not None and key == last_key:
                    # The last CVE is skipped like any other refused one: it must not hold the cursor back.
                    with transaction.atomic():
                        checkpoint()
            else:
                self.apply(result)

    def run_checkpoint(self) -> None:
        assert self.checkpoint is not None
        try:
            self.checkpoint()
        except BaseException:
            self.checkpoint_failed = True
            raise

    def apply(self, result: BatchResult) -> None:
        """Counts a committed batch and keeps its new ids; refreshes statistics as the tables grow."""
        self.stats.add(result)
        self.writer.remember(result)
        self.written_since_analyze += result.records_stored + result.created
        if self.written_since_analyze >= self.next_analyze:
            self.analyze()
            self.next_analyze *= 2

    def analyze(self, *, vacuum: bool = False) -> None:
        """Refreshes PostgreSQL's statistics of the tables a large import grew.

        Without them the planner takes a freshly loaded table for tiny and answers each batch's lookups with
        a sequential scan, so every batch costs more than the one before. SQLite keeps its own heuristics.
        At the end of a large import, VACUUM too: it sets the visibility map, without which the API's counts
        cannot use index-only scans and read the whole freshly written heap until autovacuum gets round to it.
        """
        self.written_since_analyze = 0
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return
        command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
        with connection.cursor() as cursor:
            for model in (SourceRecord, Cve, CveVendor, CveProduct, CveWeakness, Change, Vendor, Product):
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")


# --- Public entry points ----------------------------------------------------------------------------------


def import_items(
    items: Iterable[Item],
    *,
    run: ImportRun | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[ImportStats], None] | None = None,
    progress_interval: float = 2.0,
    checkpoint: Checkpoint | None = None,
) -> ImportStats:
    """Imports parsed items (CVE records, KEV entries, EPSS scores, CWE entries; Skipped ones are counted).

    Idempotent: items identical to what is stored change nothing. Changes are recorded against run.
    checkpoint runs once, inside the transaction of the last batch written (or of its own when there is
    none), so a caller's cursor commits or rolls back with the data it covers; if it raises, so does this.
    InputRead markers among items (from the walker) are recorded as imported files once their records commit.
    """
    stats = ImportStats()
    if run is not None:
        mark_interrupted_runs()
    importer = _Importer(
        stats=stats, run=run, batch_size=batch_size, on_progress=on_progress,
        progress_interval=progress_interval, checkpoint=checkpoint,
    )  # fmt: skip
    with search_index_deferred():
        importer.consume(items)
    return stats


def import_paths(
    paths: Sequence[str | Path],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[ImportStats], None] | None = None,
    progress_interval: float = 2.0,
    checkpoint: Checkpoint | None = None,
    reread: bool = False,
) -> tuple[ImportRun, ImportStats]:
    """Imports files, directories and bundles (format detected per file) and records the run in ImportRun.

    checkpoint: as for import_items. A file whose raw bytes were already imported completely (under the same
    INPUT_FORMAT_VERSION) is skipped before it is parsed, unless reread.
    """
    from cvewatch.ingest.sources import iter_items

    mark_interrupted_runs()
    run = ImportRun.objects.create(paths=[str(p) for p in paths], status=ImportStatus.RUNNING)
    stats = ImportStats()
    importer = _Importer(
        stats=stats, run=run, batch_size=batch_size, on_progress=on_progress,
        progress_interval=progress_interval, checkpoint=checkpoint, reread=reread,
    )  # fmt: skip

    def seen(origin: str) -> None:
        importer.origin = origin

    try:
        with search_index_deferred():
            importer.consume(iter_items(paths, on_progress=seen, known=importer.inputs.known.keys()))
    except BaseException as exc:
        finish_run(run, stats=stats, error=f"import interrupted: {_short(exc) or type(exc).__name__}")
        raise
    finish_run(run, stats=stats)
    return run, stats


def finish_run(run: ImportRun, *, stats: ImportStats, error: str | None = None) -> None:
    """Records the outcome: failed when nothing could be imported (or the run broke), partial when items were skipped."""
    if error is not None or (stats.imported == 0 and not stats.inputs_unchanged):
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


def record_heartbeat(*, run_id: int) -> None:
    """A running import is alive: its heartbeat is now (also while a sync downloads between its steps)."""
    ImportRun.objects.filter(pk=run_id).update(heartbeat_at=timezone.now())


def mark_interrupted_runs() -> int:
    """Marks runs left "running" by a process that is gone; returns how many.

    A killed import (SIGKILL, the OOM killer, a power cut, a host that went down) never records its outcome.
    A run of this host whose process no longer exists is interrupted at once; a run of any host whose
    heartbeat is older than STALE_AFTER is interrupted too (hosts sharing one PostgreSQL cannot check each
    other's processes) unless it is this host's and its process lives.
    """
    host, me = socket.gethostname(), this_process()
    now = timezone.now()
    cutoff = now - STALE_AFTER
    running = ImportRun.objects.filter(status=ImportStatus.RUNNING).exclude(worker=me)
    dead = [
        run.pk
        for run in running.filter(worker__startswith=f"{host}:").only("worker")
        if not _process_alive(run.worker.rpartition(":")[2])
    ]
    # This host's runs are judged by their process above: a live one may be silent in a long VACUUM.
    silent = list(
        running.exclude(worker__startswith=f"{host}:")
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        .values_list("pk", flat=True)
    )
    marked = 0
    for pks, reason in (
        (dead, "the import process stopped before the run finished (killed or crashed)"),
        (silent, f"no heartbeat from the import process for more than {STALE_AFTER.seconds // 60} minutes: it "
                 "stopped before the run finished (killed, crashed, or its host went down)"),
    ):  # fmt: skip
        if pks:
            marked += ImportRun.objects.filter(pk__in=pks, status=ImportStatus.RUNNING).update(
                status=ImportStatus.INTERRUPTED, finished_at=now, errors=[{"path": "", "reason": reason}]
            )
    return marked


def _process_alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
