"""Merging ahead in the reading process (ingest/premerge.py): a first import's new CVEs arrive as ready rows,
taken only where the writer's own merge would give the same, and the catalog comes out identical."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cvewatch.catalog.models import Change, Cve, CveProduct, CveVendor, CveWeakness, SourceRecord
from cvewatch.ingest import merge, pipeline
from cvewatch.ingest.premerge import Premerger
from cvewatch.ingest.preparing import Preparer, prepared_batches, without_docs
from cvewatch.ingest.records import CveRecord, KevEntry
from cvewatch.ingest.services import import_paths
from cvewatch.ingest.stats import ImportStats
from cvewatch.ingest.writer import CVE_INSERT_FIELDS, BatchWriter, Prepared
from tests.ingest.test_import_pipeline import _inputs, _wipe

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"
T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
T1 = datetime(2024, 3, 5, 8, tzinfo=UTC)
ROW_FIELDS = [f for f in CVE_INSERT_FIELDS if f not in ("row_created_at", "row_updated_at")]


def _full_catalog() -> dict[str, list[tuple[object, ...]]]:
    """Every value an import writes but its clock, its uuids and its run: CVE rows in id order (the API's
    tie-breaker), changes with their events, links by name."""
    return {
        "cves": list(Cve.objects.order_by("id").values_list(*ROW_FIELDS)),
        "records": list(
            SourceRecord.objects.order_by("cve_id", "source").values_list(
                "cve_id", "source", "digest", "record", "raw", "origin"
            )
        ),
        "changes": list(Change.objects.order_by("id").values_list("cve__cve_id", "events", "types")),
        "vendors": sorted(CveVendor.objects.values_list("cve__cve_id", "vendor__name")),
        "products": sorted(
            CveProduct.objects.values_list("cve__cve_id", "product__vendor__name", "product__name")
        ),
        "weaknesses": sorted(CveWeakness.objects.values_list("cve__cve_id", "weakness__cwe_id")),
    }


def _record(cve_id: str, source: str = "mitre", **kwargs) -> CveRecord:
    kwargs.setdefault("published", T0)
    kwargs.setdefault("updated", T0)
    kwargs.setdefault("description", f"{cve_id} from {source}")
    return CveRecord(cve_id=cve_id, source=source, **kwargs)


def _prepared(*items) -> list[Prepared]:
    batches = list(prepared_batches(items, Preparer(ImportStats()), batch_size=10_000))
    return [p for batch, _, _ in batches for p in batch]


@pytest.mark.skipif(not pipeline.available(), reason="needs fork and two cores")
@pytest.mark.parametrize("ahead", ["always", "never"])
def test_a_first_import_merged_ahead_writes_exactly_what_the_writer_would(tmp_path, monkeypatch, ahead):
    # The child merges a batch ahead when its last send waited WRITER_BUSY_SECONDS: always, or only the first.
    monkeypatch.setattr(pipeline, "WRITER_BUSY_SECONDS", -1.0 if ahead == "always" else float("inf"))
    paths = _inputs(tmp_path)
    _, one = import_paths(paths, batch_size=7, pipeline=False)
    one_catalog = _full_catalog()
    _wipe()
    taken: list[int] = []
    premerged = BatchWriter.premerged

    def counted(self, incoming, dirty):
        found = premerged(self, incoming, dirty)
        taken.append(len(found))
        return found

    monkeypatch.setattr(BatchWriter, "premerged", counted)
    _, two = import_paths(paths, batch_size=7, pipeline=True)
    if ahead == "always":
        assert sum(taken) > 100  # most new CVEs came merged from the reading process
    else:
        assert 0 < sum(taken) <= 7  # the first batch only: the writer merged every later one itself
    assert two.counts() == one.counts()
    assert _full_catalog() == one_catalog


def test_only_cves_first_seen_and_dated_are_merged_ahead():
    premerger = Premerger()
    first = _prepared(
        _record("CVE-2024-0001", vendors=("acme",)),
        _record("CVE-2024-0001", "vulnrichment", weaknesses=("CWE-79",)),
        _record("CVE-2024-0002", published=None, updated=None),  # undated: dated by the writer's clock
        KevEntry(cve_id="CVE-2024-0003", date_added=T0.date(), due_date=None, vendor_project="acme"),
    )
    premerger(first)
    by_id = {p.key: p for p in first}
    new = by_id["CVE-2024-0001"].new_cve
    assert new is not None and new.vendors == ["acme"] and new.weaknesses == ["CWE-79"]
    assert all(p.new_cve is new for p in first if p.key == "CVE-2024-0001")  # one object, all records
    assert by_id["CVE-2024-0002"].new_cve is None and by_id["CVE-2024-0003"].new_cve is None
    assert by_id["CVE-2024-0001"].doc is None and by_id["CVE-2024-0001"].document()["kind"] == merge.KIND_CVE
    later = _prepared(_record("CVE-2024-0001", "nvd", updated=T1), _record("CVE-2024-0004"))
    premerger(later)  # a CVE already sent may meet stored records: the writer merges it
    assert [p.new_cve is not None for p in later] == [False, True]


def test_a_batch_not_merged_ahead_still_counts_as_sent():
    premerger = Premerger()
    first = _prepared(_record("CVE-2024-0001"), _record("CVE-2024-0002"))
    premerger(first, ahead=False)  # the writer was waiting: it merges these itself
    assert all(p.new_cve is None and p.doc is not None for p in first)
    later = _prepared(_record("CVE-2024-0001", "nvd", updated=T1), _record("CVE-2024-0003"))
    premerger(later)
    assert [p.new_cve is not None for p in later] == [False, True]  # CVE-2024-0001 may meet stored records


def test_a_merge_made_ahead_is_ignored_when_other_records_arrive():
    """The writer takes a merged row only for exactly the records it was merged from; else it merges itself."""
    batch = _prepared(_record("CVE-2024-0001", vendors=("acme",)))
    Premerger()(batch)
    other = _prepared(_record("CVE-2024-0001", "nvd", vendors=("globex",), updated=T1))[0]
    writer = BatchWriter(run_id=None)
    writer.write([*batch, other])
    cve = Cve.objects.get()
    assert cve.vendors == ["acme", "globex"]  # not the merge made ahead from the mitre record alone
    assert cve.digest == merge.view_digest(
        merge.merge_docs({"mitre": batch[0].document(), "nvd": other.document()}, fallback_time=T0)
    )


def test_a_merge_made_ahead_is_ignored_once_the_cve_is_stored():
    stored = _prepared(_record("CVE-2024-0001", vendors=("acme",)))
    BatchWriter(run_id=None).write(stored)
    batch = _prepared(_record("CVE-2024-0001", "nvd", vendors=("globex",), updated=T1))
    Premerger()(batch)  # a reading process that did not see the first write (another run)
    assert batch[0].new_cve is not None
    writer = BatchWriter(run_id=None)  # not a first import any more: every CVE is looked up
    writer.write(batch)
    assert Cve.objects.get().vendors == ["acme", "globex"]
    assert Change.objects.count() == 2


def test_a_doc_sent_as_its_json_decodes_to_what_was_sealed():
    """What crosses the pipe (preparing.without_docs) is the stored JSON; decoded, it seals to the same digest."""
    batch = _prepared(
        _record("CVE-2024-0001", vendors=("acme",), weaknesses=("CWE-79",)),
        KevEntry(cve_id="CVE-2024-0001", date_added=T0.date(), due_date=None, vendor_project="acme"),
    )
    docs = [p.doc for p in batch]
    sent = without_docs(batch)
    assert all(p.doc is None for p in sent)
    for prepared, doc in zip(sent, docs, strict=True):
        decoded = prepared.document()
        assert merge.canonical_json(decoded) == merge.canonical_json(doc)
        assert merge.seal(decoded, b"")[1] == merge.seal(doc, b"")[1]
