"""The sync tasks run in this process against the real queue stores and database: the minute's tick
queues each due source once, a worker's run of the task records a SyncRun, and a duplicate does nothing.
"""

from __future__ import annotations

import pytest

from cvewatch.jobs import queue
from cvewatch.jobs.queue import huey
from cvewatch.jobs.tasks.sync import schedule_due_syncs
from cvewatch.sync import lease
from cvewatch.sync.choices import RunStatus
from cvewatch.sync.models import SyncRun
from tests.conftest import DATA

KEV = str(DATA / "kev" / "kev_subset.json")
CWE = str(DATA / "cwe" / "cwec_sample.xml")


@pytest.fixture
def two_sources(settings):
    settings.SYNC_SOURCES = ["kev", "cwe"]
    settings.SYNC_URLS = {**settings.SYNC_URLS, "kev": KEV, "cwe": CWE}


def _run_queued() -> list[str]:
    """Execute every queued task here, as a worker thread would; returns their names."""
    ran = []
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran.append(f"{task.name}({task.args[0]})")
    return ran


@pytest.mark.django_db(transaction=True)
def test_the_tick_queues_each_due_source_once_and_the_task_runs_it(queue_store, two_sources):
    schedule_due_syncs.call_local()
    schedule_due_syncs.call_local()  # a second tick (another worker's scheduler) in the same minute
    assert [(t.name, t.args) for t in huey.pending()] == [
        ("sync_source", ("kev", False)), ("sync_source", ("cwe", False))
    ]
    assert _run_queued() == ["sync_source(kev)", "sync_source(cwe)"]
    runs = SyncRun.objects.order_by("id")
    assert [(r.source.name, r.status) for r in runs] == [("kev", RunStatus.SUCCEEDED), ("cwe", RunStatus.SUCCEEDED)]
    assert runs[0].worker.startswith(queue.worker_id().rsplit(":", 1)[0])
    assert not queue.is_claimed("sync:kev")  # the task took its claim back

    schedule_due_syncs.call_local()  # nothing is due any more
    assert huey.pending_count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_that_waited_behind_a_run_does_nothing(queue_store, two_sources):
    from cvewatch.jobs.tasks.sync import sync_source

    sync_source("kev")  # queued twice by hand, as two schedulers racing past a stale claim could
    sync_source("kev")
    _run_queued()
    assert SyncRun.objects.filter(source__name="kev").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_source_another_worker_holds_is_skipped(queue_store, two_sources):
    from cvewatch.jobs.tasks.sync import sync_source

    assert lease.claim(name="kev", worker="elsewhere:1", seconds=60)
    sync_source("kev", True)  # forced: skips the due check, meets the lease
    _run_queued()
    assert not SyncRun.objects.filter(source__name="kev").exists()
