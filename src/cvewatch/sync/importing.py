"""The one door from sync into the catalog: cvewatch.ingest's import path, with a cursor checkpoint.

The importer calls checkpoint inside the transaction of the last batch it writes, so the cursor moves in
the same commit as the data it covers. When nothing needed writing (no batch), the checkpoint runs here in
a transaction of its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

from django.db import transaction

from cvewatch.catalog.models import ImportRun
from cvewatch.ingest.records import Item
from cvewatch.ingest.services import ImportStats, import_items

PROGRESS_INTERVAL = 5.0  # seconds between heartbeats from inside a long import


def import_step(
    items: Iterable[Item],
    *,
    run: ImportRun,
    checkpoint: Callable[[], None],
    heartbeat: Callable[[], None],
) -> ImportStats:
    called = False

    def mark() -> None:
        nonlocal called
        checkpoint()
        called = True

    if _HAS_CHECKPOINT:
        stats = import_items(
            items, run=run, checkpoint=mark, on_progress=lambda _: heartbeat(),  # type: ignore[call-arg]
            progress_interval=PROGRESS_INTERVAL,
        )  # fmt: skip
    else:  # until the ingest checkpoint hook lands: the cursor moves right after the data
        stats = import_items(
            items, run=run, on_progress=lambda _: heartbeat(), progress_interval=PROGRESS_INTERVAL
        )
    if not called:
        with transaction.atomic():
            mark()
    return stats


_HAS_CHECKPOINT = "checkpoint" in inspect.signature(import_items).parameters
