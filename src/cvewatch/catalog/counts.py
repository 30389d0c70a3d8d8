"""Exact row counts the database keeps as rows change, so a list need not count its rows on every request.

`CatalogCount` holds one row per counted set (today `cve`: every CVE). Triggers keep it exact in the same
transaction as the change, whatever writes: the importer's bulk SQL, the ORM, the admin, a `dbshell`.
- PostgreSQL: statement-level triggers with transition tables add or subtract one statement's rows at once
  (one row lock per statement, none for a statement that inserted nothing); TRUNCATE forgets the count.
- SQLite: row-level triggers (SQLite has no other kind). Table rebuilds in later migrations drop a table's
  triggers, so they are (re-)created after every `migrate` (like catalog/search.py's), and the count is
  recomputed whenever they were missing.
A missing row means zero: the insert trigger creates it (Django's test flush deletes or truncates every table,
the counts included, in any order).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

log = logging.getLogger(__name__)

COUNTS_TABLE = "catalog_catalogcount"
CVE_TABLE = "catalog_cve"
CVE_KEY = "cve"

_SQLITE_TRIGGERS = {
    "catalog_cve_count_insert": f"""
        CREATE TRIGGER catalog_cve_count_insert AFTER INSERT ON {CVE_TABLE} BEGIN
            INSERT INTO {COUNTS_TABLE}(key, n) VALUES ('{CVE_KEY}', 1)
            ON CONFLICT(key) DO UPDATE SET n = n + 1;
        END""",
    "catalog_cve_count_delete": f"""
        CREATE TRIGGER catalog_cve_count_delete AFTER DELETE ON {CVE_TABLE} BEGIN
            UPDATE {COUNTS_TABLE} SET n = n - 1 WHERE key = '{CVE_KEY}';
        END""",
}

_PG_FUNCTION = "catalog_count_cves"
_PG_FUNCTION_SQL = f"""
    CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO {COUNTS_TABLE}(key, n) SELECT '{CVE_KEY}', count(*) FROM new_rows HAVING count(*) > 0
            ON CONFLICT (key) DO UPDATE SET n = {COUNTS_TABLE}.n + EXCLUDED.n;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE {COUNTS_TABLE} SET n = n - (SELECT count(*) FROM old_rows)
            WHERE key = '{CVE_KEY}' AND EXISTS (SELECT 1 FROM old_rows);
        ELSE
            DELETE FROM {COUNTS_TABLE} WHERE key = '{CVE_KEY}';
        END IF;
        RETURN NULL;
    END $$"""
_PG_TRIGGERS = {
    "catalog_cve_count_insert": f"""
        CREATE TRIGGER catalog_cve_count_insert AFTER INSERT ON {CVE_TABLE}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()""",
    "catalog_cve_count_delete": f"""
        CREATE TRIGGER catalog_cve_count_delete AFTER DELETE ON {CVE_TABLE}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()""",
    "catalog_cve_count_truncate": f"""
        CREATE TRIGGER catalog_cve_count_truncate AFTER TRUNCATE ON {CVE_TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()""",
}


def cve_total() -> int:
    """How many CVEs the catalog holds, exactly, read from the kept count (one primary-key lookup)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT n FROM {COUNTS_TABLE} WHERE key = %s", [CVE_KEY])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _present_triggers(conn: BaseDatabaseWrapper, cursor: Any) -> set[str]:
    if conn.vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [CVE_TABLE])
    else:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal", [CVE_TABLE]
        )
    return {row[0] for row in cursor.fetchall()}


def ensure_count_triggers(*, using: BaseDatabaseWrapper | None = None) -> bool:
    """Create the count triggers if any is missing and recount, in one transaction. True if it acted."""
    conn = using or connection
    if conn.vendor not in ("sqlite", "postgresql"):
        return False
    triggers = _SQLITE_TRIGGERS if conn.vendor == "sqlite" else _PG_TRIGGERS
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        tables = set(conn.introspection.table_names(cursor))
        if CVE_TABLE not in tables or COUNTS_TABLE not in tables:
            return False
        if set(triggers) <= _present_triggers(conn, cursor):
            return False
        log.info("counting the catalog's CVEs (%s) and installing its count triggers", COUNTS_TABLE)
        if conn.vendor == "postgresql":
            # Writers wait for the recount instead of changing the table between the count and the triggers.
            cursor.execute(f"LOCK TABLE {CVE_TABLE} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(_PG_FUNCTION_SQL)
        for name, sql in triggers.items():
            cursor.execute(
                f"DROP TRIGGER IF EXISTS {name}" + (f" ON {CVE_TABLE}" if conn.vendor != "sqlite" else "")
            )
            cursor.execute(sql)
        cursor.execute(f"DELETE FROM {COUNTS_TABLE} WHERE key = %s", [CVE_KEY])
        cursor.execute(f"INSERT INTO {COUNTS_TABLE}(key, n) SELECT %s, COUNT(*) FROM {CVE_TABLE}", [CVE_KEY])
    return True


def drop_count_triggers(*, using: BaseDatabaseWrapper | None = None) -> None:
    """Remove the triggers (the migration's reverse; tests that show a recount)."""
    conn = using or connection
    triggers = _SQLITE_TRIGGERS if conn.vendor == "sqlite" else _PG_TRIGGERS
    with conn.cursor() as cursor:
        for name in triggers:
            cursor.execute(
                f"DROP TRIGGER IF EXISTS {name}" + (f" ON {CVE_TABLE}" if conn.vendor != "sqlite" else "")
            )
        if conn.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()")


def on_post_migrate(sender: Any, *, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    ensure_count_triggers(using=connections[using])
