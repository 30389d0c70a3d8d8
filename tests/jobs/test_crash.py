"""A worker SIGKILLed in the middle of a sync: the next worker resumes from the source's cursor, every
record ends up in the catalog and no change is recorded twice.

NVD's API 2.0 is served slowly by a real local HTTP server: 120 CVEs in three lastModified windows of 120
days (three steps, each moving the cursor as it commits). The server holds the worker's request for the
second page of the second window, so the kill lands after the first window committed and in the middle of
the second, every time.
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from cvewatch.jobs.consumer import INTERRUPT_GRACE, SHUTDOWN_TIMEOUT
from tests.jobs.conftest import FeedServer, nvd_records, orm, wait_for

STATE = """
from django.db.models import Count
from cvewatch.catalog.models import Change, Cve
from cvewatch.sync.models import SyncRun, SyncSource
source = SyncSource.objects.filter(name="nvd").first()
result = {
    "cursor": source.cursor if source else None,
    "runs": [[r.status, r.cursor_before, r.cursor_after] for r in SyncRun.objects.order_by("id")],
    "cves": Cve.objects.filter(cve_id__startswith="CVE-2099-").count(),
    "changes": Change.objects.filter(cve__cve_id__startswith="CVE-2099-").count(),
    "most_changes_per_cve": max(
        [c["n"] for c in Change.objects.values("cve").annotate(n=Count("id")).values("n")] or [0]
    ),
}
"""


def start_from(env, cursor: datetime) -> None:
    """A catalog without the test's CVEs and an nvd source whose last run ended at `cursor`."""
    orm(env, f"""
from cvewatch.catalog.models import Cve
from cvewatch.sync.models import SyncRun, SyncSource
Cve.objects.filter(cve_id__startswith="CVE-2099-").delete()
SyncRun.objects.all().delete()
SyncSource.objects.all().delete()
SyncSource.objects.create(name="nvd", cursor={{"last_modified": "{cursor.isoformat()}"}})
result = None""")


@pytest.fixture
def windows():
    """The cursor a previous run left 300 days ago, and the three windows the next run asks for."""
    cursor = datetime.now(UTC).replace(microsecond=0) - timedelta(days=300)
    return cursor, [cursor + timedelta(days=120 * k) for k in range(3)]


@pytest.fixture
def upstream(windows):
    _, starts = windows
    records = [r for k, start in enumerate(starts) for r in nvd_records(40, first=40 * k, modified=start +
                                                                         timedelta(days=1))]
    server = FeedServer(records, page_size=20, delay=0.1)
    yield server
    server.close()


def test_a_worker_killed_mid_sync_resumes_from_the_cursor_and_loses_and_repeats_nothing(
    cvewatch_env, upstream, windows
):
    cursor, starts = windows
    env = {"CVEWATCH_SOURCES": "nvd", "CVEWATCH_NVD_URL": upstream.url,
           "CVEWATCH_NVD_API_KEY": "test-key"}  # with a key the client allows 50 requests per 30 s
    cvewatch_env.env.update(env)
    start_from(cvewatch_env, cursor)

    upstream.hold = lambda start, index: start == starts[1] and index > 0
    worker = cvewatch_env.start("worker", log="worker-1.log")
    assert upstream.held.wait(60), cvewatch_env.log("worker-1.log")
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    upstream.release.set()

    killed = orm(cvewatch_env, STATE)
    first_window_end = starts[1].isoformat()
    assert killed["cursor"] == {"last_modified": first_window_end}  # the first window committed, no more
    assert killed["runs"] == [["running", {"last_modified": cursor.isoformat()}, {"last_modified": first_window_end}]]
    assert 40 <= killed["cves"] < 120

    # The dead worker's lease would expire in 5 minutes; let that time pass.
    orm(cvewatch_env, """
from datetime import timedelta
from django.utils import timezone
from cvewatch.sync.models import SyncSource
SyncSource.objects.filter(name="nvd").update(lease_expires_at=timezone.now() - timedelta(seconds=1))
result = None""")
    seen_before_restart = len(upstream.requests)
    worker = cvewatch_env.start("worker", log="worker-2.log")

    def finished():
        state = orm(cvewatch_env, STATE)
        return state if len(state["runs"]) == 2 and state["runs"][1][0] != "running" else None

    state = wait_for(finished, timeout=60, what="the restarted worker to finish the sync")
    worker.send_signal(signal.SIGTERM)
    worker.wait(15)

    assert state["runs"][0][0] == "interrupted"
    assert state["runs"][1][0] == "succeeded"
    assert state["runs"][1][1] == {"last_modified": first_window_end}  # resumed from the cursor...
    assert starts[0] not in {start for start, _ in upstream.requests[seen_before_restart:]}  # ...not before
    assert state["cves"] == 120  # nothing lost
    assert state["most_changes_per_cve"] <= 1  # nothing applied twice
    assert state["changes"] == 120  # one "created" change per CVE, none replayed


def test_a_worker_stopped_mid_sync_records_the_run_and_frees_the_source_at_once(cvewatch_env, upstream, windows):
    """SIGTERM: the sync gets the shutdown timeout, then is interrupted; its run is recorded and the lease freed,
    so the next worker resumes from the cursor without waiting for the lease to expire."""
    cursor, starts = windows
    cvewatch_env.env.update(CVEWATCH_SOURCES="nvd", CVEWATCH_NVD_URL=upstream.url, CVEWATCH_NVD_API_KEY="test-key")
    start_from(cvewatch_env, cursor)
    upstream.hold = lambda start, index: start == starts[1] and index > 0
    worker = cvewatch_env.start("worker", log="worker-term.log")
    assert upstream.held.wait(60), cvewatch_env.log("worker-term.log")
    worker.send_signal(signal.SIGTERM)
    time.sleep(SHUTDOWN_TIMEOUT + 1)  # the job outlives the shutdown timeout, then its HTTP read returns
    upstream.release.set()
    assert worker.wait(INTERRUPT_GRACE + 10) == 0
    assert "interrupting the job running in Worker-" in cvewatch_env.log("worker-term.log")

    stopped = orm(cvewatch_env, STATE + """
source = SyncSource.objects.get(name="nvd")
result["lease_owner"] = source.lease_owner""")
    assert stopped["runs"][0][0] == "interrupted"
    assert stopped["lease_owner"] == ""  # freed now, not in 5 minutes
    assert stopped["cursor"] == {"last_modified": starts[1].isoformat()}

    # sync retries a source whose last run did not succeed after min(interval, 5 minutes): with a 1 s interval
    # the interrupted source is due a second after it stopped, when the next worker's first tick looks.
    time.sleep(1.2)
    worker = cvewatch_env.start("worker", log="worker-next.log", CVEWATCH_SYNC_INTERVAL="1")
    state = wait_for(lambda: (s := orm(cvewatch_env, STATE))["runs"][-1][0] == "succeeded" and s, timeout=60,
                     what="the next worker to finish the sync")
    worker.send_signal(signal.SIGTERM)
    worker.wait(15)
    assert state["runs"][-1][1] == {"last_modified": starts[1].isoformat()}
    assert (state["cves"], state["changes"], state["most_changes_per_cve"]) == (120, 120, 1)
