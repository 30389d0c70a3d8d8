"""Database upkeep after a large import: PostgreSQL gets fresh statistics and a visibility map at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cvewatch.ingest import services
from cvewatch.ingest.services import import_paths

CVE5 = Path(__file__).resolve().parent.parent / "data" / "ingest" / "cve5"


@pytest.mark.django_db(transaction=True)  # VACUUM cannot run inside the test's transaction
def test_a_large_import_ends_with_vacuum_analyze_on_postgresql(monkeypatch):
    monkeypatch.setattr(services, "ANALYZE_FIRST_AT", 1)  # every import counts as large here
    with CaptureQueriesContext(connection) as queries:
        _, stats = import_paths([CVE5])
    assert stats.created > 0
    vacuums = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("VACUUM (ANALYZE)")]
    if connection.vendor == "postgresql":
        assert any("catalog_cve" in sql for sql in vacuums)
    else:
        assert vacuums == []  # SQLite needs neither
