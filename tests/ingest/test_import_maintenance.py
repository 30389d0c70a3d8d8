"""Database upkeep after a large import: PostgreSQL gets fresh statistics and a visibility map at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cvewatch.ingest import services
from cvewatch.ingest.services import import_paths
from tests.support.engines import postgresql_only, sqlite_only

CVE5 = Path(__file__).resolve().parent.parent / "data" / "ingest" / "cve5"


def _vacuums_of_a_large_import(monkeypatch) -> list[str]:
    monkeypatch.setattr(services, "ANALYZE_FIRST_AT", 1)  # every import counts as large here
    with CaptureQueriesContext(connection) as queries:
        _, stats = import_paths([CVE5])
    assert stats.created > 0
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("VACUUM (ANALYZE)")]


@postgresql_only
@pytest.mark.django_db(transaction=True)  # VACUUM cannot run inside the test's transaction
def test_a_large_import_ends_with_vacuum_analyze_on_postgresql(monkeypatch):
    vacuumed = " ".join(_vacuums_of_a_large_import(monkeypatch))
    # The weaknesses and the kept counts too: autovacuum finds nothing of the import to do afterwards.
    for table in ("catalog_cve", "catalog_cveproduct", "catalog_weakness", "catalog_catalogcount"):
        assert f'"{table}"' in vacuumed


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_large_import_runs_no_vacuum_on_sqlite(monkeypatch):
    assert _vacuums_of_a_large_import(monkeypatch) == []  # SQLite needs neither
