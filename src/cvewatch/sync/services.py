"""Running sources: claim the lease, import each step through the ingest path, record the run.

The job engine (cvewatch.jobs) and `cvewatch sync` call run_source/run_sources; due_sources tells the
scheduler what to run next.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from cvewatch.catalog.choices import ImportStatus
from cvewatch.catalog.models import ImportRun
from cvewatch.ingest.known_ids import KnownIds
from cvewatch.ingest.services import ImportStats
from cvewatch.sync import lease
from cvewatch.sync.choices import RunStatus
from cvewatch.sync.errors import LeaseLost, SyncError, UnknownSource
from cvewatch.sync.importing import import_step
from cvewatch.sync.models import SyncRun, SyncSource
from cvewatch.sync.sources import SOURCES, make_source
from cvewatch.sync.sources.base import Context, Cursor
from cvewatch.sync.transport import HttpTransport, Transport

log = logging.getLogger(__name__)

MAX_ERROR_LINES = 50  # skipped inputs listed on a run; the counts keep the total
RETRY_FAILED_AFTER = 300  # seconds: a failed source is due again after this (or the interval, if shorter)


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_source(
    *,
    name: str,
    worker: str | None = None,
    transport: Transport | None = None,
    lease_seconds: int = lease.LEASE_SECONDS,
) -> SyncRun | None:
    """Claims the source, runs it once and returns the recorded run; None when another worker holds it."""
    if name not in SOURCES:
        raise UnknownSource(f"unknown sync source {name!r}; known: {', '.join(SOURCES)}")
    worker = worker or default_worker()
    if not lease.claim(name=name, worker=worker, seconds=lease_seconds):
        return None
    source_row = SyncSource.objects.get(name=name)
    now = timezone.now()
    # We hold the lease: a run still marked running was left by a worker that died (on any host), and so
    # was its import record.
    dead = source_row.runs.filter(status=RunStatus.RUNNING)
    ImportRun.objects.filter(pk__in=dead.values("import_run"), status=ImportStatus.RUNNING).update(
        status=ImportStatus.INTERRUPTED,
        finished_at=now,
        errors=[{"path": "", "reason": "the sync worker stopped before the run finished (its lease expired)"}],
    )
    dead.update(
        status=RunStatus.INTERRUPTED,
        finished_at=now,
        errors="the worker stopped before the run finished (its lease expired); the next run resumed from the cursor",
    )
    url = settings.SYNC_URLS[name]
    import_run = ImportRun.objects.create(paths=[f"sync:{name} {url}"], status=ImportStatus.RUNNING)
    run = SyncRun.objects.create(
        source=source_row, worker=worker, cursor_before=source_row.cursor, cursor_after=source_row.cursor,
        import_run=import_run,
    )  # fmt: skip
    workdir = _scratch_dir(name)
    heartbeat = lease.Heartbeat(name=name, worker=worker, seconds=lease_seconds, import_run_id=import_run.pk)
    ctx = Context(
        name=name, url=url, cursor=dict(source_row.cursor), transport=transport or HttpTransport(),
        workdir=workdir, state_dir=Path(settings.DATA_DIR) / "sync" / name, heartbeat=heartbeat,
        api_key=settings.NVD_API_KEY if name == "nvd" else "",
    )  # fmt: skip
    totals = _Totals()
    error: str | None = None
    status = RunStatus.SUCCEEDED
    stopping: BaseException | None = None
    try:
        _run_steps(
            ctx, run=run, import_run=import_run, totals=totals, worker=worker, lease_seconds=lease_seconds
        )
    except LeaseLost as exc:
        status, error = RunStatus.INTERRUPTED, str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded on the run; one source must not stop the others
        log.warning("sync %s failed: %s", name, exc, exc_info=not isinstance(exc, SyncError))
        status, error = RunStatus.FAILED, str(exc) or type(exc).__name__
    except BaseException as exc:
        # A signal or an exit: record the run and free the lease, then go on stopping.
        status, error = (
            RunStatus.INTERRUPTED,
            f"stopped by {type(exc).__name__}; the next run resumes from the cursor",
        )
        stopping = exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if status == RunStatus.SUCCEEDED and totals.skipped:
        status = RunStatus.PARTIAL
    retries = getattr(ctx.transport, "retries", [])
    _finish(run, import_run, status=status, totals=totals, error=error, notes=[*retries, *ctx.notes])
    finished = {"last_run_at": run.finished_at}
    if status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
        finished["last_success_at"] = run.finished_at
    lease.release(name=name, worker=worker, **finished)
    if stopping is not None:
        raise stopping
    return run


def _run_steps(
    ctx: Context, *, run: SyncRun, import_run: ImportRun, totals: _Totals, worker: str, lease_seconds: int
) -> None:
    """Imports each step of the source; its cursor is saved in the transaction of its last batch. The steps
    share the catalog's ids, read once at the first write (ingest/known_ids.py)."""
    known = KnownIds()
    for step in make_source(ctx.name).steps(ctx):
        saved: Cursor = dict(step.cursor)

        def checkpoint(cursor: Cursor = saved) -> None:
            lease.renew(name=ctx.name, worker=worker, seconds=lease_seconds, cursor=cursor)

        stats = import_step(step.items, run=import_run, checkpoint=checkpoint, heartbeat=ctx.heartbeat, known=known)
        totals.add(stats)
        ctx.cursor = run.cursor_after = saved
        ctx.note(f"{step.label}: {stats.read:,} read, {stats.created:,} created, {stats.updated:,} updated")
        if stats.records_older:
            ctx.note(
                f"{step.label}: {stats.records_older:,} records older than the copies kept were ignored "
                "(the upstream served older data; the catalog keeps the newer copies)"
            )
        run.save(update_fields=["cursor_after"])


def run_sources(*, names: Sequence[str] | None = None, worker: str | None = None) -> list[SyncRun | None]:
    """Runs each named source (all enabled ones when None) once, in order; a failure does not stop the others."""
    chosen = list(settings.SYNC_SOURCES if names is None else names)
    unknown = [n for n in chosen if n not in SOURCES]
    if unknown:
        raise UnknownSource(f"unknown sync source(s) {', '.join(unknown)}; known: {', '.join(SOURCES)}")
    return [run_source(name=name, worker=worker) for name in chosen]


def due_sources(*, now: datetime | None = None) -> list[str]:
    """Enabled sources whose last successful run is older than CVEWATCH_SYNC_INTERVAL (or that never ran).

    A source that is running right now (an unexpired lease) is not due, and one whose last run failed waits
    RETRY_FAILED_AFTER seconds (or the interval, if shorter) so a broken upstream is not hammered.
    """
    now = now or timezone.now()
    interval = timedelta(seconds=settings.SYNC_INTERVAL)
    retry = min(interval, timedelta(seconds=RETRY_FAILED_AFTER))
    rows = {row.name: row for row in SyncSource.objects.filter(name__in=settings.SYNC_SOURCES)}
    due = []
    for name in settings.SYNC_SOURCES:
        row = rows.get(name)
        if row is None:
            due.append(name)
            continue
        if row.lease_owner and row.lease_expires_at and row.lease_expires_at > now:
            continue
        if row.last_success_at is not None and now - row.last_success_at < interval:
            continue
        if row.last_run_at is not None and now - row.last_run_at < retry:
            continue
        due.append(name)
    return due


def _scratch_dir(name: str) -> Path:
    """A fresh scratch directory for this run's downloads, in DATA_DIR/sync/work (removed after the run).

    Under the data dir rather than the system's temp dir: big feeds stay off a RAM-backed /tmp, and what a
    run killed before its cleanup (SIGKILL, the OOM killer) left is found and removed by the next run of the
    same source, which holds the source's lease and so is the only one using `<name>-*` there.
    """
    root = Path(settings.DATA_DIR) / "sync" / "work"
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(f"{name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))


class _Totals:
    """The import counters summed over a run's steps."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.skip_reasons: Counter[str] = Counter()
        self.warning_reasons: Counter[str] = Counter()
        self.skipped_items: list[dict[str, str]] = []
        self.steps = 0

    @property
    def skipped(self) -> int:
        return self.counts["skipped"]

    def add(self, stats: ImportStats) -> None:
        self.steps += 1
        counts = stats.counts()
        self.skip_reasons.update(counts.pop("skip_reasons"))
        self.warning_reasons.update(counts.pop("warning_reasons"))
        self.counts.update({k: v for k, v in counts.items() if isinstance(v, int)})
        self.skipped_items.extend(stats.skipped_items[: MAX_ERROR_LINES - len(self.skipped_items)])

    def as_dict(self) -> dict[str, Any]:
        return {
            **dict(self.counts), "steps": self.steps, "skip_reasons": dict(self.skip_reasons),
            "warning_reasons": dict(self.warning_reasons),
        }  # fmt: skip


def _finish(
    run: SyncRun,
    import_run: ImportRun,
    *,
    status: RunStatus,
    totals: _Totals,
    error: str | None,
    notes: list[str],
) -> None:
    now = timezone.now()
    lines = [error] if error else []
    lines += [f"skipped {e['path']}: {e['reason']}" for e in totals.skipped_items]
    run.status, run.finished_at, run.counts = status, now, totals.as_dict()
    run.errors, run.notes = "\n".join(lines), "\n".join(notes)
    run.save(update_fields=["status", "finished_at", "counts", "errors", "notes", "cursor_after"])
    import_run.status = {
        RunStatus.SUCCEEDED: ImportStatus.SUCCEEDED, RunStatus.PARTIAL: ImportStatus.PARTIAL,
    }.get(status, ImportStatus.FAILED)  # fmt: skip
    import_run.counts = run.counts
    import_run.errors = [{"path": e["path"], "reason": e["reason"]} for e in totals.skipped_items] + (
        [{"path": "", "reason": error}] if error else []
    )
    import_run.finished_at = now
    import_run.save(update_fields=["status", "counts", "errors", "finished_at"])
