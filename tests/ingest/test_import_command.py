"""`cvewatch import`: summary, progress, exit codes — in process and as a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cvewatch.catalog.choices import ImportStatus
from cvewatch.catalog.models import Cve, ImportRun

DATA = Path(__file__).resolve().parent.parent / "data" / "ingest"
CVEWATCH = Path(sys.executable).parent / "cvewatch"


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """A directory with good records, a KEV catalog, a broken file and an unsupported one."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    for name in ("CVE-2017-3881.json", "CVE-2024-2898.json"):
        shutil.copy(DATA / "cve5" / name, folder / name)
    shutil.copy(DATA / "kev" / "kev-CVE-2017-3881.json", folder / "kev.json")
    (folder / "broken.json").write_text('{"dataType": "CVE_RECORD", "cveMetadata": ')
    return folder


@pytest.mark.django_db
def test_the_command_prints_a_summary_with_skipped_reasons(inputs):
    out, err = StringIO(), StringIO()
    call_command("import", str(inputs), "--progress-interval", "0", stdout=out, stderr=err)
    text = out.getvalue()
    assert "partial" in text
    assert "6 items: 4 CVE records, 1 KEV entries" in text
    assert "2 created, 0 updated" in text
    assert "skipped     1" in text
    assert f"{inputs / 'broken.json'}: " in text
    assert "items read" in err.getvalue()  # progress goes to stderr
    assert Cve.objects.count() == 2
    assert ImportRun.objects.get().status == ImportStatus.PARTIAL


@pytest.mark.django_db
def test_names_too_long_to_store_are_reported_as_left_out_not_as_a_failure(tmp_path):
    import json

    record = json.loads((DATA / "cve5" / "CVE-2024-2898.json").read_text())
    record["containers"]["cna"]["affected"][0]["product"] = "AC7, " * 80  # a list pasted into one field
    (tmp_path / "long.json").write_text(json.dumps(record))
    out = StringIO()
    call_command("import", str(tmp_path), "--quiet", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "succeeded" in text and "1 created" in text and "skipped     0" in text
    assert "left out    1 CVE record imported without a name too long to store (the rest of each record is in):" in text
    assert "CVE-2024-2898: imported without product 'tenda/ac7,_ac7,_ac7," in text and "(399 characters)" in text
    assert "warning" not in text
    assert Cve.objects.get().vendors == ["tenda", "tenda$PRODUCT$ac7_firmware"]  # the ADP container's product


@pytest.mark.django_db
def test_quiet_prints_no_progress_and_a_second_run_changes_nothing(inputs):
    call_command("import", str(inputs), "--quiet", stdout=StringIO(), stderr=StringIO())
    out, err = StringIO(), StringIO()
    call_command("import", str(inputs), "--quiet", "--batch-size", "1", "--reread", stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert "0 created, 0 updated, 0 unchanged" in out.getvalue()
    assert "0 new or changed, 5 unchanged" in out.getvalue()
    assert "0 recorded" in out.getvalue()


@pytest.mark.django_db
def test_the_command_fails_only_when_nothing_could_be_imported(tmp_path):
    (tmp_path / "broken.json").write_text("{")
    out = StringIO()
    with pytest.raises(CommandError, match="nothing could be imported"):
        call_command("import", str(tmp_path), "--quiet", stdout=out, stderr=StringIO())
    assert "failed" in out.getvalue()
    assert ImportRun.objects.get().status == ImportStatus.FAILED
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("import", str(tmp_path), "--batch-size", "0", stdout=StringIO(), stderr=StringIO())


def test_the_cvewatch_import_executable(inputs, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CVEWATCH_DATABASE_URL"}
    env["CVEWATCH_DATA_DIR"] = str(tmp_path / "var")  # its own SQLite database, never the test database

    def cvewatch(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(CVEWATCH), *args], env=env, capture_output=True, text=True, timeout=120)

    assert cvewatch("migrate", "-v0").returncode == 0
    done = cvewatch("import", str(inputs), "--progress-interval", "0")
    assert done.returncode == 0, done.stderr
    assert "2 created" in done.stdout
    assert "items read" in done.stderr

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.json").write_text("[]")
    failed = cvewatch("import", str(tmp_path / "bad"), "--quiet")
    assert failed.returncode == 1
    assert "nothing could be imported" in failed.stderr
    assert "x.json" in failed.stdout
