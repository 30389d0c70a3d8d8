"""A first load into an empty catalog writes the search rows and the link rows' updated_at copy as it goes
(catalog/search.py search_index_deferred, index_written_cves; ingest/writer.py), so its end only checks them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from cvewatch.catalog import link_order, search
from cvewatch.catalog.models import Cve, CveProduct, CveVendor, CveWeakness
from cvewatch.ingest.records import CveRecord
from cvewatch.ingest.services import import_items

pytestmark = pytest.mark.django_db
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite behaviour")

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
T1 = datetime(2024, 3, 5, 8, tzinfo=UTC)


def record(cve_id: str, description: str, *, updated: datetime = T0) -> CveRecord:
    return CveRecord(
        cve_id=cve_id, source="mitre", published=T0, updated=updated, description=description,
        vendors=("acme", "acme$PRODUCT$rocket"), weaknesses=("CWE-79",),
    )  # fmt: skip


def search_rows() -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid, description FROM {search.SEARCH_TABLE}")
        return dict(cursor.fetchall())


def stale_links() -> int:
    with connection.cursor() as cursor:
        total = 0
        for model in (CveVendor, CveProduct, CveWeakness):
            cursor.execute(
                f"SELECT count(*) FROM {model._meta.db_table} l JOIN catalog_cve c ON c.id = l.cve_id "
                "WHERE l.cve_updated_at IS NOT c.updated_at"
            )
            total += cursor.fetchone()[0]
        return total


@sqlite_only
def test_a_first_load_writes_search_rows_and_link_copies_in_each_batch():
    seen: dict[str, object] = {}

    def inside_last_batch() -> None:  # before the load's end puts the triggers back
        seen["search"], seen["stale"] = search_rows(), stale_links()

    items = [record(f"CVE-2024-000{n}", f"overflow number {n}") for n in range(1, 6)]
    items.append(record("CVE-2024-0001", "rewritten text", updated=T1))  # the same CVE again: an update
    import_items(items, batch_size=2, checkpoint=inside_last_batch)
    expected = dict(Cve.objects.values_list("id", "description"))
    # Only the links of the CVE whose updated_at moved after they were written wait for the end's recompute.
    assert seen == {"search": expected, "stale": 3}
    assert expected[Cve.objects.get(cve_id="CVE-2024-0001").pk] == "rewritten text"
    assert search_rows() == expected
    assert search.ensure_sqlite_search_table() is False  # its triggers are back
    assert link_order.ensure_link_order_triggers() is False
    assert stale_links() == 0


@sqlite_only
def test_a_first_loads_search_table_is_refilled_when_something_else_wrote_meanwhile():
    def behind_the_writers_back() -> None:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE catalog_cve SET description = 'changed elsewhere' WHERE cve_id = 'CVE-2024-0002'")

    import_items(
        [record("CVE-2024-0001", "first"), record("CVE-2024-0002", "second")], checkpoint=behind_the_writers_back
    )
    assert sorted(search_rows().values()) == ["changed elsewhere", "first"]
    assert search.ensure_sqlite_search_table() is False


@sqlite_only
def test_an_import_after_an_interrupted_first_load_puts_the_search_triggers_back_first():
    import_items([record("CVE-2024-0001", "first")])
    with connection.cursor() as cursor:  # as a first load killed before its end leaves them
        cursor.execute(f"DROP TRIGGER {search.SEARCH_TABLE}_insert")
        cursor.execute(f"DELETE FROM {search.SEARCH_TABLE}")
    import_items([record("CVE-2024-0002", "second")])
    assert sorted(search_rows().values()) == ["first", "second"]
    assert search.ensure_sqlite_search_table() is False


@sqlite_only
def test_a_first_load_merges_the_search_segments_once_at_its_end():
    def config() -> dict[str, object]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT k, v FROM {search.SEARCH_TABLE}_config")
            return dict(cursor.fetchall())

    seen: dict[str, object] = {}
    items = [record(f"CVE-2024-00{n:02d}", f"overflow number {n}") for n in range(1, 21)]
    import_items(items, batch_size=2, checkpoint=lambda: seen.update(config()))
    assert seen.get("automerge") == 0  # no merging batch by batch
    assert config().get("automerge", 4) == 4  # FTS5's default again
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {search.SEARCH_TABLE}_data")
        # One segment after 'optimize' (the structure record, the averages and the segment's pages).
        (rows_after,) = cursor.fetchone()
    assert rows_after <= 4
    assert search_rows() == dict(Cve.objects.values_list("id", "description"))


def _statements_during(run) -> list[str]:
    statements: list[str] = []

    def spy(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        run()
    return statements


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_first_load_keeps_a_fresh_installs_empty_search_table():
    """Replacing it under a search the server runs meanwhile made that search fail ("vtable constructor
    failed"): an empty and current one (a fresh install's) stays; a stale one is still replaced."""
    dropped = f"DROP TABLE IF EXISTS {search.SEARCH_TABLE}"
    statements = _statements_during(lambda: import_items([record("CVE-2024-0001", "a heap overflow")]))
    assert dropped not in statements
    assert search_rows() == {Cve.objects.get().id: "a heap overflow"}

    Cve.objects.all().delete()  # the catalog empty again (its triggers empty the search table)...
    with connection.cursor() as cursor:  # ...which something else then wrote to
        cursor.execute(f"INSERT INTO {search.SEARCH_TABLE} (rowid, description) VALUES (99, 'stale')")
    statements = _statements_during(lambda: import_items([record("CVE-2024-0002", "a use after free")]))
    assert dropped in statements
    assert search_rows() == {Cve.objects.get().id: "a use after free"}
