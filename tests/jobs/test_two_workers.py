"""Two `cvewatch worker` processes on one PostgreSQL database and one Redis queue (two machines' layout):
every queued job runs once, and no source is ever synced by both at the same time.
"""

from __future__ import annotations

import re
import signal
from datetime import UTC, datetime, timedelta

import pytest

from cvewatch.jobs.queue import huey
from cvewatch.jobs.tasks.sync import sync_source
from tests.conftest import DATA
from tests.jobs.conftest import FeedServer, nvd_records, orm, postgres_only, wait_for

pytestmark = postgres_only

SOURCES = ["nvd", "kev", "epss", "cwe"]
RUNS = """
from cvewatch.sync.models import SyncRun
result = [[r.source.name, r.worker, r.status, r.started_at.isoformat(),
           r.finished_at.isoformat() if r.finished_at else None] for r in SyncRun.objects.order_by("id")]
"""
EXECUTED = re.compile(r"Executing cvewatch\.jobs\.tasks\.sync\.sync_source: ([0-9a-f-]+)")


@pytest.fixture
def upstream():
    server = FeedServer(nvd_records(120, first=0, modified=datetime.now(UTC) - timedelta(days=3)),
                        page_size=20, delay=0.3)
    yield server
    server.close()


def test_two_workers_never_run_a_job_twice_nor_one_source_at_once(redis_env, upstream, monkeypatch):
    redis_env.env.update(
        CVEWATCH_SOURCES=",".join(SOURCES), CVEWATCH_NVD_URL=upstream.url, CVEWATCH_NVD_API_KEY="test-key",
        CVEWATCH_KEV_URL=str(DATA / "kev" / "kev_subset.json"),
        CVEWATCH_EPSS_URL=str(DATA / "epss" / "epss_scores-2024-01-01.csv"),
        CVEWATCH_CWE_URL=str(DATA / "cwe" / "cwec_sample.xml"),
    )
    workers = [redis_env.start("worker", "--threads", "2", log=f"worker-{n}.log") for n in (1, 2)]
    # Beside the ticks of both schedulers, three forced runs of every source race for the four threads.
    queue = redis_env.queue_storage()
    monkeypatch.setattr(huey, "storage", queue)
    for _ in range(3):
        for name in SOURCES:
            sync_source(name, True)

    def settled():
        if queue.queue_size():
            return None
        runs = orm(redis_env, RUNS)
        return runs if runs and all(r[4] for r in runs) and not queue.queue_size() else None

    wait_for(lambda: upstream.requests, timeout=60, what="the NVD sync to start")
    wait_for(settled, timeout=60, what="both workers to drain the queue")
    for worker in workers:  # graceful: a job still running finishes first
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait(20) == 0
    runs = orm(redis_env, RUNS)
    context = "\n".join(map(str, runs))  # shown when an assertion fails

    logs = [redis_env.log(f"worker-{n}.log") for n in (1, 2)]
    executed = [EXECUTED.findall(log) for log in logs]
    assert all(executed), f"both workers took jobs\n{context}"
    every = executed[0] + executed[1]
    assert len(every) == len(set(every)) >= 12  # Redis hands each job to one worker, once

    assert {name for name, *_ in runs} == set(SOURCES), context
    assert {status for *_, status, _, _ in runs} == {"succeeded"}, context
    for name in SOURCES:
        spans = sorted((start, end) for source, _, _, start, end in runs if source == name)
        for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
            assert end <= next_start, f"two runs of {name} overlapped: {spans}"
