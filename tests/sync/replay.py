"""The end-to-end sync scenario: NVD's eight `modified` feed snapshots replayed as successive `nvd` syncs.

The snapshots (../shared/data/corpus/nvd-1.1-modified-history/, in date order) are dropped one by one into a
feed directory the nvd source reads, as an air-gapped site would; each drop is followed by one sync. The
first sync loads the base. Used by tests/sync/test_replay.py, by bench/sync_replay.py and, later, by the
alerts tests (the changes each snapshot produces are the alerts they send).
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cvewatch.catalog.models import Change
from cvewatch.sync import services
from cvewatch.sync.models import SyncRun

REPO = Path(__file__).resolve().parents[2]
NVD_HISTORY = REPO.parent / "shared" / "data" / "corpus" / "nvd-1.1-modified-history"


def modified_snapshots() -> list[Path]:
    """The eight `modified` snapshots, oldest first (their names carry the date)."""
    snapshots = sorted(NVD_HISTORY.glob("nvdcve-1.1-modified.*.json.gz"))
    assert len(snapshots) == 8, f"expected 8 modified snapshots in {NVD_HISTORY}, found {len(snapshots)}"
    return snapshots


@dataclass(frozen=True)
class SnapshotSync:
    snapshot: str
    run: SyncRun
    seconds: float
    change_types: dict[str, int]  # event type -> number of Change rows carrying it

    @property
    def records(self) -> int:
        return int(self.run.counts.get("read", 0))

    @property
    def changes(self) -> int:
        return int(self.run.counts.get("changes", 0))


def replay_nvd_history(feed_dir: Path, snapshots: Sequence[Path] | None = None) -> Iterator[SnapshotSync]:
    """Drops each snapshot into feed_dir and syncs nvd (which must point at feed_dir) once per snapshot."""
    feed_dir.mkdir(parents=True, exist_ok=True)
    for snapshot in snapshots or modified_snapshots():
        shutil.copyfile(snapshot, feed_dir / snapshot.name)
        started = time.perf_counter()
        run = services.run_source(name="nvd")
        seconds = time.perf_counter() - started
        assert run is not None, "the nvd source is held by another worker"
        types: Counter[str] = Counter()
        for row_types in Change.objects.filter(import_run_id=run.import_run_id).values_list(
            "types", flat=True
        ):
            types.update(row_types)
        yield SnapshotSync(
            snapshot=snapshot.name, run=run, seconds=seconds, change_types=dict(sorted(types.items()))
        )
