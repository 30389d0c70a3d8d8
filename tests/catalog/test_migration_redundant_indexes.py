"""Migration 0011: the ten single-column indexes another index already serves are dropped, on both engines,
and a first load's pending rebuild of one of them (catalog_deferred_ddl) is forgotten with it."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.db import connection

from cvewatch.catalog.models import Cve
from tests.migrating import migrate

BEFORE = [("catalog", "0010_link_order")]
AFTER = [("catalog", "0011_drop_redundant_indexes")]
migration = importlib.import_module("cvewatch.catalog.migrations.0011_drop_redundant_indexes")


def _single_column_indexes() -> set[tuple[str, str, str]]:
    """(table, column, name) of every non-unique one-column index of the tables the migration touches."""
    found = set()
    with connection.cursor() as cursor:
        for table in {table for table, _ in migration.REDUNDANT}:
            for name, info in connection.introspection.get_constraints(cursor, table).items():
                if info["index"] and not info["unique"] and not info["primary_key"] and len(info["columns"]) == 1:
                    found.add((table, info["columns"][0], name))
    return found


@pytest.mark.django_db(transaction=True)
def test_the_redundant_indexes_go_and_their_pending_rebuilds_with_them():
    migrate(BEFORE)
    before = _single_column_indexes()
    for table, column in migration.REDUNDANT:
        assert any(t == table and c == column for t, c, _ in before), (table, column)
    pending_name = migration._auto_name(connection.schema_editor(), "catalog_cvevendor", "cve_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {migration.PENDING_TABLE} (position integer PRIMARY KEY, name text NOT NULL, "
            "kind text NOT NULL, sql text NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {migration.PENDING_TABLE} VALUES (1, %s, 'index', 'CREATE INDEX …'), "
            "(2, 'cve_updated_desc', 'index', 'CREATE INDEX …')",
            [pending_name],
        )
    try:
        migrate(AFTER)
        after = _single_column_indexes()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT name FROM {migration.PENDING_TABLE} ORDER BY position")
            assert [row[0] for row in cursor.fetchall()] == ["cve_updated_desc"]  # the other pending row stays
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {migration.PENDING_TABLE}")
    left = {(table, column) for table, column, _ in after}
    for table, column in migration.REDUNDANT:
        if column == "cve_id" and table in ("catalog_cvevendor", "catalog_cveproduct", "catalog_cveweakness"):
            # One of the two identical (cve_id) indexes: the models' own.
            assert [n for t, c, n in after if (t, c) == (table, column)] == [f"{table.removeprefix('catalog_')}_cve"]
        else:
            assert (table, column) not in left, (table, column)
    # Everything else is untouched: the indexes that still serve their own lookups.
    assert {("catalog_cve", "kev_added"), ("catalog_change", "created_at"), ("catalog_cve", "cvss40_score")} <= left


@pytest.mark.django_db
def test_the_covering_indexes_serve_the_dropped_ones_ranges():
    """Published and CVSS v3.1 ranges still walk an index (on PostgreSQL with sequential scans ruled out: its
    planner rightly prefers one on the test's tiny table)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # the test's transaction only
    since = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for queryset, index in (
        (Cve.objects.filter(created_at__gte=since).order_by(), "cve_published_desc"),
        (Cve.objects.filter(cvss31_score__gte=9.0).order_by(), "cve_cvss31_desc"),
    ):
        assert index in queryset.explain(), queryset.query
