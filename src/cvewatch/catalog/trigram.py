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
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

log = logging.getLogger(__name__)

# name → the expression icontains compiles to (the indexes serve `search`, `q`'s text fields and `title:`).
PG_TRIGRAM_INDEXES = {
    "cve_cve_id_trgm": "UPPER(cve_id::text)",
    "cve_description_trgm": "UPPER(description::text)",
    "cve_title_trgm": "UPPER(title::text)",
}


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


def ensure_trigram_indexes() -> list[str]:
    """Build whichever of the indexes is missing (none on a sound install: one catalog read); their names.

    A GIN build is one CPU-bound backend whatever maintenance_work_mem is (the description's took as long with
    512 MB as with 64 MB), so outside a transaction the description's, the largest, is built in a session of
    its own while this one builds the others: two cores busy, not one.
    """
    if connection.vendor != "postgresql":
        return []
    missing = [name for name in PG_TRIGRAM_INDEXES if name not in _present()]
    if len(missing) > 1 and not connection.in_atomic_block:
        largest = "cve_description_trgm" if "cve_description_trgm" in missing else missing[-1]
        rest = [name for name in missing if name != largest]
        with ThreadPoolExecutor(max_workers=1) as pool:
            apart = pool.submit(_build_in_own_session, largest)
            for name in rest:
                _build(name)
            apart.result()
    else:
        for name in missing:
            _build(name)
    with connection.cursor() as cursor:
        if missing:
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
