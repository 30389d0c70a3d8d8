"""Exact row counts the database keeps as rows change, so a list need not count its rows on every request.

`CatalogCount` holds one row per counted table (COUNTED_TABLES: CVEs, vendors, weaknesses). Triggers keep it exact in the same
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
# key → the table whose rows it counts.
COUNTED_TABLES = {"cve": "catalog_cve", "vendor": "catalog_vendor", "weakness": "catalog_weakness"}
CVE_KEY = "cve"


def _sqlite_triggers(key: str, table: str) -> dict[str, str]:
    return {
        f"{table}_count_insert": f"""
            CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} BEGIN
                INSERT INTO {COUNTS_TABLE}(key, n) VALUES ('{key}', 1)
                ON CONFLICT(key) DO UPDATE SET n = n + 1;
            END""",
        f"{table}_count_delete": f"""
            CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} BEGIN
                UPDATE {COUNTS_TABLE} SET n = n - 1 WHERE key = '{key}';
            END""",
    }


# One trigger function for every counted table: the key is the trigger's argument.
_PG_FUNCTION = "catalog_count_rows"
_PG_FUNCTION_SQL = f"""
    CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO {COUNTS_TABLE}(key, n) SELECT TG_ARGV[0], count(*) FROM new_rows HAVING count(*) > 0
            ON CONFLICT (key) DO UPDATE SET n = {COUNTS_TABLE}.n + EXCLUDED.n;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE {COUNTS_TABLE} SET n = n - (SELECT count(*) FROM old_rows)
            WHERE key = TG_ARGV[0] AND EXISTS (SELECT 1 FROM old_rows);
        ELSE
            DELETE FROM {COUNTS_TABLE} WHERE key = TG_ARGV[0];
        END IF;
        RETURN NULL;
    END $$"""


def _pg_triggers(key: str, table: str) -> dict[str, str]:
    run = f"FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}('{key}')"
    return {
        f"{table}_count_insert": f"""
            CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS new_rows {run}""",
        f"{table}_count_delete": f"""
            CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS old_rows {run}""",
        f"{table}_count_truncate": f"CREATE TRIGGER {table}_count_truncate AFTER TRUNCATE ON {table} {run}",
    }


def _triggers(vendor: str, key: str, table: str) -> dict[str, str]:
    return _sqlite_triggers(key, table) if vendor == "sqlite" else _pg_triggers(key, table)


def kept_count(key: str) -> int:
    """The kept row count of a COUNTED_TABLES key, exactly (one primary-key lookup; no row means zero)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT n FROM {COUNTS_TABLE} WHERE key = %s", [key])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def cve_total() -> int:
    """How many CVEs the catalog holds, exactly."""
    return kept_count(CVE_KEY)


def _present_triggers(conn: BaseDatabaseWrapper, cursor: Any, table: str) -> set[str]:
    if conn.vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
    else:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal", [table]
        )
    return {row[0] for row in cursor.fetchall()}


def _drop_sql(conn: BaseDatabaseWrapper, name: str, table: str) -> str:
    return f"DROP TRIGGER IF EXISTS {name}" + ("" if conn.vendor == "sqlite" else f" ON {table}")


def ensure_count_triggers(*, using: BaseDatabaseWrapper | None = None) -> bool:
    """Create each counted table's triggers if any is missing and recount it, in one transaction. True if it acted."""
    conn = using or connection
    if conn.vendor not in ("sqlite", "postgresql"):
        return False
    acted = False
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        tables = set(conn.introspection.table_names(cursor))
        if COUNTS_TABLE not in tables:
            return False
        for key, table in COUNTED_TABLES.items():
            triggers = _triggers(conn.vendor, key, table)
            if table not in tables or set(triggers) <= _present_triggers(conn, cursor, table):
                continue
            log.info("counting %s into %s and installing its count triggers", table, COUNTS_TABLE)
            if conn.vendor == "postgresql":
                # Writers wait for the recount instead of changing the table between the count and the triggers.
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
                cursor.execute(_PG_FUNCTION_SQL)
            for name, sql in triggers.items():
                cursor.execute(_drop_sql(conn, name, table))
                cursor.execute(sql)
            cursor.execute(f"DELETE FROM {COUNTS_TABLE} WHERE key = %s", [key])
            cursor.execute(f"INSERT INTO {COUNTS_TABLE}(key, n) SELECT %s, COUNT(*) FROM {table}", [key])
            acted = True
    return acted


def drop_count_triggers(*, using: BaseDatabaseWrapper | None = None) -> None:
    """Remove the triggers (the migration's reverse; tests that show a recount)."""
    conn = using or connection
    with conn.cursor() as cursor:
        for key, table in COUNTED_TABLES.items():
            for name in _triggers(conn.vendor, key, table):
                cursor.execute(_drop_sql(conn, name, table))
        if conn.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()")


def on_post_migrate(sender: Any, *, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    ensure_count_triggers(using=connections[using])
