"""A first import into an empty catalog drops the big tables' secondary B-tree indexes (on PostgreSQL their
foreign keys too) and the link-order triggers, and puts back exactly what it dropped at its end; an import
after an interrupted one puts back what is missing (catalog/bulk_load.py). Both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from cvewatch.catalog import bulk_load, link_order
from cvewatch.catalog.models import CveProduct, CveVendor, CveWeakness
from cvewatch.ingest.records import CveRecord
from cvewatch.ingest.services import import_items
from tests.support.engines import postgresql_only, sqlite_only

pytestmark = [pytest.mark.django_db(transaction=True)]

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
LINKS = (CveVendor, CveProduct, CveWeakness)


def schema() -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[str]]:
    """(index name, definition), (constraint name, definition) of the catalog tables, and trigger names."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # no constraint of its own: they are part of the table's definition
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'catalog\\_%%' "
                "ESCAPE '\\'"
            )
            indexes = set(cursor.fetchall())
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'catalog\\_%%' ESCAPE '\\'"
            )
            return indexes, set(), {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename LIKE 'catalog\\_%%'"
        )
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text LIKE 'catalog\\_%%'"
        )
        constraints = set(cursor.fetchall())
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'catalog\\_%%'"
        )
        triggers = {row[0] for row in cursor.fetchall()}
    return indexes, constraints, triggers


def pending() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = %s", [bulk_load.PENDING_TABLE])
        else:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [bulk_load.PENDING_TABLE])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(f"SELECT count(*) FROM {bulk_load.PENDING_TABLE}")
        return cursor.fetchone()[0]


def records(seen: list, first: int, count: int, *, updated: datetime = T0):
    for number in range(first, first + count):
        seen.append(schema())
        yield CveRecord(
            cve_id=f"CVE-2024-{number:04d}", source="mitre", published=T0, updated=updated,
            description=f"a heap overflow number {number}",
            vendors=("acme", "acme$PRODUCT$rocket"), weaknesses=("CWE-79",),
        )  # fmt: skip


def stale_links() -> int:
    return sum(
        model.objects.filter(Q(cve_updated_at__isnull=True) | ~Q(cve_updated_at=F("cve__updated_at"))).count()
        for model in LINKS
    )


def test_a_first_import_writes_without_them_and_puts_back_exactly_what_it_dropped():
    before = schema()
    seen: list = []
    import_items(records(seen, 1000, 3), batch_size=1)
    indexes, constraints, triggers = seen[-1]
    dropped = before[0] - indexes
    assert {"cve_updated_desc", "cvevendor_order", "change_cve_created"} <= {name for name, _ in dropped}
    assert all("UNIQUE" not in (definition or "") for _, definition in dropped)
    assert "cvevendor_cve" in {name for name, _ in indexes}  # the load's relinking deletes use it
    assert not [c for c in constraints if c[1].startswith("FOREIGN KEY") and "catalog_cve(" in c[1]]
    assert not set(link_order.TRIGGERS[connection.vendor]) & triggers
    assert schema() == before
    assert pending() == 0
    assert stale_links() == 0


def test_a_cve_updated_later_in_the_first_import_carries_its_new_time_on_its_links():
    def both():
        yield from records([], 1000, 2)
        yield from records([], 1000, 1, updated=T0 + timedelta(days=2))

    import_items(both(), batch_size=1)
    assert stale_links() == 0
    assert CveVendor.objects.filter(cve__cve_id="CVE-2024-1000").get().cve_updated_at == T0 + timedelta(days=2)


def test_an_import_after_a_killed_first_import_puts_back_what_it_left_out():
    before = schema()
    import_items(records([], 1000, 2))
    # As a first import killed before its end leaves them (the definitions wait in the pending table).
    assert bulk_load.defer_indexes() > 0
    link_order.drop_link_order_triggers()
    assert pending() > 0 and schema() != before
    seen: list = []
    import_items(records(seen, 2000, 2))
    assert all(state == before for state in seen)  # put back before the import writes anything
    assert schema() == before
    assert pending() == 0
    assert stale_links() == 0


def test_an_interrupted_first_import_still_puts_everything_back():
    before = schema()

    def failing():
        yield from records([], 1000, 2)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_items(failing(), batch_size=1)
    assert schema() == before
    assert pending() == 0


@postgresql_only  # SQLite's DDL is transactional: it defers inside a caller's transaction too
def test_inside_a_callers_transaction_nothing_is_dropped():
    before = schema()
    seen: list = []
    with transaction.atomic():
        import_items(records(seen, 3000, 2))
    assert seen and all(state == before for state in seen)


@postgresql_only  # the closing VACUUM
def test_the_links_of_cves_updated_during_the_load_are_settled_before_the_closing_vacuum(monkeypatch):
    from cvewatch.catalog import bulk_load
    from cvewatch.ingest import services

    at_vacuum: list[set[str]] = []
    upkeep = bulk_load.upkeep

    def spy(*, vacuum: bool, tables=None) -> None:
        if vacuum:
            at_vacuum.append(schema()[2])
        upkeep(vacuum=vacuum, tables=tables)

    monkeypatch.setattr(services, "ANALYZE_FIRST_AT", 1)
    monkeypatch.setattr(bulk_load, "upkeep", spy)

    def both():
        yield from records([], 1000, 2)
        yield from records([], 1000, 1, updated=T0 + timedelta(days=2))

    import_items(both(), batch_size=1)
    # The recompute, which puts the triggers back, ran before the VACUUM: its rewritten rows are vacuumed.
    assert at_vacuum and set(link_order.TRIGGERS["postgresql"]) <= at_vacuum[0]
    assert stale_links() == 0


def foreign_keys_enforced() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        return bool(cursor.fetchone()[0])


def dangling_link(seen: list):
    """A record, then (as only a bug could) a link row whose CVE does not exist, written by the load's
    connection between two records."""
    yield from records([], 1000, 1)
    seen.append(foreign_keys_enforced())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_cvevendor (cve_id, vendor_id, cve_updated_at) VALUES (999999, 888888, %s)", [T0]
        )
    yield from records([], 1001, 1)


@sqlite_only
def test_a_sqlite_first_load_checks_foreign_keys_once_at_its_end():
    seen: list = []
    import_items(records([], 1000, 2), batch_size=1)
    assert foreign_keys_enforced() and pending() == 0
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        import_items(dangling_link(seen), batch_size=1)  # not a first load: enforced, the insert refused
    assert seen == [True]


@sqlite_only
def test_a_dangling_row_a_sqlite_first_load_wrote_is_deleted_and_the_import_fails():
    seen: list = []
    with pytest.raises(IntegrityError, match=r"deleted as foreign keys would have refused them: catalog_cvevendor: 1"):
        import_items(dangling_link(seen), batch_size=1)
    assert seen == [False]  # not enforced row by row during the load
    assert foreign_keys_enforced() and pending() == 0
    assert not CveVendor.objects.filter(cve_id=999999).exists()
    assert CveVendor.objects.count() == 2  # the two records' own links stay
