"""Scheduled syncs: every minute the due sources are queued, each at most once; a worker runs each one.

Three layers keep one source from running twice: the claim below (a source is queued once until a worker
takes it), the due check when the task starts (a duplicate that waited behind a finished run does nothing)
and the sync lease (`run_source` returns None while another worker holds the source).
"""

from __future__ import annotations

import logging

from django.db import transaction
from huey import crontab

from cvewatch.jobs.queue import claim, db_periodic_task, db_task, release, worker_id
from cvewatch.sync import services as sync_services

logger = logging.getLogger(__name__)

# A claim outlives its task only when a worker died between taking the claim and starting the task;
# after this long the source is queued again anyway.
CLAIM_STALE_AFTER = 3600.0


def queue_sync(name: str, *, force: bool = False) -> None:
    """Queue one sync of source `name` after the current transaction commits, unless one is queued already."""

    def enqueue() -> None:
        if not claim(_claim_key(name), stale_after=CLAIM_STALE_AFTER):
            logger.info("sync %s is queued already", name)
            return
        try:
            sync_source(name, force)
        except Exception:
            release(_claim_key(name))
            raise
        logger.info("sync %s queued", name)

    transaction.on_commit(enqueue)


@db_periodic_task(crontab(minute="*"))
def schedule_due_syncs() -> None:
    """Every minute (and when a worker starts): queue each source whose last good run is too old."""
    due = sync_services.due_sources()
    if due:
        logger.info("due: %s", ", ".join(due))
    for name in due:
        queue_sync(name)


@db_task()
def sync_source(name: str, force: bool = False) -> None:
    """Run one sync of `name` (only if it is still due, unless forced); recorded as a SyncRun by sync."""
    release(_claim_key(name))  # from here a new request queues a new run
    if not force and name not in sync_services.due_sources():
        logger.info("sync %s: not due (it ran recently or runs elsewhere); nothing to do", name)
        return
    run = sync_services.run_source(name=name, worker=worker_id())
    if run is None:
        logger.info("sync %s: another worker holds it, skipped", name)
    else:
        logger.info("sync %s: %s", name, run)


def _claim_key(name: str) -> str:
    return f"sync:{name}"
