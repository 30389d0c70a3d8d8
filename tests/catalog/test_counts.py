"""The kept CVE count (catalog/counts.py): exact after every way rows are written, on both engines."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from cvewatch.catalog import counts
from cvewatch.catalog.models import Cve
from cvewatch.ingest.services import import_paths
from tests.api.conftest import basic_header, kb_path, load_kb_record
from tests.factories import CveFactory
from tests.support.people import PASSWORD, make_user


def kept() -> int:
    return counts.cve_total()


def assert_exact() -> None:
    assert kept() == Cve.objects.count()


@pytest.mark.django_db
def test_orm_creates_and_deletes_keep_the_count_exact():
    assert kept() == 0
    cves = CveFactory.create_batch(5)
    assert kept() == 5
    cves[0].delete()
    assert kept() == 4
    Cve.objects.filter(pk__in=[cves[1].pk, cves[2].pk]).delete()
    assert kept() == 2
    Cve.objects.all().delete()
    assert kept() == 0
    CveFactory()
    assert_exact()


@pytest.mark.django_db
def test_updates_and_upserts_count_only_inserted_rows():
    cves = CveFactory.create_batch(3)
    Cve.objects.filter(pk=cves[0].pk).update(description="changed")
    cves[1].title = "saved again"
    cves[1].save()
    assert kept() == 3
    # INSERT ... ON CONFLICT DO UPDATE, as bulk writers do: the conflicting row is an update, the new one an insert.
    clash = Cve(cve_id=cves[2].cve_id, created_at=cves[2].created_at, updated_at=cves[2].updated_at)
    fresh = Cve(cve_id="CVE-2031-0001", created_at=cves[2].created_at, updated_at=cves[2].updated_at)
    Cve.objects.bulk_create(
        [clash, fresh], update_conflicts=True, unique_fields=["cve_id"], update_fields=["description"]
    )
    assert kept() == 4
    assert_exact()


@pytest.mark.django_db
def test_raw_sql_writes_are_counted():
    cve = CveFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_cve (cve_id, title, description, created_at, updated_at, state, metrics, vendors,"
            ' weaknesses, cpes, "references", providers, digest, row_created_at, row_updated_at)'
            " SELECT 'CVE-2031-0002', title, description, created_at, updated_at, state, metrics, vendors,"
            ' weaknesses, cpes, "references", providers, digest, row_created_at, row_updated_at'
            " FROM catalog_cve WHERE id = %s",
            [cve.pk],
        )
    assert kept() == 2
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_cve WHERE cve_id = 'CVE-2031-0002'")
        cursor.execute("DELETE FROM catalog_cve WHERE cve_id = 'CVE-2031-0003'")  # deletes nothing
    assert kept() == 1


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_the_count():
    CveFactory.create_batch(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        CveFactory.create_batch(3)
        assert kept() == 5
        raise RuntimeError("roll back")
    assert kept() == 2


@pytest.mark.django_db
def test_imports_and_reimports_keep_the_count_exact():
    load_kb_record(kb_path("CVE-2021-44228"))
    load_kb_record(kb_path("CVE-2022-22965"))
    assert kept() == 2
    _, stats = import_paths([kb_path("CVE-2021-44228")], reread=True)  # read again: nothing new
    assert stats.created == 0 and stats.unchanged + stats.records_unchanged > 0
    assert kept() == 2
    assert_exact()


@pytest.mark.django_db
def test_missing_triggers_are_reinstalled_with_a_recount():
    CveFactory.create_batch(2)
    counts.drop_count_triggers()
    CveFactory.create_batch(3)  # not counted: no triggers
    assert kept() == 2
    assert counts.ensure_count_triggers() is True
    assert kept() == 5
    assert counts.ensure_count_triggers() is False  # in place: nothing to do
    CveFactory()
    assert kept() == 6


@pytest.mark.django_db(transaction=True)
def test_the_count_survives_a_flush_between_tests():
    # TransactionTestCase empties every table (DELETE on SQLite, TRUNCATE on PostgreSQL) before the next
    # test; whatever the order of tables, the count starts again from zero.
    assert kept() == 0
    CveFactory.create_batch(2)
    assert kept() == 2


@pytest.mark.django_db(transaction=True)
def test_the_count_after_a_flush_is_zero_again():
    assert kept() == 0
    CveFactory()
    assert_exact()


@pytest.mark.django_db
def test_api_cve_count_follows_creates_and_deletes():
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=basic_header(make_user("alice").username, PASSWORD))
    CveFactory.create_batch(3)
    assert api.get("/api/cve").json()["count"] == 3
    Cve.objects.order_by("pk").first().delete()
    body = api.get("/api/cve").json()
    assert body["count"] == 2
    assert len(body["results"]) == 2


@pytest.mark.django_db
def test_vendor_and_weakness_counts_follow_their_tables():
    from cvewatch.catalog.models import Vendor, Weakness
    from tests.factories import VendorFactory, WeaknessFactory

    VendorFactory.create_batch(3)
    WeaknessFactory.create_batch(2)
    load_kb_record(kb_path("CVE-2021-44228"))  # the importer adds its vendors and weaknesses in bulk
    assert counts.kept_count("vendor") == Vendor.objects.count() > 3
    assert counts.kept_count("weakness") == Weakness.objects.count() > 2
    Vendor.objects.filter(name__in=list(Vendor.objects.values_list("name", flat=True)[:2])).delete()
    Weakness.objects.order_by("pk").first().delete()
    assert counts.kept_count("vendor") == Vendor.objects.count()
    assert counts.kept_count("weakness") == Weakness.objects.count()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=basic_header(make_user("alice").username, PASSWORD))
    assert api.get("/api/vendors").json()["count"] == Vendor.objects.count()
    assert api.get("/api/weaknesses").json()["count"] == Weakness.objects.count()
