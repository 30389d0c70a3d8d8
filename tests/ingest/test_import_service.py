"""The import service on the real database, fed with records built in the test."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cvewatch.catalog import raw_copy
from cvewatch.catalog.models import (
    Change,
    Cve,
    CveProduct,
    CveVendor,
    CveWeakness,
    Product,
    SourceRecord,
    Vendor,
    Weakness,
)
from cvewatch.catalog.search import substring_ids_sql
from cvewatch.ingest import merge
from cvewatch.ingest.records import CveRecord, CweEntry, EpssScore, KevEntry, Metric, Skipped
from cvewatch.ingest.services import import_items
from tests.factories import VendorFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
T1 = datetime(2024, 3, 5, 8, tzinfo=UTC)


def record(cve_id: str = "CVE-2024-0001", source: str = "mitre", **kwargs) -> CveRecord:
    kwargs.setdefault("published", T0)
    kwargs.setdefault("updated", T0)
    kwargs.setdefault("description", f"{cve_id} from {source}")
    return CveRecord(cve_id=cve_id, source=source, **kwargs)


def cvss31(score: float, provider: str) -> dict[str, Metric]:
    return {"cvssV3_1": Metric({"score": score, "vector": "CVSS:3.1/AV:N"}, provider)}


def links(cve_id: str) -> tuple[list[str], list[str], list[str]]:
    return (
        sorted(CveVendor.objects.filter(cve__cve_id=cve_id).values_list("vendor__name", flat=True)),
        sorted(
            f"{v}$PRODUCT${p}"
            for v, p in CveProduct.objects.filter(cve__cve_id=cve_id).values_list(
                "product__vendor__name", "product__name"
            )
        ),
        sorted(CveWeakness.objects.filter(cve__cve_id=cve_id).values_list("weakness__cwe_id", flat=True)),
    )


def writes(ctx: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_a_new_cve_gets_its_row_links_source_record_and_a_created_change():
    rec = record(
        vendors=("acme", "acme$PRODUCT$anvil"),
        weaknesses=("CWE-79",),
        references=("https://example.com/a",),
        metrics=cvss31(9.8, "mitre"),
        title="Anvil XSS",
        raw=b'{"the": "raw json"}',
    )
    stats = import_items([rec])
    assert (stats.created, stats.updated, stats.records_stored, stats.changes) == (1, 0, 1, 1)

    cve = Cve.objects.get(cve_id="CVE-2024-0001")
    assert (cve.title, cve.description, cve.state) == ("Anvil XSS", "CVE-2024-0001 from mitre", "PUBLISHED")
    assert (cve.created_at, cve.updated_at) == (T0, T0)
    assert cve.metrics["cvssV3_1"] == {"data": {"score": 9.8, "vector": "CVSS:3.1/AV:N"}, "provider": "mitre"}
    assert cve.metrics["kev"] == {"data": {}, "provider": None}
    assert cve.cvss31_score == 9.8
    assert cve.vendors == ["acme", "acme$PRODUCT$anvil"]
    assert links("CVE-2024-0001") == (["acme"], ["acme$PRODUCT$anvil"], ["CWE-79"])
    assert Weakness.objects.get(cwe_id="CWE-79").name == ""  # the CWE catalog fills it in later

    source = SourceRecord.objects.get(cve_id="CVE-2024-0001", source="mitre")
    assert bytes(source.raw).startswith(b"\x28\xb5\x2f\xfd")  # a zstd frame (catalog/raw_copy.py)
    assert raw_copy.decompress(bytes(source.raw), limit=1024) == b'{"the": "raw json"}'
    assert source.record == merge.cve_record_doc(rec)
    change = Change.objects.get(cve=cve)
    assert isinstance(change.uuid, uuid.UUID) and isinstance(Vendor.objects.get(name="acme").uuid, uuid.UUID)
    assert change.created_at.tzinfo is not None
    assert change.types == ["created", "first_time"]
    assert change.events[1] == {"type": "first_time", "details": ["acme", "acme$PRODUCT$anvil"]}


def test_importing_the_same_items_again_writes_nothing():
    items = [
        record(vendors=("acme", "acme$PRODUCT$anvil"), weaknesses=("CWE-79",)),
        record(source="nvd", cpes=("cpe:2.3:a:acme:anvil:1.0:*:*:*:*:*:*:*",), metrics=cvss31(7.5, "nvd")),
        record("CVE-2024-0002", "nvd"),
        KevEntry("CVE-2024-0001", date(2024, 3, 2), None),
        KevEntry("CVE-2024-0099", date(2024, 3, 2), None),  # a CVE not imported yet
        EpssScore("CVE-2024-0002", 0.1, 0.5),
        CweEntry("CWE-79", "Cross-site Scripting", "Improper neutralization..."),
    ]
    first = import_items(items)
    assert (first.created, first.pending, first.changes) == (2, 1, 2)
    rows_before = list(Cve.objects.order_by("cve_id").values())

    with CaptureQueriesContext(connection) as ctx:
        second = import_items(items)
    assert writes(ctx) == []
    assert (second.created, second.updated, second.unchanged, second.changes, second.records_stored) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert second.records_unchanged == 6
    assert second.imported == 7
    assert list(Cve.objects.order_by("cve_id").values()) == rows_before
    assert Change.objects.count() == 2


def test_a_changed_record_updates_the_row_relinks_and_records_the_events():
    VendorFactory(name="newco")  # known before: no first_time for it
    import_items(
        [record(vendors=("acme", "acme$PRODUCT$anvil"), weaknesses=("CWE-79",), metrics=cvss31(5.0, "mitre"))]
    )
    stats = import_items(
        [
            record(
                vendors=("newco", "newco$PRODUCT$hammer"),
                weaknesses=("CWE-89",),
                metrics=cvss31(7.5, "mitre"),
                description="a better description",
                updated=T1,
            )
        ]
    )
    assert (stats.created, stats.updated, stats.changes) == (0, 1, 1)
    cve = Cve.objects.get(cve_id="CVE-2024-0001")
    assert (cve.description, cve.updated_at, cve.cvss31_score) == ("a better description", T1, 7.5)
    assert links("CVE-2024-0001") == (["newco"], ["newco$PRODUCT$hammer"], ["CWE-89"])
    change = Change.objects.filter(cve=cve).first()
    assert change.types == ["first_time", "description", "vendors", "weaknesses", "metrics"]
    events = {e["type"]: e["details"] for e in change.events}
    assert events["first_time"] == ["newco$PRODUCT$hammer"]
    assert events["description"] == {"old": "CVE-2024-0001 from mitre", "new": "a better description"}
    assert events["vendors"] == {
        "added": ["newco", "newco$PRODUCT$hammer"],
        "removed": ["acme", "acme$PRODUCT$anvil"],
    }
    assert events["weaknesses"] == {"added": ["CWE-89"], "removed": ["CWE-79"]}
    assert events["metrics"]["updated"]["cvssV3_1"]["new"]["score"] == 7.5
    assert Vendor.objects.filter(name="acme").exists()  # vendors stay even when no CVE links them


def test_first_time_is_reported_once_across_cves_and_batches():
    stats = import_items(
        [
            record("CVE-2024-0001", vendors=("acme", "acme$PRODUCT$anvil")),
            record("CVE-2024-0002", vendors=("acme", "acme$PRODUCT$anvil", "acme$PRODUCT$rocket")),
            record("CVE-2024-0003", vendors=("acme", "acme$PRODUCT$rocket")),
        ],
        batch_size=2,
    )
    assert stats.created == 3
    first_time = {
        c.cve.cve_id: e["details"]
        for c in Change.objects.select_related("cve")
        for e in c.events
        if e["type"] == "first_time"
    }
    assert first_time == {
        "CVE-2024-0001": ["acme", "acme$PRODUCT$anvil"],
        "CVE-2024-0002": ["acme$PRODUCT$rocket"],
    }
    assert Product.objects.filter(vendor__name="acme").count() == 2


def test_records_of_one_cve_in_different_imports_are_merged_by_priority():
    import_items(
        [
            record(source="nvd", description="nvd text", metrics=cvss31(7.5, "nvd"), published=T0, updated=T1,
                   vendors=("acme", "acme$PRODUCT$anvil")),
        ]
    )  # fmt: skip
    stats = import_items(
        [
            record(source="mitre", description="cna text", metrics=cvss31(9.0, "mitre"),
                   published=datetime(2024, 3, 1, 13, tzinfo=UTC), updated=T0, vendors=("acme$PRODUCT$anvil_pro",)),
        ]
    )  # fmt: skip
    assert (stats.created, stats.updated) == (0, 1)
    cve = Cve.objects.get()
    assert (cve.description, cve.providers["description"]) == ("cna text", "mitre")
    assert cve.metrics["cvssV3_1"]["provider"] == "mitre"
    assert (cve.created_at, cve.updated_at) == (T0, T1)
    assert cve.vendors == ["acme", "acme$PRODUCT$anvil", "acme$PRODUCT$anvil_pro"]
    assert links(cve.cve_id)[1] == ["acme$PRODUCT$anvil", "acme$PRODUCT$anvil_pro"]
    change = Change.objects.filter(cve=cve).first()  # the newest
    assert {e["type"] for e in change.events} == {"first_time", "description", "vendors", "metrics"}


def test_a_batch_never_splits_the_records_of_one_cve():
    items = [record("CVE-2024-0001"), record("CVE-2024-0002"), record("CVE-2024-0002", "vulnrichment"),
             record("CVE-2024-0002", "nvd"), record("CVE-2024-0003")]  # fmt: skip
    stats = import_items(items, batch_size=2)
    assert (stats.created, stats.updated, stats.changes) == (3, 0, 3)
    assert Cve.objects.get(cve_id="CVE-2024-0002").providers["sources"] == ["mitre", "nvd", "vulnrichment"]


def test_kev_and_epss_before_the_cve_are_applied_when_it_arrives():
    stats = import_items(
        [
            KevEntry("CVE-2024-0001", date(2024, 3, 2), date(2024, 3, 23)),
            EpssScore("CVE-2024-0001", 0.97, 0.999),
        ]
    )
    assert (stats.pending, stats.created) == (1, 0)
    assert not Cve.objects.exists()

    import_items(
        [record(metrics={"kev": Metric({"dateAdded": "2024-01-01", "dueDate": None}, "vulnrichment")})]
    )
    cve = Cve.objects.get()
    assert cve.metrics["kev"] == {
        "data": {"dateAdded": "2024-03-02", "dueDate": "2024-03-23"},
        "provider": "cisa",
    }
    assert cve.metrics["epss"] == {"data": {"score": 0.97, "percentile": 0.999}, "provider": "first"}
    assert (cve.kev_added, cve.epss_score) == (date(2024, 3, 2), 0.97)


def test_a_kev_entry_for_a_known_cve_is_a_metrics_change():
    import_items([record()])
    stats = import_items([KevEntry("CVE-2024-0001", date(2024, 3, 2), None)])
    assert stats.updated == 1
    change = Change.objects.filter(cve__cve_id="CVE-2024-0001").first()
    assert change.events == [
        {
            "type": "metrics",
            "details": {
                "added": {"kev": {"dateAdded": "2024-03-02", "dueDate": None}},
                "removed": {},
                "updated": {},
            },
        }
    ]


def test_a_new_epss_score_rewrites_the_row_without_a_change():
    import_items([record(), EpssScore("CVE-2024-0001", 0.1, 0.2)])
    stats = import_items([EpssScore("CVE-2024-0001", 0.3, 0.4)])
    assert (stats.updated, stats.changes) == (1, 0)
    assert Cve.objects.get().epss_score == 0.3


def test_a_changed_source_record_that_does_not_change_the_view_is_stored_only():
    import_items([record(raw=b"v1")])
    row_written = Cve.objects.get().row_updated_at
    stats = import_items([record(raw=b"v2")])  # same content, new raw bytes
    assert (stats.records_stored, stats.unchanged, stats.updated, stats.changes) == (1, 1, 0, 0)
    assert Cve.objects.get().row_updated_at == row_written


def test_cwe_entries_upsert_weaknesses_including_ones_first_seen_on_a_cve():
    import_items([record(weaknesses=("CWE-79",))])
    stats = import_items(
        [CweEntry("CWE-79", "XSS", "desc 79"), CweEntry("CWE-89", "SQL Injection", "desc 89")]
    )
    assert (stats.weaknesses_created, stats.weaknesses_updated) == (1, 1)
    assert dict(Weakness.objects.values_list("cwe_id", "name")) == {
        "CWE-79": "XSS",
        "CWE-89": "SQL Injection",
    }
    again = import_items([CweEntry("CWE-79", "XSS", "desc 79")])
    assert (again.weaknesses_created, again.weaknesses_updated, again.imported) == (0, 0, 1)


def test_the_cna_rejecting_a_cve_wins():
    import_items([record(source="nvd"), record(state="REJECTED", description="Rejected reason: duplicate")])
    cve = Cve.objects.get()
    assert (cve.state, cve.description) == ("REJECTED", "Rejected reason: duplicate")


def test_skipped_and_invalid_items_are_counted_with_their_reasons():
    stats = import_items(
        [
            Skipped("feed.json!item 3", "bad JSON"),
            record("CVE-2024-0001"),
            record("NOT-A-CVE"),
            Skipped("other.json", "bad JSON"),
        ]
    )
    assert (stats.read, stats.skipped, stats.created) == (4, 3, 1)
    assert stats.skip_reasons["bad JSON"] == 2
    assert stats.skipped_items[1] == {"path": "NOT-A-CVE", "reason": "invalid CVE id 'NOT-A-CVE'"}


def test_names_the_catalog_cannot_hold_are_dropped_and_the_record_kept():
    long_product = "mediatek$PRODUCT$" + "mt6580, " * 40
    stats = import_items(
        [
            record(
                vendors=("mediatek", long_product, "mediatek$PRODUCT$mt6789"),
                weaknesses=("CWE-" + "9" * 40, "CWE-20"),
            )
        ]
    )
    assert (stats.created, stats.skipped, stats.warnings) == (1, 0, 1)
    assert stats.warning_items == [
        {
            "path": "CVE-2024-0001",
            "reason": "CVE-2024-0001: imported without product 'mediatek/mt6580, mt6580, mt6580, mt6580,…' "
            "(320 characters), CWE id 'CWE-999999999999999999999999999999999999…' (44 characters)",
        }
    ]
    assert stats.warning_reasons == {
        "vendor/product names over 255 characters or CWE ids over 32 (often a list pasted into one field) "
        "are not stored": 1
    }
    cve = Cve.objects.get()
    assert cve.vendors == ["mediatek", "mediatek$PRODUCT$mt6789"]
    assert links(cve.cve_id) == (["mediatek"], ["mediatek$PRODUCT$mt6789"], ["CWE-20"])


def test_values_json_or_postgresql_cannot_hold_are_normalised():
    rec = record(
        description="nul\x00byte",
        metrics={"cvssV3_1": Metric({"score": float("nan"), "vector": "?"}, "mitre")},
    )
    assert import_items([rec]).created == 1
    cve = Cve.objects.get()
    assert cve.description == "nulbyte"
    assert cve.metrics["cvssV3_1"]["data"] == {"score": None, "vector": "?"}
    assert cve.cvss31_score is None
    assert import_items([rec]).records_unchanged == 1


def test_a_record_the_database_refuses_costs_only_itself(refuse_cve_0002):
    items = [
        record("CVE-2024-0001", vendors=("acme",)),
        record("CVE-2024-0002", vendors=("badco",)),
        record("CVE-2024-0003"),
        KevEntry("CVE-2024-0003", date(2024, 1, 2), None),
    ]
    stats = import_items(items, batch_size=10)
    assert sorted(Cve.objects.values_list("cve_id", flat=True)) == ["CVE-2024-0001", "CVE-2024-0003"]
    assert Cve.objects.get(cve_id="CVE-2024-0003").kev_added == date(2024, 1, 2)
    assert (stats.created, stats.skipped, stats.imported) == (2, 1, 3)
    (skipped,) = stats.skipped_items
    assert skipped["reason"].startswith("CVE-2024-0002: database error:")
    assert "refused by the test trigger" in skipped["reason"]
    assert not SourceRecord.objects.filter(cve_id="CVE-2024-0002").exists()
    # Nothing of the refused CVE's batch leaked into the caches: its new vendor was rolled back.
    assert not Vendor.objects.filter(name="badco").exists()
    import_items([record("CVE-2024-0004", vendors=("acme", "badco"))])
    assert links("CVE-2024-0004")[0] == ["acme", "badco"]


def found_by_search(term: str) -> set[str]:
    sql, params = substring_ids_sql(term)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    return set(Cve.objects.filter(pk__in=ids).values_list("cve_id", flat=True))


def test_the_search_index_follows_an_initial_load_and_later_imports():
    # On SQLite an initial load fills the search table at the end instead of through its triggers.
    import_items([record("CVE-2024-0001", description="a heap overflow in anvil")])
    assert found_by_search("overflow in anv") == {"CVE-2024-0001"}
    import_items([record("CVE-2024-0002", description="another overflow in anvil")])
    import_items([record("CVE-2024-0001", description="fixed text", updated=T1)])
    assert found_by_search("overflow in anv") == {"CVE-2024-0002"}
    assert found_by_search("FIXED") == {"CVE-2024-0001"}
