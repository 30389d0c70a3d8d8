"""The engine-specific half of the CVE `search` filter: case-insensitive substring of the id or description.

Both engines answer exactly the question Django's `icontains` answers; only the access path differs.
- PostgreSQL: trigram GIN indexes on UPPER(cve_id) and UPPER(description) (migration 0002, pg_trgm), and
  UPPER(title) (0004, for the query language's `title:`) serve icontains, which Django compiles to
  UPPER(col) LIKE UPPER(%term%), for terms of 3+ characters.
- SQLite: an FTS5 table with the trigram tokenizer, `catalog_cve_search`, holds a compact copy of cve_id,
  description and title kept in step by triggers; its LIKE is index-accelerated and is SQLite's own LIKE on the same
  text. It is created (and re-created, with its triggers, if a table rebuild dropped them or a column is
  missing) after every
  `migrate` by ensure_sqlite_search_table, so writers (the ingest service's bulk operations) need not know.

The search generation (GENERATION_TABLE on SQLite, migration 0008 on PostgreSQL) moves with every write that
can change a search's answer, so a count is computed once per catalog change (count_once_per_generation).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import caches
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

log = logging.getLogger(__name__)

SEARCH_TABLE = "catalog_cve_search"
SEARCH_COLUMNS = ("cve_id", "description", "title")  # title: the query language's `title:` (catalog/query)
_TRIGGERS = {
    f"{SEARCH_TABLE}_insert": f"""
        CREATE TRIGGER {SEARCH_TABLE}_insert AFTER INSERT ON catalog_cve BEGIN
            INSERT INTO {SEARCH_TABLE}(rowid, cve_id, description, title)
            VALUES (new.id, new.cve_id, new.description, new.title);
        END""",
    f"{SEARCH_TABLE}_update": f"""
        CREATE TRIGGER {SEARCH_TABLE}_update AFTER UPDATE OF cve_id, description, title ON catalog_cve BEGIN
            UPDATE {SEARCH_TABLE} SET cve_id = new.cve_id, description = new.description, title = new.title
            WHERE rowid = old.id;
        END""",
    f"{SEARCH_TABLE}_delete": f"""
        CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON catalog_cve BEGIN
            DELETE FROM {SEARCH_TABLE} WHERE rowid = old.id;
        END""",
}
# detail='none'. detail='column' would let `cve_id LIKE '%buffer%'` skip every description candidate (a
# frequent word's count: 116 -> 67 ms of CPU on the full corpus), but it makes the index 3x larger (55 -> 159
# MB) and its build, part of every initial load, 20% dearer (19.9 -> 23.9 s of CPU); with counts reused per
# search generation the cold count is paid once per term and catalog change, so the import's cost weighs more.
_CREATE_TABLE = (
    f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5("
    f"{', '.join(SEARCH_COLUMNS)}, tokenize='trigram', detail='none')"
)
# LIKE wildcards and the escape character: a term containing one cannot use the FTS path, whose LIKE is
# index-accelerated only without an ESCAPE clause.
_LIKE_SPECIAL = set("%_\\")

# The search generation: a number every write that can change a `search=` answer (or a text-only `q`) bumps
# in its own transaction, through triggers — a CVE's id, description or title, a vendor/product link or name —
# so a count computed once is reused, exact, until the catalog changes (count_once_per_generation).
GENERATION_TABLE = f"{SEARCH_TABLE}_generation"
# random(), not n + 1: a value a rolled-back transaction wrote (and a count read inside it saw) never returns.
_BUMP = f"UPDATE {GENERATION_TABLE} SET n = random() WHERE id = 1"
# Since migration 0010 also the CVE's score and its weakness links: the counts of one vendor's, product's,
# weakness's or score range's CVEs, and of a project's subscriptions, are reused the same way. The link
# tables' UPDATE names the columns that matter: catalog/link_order.py's copy of updated_at is not one.
_GENERATION_EVENTS = {
    "catalog_cve": ("INSERT", "DELETE", "UPDATE OF cve_id, description, title, cvss31_score"),
    "catalog_cvevendor": ("INSERT", "DELETE", "UPDATE OF cve_id, vendor_id"),
    "catalog_cveproduct": ("INSERT", "DELETE", "UPDATE OF cve_id, product_id"),
    "catalog_cveweakness": ("INSERT", "DELETE", "UPDATE OF cve_id, weakness_id"),
    "catalog_vendor": ("UPDATE OF name",),
    "catalog_product": ("UPDATE OF name",),
}
_GENERATION_TRIGGERS = {
    f"{SEARCH_TABLE}_gen_{table}_{event.split()[0].lower()}": (
        f"CREATE TRIGGER {SEARCH_TABLE}_gen_{table}_{event.split()[0].lower()} AFTER {event} ON {table} "
        f"BEGIN {_BUMP}; END"
    )
    for table, events in _GENERATION_EVENTS.items()
    for event in events
}
# PostgreSQL (migration 0008): statement triggers on the same tables take PG_WRITER_LOCK (an advisory lock,
# shared: writers never wait for each other) until their transaction ends, then advance PG_GENERATION.
PG_GENERATION = "catalog_cve_search_generation"
PG_WRITER_LOCK = 0x6376_6577_7372_6368  # "cvewsrch"
PG_LOAD_LOCK = 0x6376_6577_6c6f_6164  # "cvewload": a first load's deferring and restoring, one session at a time
PG_GENERATION_FUNCTION = "catalog_cve_search_bump"
# table → the events of its `{table}_search_gen` statement trigger (0008's, widened by 0010 as above).
PG_GENERATION_EVENTS = {
    "catalog_cve": "INSERT OR DELETE OR UPDATE OF cve_id, description, title, cvss31_score OR TRUNCATE",
    "catalog_cvevendor": "INSERT OR DELETE OR UPDATE OF cve_id, vendor_id OR TRUNCATE",
    "catalog_cveproduct": "INSERT OR DELETE OR UPDATE OF cve_id, product_id OR TRUNCATE",
    "catalog_cveweakness": "INSERT OR DELETE OR UPDATE OF cve_id, weakness_id OR TRUNCATE",
    "catalog_vendor": "UPDATE OF name OR TRUNCATE",
    "catalog_product": "UPDATE OF name OR TRUNCATE",
}
# Set while an initial load fills the search table itself (search_index_deferred, index_written_cves).
_FILLED_BY_WRITER: ContextVar[bool] = ContextVar("cvewatch_search_filled_by_writer", default=False)
# Set while a PostgreSQL first load writes: its end does the links' copy and the VACUUM (upkeep_at_load_end).
_PG_FIRST_LOAD: ContextVar[bool] = ContextVar("cvewatch_pg_first_load", default=False)
FIRST_LOAD_AUTOCHECKPOINT = 65_536  # pages (256 MiB of WAL at most) between checkpoints during a first load
COUNT_TTL = 3600  # seconds; a generation outlives it only on an idle catalog, where recounting is harmless


def ensure_sqlite_search_table(*, using: BaseDatabaseWrapper | None = None, filled: bool = False) -> bool:
    """Create the FTS5 trigram table and its triggers if any is missing, then refill it. True if it acted.

    filled: the table was filled without its triggers (a first load, search_index_deferred): it is kept when
    it holds exactly the catalog's rows (checked: under a second on the full corpus), else refilled.
    """
    conn = using or connection
    if conn.vendor != "sqlite":
        return False
    # One transaction (SQLite's DDL is transactional): a search running meanwhile sees the old table or the
    # new one, never "no such table" between the DROP and the CREATE (a 500 under an initial load).
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {row[0] for row in cursor.fetchall()}
        if "catalog_cve" not in present:
            return False
        acted = _ensure_generation(cursor, present)
        missing = [name for name in _TRIGGERS if name not in present]
        if SEARCH_TABLE in present and not missing and _is_current(cursor):
            return acted
        if filled and SEARCH_TABLE in present and _is_current(cursor) and _holds_the_catalog(cursor):
            for name in missing:
                cursor.execute(_TRIGGERS[name])
            cursor.execute(_BUMP)
            return True
        log.info("building the CVE search index (%s)", SEARCH_TABLE)
        cursor.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
        for name in _TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(_CREATE_TABLE)
        cursor.execute(
            f"INSERT INTO {SEARCH_TABLE}(rowid, cve_id, description, title) "
            "SELECT id, cve_id, description, title FROM catalog_cve"
        )
        for sql in _TRIGGERS.values():
            cursor.execute(sql)
        cursor.execute(_BUMP)
    return True


def _is_current(cursor: Any) -> bool:
    """Whether the search table is the one _CREATE_TABLE makes (an older one, e.g. without `title`, is
    rebuilt)."""
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [SEARCH_TABLE])
    row = cursor.fetchone()
    return row is not None and row[0] == _CREATE_TABLE


def _has_rows(cursor: Any) -> bool:
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {SEARCH_TABLE})")
    return bool(cursor.fetchone()[0])


def _holds_the_catalog(cursor: Any) -> bool:
    """Whether the search table holds exactly one row per CVE, with its current id, description and title."""
    cursor.execute(f"SELECT count(*) FROM {SEARCH_TABLE}")
    (rows,) = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM catalog_cve")
    (cves,) = cursor.fetchone()
    if rows != cves:
        return False
    cursor.execute(
        f"SELECT count(*) FROM catalog_cve c JOIN {SEARCH_TABLE} s ON s.rowid = c.id "
        "WHERE s.cve_id IS c.cve_id AND s.description IS c.description AND s.title IS c.title"
    )
    return bool(cursor.fetchone()[0] == cves)


def _ensure_generation(cursor: Any, present: set[str]) -> bool:
    """Create the generation table and its triggers if any is missing or differs from _GENERATION_TRIGGERS
    (bumping it: writes may have been missed meanwhile). True if it acted."""
    cursor.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '{SEARCH_TABLE}_gen_%'"
    )
    stored = dict(cursor.fetchall())
    stale = [name for name, sql in _GENERATION_TRIGGERS.items() if stored.get(name) != sql]
    if GENERATION_TABLE in present and not stale:
        return False
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {GENERATION_TABLE} (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"
    )
    cursor.execute(f"INSERT OR IGNORE INTO {GENERATION_TABLE} (id, n) VALUES (1, random())")
    for name in stale:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(_GENERATION_TRIGGERS[name])
    cursor.execute(_BUMP)
    return True


def install_pg_generation_triggers(schema_editor: Any, events: dict[str, str]) -> None:
    """(Re)create the PostgreSQL generation's statement triggers for these events and move the generation
    (migrations 0008 and 0010; 0010's reverse passes 0008's events)."""
    for table, table_events in events.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_search_gen ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_search_gen AFTER {table_events} ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_GENERATION_FUNCTION}()"
        )
    schema_editor.execute(f"SELECT nextval('{PG_GENERATION}')")


def search_generation() -> tuple[int, bool]:
    """The search generation, and whether a count read from now on may be filed under it (one statement).

    SQLite (GENERATION_TABLE): always, as the generation commits with the writer's rows; a count read inside
    a writing transaction is filed under a value that dies with it (see _BUMP).
    PostgreSQL (PG_GENERATION, migration 0008): the sequence moves before the writer commits, so the writer
    also holds PG_WRITER_LOCK (shared) until it ends: a count may be filed when, after the generation was
    read, no writer held the lock and this transaction had written nothing (its rows could roll back).
    A writer that moves the generation later makes this one unreachable, whatever the count saw.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT n, 1 FROM {GENERATION_TABLE} WHERE id = 1")
        else:
            # OFFSET 0 keeps the subquery apart: the lock is tried after the generation is read (its CASE
            # depends on g). last_value + is_called: 1 before the first nextval, then 2.
            cursor.execute(
                "SELECT g, CASE WHEN g IS NULL THEN false WHEN pg_current_xact_id_if_assigned() IS NOT NULL "
                "THEN false WHEN pg_try_advisory_lock(%s) THEN pg_advisory_unlock(%s) ELSE false END "
                f"FROM (SELECT last_value + is_called::int AS g FROM {PG_GENERATION} OFFSET 0) generation",
                [PG_WRITER_LOCK, PG_WRITER_LOCK],
            )
        generation, settled = cursor.fetchone()
    return int(generation), bool(settled)


def count_once_per_generation(question: str, count: Callable[[], int]) -> int:
    """count() — the number of CVEs a question finds (`search:TERM`, `q:QUERY`), whose answer depends only on
    what the generation follows — computed once per search generation and process.

    Exact: the generation is read before counting, and a count is filed only when no writer was between
    its first write and its commit then (search_generation), so it is never filed under a generation that
    does not describe the rows it saw. One statement more than counting; none on a reuse.
    """
    generation, settled = search_generation()
    key = f"search-count:{generation}:{hashlib.sha256(question.encode()).hexdigest()}"
    store = caches["search"]
    found = store.get(key)
    if found is not None:
        return int(found)
    found = count()
    if settled:
        store.set(key, found, COUNT_TTL)
    return found


@contextmanager
def search_index_deferred() -> Iterator[None]:
    """On SQLite, an initial load fills the CVE search table batch by batch, not row by row in triggers.

    The triggers cost more than the rest of a Cve insert: the batch writer adds each batch's rows in its
    transaction (index_written_cves), and at the end the table is checked against the catalog (refilled if
    anything else wrote meanwhile) before the triggers come back. Any later write keeps the triggers: there
    the rows are few. Elsewhere this does nothing.
    The link tables' copy of updated_at (catalog/link_order.py) is likewise left to the end: the writer
    inserts link rows with their CVE's value already, and one UPDATE per table corrects what differs (the
    links of CVEs whose updated_at moved later in the load) before the triggers come back. The big tables'
    secondary indexes are built once at the end too (catalog/bulk_load.py), on both engines.
    """
    from cvewatch.catalog import bulk_load, link_order
    from cvewatch.catalog.models import Cve

    if connection.vendor == "postgresql":
        if _pg_load_lock(take=True):  # else a first load runs elsewhere: what it left out, it puts back itself
            try:
                link_order.ensure_link_order_triggers()  # an interrupted first load may have left them out
            finally:
                _pg_load_lock(take=False)
        if connection.in_atomic_block:
            # Inside a caller's transaction: DROP INDEX would lock catalog_cve until that transaction ends, and
            # CREATE INDEX is refused while its deferred trigger events are pending. Writes keep the indexes.
            yield
            return
        yield from _trigram_indexes_deferred(first_load=not Cve.objects.exists())
        return
    if connection.vendor != "sqlite" or Cve.objects.exists():
        # An interrupted first load left the link-order and search triggers and the indexes out: put them back
        # (refilling what they keep) before writing more.
        link_order.ensure_link_order_triggers()
        bulk_load.restore_deferred()
        ensure_sqlite_search_table()
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(  # the search table's and the generation's (catalog_cve_search_gen_…)
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", [f"{SEARCH_TABLE}%"]
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP TRIGGER IF EXISTS {connection.ops.quote_name(name)}")
        # Empty and current: the writer fills it batch by batch (index_written_cves). Replaced only when it is
        # not so already (a fresh install's is): a search running meanwhile in the server failed ("vtable
        # constructor failed") when the table was dropped and created again under it.
        if not _is_current(cursor) or _has_rows(cursor):
            cursor.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
            cursor.execute(_CREATE_TABLE)
        # No merging of the index's segments batch by batch (FTS5's crisis merge still bounds their number):
        # merged once at the end (_settle_search_segments), 27 s of CPU on the full corpus become 19 s.
        cursor.execute(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rank) VALUES ('automerge', 0)")
    link_order.drop_link_order_triggers()
    bulk_load.defer_indexes()  # the secondary indexes, built once at the end (catalog/bulk_load.py)
    token = _FILLED_BY_WRITER.set(True)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (autocheckpoint,) = cursor.fetchone()
        # Each batch writes ~4x the default 1,000 pages: checkpoint (and fsync) every ~15 batches, not after
        # every one. Safety as before (WAL frames are checksummed); a power loss may lose more whole batches.
        cursor.execute(f"PRAGMA wal_autocheckpoint={FIRST_LOAD_AUTOCHECKPOINT}")
        cursor.execute("PRAGMA foreign_keys=OFF")  # checked once at the end (bulk_load: a pending check)
    try:
        yield
    finally:
        _FILLED_BY_WRITER.reset(token)
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")
            cursor.execute("PRAGMA foreign_keys=ON")
        _settle_search_segments()
        # Sees the missing triggers: keeps the table if it holds exactly the catalog's rows (else refills it),
        # puts them back, bumps.
        ensure_sqlite_search_table(filled=True)
        link_order.ensure_link_order_triggers()  # the same: recomputes the copies, puts the triggers back
        bulk_load.restore_deferred()  # after the recompute: its UPDATEs write no entry of the order indexes


def _settle_search_segments() -> None:
    """After a first load: the search index's segments merged into one and FTS5's default automerge back."""
    with transaction.atomic(), connection.cursor() as cursor:
        if not _is_current(cursor):
            return  # gone or replaced meanwhile: ensure_sqlite_search_table rebuilds it
        cursor.execute(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('optimize')")
        cursor.execute(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rank) VALUES ('automerge', 4)")


def index_written_cves(new: Sequence[int], changed: Sequence[int] = ()) -> None:
    """The search rows of the CVEs a batch inserted (new) or rewrote (changed), in the batch's transaction,
    while an initial load runs without the search triggers (search_index_deferred); else the triggers do it.

    Batch by batch in the writing process, which waits for the reading one, instead of one build after the
    load in one process (25 s of CPU on the full corpus, 23 s batch by batch, 72 s through the triggers).
    """
    if not _FILLED_BY_WRITER.get():
        return
    with connection.cursor() as cursor:
        for start in range(0, len(changed), 900):  # within every SQLite's limit of bound parameters
            chunk = changed[start : start + 900]
            cursor.execute(f"DELETE FROM {SEARCH_TABLE} WHERE rowid IN ({', '.join(['%s'] * len(chunk))})", chunk)
        ids = [*new, *changed]
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            cursor.execute(
                f"INSERT INTO {SEARCH_TABLE}(rowid, cve_id, description, title) SELECT id, cve_id, description, "
                f"title FROM catalog_cve WHERE id IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )


def _trigram_indexes_deferred(*, first_load: bool) -> Iterator[None]:
    """PostgreSQL: a first load into an empty catalog builds the trigram indexes once at the end
    (catalog/trigram.py), in a session that does not wait for each batch's commit to reach the disk: a crash
    may lose the last batches' transactions whole (their rows, their imported-file records and their run's
    counts together), never a part of one, and the next import reads those files again."""
    from cvewatch.catalog import bulk_load, link_order, trigram

    # One first load at a time defers and restores (PG_LOAD_LOCK, held for its whole length); an import that
    # finds it held (another first load is under way) writes with the indexes as they are and leaves the
    # rest to that load, which restores everything at its end, the other import's rows included.
    if not _pg_load_lock(take=True):
        yield
        return
    if not first_load:
        try:
            bulk_load.restore_deferred()  # an interrupted first load left them out
            trigram.ensure_trigram_indexes()
        finally:
            _pg_load_lock(take=False)
        yield
        return
    try:
        trigram.drop_trigram_indexes()
        # The secondary B-tree indexes, the foreign keys and the link-order triggers too (catalog/bulk_load.py):
        # the writer fills the links' cve_updated_at itself, the end copies it again for CVEs updated since.
        bulk_load.defer_indexes()
        link_order.drop_link_order_triggers()
        bulk_load.load_session(on=True)
        token = _PG_FIRST_LOAD.set(True)
        try:
            yield
        finally:
            _PG_FIRST_LOAD.reset(token)
            bulk_load.load_session(on=False)
            _pg_first_load_end()
    finally:
        _pg_load_lock(take=False)


def upkeep_at_load_end() -> bool:
    """Whether the import being written is a PostgreSQL first load, whose end copies the links' updated_at and
    vacuums the tables itself (around its index builds): the writer leaves both to it."""
    return _PG_FIRST_LOAD.get()


def _pg_first_load_end() -> None:
    """Everything a PostgreSQL first load left out, put back with its 15 s GIN build (the description's trigram
    index) running beside the rest in a session of its own instead of after it.

    Order by locks: the link-order triggers lock catalog_cve against any CREATE INDEX, so they go first; then
    the GIN build starts, and beside it the other trigram and B-tree indexes (CREATE INDEX does not conflict
    with CREATE INDEX) and the VACUUM of every other table. The foreign keys that reference catalog_cve wait
    for the build (their lock conflicts with it); catalog_cve's own VACUUM (ANALYZE) comes last, once every
    index exists (an expression index's statistics are gathered only then: catalog/trigram.py).
    """
    from cvewatch.catalog import bulk_load, link_order, trigram

    link_order.ensure_link_order_triggers()  # before the order indexes exist: its UPDATE writes no entry
    apart = trigram.start_largest()
    try:
        trigram.build_missing(apart=apart)
        bulk_load.upkeep(vacuum=True, tables=tuple(t for t in bulk_load.VACUUMED_TABLES if t != "catalog_cve"))
        bulk_load.restore_deferred()
    finally:
        trigram.finish(apart)
    bulk_load.upkeep(vacuum=True, tables=("catalog_cve",))


def _pg_load_lock(*, take: bool) -> bool:
    """Try to take (or release) PG_LOAD_LOCK, a session-level advisory lock; whether it was taken."""
    with connection.cursor() as cursor:
        function = "pg_try_advisory_lock" if take else "pg_advisory_unlock"
        cursor.execute(f"SELECT {function}(%s)", [PG_LOAD_LOCK])
        return bool(cursor.fetchone()[0])


def on_post_migrate(sender: Any, *, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    ensure_sqlite_search_table(using=connections[using])


def substring_ids_sql(term: str) -> tuple[str, list[Any]]:
    """SQL selecting the ids of CVEs whose id or description contains term (case-insensitive), and params."""
    if connection.vendor == "sqlite" and not _LIKE_SPECIAL.intersection(term):
        pattern = f"%{term}%"
        # Two single-column LIKEs in a UNION: an OR of them would make FTS5 scan instead of using the index.
        return (
            f"SELECT rowid FROM {SEARCH_TABLE} WHERE description LIKE %s "
            f"UNION SELECT rowid FROM {SEARCH_TABLE} WHERE cve_id LIKE %s",
            [pattern, pattern],
        )
    from cvewatch.catalog.models import Cve

    queryset = Cve.objects.filter(Q(cve_id__icontains=term) | Q(description__icontains=term)).order_by()
    sql, params = queryset.values("pk").query.sql_with_params()
    return sql, list(params)


def ids_among(sql: str, params: list[Any]) -> Q | RawSQL:
    """A condition on catalog_cve: its id is one the query `sql` selects, the ids computed before any CVE row.

    PostgreSQL gets `id = ANY(ARRAY(sql))`: an init plan builds the ids first (the trigram indexes' bitmaps),
    then the rows are read by primary key and sorted. Written as `id IN (sql)` the planner, estimating 2,179
    matches for `CVE-2021-44` where 90 are, walked the updated_at index testing every row (366 ms against
    15 ms). SQLite plans `IN (sql)` that way already.
    """
    if connection.vendor != "postgresql":
        return Q(pk__in=RawSQL(sql, params))
    from cvewatch.catalog.models import Cve

    column = f"{connection.ops.quote_name(Cve._meta.db_table)}.{connection.ops.quote_name('id')}"
    return RawSQL(f"{column} = ANY(ARRAY({sql}))", params, output_field=BooleanField())


def column_contains(column: str, term: str) -> Q:
    """CVEs whose `cve_id`, `description` or `title` contains term (case-insensitive): the query language's `:`.

    Same answer as `<column>__icontains` on both engines; on SQLite through the FTS5 trigram table's LIKE
    (indexed, where icontains would read every description), on PostgreSQL through the trigram GIN index.
    """
    if column not in SEARCH_COLUMNS:
        raise ValueError(f"{column} is not in the search table")
    if connection.vendor == "sqlite" and not _LIKE_SPECIAL.intersection(term):
        sql = f"SELECT rowid FROM {SEARCH_TABLE} WHERE {column} LIKE %s"
        return Q(pk__in=RawSQL(sql, [f"%{term}%"]))
    return Q(**{f"{column}__icontains": term})
