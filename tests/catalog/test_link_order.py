"""The CVE's updated_at on its link rows (catalog/link_order.py): exact after every way rows are written, on
both engines, and the pages read from it are the old plans' pages, ties and last pages included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F, Q

from cvewatch.catalog import link_order, search, selectors
from cvewatch.catalog.models import Cve, CveProduct, CveVendor, CveWeakness, Product, Vendor, Weakness
from cvewatch.ingest.services import import_paths
from tests.api.conftest import kb_path, load_kb_record
from tests.factories import BASE_TIME, CveFactory

LINKS = (CveVendor, CveProduct, CveWeakness)


def stale() -> int:
    """Link rows whose copy differs from their CVE's updated_at (NULL included)."""
    return sum(
        model.objects.filter(Q(cve_updated_at__isnull=True) | ~Q(cve_updated_at=F("cve__updated_at"))).count()
        for model in LINKS
    )


def assert_exact() -> None:
    assert stale() == 0
    assert all(model.objects.exists() for model in LINKS)


def linked(n: int = 3, **kwargs) -> list[Cve]:
    return CveFactory.create_batch(
        n, vendors=["acme", "acme$PRODUCT$rocket"], weaknesses=["CWE-79"], **kwargs
    )


@pytest.mark.django_db
def test_orm_writes_keep_the_copy_exact():
    cves = linked()  # bulk_create of the links
    assert_exact()
    cves[0].updated_at += timedelta(days=3)
    cves[0].save()
    Cve.objects.filter(pk=cves[1].pk).update(updated_at=F("updated_at") + timedelta(hours=1))
    cves[2].updated_at = BASE_TIME
    Cve.objects.bulk_update([cves[2]], ["updated_at"])
    assert_exact()
    assert CveVendor.objects.get(cve=cves[0]).cve_updated_at == cves[0].updated_at
    other = CveFactory()
    CveVendor.objects.create(cve=other, vendor=Vendor.objects.get(name="acme"))  # ORM create
    link = CveWeakness.objects.get(cve=cves[0])
    link.cve = other  # moved to another CVE
    link.save()
    assert_exact()
    # A value written by hand is replaced by the CVE's.
    CveProduct.objects.filter(cve=cves[1]).update(cve_updated_at=BASE_TIME - timedelta(days=99))
    assert_exact()


@pytest.mark.django_db
def test_raw_sql_writes_keep_the_copy_exact():
    cves = linked(2)
    vendor = Vendor.objects.create(name="rawco")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_cvevendor (cve_id, vendor_id) VALUES (%s, %s)", [cves[0].pk, vendor.pk]
        )
        cursor.execute(
            "INSERT INTO catalog_cvevendor (cve_id, vendor_id, cve_updated_at) VALUES (%s, %s, %s)",
            [cves[1].pk, vendor.pk, BASE_TIME],  # a wrong value given
        )
        cursor.execute("UPDATE catalog_cve SET updated_at = %s WHERE id = %s", [BASE_TIME, cves[0].pk])
        cursor.execute("DELETE FROM catalog_cveproduct WHERE cve_id = %s", [cves[0].pk])
        cursor.execute("UPDATE catalog_cveproduct SET cve_id = %s", [cves[0].pk])  # moved to another CVE
    assert_exact()


@pytest.mark.django_db
def test_a_rolled_back_update_leaves_the_copy():
    cves = linked(2)
    before = list(CveVendor.objects.order_by("pk").values_list("cve_updated_at", flat=True))
    with pytest.raises(RuntimeError), transaction.atomic():
        Cve.objects.update(updated_at=BASE_TIME)
        assert_exact()
        raise RuntimeError
    assert list(CveVendor.objects.order_by("pk").values_list("cve_updated_at", flat=True)) == before
    assert_exact()
    Cve.objects.filter(pk=cves[0].pk).delete()  # the links go with their CVE
    assert not CveVendor.objects.filter(cve_id=cves[0].pk).exists()
    assert_exact()


@pytest.mark.django_db(transaction=True)
def test_a_link_written_before_its_cve_gets_the_value_by_commit():
    weakness = Weakness.objects.create(cwe_id="CWE-1")
    template = CveFactory()
    with transaction.atomic(), connection.cursor() as cursor:  # foreign keys are checked at commit
        cursor.execute("SELECT MAX(id) + 10 FROM catalog_cve")
        (pk,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO catalog_cveweakness (cve_id, weakness_id) VALUES (%s, %s)", [pk, weakness.pk]
        )
        cursor.execute(
            "INSERT INTO catalog_cve (id, cve_id, title, description, created_at, updated_at, state, metrics,"
            ' vendors, weaknesses, cpes, "references", providers, digest, row_created_at, row_updated_at)'
            " SELECT %s, 'CVE-2031-0009', title, description, created_at, updated_at, state, metrics, vendors,"
            ' weaknesses, cpes, "references", providers, digest, row_created_at, row_updated_at'
            " FROM catalog_cve WHERE id = %s",
            [pk, template.pk],
        )
    assert CveWeakness.objects.get(cve_id=pk).cve_updated_at == template.updated_at
    assert stale() == 0


@pytest.mark.django_db
def test_imports_and_reimports_keep_the_copy_exact():
    load_kb_record(kb_path("CVE-2021-44228"))  # a first import: on SQLite the copies are computed at its end
    assert link_order.ensure_link_order_triggers() is False  # and the triggers are back
    load_kb_record(kb_path("CVE-2022-22965"))
    assert_exact()
    Cve.objects.update(updated_at=BASE_TIME)
    import_paths([kb_path("CVE-2021-44228"), kb_path("CVE-2022-22965")], reread=True)
    assert_exact()


@pytest.mark.django_db
def test_an_import_into_a_catalog_missing_the_triggers_puts_them_back_first():
    load_kb_record(kb_path("CVE-2021-44228"))
    link_order.drop_link_order_triggers()  # as an interrupted first load leaves them
    Cve.objects.update(updated_at=BASE_TIME)
    load_kb_record(kb_path("CVE-2022-22965"))
    assert_exact()
    assert link_order.ensure_link_order_triggers() is False


@pytest.mark.django_db
def test_missing_triggers_are_reinstalled_with_a_recompute():
    linked(2)
    link_order.drop_link_order_triggers()
    Cve.objects.update(updated_at=BASE_TIME)  # nothing follows now
    assert stale() > 0
    assert link_order.ensure_link_order_triggers() is True
    assert_exact()
    assert link_order.ensure_link_order_triggers() is False  # present: nothing to do


@pytest.mark.django_db
def test_one_targets_pages_are_the_old_plans_pages_ties_and_last_page_included():
    same = BASE_TIME + timedelta(days=30)
    cves = linked(7) + linked(5, updated_at=same) + CveFactory.create_batch(3)  # ties on updated_at
    Cve.objects.filter(pk=cves[2].pk).update(updated_at=same)  # moved into the tie after linking
    for listing in (
        selectors.cves_of_vendor(vendor=Vendor.objects.get(name="acme")),
        selectors.cves_of_product(product=Product.objects.get(name="rocket")),
        selectors.cves_of_weakness(weakness=Weakness.objects.get(cwe_id="CWE-79")),
    ):
        assert isinstance(listing, selectors.LinkedCves)
        # The old plans: walk the CVE index probing the links, or fetch the linked ids and sort.
        expected = list(listing.queryset(rows_needed=1).values_list("pk", flat=True))
        assert expected == list(listing.queryset(rows_needed=10**9).values_list("pk", flat=True))
        assert len(expected) == listing.count() == 12
        for size in (1, 5, 10):
            for start in range(0, 13, size):
                assert [c.pk for c in listing[start : start + size]] == expected[start : start + size]
        assert [c.pk for c in listing.only("id", "cve_id", "title")[10:20]] == expected[10:]
        # The web list's columns stay on the link index's SQL, loading (and deferring) what the ORM's only() does.
        web = ("cve_id", "description", "updated_at", "title", "cvss31_score", "kev_added", "state")
        shown = listing.only(*web)
        assert isinstance(shown, selectors.LinkedCves) and shown.count() == 12
        orm = listing.queryset(rows_needed=10**9).only(*web)
        for start in (0, 5, 10):
            assert [
                (c.pk, c.get_deferred_fields(), *(getattr(c, f) for f in web))
                for c in shown[start : start + 5]
            ] == [
                (c.pk, c.get_deferred_fields(), *(getattr(c, f) for f in web)) for c in orm[start : start + 5]
            ]
        assert not isinstance(listing.only("id", "vendor_links__name"), selectors.LinkedCves)


@pytest.mark.django_db(transaction=True)
def test_the_generation_follows_weakness_links_and_the_score_but_not_the_copy():
    cve = linked(1)[0]
    calls = []

    def count() -> int:
        calls.append(1)
        return 1

    def ask() -> None:
        search.count_once_per_generation("weakness_id:1", count)

    ask()
    ask()
    assert len(calls) == 1
    Cve.objects.filter(pk=cve.pk).update(updated_at=BASE_TIME)  # moves the links' copy only
    ask()
    assert len(calls) == 1
    CveWeakness.objects.filter(cve=cve).delete()
    ask()
    assert len(calls) == 2
    Cve.objects.filter(pk=cve.pk).update(cvss31_score=9.8)
    ask()
    assert len(calls) == 3
