"""The queue's health as operators see it: last heartbeat, queued and scheduled jobs."""

from __future__ import annotations

import time
from dataclasses import dataclass

from cvewatch.jobs.queue import huey

HEARTBEAT_KEY = "heartbeat"
# The heartbeat runs every minute; three missed ones mean no worker is consuming the queue.
HEARTBEAT_MAX_AGE = 180.0


@dataclass(frozen=True)
class QueueHealth:
    storage: str
    pending: int
    scheduled: int
    last_heartbeat_age: float | None  # seconds; None: no worker ever ran here
    last_heartbeat_worker: str | None

    @property
    def healthy(self) -> bool:
        return self.last_heartbeat_age is not None and self.last_heartbeat_age <= HEARTBEAT_MAX_AGE


def record_heartbeat(*, worker: str) -> None:
    huey.put(HEARTBEAT_KEY, {"worker": worker, "at": time.time()})


def queue_health() -> QueueHealth:
    beat = huey.get(HEARTBEAT_KEY, peek=True)
    return QueueHealth(
        storage=type(huey.storage).__name__,
        pending=huey.pending_count(),
        scheduled=huey.scheduled_count(),
        last_heartbeat_age=None if beat is None else max(0.0, time.time() - beat["at"]),
        last_heartbeat_worker=None if beat is None else beat["worker"],
    )
