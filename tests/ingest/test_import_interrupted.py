"""A killed import is marked interrupted at the next start instead of staying "running" forever."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cvewatch.catalog.choices import ImportStatus
from cvewatch.catalog.models import ImportRun, this_process
from cvewatch.ingest.services import import_paths, mark_interrupted_runs

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
