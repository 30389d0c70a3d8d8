"""Merging ahead, in the import's reading process: a first import's new CVEs leave it as ready rows.

On a first import (an empty catalog) a CVE's first records in the run cannot meet stored ones, so their merge
(merge.merge_docs), the view's digest and the Cve row's values need nothing from the database. The reading
process (ingest/pipeline.py) computes them for every CVE it has not sent before, so the writing process only
inserts; it takes a merge made ahead only where its own would give the same view (BatchWriter.premerged: the
CVE has nothing stored and exactly the merged records arrive), else it merges as usual. The records of a
merged CVE travel without their decoded doc (the writer decodes doc_json if it needs it after all).
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime

from cvewatch.catalog.models import Cve
from cvewatch.ingest import merge
from cvewatch.ingest.rows import adapt_row
from cvewatch.ingest.writer import CVE_VALUE_FIELDS, NewCve, Prepared

# Never a served date: a CVE no record dates takes the writer's clock (merge_docs's fallback_time), so
# such a CVE is left to the writer.
_UNDATED = datetime(1, 1, 1, tzinfo=UTC)


class Premerger:
    """Marks the records of the CVEs it sees first in a batch with their merged row (Prepared.new_cve)."""

    def __init__(self) -> None:
        self.sent: set[str] = set()  # the CVEs of every batch so far: later records may meet stored ones
        self.adapt = adapt_row(Cve, (*CVE_VALUE_FIELDS, "digest"))
        self.values_of = operator.itemgetter(*CVE_VALUE_FIELDS)  # row_values' values, in that order

    def __call__(self, batch: list[Prepared], *, ahead: bool = True) -> None:
        """ahead=False: the batch is only noted as sent (its CVEs are merged by the writer)."""
        if not ahead:
            self.sent.update(prepared.key for prepared in batch if prepared.cwe is None)
            return
        groups: dict[str, dict[str, Prepared]] = {}
        for prepared in batch:
            if prepared.cwe is not None or prepared.doc is None or prepared.key in self.sent:
                continue
            group = groups.setdefault(prepared.key, {})
            kept = group.get(prepared.source)
            # The writer's rule for one source twice in a batch: the newer copy wins, the later on a tie.
            if kept is None or not merge.is_older(prepared.doc, kept.doc):
                group[prepared.source] = prepared
        self.sent.update(prepared.key for prepared in batch if prepared.cwe is None)
        for group in groups.values():
            new = self.merged(group)
            if new is None:
                continue
            for prepared in group.values():
                prepared.new_cve = new
        for prepared in batch:
            if prepared.new_cve is not None and prepared.doc_json is not None:
                prepared.doc = None  # the writer needs doc_json only; it decodes doc if it must merge

    def merged(self, group: dict[str, Prepared]) -> NewCve | None:
        docs = {source: prepared.doc for source, prepared in group.items() if prepared.doc is not None}
        view = merge.merge_docs(docs, fallback_time=_UNDATED)
        if view is None or view["providers"]["created_at"] is None:
            return None  # KEV/EPSS only (pending), or undated: the writer decides
        values = merge.row_values(view)
        return NewCve(
            sources=frozenset((source, prepared.digest) for source, prepared in group.items()),
            values=self.adapt((*self.values_of(values), merge.view_digest(view))),
            vendors=view["vendors"],
            weaknesses=view["weaknesses"],
        )
