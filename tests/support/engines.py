"""Marks for tests that mean one database engine: a run on the other engine reports them as skipped.

pytest-django has configured the settings before tests are collected, so the engine is known here; no
connection is opened to read it.
"""

from __future__ import annotations

import pytest
from django.db import connection

ENGINE = connection.vendor

postgresql_only = pytest.mark.skipif(
    ENGINE != "postgresql", reason="PostgreSQL behaviour; run with CVEWATCH_DATABASE_URL=postgres://…"
)
sqlite_only = pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite behaviour; run without CVEWATCH_DATABASE_URL")

# Counts reused per search generation (catalog.search.count_once_per_generation) are filed only outside a
# writing transaction on PostgreSQL: inside a test's transaction a warm request counts again, one query more.
UNFILED_COUNT = int(ENGINE == "postgresql")
