"""End to end: NVD's eight modified snapshots replayed as nvd syncs from a feed directory (see replay.py)."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from cvewatch.catalog.models import Change, Cve
from cvewatch.sync import services
from cvewatch.sync.choices import RunStatus
from tests.sync.replay import modified_snapshots, replay_nvd_history

pytestmark = pytest.mark.django_db

# (records read, CVEs created, CVEs updated, Change rows, Change rows per event type) per snapshot, in order.
EXPECTED = [
    (4180, 4180, 0, 4180, {"created": 4180, "first_time": 1581}),
    (4076, 163, 257, 419,
     {"cpes": 231, "created": 163, "first_time": 117, "metrics": 229, "references": 25, "vendors": 231, "weaknesses": 129}),
    (4082, 671, 428, 1092,
     {"cpes": 350, "created": 671, "description": 4, "first_time": 146, "metrics": 232, "references": 76,
      "vendors": 348, "weaknesses": 156}),
    (1775, 320, 221, 539,
     {"cpes": 194, "created": 320, "description": 10, "first_time": 112, "metrics": 190, "references": 14,
      "vendors": 194, "weaknesses": 109}),
    (1233, 709, 524, 1229,
     {"cpes": 461, "created": 709, "description": 14, "first_time": 379, "metrics": 457, "references": 125,
      "vendors": 460, "weaknesses": 270}),
    (1706, 1673, 33, 1704,
     {"cpes": 28, "created": 1673, "first_time": 367, "metrics": 5, "references": 19, "vendors": 26, "weaknesses": 2}),
    (1480, 24, 1, 25, {"created": 24, "references": 1}),
    (2228, 2128, 100, 2220,
     {"cpes": 60, "created": 2128, "description": 17, "first_time": 309, "metrics": 41, "references": 43,
      "vendors": 57, "weaknesses": 27}),
]  # fmt: skip


@pytest.fixture
def feed_dir(tmp_path, sync_urls):
    directory = tmp_path / "nvd-feeds"
    sync_urls(nvd=str(directory))
    return directory


def test_each_snapshot_as_one_sync_produces_the_expected_changes(feed_dir):
    got = [
        (s.records, s.run.counts["created"], s.run.counts["updated"], s.changes, s.change_types)
        for s in replay_nvd_history(feed_dir)
    ]
    assert got == EXPECTED
    assert Change.objects.count() == sum(e[3] for e in EXPECTED)
    # Nothing new: nothing applied twice.
    again = services.run_source(name="nvd")
    assert again.status == RunStatus.SUCCEEDED and again.counts["steps"] == 0
    # An older snapshot dropped alone into a fresh directory: noticed, not applied.
    older = feed_dir.parent / "older"
    older.mkdir()
    shutil.copy(modified_snapshots()[3], older)
    feed_dir.rename(feed_dir.parent / "moved")
    older.rename(feed_dir)
    back = services.run_source(name="nvd")
    assert "went back in time" in back.notes and Change.objects.count() == sum(e[3] for e in EXPECTED)


def test_days_of_downtime_catch_up_in_one_sync_with_the_same_changes(feed_dir):
    snapshots = modified_snapshots()
    [base] = replay_nvd_history(feed_dir, snapshots[:1])
    for snapshot in snapshots[1:]:
        shutil.copy(snapshot, feed_dir)
    run = services.run_source(name="nvd")
    assert run.counts["steps"] == 7 and run.cursor_after["feed"] == snapshots[-1].name
    types: Counter[str] = Counter()
    for row in Change.objects.filter(import_run_id=run.import_run_id).values_list("types", flat=True):
        types.update(row)
    expected: Counter[str] = Counter()
    for *_, per_type in EXPECTED[1:]:
        expected.update(per_type)
    assert types == expected
    assert Cve.objects.count() == sum(e[1] for e in EXPECTED)
