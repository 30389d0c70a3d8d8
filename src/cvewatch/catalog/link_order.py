"""The CVE's `updated_at` on its link rows, so one vendor's, product's or weakness's CVEs are read in list order.

A CVE list is ordered (-updated_at, -id). A list of one target's CVEs used to walk the CVE index probing the
link table (1,434 probes for a page of vendor=microsoft) or to fetch and sort all its CVEs. Each link table
(LINK_TABLES) now holds `cve_updated_at`, a copy of its CVE's `updated_at`, and an index (target,
cve_updated_at DESC, cve_id DESC): a page is LIMIT entries of that index, then that many CVE rows, at any
depth by OFFSET on the index alone (catalog.selectors.LinkedCves, organizations' SubscribedCves).

Triggers keep the copy exact in the same transaction as the change, whatever writes (the importer's COPY
and bulk SQL, the ORM, the admin, a `dbshell`); a value written to the column by hand is replaced.
- A link row inserted, or moved to another CVE: it takes its CVE's updated_at. PostgreSQL: a row-level
  BEFORE trigger (one indexed lookup, no second write). SQLite (no BEFORE trigger may change the row):
  an AFTER trigger updating the row when it differs.
- A CVE's updated_at changed: its link rows follow (row-level, only when the value changed: a statement-level
  trigger would need transition tables, which PostgreSQL refuses with a column list, and would copy every
  updated CVE row with its JSON).
- A link row written before its CVE (foreign keys are deferred on both engines: fixtures, raw SQL) finds
  no CVE and stays NULL until the CVE comes: on SQLite the CVE's insert trigger fills its links; on
  PostgreSQL a deferred constraint trigger, queued only for such rows (WHEN NULL), fills it at commit.
Like catalog/counts.py's, the triggers are (re-)created after every `migrate` when any is missing (a SQLite
table rebuild drops them), and the column is then recomputed: ensure_link_order_triggers is also what an
import that drops them (TRIGGERS lists them) calls to put them back.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

log = logging.getLogger(__name__)

CVE_TABLE = "catalog_cve"
COLUMN = "cve_updated_at"
# link table → its target column
LINK_TABLES = {
    "catalog_cvevendor": "vendor_id",
    "catalog_cveproduct": "product_id",
    "catalog_cveweakness": "weakness_id",
}


def _sqlite_triggers() -> dict[str, tuple[str, str]]:
    """name → (table, CREATE TRIGGER)."""
    triggers: dict[str, tuple[str, str]] = {}
    for table in LINK_TABLES:
        current = f"(SELECT updated_at FROM {CVE_TABLE} WHERE id = new.cve_id)"
        body = f"UPDATE {table} SET {COLUMN} = {current} WHERE id = new.id;"
        for name, event in (("insert", "INSERT"), ("update", f"UPDATE OF cve_id, {COLUMN}")):
            triggers[f"{table}_order_{name}"] = (
                table,
                f"CREATE TRIGGER {table}_order_{name} AFTER {event} ON {table} "
                f"WHEN new.{COLUMN} IS NOT {current} BEGIN {body} END",
            )
    follow = " ".join(
        f"UPDATE {table} SET {COLUMN} = new.updated_at WHERE cve_id = new.id AND {COLUMN} IS NOT new.updated_at;"
        for table in LINK_TABLES
    )
    triggers[f"{CVE_TABLE}_order_insert"] = (
        CVE_TABLE,
        f"CREATE TRIGGER {CVE_TABLE}_order_insert AFTER INSERT ON {CVE_TABLE} BEGIN {follow} END",
    )
    triggers[f"{CVE_TABLE}_order_update"] = (
        CVE_TABLE,
        f"CREATE TRIGGER {CVE_TABLE}_order_update AFTER UPDATE OF updated_at ON {CVE_TABLE} "
        f"WHEN new.updated_at IS NOT old.updated_at BEGIN {follow} END",
    )
    return triggers


_PG_LINK_FUNCTION = "catalog_link_order_row"
_PG_LATE_FUNCTION = "catalog_link_order_late"
_PG_CVE_FUNCTION = "catalog_cve_link_order"
_PG_FUNCTIONS = (
    f"""CREATE OR REPLACE FUNCTION {_PG_LINK_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.{COLUMN} := (SELECT updated_at FROM {CVE_TABLE} WHERE id = NEW.cve_id);
        RETURN NEW;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION {_PG_LATE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        EXECUTE format('UPDATE %I SET {COLUMN} = (SELECT updated_at FROM {CVE_TABLE} WHERE id = $1) '
                       'WHERE id = $2 AND {COLUMN} IS NULL', TG_TABLE_NAME) USING NEW.cve_id, NEW.id;
        RETURN NULL;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION {_PG_CVE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {" ".join(f"UPDATE {t} SET {COLUMN} = NEW.updated_at WHERE cve_id = NEW.id;" for t in LINK_TABLES)}
        RETURN NULL;
    END $$""",
)


def _pg_triggers() -> dict[str, tuple[str, str]]:
    triggers: dict[str, tuple[str, str]] = {}
    for table in LINK_TABLES:
        triggers[f"{table}_order"] = (
            table,
            f"CREATE TRIGGER {table}_order BEFORE INSERT OR UPDATE OF cve_id, {COLUMN} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {_PG_LINK_FUNCTION}()",
        )
        triggers[f"{table}_order_late"] = (
            table,
            f"CREATE CONSTRAINT TRIGGER {table}_order_late AFTER INSERT OR UPDATE ON {table} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.{COLUMN} IS NULL) "
            f"EXECUTE FUNCTION {_PG_LATE_FUNCTION}()",
        )
    triggers[f"{CVE_TABLE}_order_update"] = (
        CVE_TABLE,
        f"CREATE TRIGGER {CVE_TABLE}_order_update AFTER UPDATE OF updated_at ON {CVE_TABLE} FOR EACH ROW "
        f"WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at) EXECUTE FUNCTION {_PG_CVE_FUNCTION}()",
    )
    return triggers


def triggers(vendor: str) -> dict[str, tuple[str, str]]:
    """The engine's triggers: name → (table, CREATE TRIGGER statement). Empty for other engines."""
    if vendor == "sqlite":
        return _sqlite_triggers()
    return _pg_triggers() if vendor == "postgresql" else {}


TRIGGERS = {vendor: triggers(vendor) for vendor in ("sqlite", "postgresql")}


def _present(conn: BaseDatabaseWrapper, cursor: Any) -> set[str]:
    tables = [CVE_TABLE, *LINK_TABLES]
    if conn.vendor == "sqlite":
        cursor.execute(
            f"SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({', '.join(['%s'] * 4)})",
            tables,
        )
    else:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = ANY(ARRAY[%s, %s, %s, %s]::regclass[]) "
            "AND NOT tgisinternal",
            tables,
        )
    return {row[0] for row in cursor.fetchall()}


def _drop_sql(conn: BaseDatabaseWrapper, name: str, table: str) -> str:
    return f"DROP TRIGGER IF EXISTS {name}" + ("" if conn.vendor == "sqlite" else f" ON {table}")


def _recompute(conn: BaseDatabaseWrapper, cursor: Any) -> None:
    """Set every link row's copy from its CVE (only the rows that differ are written)."""
    for table in LINK_TABLES:
        if conn.vendor == "sqlite":
            current = f"(SELECT updated_at FROM {CVE_TABLE} c WHERE c.id = {table}.cve_id)"
            cursor.execute(f"UPDATE {table} SET {COLUMN} = {current} WHERE {COLUMN} IS NOT {current}")
        else:
            cursor.execute(
                f"UPDATE {table} l SET {COLUMN} = c.updated_at FROM {CVE_TABLE} c "
                f"WHERE c.id = l.cve_id AND l.{COLUMN} IS DISTINCT FROM c.updated_at"
            )


def ensure_link_order_triggers(*, using: BaseDatabaseWrapper | None = None) -> bool:
    """Create the triggers if any is missing and recompute the column, in one transaction. True if it acted."""
    conn = using or connection
    wanted = triggers(conn.vendor)
    if not wanted:
        return False
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        tables = set(conn.introspection.table_names(cursor))
        if not {CVE_TABLE, *LINK_TABLES} <= tables:
            return False
        columns = {c.name for c in conn.introspection.get_table_description(cursor, "catalog_cvevendor")}
        if COLUMN not in columns or set(wanted) <= _present(conn, cursor):
            return False
        log.info("copying each CVE's updated_at onto its link rows and installing the link-order triggers")
        if conn.vendor == "postgresql":
            # Writers wait for the recompute instead of changing the tables between it and the triggers.
            cursor.execute(f"LOCK TABLE {CVE_TABLE}, {', '.join(LINK_TABLES)} IN SHARE ROW EXCLUSIVE MODE")
            for sql in _PG_FUNCTIONS:
                cursor.execute(sql)
        for name, (table, _) in wanted.items():
            cursor.execute(_drop_sql(conn, name, table))
        _recompute(conn, cursor)
        for _, sql in wanted.values():
            cursor.execute(sql)
    return True


def drop_link_order_triggers(*, using: BaseDatabaseWrapper | None = None) -> None:
    """Remove the triggers (the migration's reverse; an import that refills the column at its end; tests)."""
    conn = using or connection
    with conn.cursor() as cursor:
        for name, (table, _) in triggers(conn.vendor).items():
            cursor.execute(_drop_sql(conn, name, table))
        if conn.vendor == "postgresql":
            for function in (_PG_LINK_FUNCTION, _PG_LATE_FUNCTION, _PG_CVE_FUNCTION):
                cursor.execute(f"DROP FUNCTION IF EXISTS {function}() CASCADE")


def on_post_migrate(sender: Any, *, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    ensure_link_order_triggers(using=connections[using])
