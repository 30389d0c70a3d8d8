"""The one Huey instance (configured by settings.HUEY) and the enqueue rules every task module follows.

Rules: a task is thin (it calls one service) and idempotent; it is enqueued only after the database
transaction that asked for it commits (`enqueue_on_commit`); work that must not be queued twice takes a
claim first (`claim`/`release`), which a crashed worker cannot leave behind for longer than `stale_after`.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

huey = HUEY

__all__ = ["huey", "db_task", "db_periodic_task", "enqueue_on_commit", "claim", "release", "worker_id"]


def enqueue_on_commit(task: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Queue `task(*args, **kwargs)` once the current transaction commits (at once in autocommit)."""
    transaction.on_commit(lambda: task(*args, **kwargs))


def claim(key: str, *, stale_after: float) -> bool:
    """True for the first caller until `release(key)`; a claim older than `stale_after` seconds is taken over.

    Kept in the queue's own store (Redis or the SQLite file), so every worker and server sharing the queue
    sees the same claims. The take-over is not atomic: two callers may both win a stale claim, which is why
    the work it guards must be safe to run twice (the sync lease makes the second run a no-op).
    """
    now = time.time()
    if huey.put_if_empty(_claim_key(key), now):
        return True
    held = huey.get(_claim_key(key), peek=True)
    if held is None or now - float(held) > stale_after:
        huey.put(_claim_key(key), now)
        return True
    return False


def release(key: str) -> None:
    huey.delete(_claim_key(key))


def is_claimed(key: str) -> bool:
    return huey.get(_claim_key(key), peek=True) is not None


def _claim_key(key: str) -> str:
    return f"claim:{key}"


def worker_id() -> str:
    """host:pid:thread, recorded on the runs a worker makes so operators can tell workers apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"
