"""The one door from sync into the catalog: cvewatch.ingest's import path, with a cursor checkpoint.

The importer runs the checkpoint inside the transaction of the last batch it writes (or in one of its own
when nothing needed writing), so the cursor moves in the same commit as the data it covers. A step whose
every item was unusable (a broken download, a page of garbage) raises instead: its cursor must not move.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from cvewatch.catalog.models import ImportRun
from cvewatch.ingest.known_ids import KnownIds
from cvewatch.ingest.records import Item, Skipped
from cvewatch.ingest.services import ImportStats, import_items
from cvewatch.sync.errors import UpstreamError

PROGRESS_INTERVAL = 5.0  # seconds between heartbeats from inside a long import


class _Tally:
    """Counts the items that pass, and remembers the first unusable one."""

    def __init__(self, items: Iterable[Item]) -> None:
        self.items, self.total, self.skipped = items, 0, 0
        self.first_skip: Skipped | None = None

    def __iter__(self) -> Iterator[Item]:
        for item in self.items:
            self.total += 1
            if isinstance(item, Skipped):
                self.skipped += 1
                self.first_skip = self.first_skip or item
            yield item


def import_step(
    items: Iterable[Item],
    *,
    run: ImportRun,
    checkpoint: Callable[[], None],
    heartbeat: Callable[[], None],
    known: KnownIds | None = None,
) -> ImportStats:
    tally = _Tally(items)

    def guarded_checkpoint() -> None:
        if tally.total and tally.skipped == tally.total and tally.first_skip is not None:
            skip = tally.first_skip
            raise UpstreamError(f"nothing usable: {skip.origin}: {skip.reason}")
        checkpoint()

    return import_items(
        tally, run=run, checkpoint=guarded_checkpoint, on_progress=lambda _: heartbeat(),
        progress_interval=PROGRESS_INTERVAL, known=known,
    )  # fmt: skip
