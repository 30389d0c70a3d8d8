"""Importing real records through the real walker and parsers (tests/data/ingest, copied from ../shared)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cvewatch.catalog.choices import ImportStatus
from cvewatch.catalog.models import Change, Cve, CveProduct, ImportRun, SourceRecord, Weakness
from cvewatch.ingest.services import import_paths
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data" / "ingest"
CVE5 = DATA / "cve5"
NVD = DATA / "nvd" / "nvdcve-1.1-CVE-2017-3881.json"
KEV = DATA / "kev" / "kev-CVE-2017-3881.json"
KB = DATA / "kb-versions"


def test_cve5_and_nvd_records_of_one_cve_merge_by_priority():
    run, stats = import_paths([CVE5 / "CVE-2017-3881.json", NVD])
    assert run.status == ImportStatus.SUCCEEDED
    assert stats.cve_records == 3  # CNA, CISA ADP, NVD
    cve = Cve.objects.get(cve_id="CVE-2017-3881")
    assert cve.providers["sources"] == ["mitre", "nvd", "vulnrichment"]
    assert cve.providers["description"] == "mitre"
    assert cve.description.startswith("A vulnerability in the Cisco Cluster Management Protocol")
    # The CNA has no CVSS: NVD's scores are served, with NVD as provider; SSVC and KEV come from the ADP.
    assert cve.metrics["cvssV3_1"] == {
        "data": {"score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
        "provider": "nvd",
    }
    assert cve.metrics["ssvc"]["provider"] == "vulnrichment"
    assert cve.metrics["kev"] == {
        "data": {"dateAdded": "2022-03-25", "dueDate": None},
        "provider": "vulnrichment",
    }
    assert (cve.cvss31_score, cve.cvss20_score, cve.kev_added) == (9.8, 10.0, date(2022, 3, 25))
    # Published: the earliest known (the CNA's); updated: the latest known (the CNA's 2024 update).
    assert cve.created_at == datetime(2017, 3, 17, 22, 0, tzinfo=UTC)
    assert cve.updated_at.year == 2024
    assert cve.vendors == ["cisco", "cisco$PRODUCT$ios", "cisco$PRODUCT$ios_xe"]
    assert SourceRecord.objects.filter(cve_id="CVE-2017-3881").count() == 3


def test_the_merge_does_not_depend_on_the_import_order():
    import_paths([NVD])
    import_paths([CVE5 / "CVE-2017-3881.json"])
    nvd_first = Cve.objects.values(
        "digest", "metrics", "vendors", "description", "created_at", "updated_at"
    ).get()
    Cve.objects.all().delete()
    SourceRecord.objects.all().delete()
    import_paths([CVE5 / "CVE-2017-3881.json", NVD])
    assert Cve.objects.values(
        "digest", "metrics", "vendors", "description", "created_at", "updated_at"
    ).get() == (nvd_first)


def test_a_kev_entry_before_its_cve_is_applied_when_the_cve_arrives():
    run, stats = import_paths([KEV])
    assert (stats.kev_entries, stats.pending, stats.created) == (1, 1, 0)
    assert run.status == ImportStatus.SUCCEEDED
    assert not Cve.objects.exists()
    import_paths([CVE5 / "CVE-2017-3881.json"])
    cve = Cve.objects.get()
    assert cve.metrics["kev"] == {
        "data": {"dateAdded": "2022-03-25", "dueDate": "2022-04-15"},
        "provider": "cisa",
    }
    assert Change.objects.get(cve=cve).types == ["created"]  # the CVE and its KEV entry arrive as one


def test_a_new_cve_is_linked_to_the_cna_affected_product_before_any_cpe():
    import_paths([CVE5 / "CVE-2024-2898.json"])
    cve = Cve.objects.get()
    assert "tenda$PRODUCT$ac7" in cve.vendors  # from the CNA's affected list only
    assert "cpe:2.3:o:tenda:ac7_firmware:15.03.06.44:*:*:*:*:*:*:*" in cve.cpes  # from the ADP
    linked = set(CveProduct.objects.filter(cve=cve).values_list("product__vendor__name", "product__name"))
    assert linked == {("tenda", "ac7"), ("tenda", "ac7_firmware")}
    (first_time,) = [e["details"] for e in Change.objects.get(cve=cve).events if e["type"] == "first_time"]
    assert first_time == ["tenda", "tenda$PRODUCT$ac7", "tenda$PRODUCT$ac7_firmware"]


def test_a_real_change_between_two_syncs_is_recorded(tmp_path):
    kb = tmp_path / "kb" / "2024"
    kb.mkdir(parents=True)
    shutil.copy(KB / "CVE-2024-6962.v1.json", kb / "CVE-2024-6962.json")
    first_run, _ = import_paths([tmp_path / "kb"])
    cve = Cve.objects.get(cve_id="CVE-2024-6962")
    assert cve.title == "Tenda O3 formQosSet stack-based overflow"
    assert Change.objects.get(cve=cve).import_run == first_run

    shutil.copy(KB / "CVE-2024-6962.v2.json", kb / "CVE-2024-6962.json")
    second_run, stats = import_paths([tmp_path / "kb"])
    assert (stats.updated, stats.changes) == (1, 1)
    change = Change.objects.filter(cve=cve).first()
    assert change.import_run == second_run
    assert change.events == [
        {"type": "title", "details": {"old": "Tenda O3 formQosSet stack-based overflow", "new": "New title"}}
    ]
    assert change.types == ["title"]
    assert Cve.objects.get(cve_id="CVE-2024-6962").title == "New title"

    _, again = import_paths([tmp_path / "kb"])
    assert (again.updated, again.changes, again.read, again.inputs_unchanged) == (0, 0, 0, 1)
    _, reread = import_paths([tmp_path / "kb"], reread=True)
    assert (reread.updated, reread.changes, reread.records_unchanged) == (0, 0, 1)


def test_every_run_is_recorded_with_counts_and_skipped_inputs(tmp_path):
    (tmp_path / "broken.json").write_text('{"dataType": "CVE_RECORD", ')
    shutil.copy(CVE5 / "CVE-2024-2898.json", tmp_path)
    run, stats = import_paths([tmp_path, tmp_path / "missing.json"])
    run = ImportRun.objects.get(pk=run.pk)
    assert run.status == ImportStatus.PARTIAL
    assert run.finished_at is not None
    assert run.paths == [str(tmp_path), str(tmp_path / "missing.json")]
    assert run.counts["created"] == 1
    assert run.counts["skipped"] == 2
    assert {e["path"] for e in run.errors} == {str(tmp_path / "broken.json"), str(tmp_path / "missing.json")}
    origins = set(SourceRecord.objects.values_list("origin", flat=True))
    assert origins == {str(tmp_path / "CVE-2024-2898.json")}


def test_a_run_with_nothing_importable_fails(tmp_path):
    (tmp_path / "broken.json").write_text("not json")
    run, stats = import_paths([tmp_path])
    assert run.status == ImportStatus.FAILED
    assert stats.imported == 0


def test_catalogs_fill_weaknesses_and_epss_scores():
    import_paths([CVE5 / "CVE-2024-2898.json"])
    assert Weakness.objects.get(cwe_id="CWE-121").name == ""  # seen on the CVE, catalog not imported yet
    run, stats = import_paths([DATA / "catalogs"])
    assert run.status == ImportStatus.SUCCEEDED
    # The sample catalog has two weaknesses and one category; categories are imported as weaknesses too.
    assert (stats.cwe_entries, stats.epss_scores, stats.updated, stats.pending, stats.changes) == (
        3,
        3,
        1,
        2,
        0,
    )
    assert Weakness.objects.get(cwe_id="CWE-79").name == "Cross-site Scripting"
    cve = Cve.objects.get(cve_id="CVE-2024-2898")
    assert cve.metrics["epss"] == {"data": {"score": 0.00264, "percentile": 0.65811}, "provider": "first"}
    assert cve.epss_score == 0.00264
    import_paths([CVE5 / "CVE-2017-3881.json"])  # its EPSS score was waiting for it
    assert Cve.objects.get(cve_id="CVE-2017-3881").epss_score == 0.97335


def test_a_cve_row_that_exists_without_source_records_is_updated_not_duplicated():
    CveFactory(cve_id="CVE-2024-2898", description="loaded by hand")
    run, stats = import_paths([CVE5 / "CVE-2024-2898.json"])
    assert (stats.created, stats.updated) == (0, 1)
    assert Cve.objects.get(cve_id="CVE-2024-2898").description.startswith("A vulnerability")


def _nvd_variant(tmp_path: Path, name: str, *, modified: str, description: str) -> Path:
    doc = json.loads(NVD.read_text())
    item = doc["CVE_Items"][0]
    item["lastModifiedDate"] = modified
    item["cve"]["description"]["description_data"][0]["value"] = description
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_an_older_copy_of_a_source_record_never_rolls_the_cve_back(tmp_path):
    newer = _nvd_variant(tmp_path, "newer.json", modified="2024-01-02T10:00Z", description="Newer text.")
    older = _nvd_variant(tmp_path, "older.json", modified="2023-08-09T10:00Z", description="Older text.")
    latest = _nvd_variant(tmp_path, "latest.json", modified="2024-05-01T10:00Z", description="Latest text.")

    import_paths([newer])
    _, stats = import_paths([older])  # an old feed snapshot replayed after a newer one
    assert (stats.records_older, stats.records_stored, stats.updated, stats.changes) == (1, 0, 0, 0)
    assert Cve.objects.get(cve_id="CVE-2017-3881").description == "Newer text."

    _, stats = import_paths([latest])
    assert (stats.records_older, stats.updated) == (0, 1)
    assert Cve.objects.get(cve_id="CVE-2017-3881").description == "Latest text."
    assert Change.objects.filter(cve__cve_id="CVE-2017-3881").first().events == [
        {"type": "description", "details": {"old": "Newer text.", "new": "Latest text."}}
    ]


def test_within_one_batch_the_newer_copy_of_a_source_record_wins(tmp_path):
    newer = _nvd_variant(tmp_path, "a-newer.json", modified="2024-01-02T10:00Z", description="Newer text.")
    _nvd_variant(tmp_path, "b-older.json", modified="2023-08-09T10:00Z", description="Older text.")
    _, stats = import_paths([tmp_path])  # both files in one batch, the older one read last
    assert stats.records_older == 1
    assert Cve.objects.get(cve_id="CVE-2017-3881").description == "Newer text."
    _, again = import_paths([tmp_path, newer])
    assert (again.updated, again.changes, again.records_stored) == (0, 0, 0)


def test_two_different_copies_with_one_date_do_not_flip_the_cve_on_every_reimport(tmp_path):
    # Real case: NVD's 2025 feed and a later rebuilt "recent" feed render the same record differently.
    first = tmp_path / "first"
    second = tmp_path / "second"
    first.mkdir()
    second.mkdir()
    a = _nvd_variant(first, "feed.json", modified="2025-05-13T19:35Z", description="Rendering A.")
    b = _nvd_variant(second, "feed.json", modified="2025-05-13T19:35Z", description="Rendering B.")
    import_paths([a, CVE5 / "CVE-2024-2898.json"])
    _, stats = import_paths([b])  # same date, new content: the later import wins
    assert (stats.updated, stats.changes) == (1, 1)
    assert Cve.objects.get(cve_id="CVE-2017-3881").description == "Rendering B."
    for _ in range(2):
        # The same inputs again, the two copies in different batches: nothing changes.
        _, again = import_paths([a, CVE5 / "CVE-2024-2898.json", b], batch_size=1)
        assert (again.updated, again.changes, again.records_stored) == (0, 0, 0)
        assert Cve.objects.get(cve_id="CVE-2017-3881").description == "Rendering B."
