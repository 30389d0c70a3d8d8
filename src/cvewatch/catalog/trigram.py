"""PostgreSQL's pg_trgm GIN indexes of the CVE text (migrations 0002 and 0006), dropped and rebuilt around a
first import.

A GIN index is slow to grow one row at a time: COPYing the full corpus into an empty catalog spent about a third
of the server's time inserting into these three. Built once over the loaded table it takes seconds, so a first
import into an empty catalog drops them and builds them at the end (catalog.search.search_index_deferred).
An import killed in between leaves them missing: every later import (or sync) outside a caller's transaction
first builds what is missing.
Searches answer the same without them, only slower. SQLite has its FTS5 table instead (catalog/search.py).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection

log = logging.getLogger(__name__)

# name → the expression icontains compiles to (the indexes serve `search`, `q`'s text fields and `title:`).
PG_TRIGRAM_INDEXES = {
    "cve_cve_id_trgm": "UPPER(cve_id::text)",
    "cve_description_trgm": "UPPER(description::text)",
    "cve_title_trgm": "UPPER(title::text)",
}
LARGEST = "cve_description_trgm"  # 15 s of the ~18 s the three take on the full corpus

# An index being built in a session of its own: its name and the build.
Apart = tuple[str, Future[None]]


def _present() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'catalog_cve' AND indexname = ANY(%s)",
            [list(PG_TRIGRAM_INDEXES)],
        )
        return {row[0] for row in cursor.fetchall()}


def _build(name: str) -> None:
    log.info("building the trigram index %s", name)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON catalog_cve USING gin (({PG_TRIGRAM_INDEXES[name]}) gin_trgm_ops)"
        )


def _build_in_own_session(name: str) -> None:
    try:
        _build(name)
    finally:
        connection.close()  # this thread's own connection


def _start_apart(name: str) -> Apart:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cvewatch-trigram")
    try:
        return name, pool.submit(_build_in_own_session, name)
    finally:
        pool.shutdown(wait=False)  # its thread ends with the build


def start_largest() -> Apart | None:
    """The description's index, if missing, started now in a session of its own (outside a transaction only),
    so that whatever does not conflict with its build (another CREATE INDEX, other tables) runs beside it.
    finish() waits for it."""
    if connection.vendor != "postgresql" or connection.in_atomic_block or LARGEST in _present():
        return None
    return _start_apart(LARGEST)


def finish(apart: Apart | None) -> None:
    """Wait for a build started apart (its error, if any, raised here)."""
    if apart is not None:
        apart[1].result()


def _build_here(missing: list[str], apart: Apart | None) -> None:
    for name in missing:
        if apart is None or name != apart[0]:
            _build(name)


def build_missing(*, apart: Apart | None = None) -> None:
    """Build here whichever index is missing, but the one being built apart."""
    if connection.vendor == "postgresql":
        _build_here([name for name in PG_TRIGRAM_INDEXES if name not in _present()], apart)


def ensure_trigram_indexes() -> list[str]:
    """Build whichever of the indexes is missing (none on a sound install: one catalog read); their names.

    A GIN build is one CPU-bound backend whatever maintenance_work_mem is (the description's took as long with
    512 MB as with 64 MB), so outside a transaction the description's, the largest, is built in a session of
    its own while this one builds the others: two cores busy, not one.
    """
    if connection.vendor != "postgresql":
        return []
    missing = [name for name in PG_TRIGRAM_INDEXES if name not in _present()]
    if not missing:
        return []
    apart = None
    if len(missing) > 1 and not connection.in_atomic_block:
        apart = _start_apart(LARGEST if LARGEST in missing else missing[-1])
    try:
        _build_here(missing, apart)
    finally:
        finish(apart)
    with connection.cursor() as cursor:
        # The planner's statistics of an expression index (upper(description), …) are gathered by ANALYZE
        # only once the index exists: without them a search's estimate is a guess and its plan can be
        # 10x slower (search=buffer p95 140 ms -> 14 ms on the full corpus after a first load).
        cursor.execute("ANALYZE catalog_cve")
    return missing


def drop_trigram_indexes() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in PG_TRIGRAM_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
