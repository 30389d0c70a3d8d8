"""The secondary B-tree indexes of the big catalog tables (and, on PostgreSQL, their foreign keys), dropped
for a first import into an empty catalog and put back once at its end.

Growing a dozen B-trees one row at a time, and checking every link and change row's foreign keys at commit
(a deferred trigger event per row, each locking its CVE row FOR KEY SHARE), cost the server more than the
rows themselves. Built once over the loaded tables (a sort each, with maintenance_work_mem raised for the
session) and validated once (one anti-join per foreign key), they take seconds.

What is dropped is what the database holds at that moment: each index's and constraint's own definition
(pg_get_indexdef, pg_get_constraintdef) is written into PENDING_TABLE in the same transaction as the drop,
and restore_deferred() runs them and drops the table. An import killed in between leaves the definitions
there: every later import (and sync) outside a caller's transaction restores them first (catalog.search.
search_index_deferred), so a catalog is never half-indexed for longer than the import that left it so.
Unique indexes (and the primary keys) stay: they are constraints, and the load's own lookups use them; so do
the link tables' (cve_id) indexes, which the load's relinking deletes use. The pg_trgm GIN indexes have their
own module (catalog/trigram.py), the link-order triggers theirs (catalog/link_order.py).

SQLite does the same with its indexes (sqlite_master's own CREATE statements). Its foreign keys cannot be
dropped: the load's connection stops enforcing them instead (PRAGMA foreign_keys, catalog.search.
search_index_deferred), and a pending "check" runs PRAGMA foreign_key_check once at the end, over the whole
database in C: about 0.8 s on the full corpus where each row's lookups cost the writer 4 s. A row it finds
(which only a bug could leave) is deleted, as enforcement would have refused it, and the import fails
saying so. On the full corpus the five tables' rows and their 24 indexes cost 31.5 s of CPU written
together, and 16.9 s plus 6.7 s for building the indexes once at the end (a one-off measurement with the
rows of a loaded catalog, 110 batches).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, connection, transaction

log = logging.getLogger(__name__)

PENDING_TABLE = "catalog_deferred_ddl"
TABLES = ("catalog_cve", "catalog_change", "catalog_cvevendor", "catalog_cveproduct", "catalog_cveweakness")
LINK_TABLES = ("catalog_cvevendor", "catalog_cveproduct", "catalog_cveweakness")
# The tables a large import grows, analyzed as they grow (ingest/services.py); at its end vacuumed too, with
# those whose rows it rewrites: the weaknesses (the CWE catalog) and the kept counts (a row update per batch).
GROWN_TABLES = (
    "catalog_sourcerecord", "catalog_cve", "catalog_cvevendor", "catalog_cveproduct", "catalog_cveweakness",
    "catalog_change", "catalog_vendor", "catalog_product",
)  # fmt: skip
VACUUMED_TABLES = (*GROWN_TABLES, "catalog_weakness", "catalog_catalogcount")
FOREIGN_KEY_CHECK = "PRAGMA foreign_key_check"  # SQLite: every violation, (table, rowid, parent, fk index)
# The session's memory for one index build (PostgreSQL's default, 64 MB, spills the larger sorts to disk).
MAINTENANCE_WORK_MEM = "512MB"

_INDEXES_SQL = """
    SELECT c.relname, t.relname, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_am am ON am.oid = c.relam
    WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace
      AND am.amname = 'btree' AND NOT i.indisunique AND NOT i.indisprimary
      AND NOT (t.relname = ANY(%s) AND pg_get_indexdef(i.indexrelid) LIKE '%%USING btree (cve_id)')
    ORDER BY c.relname
"""
_FOREIGN_KEYS_SQL = """
    SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid)
    FROM pg_constraint
    WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
    ORDER BY conname
"""


def load_session(*, on: bool) -> None:
    """The load's session settings: its commits do not wait for the disk (a crash loses whole batches, see
    catalog.search._trigram_indexes_deferred), and its TOASTed values (the records' JSON, the CVE rows' lists)
    are compressed with lz4 where the server has it, several times cheaper than pglz, which later writes keep
    using (values read back the same either way). on=False resets both."""
    with connection.cursor() as cursor:
        if not on:
            cursor.execute("RESET synchronous_commit")
            cursor.execute("RESET default_toast_compression")
            return
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        if cursor.fetchone()[0]:
            cursor.execute("SET default_toast_compression TO lz4")


def upkeep(*, vacuum: bool, tables: tuple[str, ...] | None = None) -> None:
    """PostgreSQL: ANALYZE the grown tables, or VACUUM (ANALYZE) the vacuumed ones (or only tables); nothing
    elsewhere or inside a transaction (VACUUM cannot run there; statistics wait for the next call)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
    with connection.cursor() as cursor:
        for table in tables if tables is not None else VACUUMED_TABLES if vacuum else GROWN_TABLES:
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")


def _pending_exists(cursor: Any) -> bool:
    if connection.vendor == "sqlite":
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = %s", [PENDING_TABLE])
    else:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [PENDING_TABLE])
    return bool(cursor.fetchone()[0])


def _still_missing(cursor: Any, kind: str, name: str) -> bool:
    """Whether the index or constraint is absent (something else may have built it since it was dropped)."""
    if connection.vendor == "sqlite":
        cursor.execute("SELECT count(*) = 0 FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
    elif kind == "index":
        cursor.execute("SELECT to_regclass(%s) IS NULL", [connection.ops.quote_name(name)])
    else:
        cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = %s)", [name])
    return bool(cursor.fetchone()[0])


def _sqlite_indexes(cursor: Any) -> list[tuple[str, str, str]]:
    """(name, table, CREATE statement) of the SQLite tables' secondary indexes, as _INDEXES_SQL selects them."""
    cursor.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({', '.join(['%s'] * len(TABLES))}) ORDER BY name",
        list(TABLES),
    )
    indexes = []
    for name, table, sql in cursor.fetchall():
        if sql.upper().startswith("CREATE UNIQUE"):
            continue
        cursor.execute("SELECT name FROM pragma_index_info(%s)", [name])
        if table in LINK_TABLES and [row[0] for row in cursor.fetchall()] == ["cve_id"]:
            continue
        indexes.append((name, table, sql))
    return indexes


def _create_pending(cursor: Any) -> None:
    key = "integer PRIMARY KEY AUTOINCREMENT" if connection.vendor == "sqlite" else "serial PRIMARY KEY"
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {PENDING_TABLE} "
        f"(position {key}, name text NOT NULL, kind text NOT NULL, sql text NOT NULL)"
    )


def _defer_indexes(cursor: Any, indexes: list[tuple[str, str, str]]) -> None:
    """Each (name, table, CREATE statement) recorded in PENDING_TABLE, then dropped."""
    for name, _, sql in indexes:
        cursor.execute(f"INSERT INTO {PENDING_TABLE} (name, kind, sql) VALUES (%s, 'index', %s)", [name, sql])
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")


def defer_indexes() -> int:
    """Drop the tables' secondary B-tree indexes (and foreign keys: PostgreSQL; SQLite: their check, run at
    the end), recording how to put each back; how many."""
    if connection.vendor == "sqlite":
        with transaction.atomic(), connection.cursor() as cursor:
            _create_pending(cursor)
            indexes = _sqlite_indexes(cursor)
            _defer_indexes(cursor, indexes)
            cursor.execute(
                f"INSERT INTO {PENDING_TABLE} (name, kind, sql) VALUES ('foreign keys', 'check', %s)",
                [FOREIGN_KEY_CHECK],
            )
        return len(indexes)
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        _create_pending(cursor)
        cursor.execute(_INDEXES_SQL, [list(TABLES), list(LINK_TABLES)])
        indexes = cursor.fetchall()
        cursor.execute(_FOREIGN_KEYS_SQL, [list(TABLES)])
        foreign_keys = cursor.fetchall()
        # Indexes first: a foreign key's validation may read one (restore_deferred runs them in this order).
        _defer_indexes(cursor, indexes)
        for name, table, definition in foreign_keys:
            quoted = connection.ops.quote_name(name)
            cursor.execute(
                f"INSERT INTO {PENDING_TABLE} (name, kind, sql) VALUES (%s, 'foreign key', %s)",
                [name, f"ALTER TABLE {table} ADD CONSTRAINT {quoted} {definition}"],
            )
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quoted}")
    return len(indexes) + len(foreign_keys)


def restore_deferred() -> list[str]:
    """Build every index and foreign key a first load dropped (none pending: one catalog read); their names."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return []
    with connection.cursor() as cursor:
        if not _pending_exists(cursor):
            return []
        cursor.execute(f"SELECT position, name, kind, sql FROM {PENDING_TABLE} ORDER BY position")
        pending = cursor.fetchall()
        if not pending:
            cursor.execute(f"DROP TABLE IF EXISTS {PENDING_TABLE}")
            return []
        if connection.vendor == "sqlite":
            _run_pending(cursor, pending)
            return [name for _, name, _, _ in pending]
        cursor.execute("SHOW maintenance_work_mem")
        (memory,) = cursor.fetchone()
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [MAINTENANCE_WORK_MEM])
        try:
            _run_pending(cursor, pending)
        finally:
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [memory])
    return [name for _, name, _, _ in pending]


def _run_pending(cursor: Any, pending: list[tuple[int, str, str, str]]) -> None:
    refused: list[str] = []
    for position, name, kind, sql in pending:
        if kind == "check":
            log.info("checking the %s", name)
        else:
            log.info("building the %s %s", kind, name)
        # Each with its own row's removal, so an interruption keeps what is still to build.
        with transaction.atomic():
            if kind == "check":
                refused.extend(_dangling_rows_deleted(cursor))
            elif _still_missing(cursor, kind, name):
                cursor.execute(sql)
            cursor.execute(f"DELETE FROM {PENDING_TABLE} WHERE position = %s", [position])
    cursor.execute(f"DROP TABLE IF EXISTS {PENDING_TABLE}")  # all built: a sound catalog has no such table
    if refused:
        raise IntegrityError(
            "the first load wrote rows that refer to rows that do not exist, deleted as foreign keys would have "
            f"refused them: {', '.join(refused)}"
        )


def _dangling_rows_deleted(cursor: Any) -> list[str]:
    """SQLite: rows whose foreign keys point nowhere (PRAGMA foreign_key_check), deleted; "table: N" each."""
    cursor.execute(FOREIGN_KEY_CHECK)
    rowids: dict[str, set[int]] = {}
    for table, rowid, *_ in cursor.fetchall():
        rowids.setdefault(table, set()).add(rowid)
    for table, ids in rowids.items():
        log.error("deleting %d rows of %s whose foreign keys point nowhere", len(ids), table)
        listed = sorted(ids)
        for start in range(0, len(listed), 500):
            chunk = listed[start : start + 500]
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(table)} WHERE rowid IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
    return [f"{table}: {len(ids)}" for table, ids in sorted(rowids.items())]
