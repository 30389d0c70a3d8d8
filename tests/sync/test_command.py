"""`cvewatch sync` and `cvewatch sync --status`, and the read-only admin pages for sources and runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cvewatch.sync import lease
from cvewatch.sync.models import SyncRun, SyncSource
from tests.conftest import DATA

pytestmark = pytest.mark.django_db

KEV = str(DATA / "kev" / "kev_subset.json")
NVD = str(DATA / "nvd-1.1" / "nvdcve-1.1-fixtures.json")


def sync(*args: str) -> str:
    out = StringIO()
    call_command("sync", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_sync_prints_what_each_source_did(sync_urls):
    sync_urls(nvd=NVD, kev=KEV)
    out = sync("nvd", "kev")
    assert "nvd: succeeded" in out and "33 read; CVEs 33 created, 0 updated" in out
    assert 'cursor    (none) -> {"feed": "nvdcve-1.1-fixtures.json"' in out
    assert "kev: succeeded" in out and "25 pending" in out


def test_sync_without_arguments_runs_the_enabled_sources_and_fails_when_one_failed(
    sync_urls, settings, tmp_path
):
    settings.SYNC_SOURCES = ["kev", "nvd"]
    sync_urls(kev=KEV, nvd=str(tmp_path / "missing.json"))
    out = StringIO()
    with pytest.raises(CommandError, match="sync failed for nvd"):
        call_command("sync", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert text.index("kev: succeeded") < text.index("nvd: failed")
    assert "error     " in text and "no such file" in text


def test_a_held_source_is_reported_not_failed(sync_urls):
    sync_urls(kev=KEV)
    lease.claim(name="kev", worker="elsewhere:42", seconds=600)
    assert "kev: not run, another worker holds it (elsewhere:42 until" in sync("kev")


def test_unknown_source_is_a_command_error():
    with pytest.raises(CommandError, match="unknown sync source"):
        sync("osv")


def test_status_shows_every_source_its_cursor_lease_and_runs(sync_urls, settings):
    settings.SYNC_SOURCES = ["nvd", "kev"]
    sync_urls(nvd=NVD, kev=KEV)
    sync("nvd")
    lease.claim(name="kev", worker="w9", seconds=600)
    out = sync("--status")
    assert out.index("nvd ") < out.index("kev ") < out.index("opencve-kb (not enabled)")
    assert '"feed": "nvdcve-1.1-fixtures.json"' in out and "lease     w9 until" in out
    assert "succeeded" in out and "33 read, 33 created" in out and "never ran" in out


def test_the_cli_exit_status(tmp_path):
    env = {
        **os.environ,
        "CVEWATCH_DATA_DIR": str(tmp_path),
        "CVEWATCH_KEV_URL": KEV,
        "CVEWATCH_NVD_URL": "/nope",
    }
    env.pop("CVEWATCH_DATABASE_URL", None)  # a private SQLite database in tmp_path
    cvewatch = [sys.executable, "-m", "cvewatch"]
    subprocess.run([*cvewatch, "migrate", "-v0"], env=env, check=True, capture_output=True)
    ok = subprocess.run([*cvewatch, "sync", "kev"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and "kev: succeeded" in ok.stdout
    failed = subprocess.run([*cvewatch, "sync", "kev", "nvd"], env=env, capture_output=True, text=True)
    assert (
        failed.returncode == 1
        and "nvd: failed" in failed.stdout
        and "unchanged since the last run" in failed.stdout
    )
    bad = subprocess.run(
        [*cvewatch, "sync"], env={**env, "CVEWATCH_SOURCES": "kev,osv"}, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "CVEWATCH_SOURCES names unknown source(s) osv" in bad.stderr


def test_admin_lists_sources_and_runs_read_only(client, sync_urls):
    from tests.people import make_user

    sync_urls(kev=KEV)
    call_command("sync", "kev", stdout=StringIO(), stderr=StringIO())
    admin = make_user("root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    runs = client.get("/admin/sync/syncrun/")
    assert runs.status_code == 200 and b"succeeded" in runs.content
    run = SyncRun.objects.get()
    assert client.get(f"/admin/sync/syncrun/{run.pk}/change/").status_code == 200
    assert client.get("/admin/sync/syncrun/add/").status_code == 403
    assert client.get("/admin/sync/syncsource/").status_code == 200
    assert client.post(f"/admin/sync/syncsource/{SyncSource.objects.get().pk}/delete/").status_code == 403


RACER = """
import os, sys, time
from pathlib import Path
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
import django
django.setup()
from cvewatch.sync import lease
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
print(lease.claim(name="kev", worker=sys.argv[1], seconds=60))
"""


@pytest.mark.django_db(transaction=True)
def test_four_worker_processes_racing_for_one_source_get_one_lease(tmp_path):
    """Real processes on the real engine (SKIP LOCKED on PostgreSQL, a file database on SQLite): one wins."""
    env = {**os.environ, "CVEWATCH_DATA_DIR": str(tmp_path)}
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        env["CVEWATCH_DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        lease.ensure_source("kev")
    else:
        env.pop("CVEWATCH_DATABASE_URL", None)
        subprocess.run(
            [sys.executable, "-m", "cvewatch", "migrate", "-v0"], env=env, check=True, capture_output=True
        )
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, f"w{i}", str(go)], env=env, stdout=subprocess.PIPE, text=True
        )
        for i in range(4)
    ]
    time.sleep(2.0)  # let every racer finish starting Django and wait at the line
    go.touch()
    results = [racer.communicate(timeout=60)[0].strip() for racer in racers]
    assert sorted(results) == ["False", "False", "False", "True"]
