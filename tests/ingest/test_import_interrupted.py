"""A killed import is marked interrupted at the next start instead of staying "running" forever: on its host by
its missing process, on any host sharing the database by its stale heartbeat."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from cvewatch.catalog.choices import ImportStatus
from cvewatch.catalog.models import ImportRun, this_process
from cvewatch.ingest import services
from cvewatch.ingest.records import Item
from cvewatch.ingest.services import STALE_AFTER, import_items, import_paths, mark_interrupted_runs
from cvewatch.ingest.sources import iter_items

KEV = Path(__file__).resolve().parent.parent / "data" / "kev" / "kev_subset.json"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.django_db
def test_runs_of_dead_processes_of_this_host_are_marked_interrupted() -> None:
    host = this_process().rpartition(":")[0]
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        killed = ImportRun.objects.create(paths=["a"], worker=f"{host}:{_dead_pid()}")
        live = ImportRun.objects.create(paths=["b"], worker=f"{host}:{alive.pid}")
        elsewhere = ImportRun.objects.create(paths=["c"], worker="another-host:1")
        done = ImportRun.objects.create(paths=["d"], worker=f"{host}:{_dead_pid()}", status=ImportStatus.SUCCEEDED)
        run, _ = import_paths([KEV])
        killed.refresh_from_db()
        assert killed.status == ImportStatus.INTERRUPTED and killed.finished_at is not None
        assert "stopped before the run finished" in killed.errors[0]["reason"]
        assert ImportRun.objects.get(pk=live.pk).status == ImportStatus.RUNNING
        assert ImportRun.objects.get(pk=elsewhere.pk).status == ImportStatus.RUNNING
        assert ImportRun.objects.get(pk=done.pk).status == ImportStatus.SUCCEEDED
        assert run.status == ImportStatus.SUCCEEDED and run.worker == this_process()
        assert mark_interrupted_runs() == 0
    finally:
        alive.kill()
        alive.wait()


def test_a_killed_cli_import_is_interrupted_at_the_next_start(tmp_path: Path) -> None:
    env = {**os.environ, "CVEWATCH_DATA_DIR": str(tmp_path)}
    env.pop("CVEWATCH_DATABASE_URL", None)  # a private SQLite database in tmp_path
    cvewatch = [sys.executable, "-m", "cvewatch"]
    subprocess.run([*cvewatch, "migrate", "-v0"], env=env, check=True, capture_output=True)
    fifo = tmp_path / "feed.json"
    os.mkfifo(fifo)  # reading it blocks: the import is caught mid-run
    stuck = subprocess.Popen([*cvewatch, "import", str(fifo)], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    database = sqlite3.connect(tmp_path / "cvewatch.sqlite3")

    def statuses() -> list[str]:
        return [row[0] for row in database.execute("SELECT status FROM catalog_importrun ORDER BY id")]

    try:
        deadline = time.monotonic() + 60
        while statuses() != ["running"]:
            assert time.monotonic() < deadline and stuck.poll() is None
            time.sleep(0.1)
    finally:
        stuck.send_signal(signal.SIGKILL)  # also when the test fails: a blocked reader would live on
        stuck.wait()
    assert statuses() == ["running"]
    done = subprocess.run([*cvewatch, "import", str(KEV)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert statuses() == ["interrupted", "succeeded"]
    database.close()


@pytest.mark.django_db
def test_a_run_silent_past_the_limit_is_interrupted_whatever_its_host() -> None:
    """Hosts sharing one PostgreSQL cannot see each other's processes: the heartbeat tells."""
    now = timezone.now()
    stale = now - STALE_AFTER - timedelta(seconds=1)
    host = this_process().rpartition(":")[0]
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        silent = ImportRun.objects.create(paths=["a"], worker="host-b:4242", heartbeat_at=stale)
        beating = ImportRun.objects.create(paths=["b"], worker="host-b:4243", heartbeat_at=now - timedelta(minutes=1))
        # Recorded before the heartbeat existed: its start stands in for it.
        legacy = ImportRun.objects.create(paths=["c"], worker="host-c:1", heartbeat_at=None, started_at=stale)
        recent_legacy = ImportRun.objects.create(paths=["d"], worker="host-c:2", heartbeat_at=None, started_at=now)
        # This host's live process may be silent in a long VACUUM: its process is the better witness.
        here_alive = ImportRun.objects.create(paths=["e"], worker=f"{host}:{alive.pid}", heartbeat_at=stale)
        assert mark_interrupted_runs() == 2
        statuses = {run.paths[0]: run for run in ImportRun.objects.all()}
        assert statuses["a"].status == ImportStatus.INTERRUPTED and statuses["c"].status == ImportStatus.INTERRUPTED
        assert "no heartbeat from the import process for more than 10 minutes" in statuses["a"].errors[0]["reason"]
        assert statuses["a"].finished_at is not None
        for run in (beating, recent_legacy, here_alive):
            assert statuses[run.paths[0]].status == ImportStatus.RUNNING
        assert silent.pk and legacy.pk
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.django_db
def test_a_running_import_writes_its_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "HEARTBEAT_SECONDS", 0.0)  # every item: the test need not wait 30 s
    run = ImportRun.objects.create(paths=["kev"], heartbeat_at=timezone.now() - timedelta(hours=1))
    seen: list[object] = []

    def items() -> Iterator[Item]:
        for number, item in enumerate(iter_items([KEV])):
            if number == 5:
                seen.append(ImportRun.objects.get(pk=run.pk).heartbeat_at)
            yield item

    import_items(items(), run=run)
    assert seen[0] is not None and timezone.now() - seen[0] < timedelta(minutes=1)  # type: ignore[operator]


@pytest.mark.django_db
def test_another_host_interrupts_a_killed_import_through_the_shared_database(tmp_path: Path) -> None:
    """A run killed on host A, whose heartbeat then goes stale, is marked by an import on host B."""
    run = ImportRun.objects.create(paths=["killed on host A"], worker="host-a:1")
    assert mark_interrupted_runs() == 0  # still beating, as far as anyone can tell
    ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - STALE_AFTER - timedelta(seconds=5))
    fresh, _ = import_paths([KEV])
    run.refresh_from_db()
    assert run.status == ImportStatus.INTERRUPTED and fresh.status == ImportStatus.SUCCEEDED
