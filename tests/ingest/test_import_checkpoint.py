"""The checkpoint hook: a caller's own write commits with the last batch of data, and rolls back with it.

These tests commit for real (transaction=True): a test transaction around them would hide what commits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from cvewatch.catalog.models import Cve, ImportRun
from cvewatch.ingest.records import CveRecord, Skipped
from cvewatch.ingest.services import import_items, import_paths

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
CVE5 = Path(__file__).resolve().parent.parent / "data" / "ingest" / "cve5"


def record(cve_id: str) -> CveRecord:
    return CveRecord(cve_id=cve_id, source="mitre", published=T0, updated=T0, description=cve_id)


def records(*numbers: int) -> list[CveRecord]:
    return [record(f"CVE-2024-{n:04d}") for n in numbers]


class Cursor:
    """A sync source's cursor: its write is an ImportRun row marked 'cursor', what it saw is kept."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[dict[str, object]] = []

    def __call__(self) -> None:
        ImportRun.objects.create(paths=["cursor"])
        self.calls.append(
            {
                "in_transaction": connection.in_atomic_block,
                "cves_visible": sorted(Cve.objects.values_list("cve_id", flat=True)),
            }
        )
        if self.fail:
            raise RuntimeError("the cursor could not be saved")


def cursor_committed() -> bool:
    return ImportRun.objects.filter(paths=["cursor"]).exists()


def committed_cves() -> list[str]:
    return sorted(Cve.objects.values_list("cve_id", flat=True))


def test_the_checkpoint_runs_once_inside_the_last_batch_and_commits_with_it():
    cursor = Cursor()
    stats = import_items(records(1, 3, 4), batch_size=1, checkpoint=cursor)
    assert stats.created == 3
    # Once, in a transaction, seeing the last batch's rows (not yet committed on their own).
    assert cursor.calls == [
        {"in_transaction": True, "cves_visible": ["CVE-2024-0001", "CVE-2024-0003", "CVE-2024-0004"]}
    ]
    assert cursor_committed()


def test_a_failing_checkpoint_rolls_back_the_last_batch_with_it_and_raises():
    with pytest.raises(RuntimeError, match="could not be saved"):
        import_items(records(1, 3, 4), batch_size=1, checkpoint=Cursor(fail=True))
    # Earlier batches committed; the last one shared the checkpoint's transaction and went with it.
    assert committed_cves() == ["CVE-2024-0001", "CVE-2024-0003"]
    assert not cursor_committed()


def test_without_a_batch_to_write_the_checkpoint_gets_a_transaction_of_its_own():
    cursor = Cursor()
    stats = import_items([Skipped("feed.json", "not a CVE")], checkpoint=cursor)
    assert stats.skipped == 1
    assert cursor.calls == [{"in_transaction": True, "cves_visible": []}]
    assert cursor_committed()


def test_after_a_failed_batch_the_checkpoint_runs_in_the_final_one_by_one_write(refuse_cve_0002):
    cursor = Cursor()
    stats = import_items(records(1, 2, 3), batch_size=10, checkpoint=cursor)
    assert (stats.created, stats.skipped) == (2, 1)
    assert cursor.calls == [{"in_transaction": True, "cves_visible": ["CVE-2024-0001", "CVE-2024-0003"]}]
    assert cursor_committed()


def test_a_failing_checkpoint_after_a_failed_batch_rolls_back_the_final_write(refuse_cve_0002):
    with pytest.raises(RuntimeError, match="could not be saved"):
        import_items(records(1, 2, 3), batch_size=10, checkpoint=Cursor(fail=True))
    assert committed_cves() == ["CVE-2024-0001"]
    assert not cursor_committed()


def test_a_refused_last_cve_is_skipped_and_does_not_hold_the_checkpoint_back(refuse_cve_0002):
    cursor = Cursor()
    stats = import_items(records(1, 2), batch_size=10, checkpoint=cursor)
    assert (stats.created, stats.skipped) == (1, 1)
    assert cursor.calls == [{"in_transaction": True, "cves_visible": ["CVE-2024-0001"]}]
    assert cursor_committed()


def test_import_paths_passes_the_checkpoint_on():
    cursor = Cursor()
    run, stats = import_paths([CVE5], checkpoint=cursor)
    assert stats.created > 0 and run.status == "succeeded"
    assert len(cursor.calls) == 1 and cursor.calls[0]["in_transaction"] is True
    assert cursor.calls[0]["cves_visible"] == committed_cves()
    assert cursor_committed()


def test_a_failing_checkpoint_fails_the_import_run():
    with pytest.raises(RuntimeError):
        import_paths([CVE5], checkpoint=Cursor(fail=True))
    run = ImportRun.objects.exclude(paths=["cursor"]).get()
    assert run.status == "failed"
    assert committed_cves() == []  # one batch: the checkpoint's
