"""`cvewatch import` skips an input file whose raw bytes were already imported completely, before parsing it.

Real files through the real walker, importer and database: keyed by the sha256 of the bytes and the parsers'
format version, recorded only once the file's records committed, never for a file the database refused.
"""

from __future__ import annotations

import io
import json
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from cvewatch.catalog.choices import ImportStatus
from cvewatch.catalog.models import Cve, ImportedInput, ImportRun
from cvewatch.ingest import records, sources
from cvewatch.ingest.services import import_paths
from tests.ingest.conftest import DROP_TRIGGER

pytestmark = pytest.mark.django_db

TEMPLATE = Path(__file__).resolve().parent.parent / "data" / "ingest" / "cve5" / "CVE-2017-3881.json"


def cve5_bytes(cve_id: str) -> bytes:
    """A real CVE JSON 5 record (with its CISA ADP container) renamed to cve_id."""
    return TEMPLATE.read_bytes().replace(b"CVE-2017-3881", cve_id.encode())


def write_records(folder: Path, *cve_ids: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for cve_id in cve_ids:
        path = folder / f"{cve_id}.json"
        path.write_bytes(cve5_bytes(cve_id))
        paths.append(path)
    return paths


def recorded() -> set[str]:
    return {Path(origin).name for origin in ImportedInput.objects.values_list("origin", flat=True)}


def test_an_unchanged_file_is_skipped_unread_and_the_command_says_so(tmp_path):
    folder = tmp_path / "feed"
    write_records(folder, "CVE-2024-0001", "CVE-2024-0002")
    first, stats = import_paths([folder])
    assert (stats.created, stats.inputs_recorded, stats.inputs_unchanged) == (2, 2, 0)
    assert recorded() == {"CVE-2024-0001.json", "CVE-2024-0002.json"}
    assert set(ImportedInput.objects.values_list("import_run", flat=True)) == {first.pk}

    out = StringIO()
    call_command("import", str(folder), "--quiet", stdout=out, stderr=StringIO())
    text = out.getvalue()
    second = ImportRun.objects.first()
    assert second.status == ImportStatus.SUCCEEDED  # nothing to read is no failure
    assert (second.counts["read"], second.counts["inputs_unchanged"], second.counts["inputs_recorded"]) == (
        0,
        2,
        0,
    )
    day = first.started_at.date().isoformat()
    assert (
        f"2 unchanged inputs skipped (already imported by run #{first.pk}, {day}); --reread reads them again"
    ) in text
    assert "read        0 items" in text


def test_one_changed_byte_is_read_again(tmp_path):
    one, two = write_records(tmp_path / "feed", "CVE-2024-0001", "CVE-2024-0002")
    import_paths([tmp_path / "feed"])
    doc = json.loads(two.read_bytes())
    doc["containers"]["cna"]["title"] = "A new title"
    two.write_text(json.dumps(doc))
    _, stats = import_paths([tmp_path / "feed"])
    assert (stats.inputs_unchanged, stats.inputs_recorded, stats.cve_records, stats.updated) == (1, 1, 2, 1)
    assert Cve.objects.get(cve_id="CVE-2024-0002").title == "A new title"
    assert ImportedInput.objects.count() == 3  # the old bytes stay known: importing them again is a no-op too


def test_reread_reads_every_input_and_records_them_for_this_run(tmp_path):
    write_records(tmp_path / "feed", "CVE-2024-0001", "CVE-2024-0002")
    import_paths([tmp_path / "feed"])
    out = StringIO()
    call_command("import", str(tmp_path / "feed"), "--quiet", "--reread", stdout=out, stderr=StringIO())
    run = ImportRun.objects.first()
    assert (
        run.counts["inputs_unchanged"],
        run.counts["records_unchanged"],
        run.counts["inputs_recorded"],
    ) == (0, 4, 2)
    assert "unchanged inputs skipped" not in out.getvalue()
    assert set(ImportedInput.objects.values_list("import_run", flat=True)) == {run.pk}


def test_the_same_bytes_under_another_name_or_inside_another_folder_are_skipped(tmp_path):
    (path,) = write_records(tmp_path / "a", "CVE-2024-0001")
    import_paths([path])
    renamed = tmp_path / "b" / "renamed.json"
    renamed.parent.mkdir()
    renamed.write_bytes(path.read_bytes())
    _, stats = import_paths([tmp_path / "b"])
    assert (stats.read, stats.inputs_unchanged) == (0, 1)


def test_a_tarball_is_one_input(tmp_path):
    bundle = tmp_path / "bundle.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        for cve_id in ("CVE-2024-0001", "CVE-2024-0002"):
            data = cve5_bytes(cve_id)
            info = tarfile.TarInfo(f"2024/0xxx/{cve_id}.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    _, first = import_paths([bundle])
    assert (first.created, first.inputs_recorded) == (2, 1)
    assert ImportedInput.objects.get().origin == str(bundle)
    _, again = import_paths([bundle])
    assert (again.read, again.inputs_unchanged) == (0, 1)


def test_a_parser_format_version_bump_reads_every_input_again(tmp_path, monkeypatch):
    write_records(tmp_path / "feed", "CVE-2024-0001")
    import_paths([tmp_path / "feed"])
    monkeypatch.setattr(records, "INPUT_FORMAT_VERSION", records.INPUT_FORMAT_VERSION + 1)
    _, stats = import_paths([tmp_path / "feed"])
    assert (stats.inputs_unchanged, stats.records_unchanged, stats.inputs_recorded) == (0, 2, 1)
    assert sorted(ImportedInput.objects.values_list("format_version", flat=True)) == [
        records.INPUT_FORMAT_VERSION - 1, records.INPUT_FORMAT_VERSION,
    ]  # fmt: skip
    _, again = import_paths([tmp_path / "feed"])
    assert (again.read, again.inputs_unchanged) == (0, 1)


@pytest.mark.parametrize("batch_size", [1, 2000])
def test_an_interrupted_run_records_only_the_files_it_committed(tmp_path, monkeypatch, batch_size):
    """The run dies while reading the third file: the files committed before are recorded, the rest are not."""
    write_records(tmp_path / "feed", "CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003")
    real = sources.cve5_records

    def dies_on_the_third(doc, **kwargs):
        if doc["cveMetadata"]["cveId"] == "CVE-2024-0003":
            raise KeyboardInterrupt
        return real(doc, **kwargs)

    monkeypatch.setattr(sources, "cve5_records", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        import_paths([tmp_path / "feed"], batch_size=batch_size)
    committed = set(Cve.objects.values_list("cve_id", flat=True))
    assert recorded() == {f"{cve_id}.json" for cve_id in committed}
    assert "CVE-2024-0003.json" not in recorded()
    if batch_size == 1:
        assert committed == {"CVE-2024-0001"}  # the second file's batch never committed either

    monkeypatch.setattr(sources, "cve5_records", real)
    _, stats = import_paths([tmp_path / "feed"])
    assert stats.inputs_unchanged == len(committed)
    assert set(Cve.objects.values_list("cve_id", flat=True)) == {
        "CVE-2024-0001",
        "CVE-2024-0002",
        "CVE-2024-0003",
    }
    assert len(recorded()) == 3


@pytest.mark.parametrize("batch_size", [1, 2000])
def test_a_file_the_database_refused_is_not_recorded(tmp_path, refuse_cve_0002, batch_size):
    write_records(tmp_path / "feed", "CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003")
    run, stats = import_paths([tmp_path / "feed"], batch_size=batch_size)
    assert run.status == ImportStatus.PARTIAL and stats.skipped == 2  # its CNA and ADP records
    assert recorded() == {"CVE-2024-0001.json", "CVE-2024-0003.json"}

    with connection.cursor() as cursor:
        for sql in DROP_TRIGGER[connection.vendor]:
            cursor.execute(sql)
    _, again = import_paths([tmp_path / "feed"], batch_size=batch_size)
    assert (again.inputs_unchanged, again.created, again.skipped) == (2, 1, 0)
    assert len(recorded()) == 3


def test_a_malformed_file_is_recorded_since_reading_it_again_would_skip_it_again(tmp_path):
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "broken.json").write_text('{"dataType": "CVE_RECORD", ')
    write_records(tmp_path / "feed", "CVE-2024-0001")
    _, stats = import_paths([tmp_path / "feed"])
    assert (stats.skipped, stats.inputs_recorded) == (1, 2)
    _, again = import_paths([tmp_path / "feed"])
    assert (again.skipped, again.inputs_unchanged) == (0, 2)


def test_a_file_skipped_for_a_limit_is_read_again_once_the_limit_allows_it(tmp_path, settings):
    write_records(tmp_path / "feed", "CVE-2024-0001")
    settings.IMPORT_MAX_MB = 0
    _, stats = import_paths([tmp_path / "feed"])
    assert (stats.skipped, stats.inputs_recorded) == (
        1,
        0,
    ) and "CVEWATCH_IMPORT_MAX_MB" in stats.skipped_items[0]["reason"]
    settings.IMPORT_MAX_MB = 512
    _, again = import_paths([tmp_path / "feed"])
    assert (again.created, again.inputs_recorded) == (1, 1)


def test_an_emptied_catalog_does_not_trust_the_recorded_inputs(tmp_path):
    write_records(tmp_path / "feed", "CVE-2024-0001")
    import_paths([tmp_path / "feed"])
    Cve.objects.all().delete()
    from cvewatch.catalog.models import SourceRecord

    SourceRecord.objects.all().delete()
    _, stats = import_paths([tmp_path / "feed"])
    assert (stats.inputs_unchanged, stats.created) == (0, 1)


def test_a_pipe_is_read_as_it_comes_never_skipped_and_never_recorded(tmp_path):
    import os
    import threading

    from cvewatch.ingest.records import CveRecord, InputRead

    pipe = tmp_path / "records.json"
    os.mkfifo(pipe)
    data = cve5_bytes("CVE-2024-0001")

    def feed() -> None:
        with pipe.open("wb") as stream:
            stream.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    items = list(sources.iter_items([pipe], known=frozenset()))
    writer.join()
    assert [type(i) for i in items] == [CveRecord, CveRecord]  # CNA and ADP, and no InputRead marker
    assert not any(isinstance(i, InputRead) for i in items)


def test_the_walker_hashes_the_raw_bytes_and_skips_known_ones_without_parsing(tmp_path, monkeypatch):
    import gzip
    import hashlib

    from cvewatch.ingest.records import InputRead

    path = tmp_path / "feed.json.gz"
    path.write_bytes(gzip.compress(cve5_bytes("CVE-2024-0001")))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    *records_read, marker = sources.iter_items([path], known=frozenset())
    assert len(records_read) == 2 and marker == InputRead(str(path), digest, path.stat().st_size)

    monkeypatch.setattr(sources, "detect_format", lambda *a: pytest.fail("a known input was parsed"))
    assert list(sources.iter_items([path], known={digest})) == [
        InputRead(str(path), digest, path.stat().st_size, unchanged=True)
    ]
