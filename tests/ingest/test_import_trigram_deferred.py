"""PostgreSQL: a first import into an empty catalog builds the trigram indexes once at the end, and waits for
no commit's flush meanwhile; an import after an interrupted one builds what is missing (catalog/trigram.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from cvewatch.catalog import trigram
from cvewatch.catalog.models import Cve
from cvewatch.catalog.search import substring_ids_sql
from cvewatch.ingest.records import CveRecord
from cvewatch.ingest.services import import_items
from tests.support.engines import postgresql_only

# Imports in autocommit, as `cvewatch import` and sync run: inside a caller's transaction nothing is deferred.
pytestmark = [pytest.mark.django_db(transaction=True), postgresql_only]

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)


def records(seen: list[tuple[set[str], str]], first: int, count: int):
    for number in range(first, first + count):
        seen.append((trigram._present(), _synchronous_commit()))
        yield CveRecord(
            cve_id=f"CVE-2024-{number:04d}", source="mitre", published=T0, updated=T0,
            description=f"a heap overflow number {number}",
        )  # fmt: skip


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_a_first_import_writes_without_the_trigram_indexes_and_builds_them_at_the_end():
    seen: list[tuple[set[str], str]] = []
    import_items(records(seen, 1000, 5))
    assert seen and all(present == set() and sync == "off" for present, sync in seen)
    assert trigram._present() == set(trigram.PG_TRIGRAM_INDEXES)
    assert _synchronous_commit() == "on"
    sql, params = substring_ids_sql("HEAP OVERFLOW NUMBER 1003")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = {row[0] for row in cursor.fetchall()}
    assert ids == set(Cve.objects.filter(cve_id="CVE-2024-1003").values_list("pk", flat=True))
    # The indexes' expression statistics exist (gathered once they were built): searches are planned on them.
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tablename FROM pg_stats WHERE tablename = ANY(%s)", [list(trigram.PG_TRIGRAM_INDEXES)])
        assert {row[0] for row in cursor.fetchall()} == set(trigram.PG_TRIGRAM_INDEXES)


def test_a_first_imports_end_builds_the_description_index_beside_the_rest(monkeypatch):
    """The description's GIN build (15 s of the full corpus's end) starts in a session of its own once the
    link-order triggers are back, and the other indexes and the other tables' VACUUM run beside it;
    catalog_cve's own VACUUM (ANALYZE) comes once every index exists."""
    import threading

    from cvewatch.catalog import bulk_load

    calls: list[str] = []

    def spy(module, name, label):
        real = getattr(module, name)

        def spied(*args, **kwargs):
            calls.append(label(*args, **kwargs))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, spied)

    spy(trigram, "start_largest", lambda: "start the description's index")
    spy(trigram, "_build", lambda name: f"build {name} in {threading.current_thread().name.split('_')[0]}")
    spy(trigram, "finish", lambda apart: "wait for it")
    spy(bulk_load, "restore_deferred", lambda: "restore the b-trees and foreign keys")
    spy(bulk_load, "upkeep", lambda *, vacuum, tables=None: f"vacuum {'catalog_cve' if tables == ('catalog_cve',) else 'the rest'}")
    import_items(records([], 1000, 3))
    apart = "build cve_description_trgm in cvewatch-trigram"
    assert [call for call in calls if call != apart] == [
        "start the description's index",
        "build cve_cve_id_trgm in MainThread",
        "build cve_title_trgm in MainThread",
        "vacuum the rest",
        "restore the b-trees and foreign keys",
        "wait for it",
        "vacuum catalog_cve",
    ]
    assert calls.index(apart) < calls.index("wait for it")
    assert trigram._present() == set(trigram.PG_TRIGRAM_INDEXES)


def test_a_later_import_keeps_the_indexes_and_builds_the_ones_a_killed_first_import_left_out():
    import_items(records([], 1000, 2))
    trigram.drop_trigram_indexes()  # as a first import killed before its end leaves them
    seen: list[tuple[set[str], str]] = []
    import_items(records(seen, 2000, 2))
    assert all(present == set(trigram.PG_TRIGRAM_INDEXES) and sync == "on" for present, sync in seen)
    assert trigram._present() == set(trigram.PG_TRIGRAM_INDEXES)


def test_an_interrupted_first_import_still_builds_the_indexes_and_resets_the_session():
    def failing():
        yield from records([], 1000, 2)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_items(failing(), batch_size=1)
    assert trigram._present() == set(trigram.PG_TRIGRAM_INDEXES)
    assert _synchronous_commit() == "on"


def test_inside_a_callers_transaction_the_indexes_stay_and_commits_wait_for_the_disk():
    from django.db import transaction

    seen: list[tuple[set[str], str]] = []
    with transaction.atomic():
        import_items(records(seen, 3000, 2))
    assert seen and all(present == set(trigram.PG_TRIGRAM_INDEXES) and sync == "on" for present, sync in seen)
