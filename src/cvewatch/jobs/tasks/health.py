"""The worker's heartbeat: proof, kept in the queue store, that some worker is consuming the queue."""

from __future__ import annotations

import logging

from huey import crontab

from cvewatch.jobs import health
from cvewatch.jobs.queue import db_periodic_task, worker_id

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def heartbeat() -> None:
    """Every minute: a worker records that it ran a job (read by `cvewatch worker --check`)."""
    health.record_heartbeat(worker=worker_id())
