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
from datetime import timedelta
from functools import cached_property
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from cvewatch.catalog import bulk_load, link_order
from cvewatch.catalog.choices import ImportStatus
from cvewatch.catalog.models import ImportRun, this_process
from cvewatch.catalog.search import search_index_deferred, upkeep_at_load_end
from cvewatch.ingest.gc_tuning import bulk_thresholds
from cvewatch.ingest.inputs import InputLedger
from cvewatch.ingest.known_ids import KnownIds
from cvewatch.ingest.pipeline import Reader, worth_it
from cvewatch.ingest.pipeline import available as pipeline_available
from cvewatch.ingest.preparing import Preparer, prepared_batches, short
from cvewatch.ingest.records import InputRead, Item
from cvewatch.ingest.stats import ImportStats
from cvewatch.ingest.writer import BatchResult, BatchWriter, Prepared, catalog_is_empty

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "PIPELINE_BATCH_SIZE",
    "ImportStats",
    "finish_run",
    "import_items",
    "import_paths",
    "mark_interrupted_runs",
    "record_heartbeat",
]

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 2000
# Reading in a second process (large inputs): fewer, larger transactions. The full corpus's first import, back
# to back on one machine: 2,000 items 165.9 s (246.7 s of CPU), 5,000 141.7 s (210.7 s), 10,000 134.9 s
# (202.4 s; peak RSS 645 MiB): fewer commits rewrite the same index and search-table pages, and the search
# table merges fewer segments. Memory stays bounded by the two batches in flight.
PIPELINE_BATCH_SIZE = 10_000
ANALYZE_FIRST_AT = 10_000  # rows written before statistics are refreshed; then at twice as many, and so on
HEARTBEAT_SECONDS = 30.0  # a running import writes ImportRun.heartbeat_at at most this often
# A running import silent for this long is interrupted, whatever its host. Far above the longest pause of a
# live run (one file parsed whole, the VACUUM a large import ends with, a sync's download between steps,
# which beats through the sync's lease heartbeat); a live run wrongly marked records its real outcome anyway.
STALE_AFTER = timedelta(minutes=10)

Checkpoint = Callable[[], None]


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
        known: KnownIds | None = None,
    ) -> None:
        self.stats, self.batch_size, self.known = stats, max(1, batch_size), known
        self.on_progress, self.progress_interval = on_progress, progress_interval
        self.checkpoint = checkpoint
        # A failing checkpoint is the caller's error: never retried, never counted as a skipped record.
        self.checkpoint_failed = False
        self.next_progress = time.monotonic() + progress_interval
        self.seen: Callable[[str], None] = lambda origin: None  # the walker's progress: the input being read
        self.written_since_analyze = 0
        self.next_analyze = ANALYZE_FIRST_AT
        self.run_id = run.pk if run is not None else None
        self.next_beat = time.monotonic() + HEARTBEAT_SECONDS
        self.inputs = InputLedger(run_id=self.run_id, reread=reread)

    @cached_property
    def writer(self) -> BatchWriter:
        """Made at the first batch: its id caches (every vendor and product) cost a run with nothing to write."""
        return BatchWriter(run_id=self.run_id, known=self.known)

    def beat(self) -> None:
        """The run's heartbeat, when it is due: other hosts tell a live run from a dead one by it."""
        if self.run_id is not None and time.monotonic() >= self.next_beat:
            record_heartbeat(run_id=self.run_id)
            self.next_beat = time.monotonic() + HEARTBEAT_SECONDS

    # --- reading --------------------------------------------------------------------------------------------

    def after_item(self) -> None:
        self.beat()
        self.progress()

    def progress(self) -> None:
        if self.on_progress is not None and time.monotonic() >= self.next_progress:
            self.on_progress(self.stats)
            self.next_progress = time.monotonic() + self.progress_interval

    def consume(self, items: Iterable[Item]) -> None:
        """Reads, prepares and writes items in this process."""
        preparer = Preparer(self.stats)
        self.seen = lambda origin: setattr(preparer, "origin", origin)
        self.write_all(
            (None, batch, last, markers)
            for batch, last, markers in prepared_batches(
                items, preparer, batch_size=self.batch_size, after_item=self.after_item
            )
        )

    def consume_in_child(self, paths: Sequence[str | Path], *, known: Iterable[str] | None = None) -> None:
        """Writes what a second process reads and prepares from paths (ingest/pipeline.py)."""
        # A first import's new CVEs are merged in the reading process (ingest/premerge.py).
        premerge = catalog_is_empty()
        with Reader(
            paths, batch_size=self.batch_size, idle=self.after_item, known=known, premerge=premerge
        ) as reader:
            self.write_all(reader)

    def write_all(
        self, batches: Iterable[tuple[ImportStats | None, list[Prepared], bool, list[InputRead]]]
    ) -> None:
        """Writes batches in order; each comes with what was counted reading it when that was done elsewhere,
        and with the InputRead markers of the files whose last records are in it or before it."""
        stats = self.stats
        for counts, batch, last, markers in batches:
            if counts is not None:
                stats.absorb(counts)
                self.after_item()
            for marker in markers:
                self.inputs.see(marker)
            if batch:
                self.flush(batch, last=last)
            elif last and self.checkpoint is not None:
                taken = self.inputs.take()
                with transaction.atomic():
                    recorded = self.inputs.record(taken)
                    self.run_checkpoint()
                stats.inputs_recorded += recorded
            elif last:
                stats.inputs_recorded += self.inputs.record_alone(self.inputs.take())
        stats.inputs_unchanged = len(self.inputs.unchanged)
        stats.unchanged_note = self.inputs.unchanged_summary()
        # A PostgreSQL first load does this at its own end, around its index builds (catalog/search.py).
        if self.stats.records_stored + self.stats.created >= ANALYZE_FIRST_AT and not upkeep_at_load_end():
            self.beat()
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                # A first load left the link-order triggers out (catalog/bulk_load.py): copying the times of
                # the CVEs updated since their links were written rewrites those rows, so before the VACUUM,
                # which then finds them settled (every page all-visible for the lists' index-only scans).
                link_order.ensure_link_order_triggers()
            self.analyze(vacuum=True)

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
            log.warning("import batch of %d items failed (%s); retrying CVE by CVE", len(batch), short(exc))
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
                    self.stats.skip(prepared.origin, f"{key}: database error: {short(exc)}")
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
        The weaknesses (the CWE catalog rewrites them) and the kept counts (a row update per batch) are
        vacuumed then as well, so autovacuum finds nothing of the import left to do while the API serves.
        """
        self.written_since_analyze = 0
        bulk_load.upkeep(vacuum=vacuum)


# --- Public entry points ----------------------------------------------------------------------------------


def import_items(
    items: Iterable[Item],
    *,
    run: ImportRun | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[ImportStats], None] | None = None,
    progress_interval: float = 2.0,
    checkpoint: Checkpoint | None = None,
    known: KnownIds | None = None,
) -> ImportStats:
    """Imports parsed items (CVE records, KEV entries, EPSS scores, CWE entries; Skipped ones are counted).

    Idempotent: items identical to what is stored change nothing. Changes are recorded against run.
    checkpoint runs once, inside the transaction of the last batch written (or of its own when there is
    none), so a caller's cursor commits or rolls back with the data it covers; if it raises, so does this.
    InputRead markers among items (from the walker) are recorded as imported files once their records commit.
    `known`: the catalog's ids read by an earlier call of the same run (a sync's steps share one).
    """
    stats = ImportStats()
    if run is not None:
        mark_interrupted_runs()
    importer = _Importer(
        stats=stats, run=run, batch_size=batch_size, on_progress=on_progress,
        progress_interval=progress_interval, checkpoint=checkpoint, known=known,
    )  # fmt: skip
    with bulk_thresholds(), search_index_deferred():
        importer.consume(items)
    return stats


def import_paths(
    paths: Sequence[str | Path],
    *,
    batch_size: int | None = None,
    on_progress: Callable[[ImportStats], None] | None = None,
    progress_interval: float = 2.0,
    checkpoint: Checkpoint | None = None,
    reread: bool = False,
    pipeline: bool | None = None,
) -> tuple[ImportRun, ImportStats]:
    """Imports files, directories and bundles (format detected per file) and records the run in ImportRun.

    checkpoint: as for import_items. A file whose raw bytes were already imported completely (under the same
    INPUT_FORMAT_VERSION) is skipped before it is parsed, unless reread. pipeline: read and prepare in a second
    process while this one writes (ingest/pipeline.py); by default when there are two cores and the inputs are
    large. batch_size: items per transaction; by default DEFAULT_BATCH_SIZE, PIPELINE_BATCH_SIZE in two processes.
    """
    from cvewatch.ingest.sources import iter_items

    two_processes = pipeline if pipeline is not None else (pipeline_available() and worth_it(paths))
    mark_interrupted_runs()
    run = ImportRun.objects.create(paths=[str(p) for p in paths], status=ImportStatus.RUNNING)
    stats = ImportStats()
    importer = _Importer(
        stats=stats, run=run, on_progress=on_progress, progress_interval=progress_interval,
        batch_size=batch_size or (PIPELINE_BATCH_SIZE if two_processes else DEFAULT_BATCH_SIZE),
        checkpoint=checkpoint, reread=reread,
    )  # fmt: skip

    try:
        with bulk_thresholds(), search_index_deferred():
            if two_processes:
                importer.consume_in_child(paths, known=importer.inputs.known.keys())
            else:
                known = importer.inputs.known.keys()
                importer.consume(
                    iter_items(paths, on_progress=lambda origin: importer.seen(origin), known=known)
                )
    except BaseException as exc:
        finish_run(run, stats=stats, error=f"import interrupted: {short(exc) or type(exc).__name__}")
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
