"""Who runs a source right now: a lease (owner + expiry) on the source's row.

Taken in a short transaction: on PostgreSQL the row is locked with SELECT ... FOR UPDATE SKIP LOCKED, so a
second worker that races for it moves on at once; on SQLite (one writer at a time) a conditional UPDATE is
enough. The owner renews the lease while it works; a SIGKILLed worker stops renewing and its lease expires,
so another worker (or the same one restarted) takes the source over and resumes from the cursor.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from cvewatch.ingest.services import record_heartbeat
from cvewatch.sync.errors import LeaseLost
from cvewatch.sync.models import SyncSource

LEASE_SECONDS = 300


def ensure_source(name: str) -> SyncSource:
    source, _ = SyncSource.objects.get_or_create(name=name)
    return source


def claim(*, name: str, worker: str, seconds: int = LEASE_SECONDS) -> bool:
    """Takes the lease when it is free or expired; False when another worker holds it."""
    ensure_source(name)
    now = timezone.now()
    with transaction.atomic():
        rows = SyncSource.objects.filter(name=name)
        if connection.vendor == "postgresql":
            if rows.select_for_update(skip_locked=True).first() is None:
                return False  # another worker is claiming it right now
        free = Q(lease_owner="") | Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
        taken = rows.filter(free).update(
            lease_owner=worker, lease_expires_at=now + timedelta(seconds=seconds), updated_at=now
        )
    return taken == 1


def renew(*, name: str, worker: str, seconds: int = LEASE_SECONDS, **values: Any) -> None:
    """Extends the lease (and writes values, such as the cursor); LeaseLost when another worker has it now."""
    now = timezone.now()
    updated = SyncSource.objects.filter(name=name, lease_owner=worker).update(
        lease_expires_at=now + timedelta(seconds=seconds), updated_at=now, **values
    )
    if updated != 1:
        raise LeaseLost(f"{name}: the lease passed to another worker; this run stops")


def release(*, name: str, worker: str, **values: Any) -> None:
    SyncSource.objects.filter(name=name, lease_owner=worker).update(
        lease_owner="", lease_expires_at=None, updated_at=timezone.now(), **values
    )


class Heartbeat:
    """Renews the lease at most every third of its length: cheap enough to call from any loop.

    With import_run_id, the run's import record beats too, so that a long download between two import
    steps does not make it look dead to the other hosts (ingest.services.mark_interrupted_runs).
    """

    def __init__(
        self, *, name: str, worker: str, seconds: int = LEASE_SECONDS, import_run_id: int | None = None
    ) -> None:
        self.name, self.worker, self.seconds, self.import_run_id = name, worker, seconds, import_run_id
        self.every = max(seconds / 3, 1.0)
        self.last = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self.last < self.every or connection.in_atomic_block:
            return
        renew(name=self.name, worker=self.worker, seconds=self.seconds)
        if self.import_run_id is not None:
            record_heartbeat(run_id=self.import_run_id)
        self.last = time.monotonic()
