"""The CVE detail page's view model: one read per kind of thing (the CVE, its per-source records, its
weaknesses' names, its changes), then the pure presenters (cvss, affected, cve_facts, history) shape it.

Kept out of the web layer so the page holds no rules and other edges could show the same explanation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from django.db.models import BinaryField, Case, Value, When

from cvewatch.catalog import affected, cve_facts, cvss, history, names, raw_copy, selectors
from cvewatch.catalog.models import Change, Cve, SourceRecord, Weakness
from cvewatch.catalog.vocabulary import CVSS_METRICS, Source

HISTORY_LIMIT = 100  # changes shown; a longer history says how many more there are
# The CVE JSON 5 record (with every container's `affected`) is the mitre record's raw file.
_CVE5_SOURCE = Source.MITRE.value
_MAX_RAW = 4 * 1024 * 1024  # a record larger than this decompressed is not read for version ranges


@dataclass(frozen=True, slots=True)
class CvePage:
    cve: Cve
    scores: tuple[cvss.CvssExplanation, ...]  # newest CVSS version first; absent versions left out
    threat_severity: str
    threat_severity_provider: str
    kev: cve_facts.Kev | None
    epss: cve_facts.Epss | None
    ssvc: tuple[cve_facts.SsvcPoint, ...]
    ssvc_note: str
    ssvc_provider: str
    weaknesses: tuple[tuple[str, str], ...]  # (CWE id, name or "")
    references: tuple[cve_facts.Reference, ...]
    vendors: tuple[affected.VendorGroup, ...]
    product_count: int
    statements: tuple[affected.AffectedStatement, ...]
    sources: tuple[cve_facts.SourceSaid, ...]
    timeline: tuple[history.TimelineEntry, ...]
    more_changes: bool  # the timeline was cut at HISTORY_LIMIT

    @property
    def headline(self) -> cvss.CvssExplanation | None:
        """The score the header shows: v3.1 (the one the filters use), else the newest other version."""
        scored = [s for s in self.scores if s.score is not None]
        return next((s for s in scored if s.version == "3.1"), scored[0] if scored else None)


def cve_page(*, cve_id: str) -> CvePage:
    """The page of one CVE (NotFound as selectors.cve_detail)."""
    cve = selectors.cve_detail(cve_id=cve_id)
    docs, cve5 = _source_docs(cve.cve_id)
    weakness_names = _weakness_names(cve.weaknesses)
    changes = list(
        Change.objects.filter(cve=cve).only("id", "created_at", "events").order_by("-created_at", "-id")[
            : HISTORY_LIMIT + 1
        ]
    )
    metrics = cve.metrics if isinstance(cve.metrics, dict) else {}
    scores = [
        explanation
        for key in reversed(CVSS_METRICS)
        if (explanation := _explained(key, metrics.get(key))) is not None
    ]
    threat = metrics.get("threat_severity") or {}
    ssvc_points, ssvc_note = cve_facts.ssvc(metrics)
    cna_vendors = (docs.get(_CVE5_SOURCE) or {}).get("vendors") or []
    vendor_groups = affected.vendor_groups(
        cve.vendors or [], first=frozenset(names.vendor_of(v) for v in cna_vendors if isinstance(v, str))
    )
    return CvePage(
        cve=cve,
        scores=tuple(scores),
        threat_severity=threat.get("data") if isinstance(threat.get("data"), str) else "",
        threat_severity_provider=str(threat.get("provider") or ""),
        kev=cve_facts.kev(metrics, docs.get(Source.KEV.value)),
        epss=cve_facts.epss(metrics, docs.get(Source.EPSS.value)),
        ssvc=tuple(ssvc_points),
        ssvc_note=ssvc_note,
        ssvc_provider=str((metrics.get("ssvc") or {}).get("provider") or ""),
        weaknesses=tuple((cwe, weakness_names.get(cwe, "")) for cwe in cve.weaknesses or [] if isinstance(cwe, str)),
        references=tuple(cve_facts.references(cve.references)),
        vendors=tuple(vendor_groups),
        product_count=sum(len(g.products) for g in vendor_groups),
        statements=tuple(affected.statements(cve5)),
        sources=tuple(cve_facts.sources_said(docs, providers=cve.providers or {}, metrics=metrics)),
        timeline=tuple(history.timeline(changes[:HISTORY_LIMIT])),
        more_changes=len(changes) > HISTORY_LIMIT,
    )


def _explained(key: str, metric: Any) -> cvss.CvssExplanation | None:
    metric = metric if isinstance(metric, dict) else {}
    return cvss.explain(key=key, data=metric.get("data"), provider=str(metric.get("provider") or ""))


def _source_docs(cve_id: str) -> tuple[dict[str, dict[str, Any]], Any]:
    """{source: stored doc} of the CVE's per-source records, and its decoded CVE JSON 5 file (or None).

    One query; only the CVE JSON 5 record's raw bytes are read (the others' are not needed here).
    """
    rows = SourceRecord.objects.filter(cve_id=cve_id).values_list(
        "source",
        "record",
        Case(When(source=_CVE5_SOURCE, then="raw"), default=Value(b""), output_field=BinaryField()),
    )
    docs: dict[str, dict[str, Any]] = {}
    cve5 = None
    for source, record, raw in rows:
        docs[source] = record if isinstance(record, dict) else {}
        if source == _CVE5_SOURCE and raw:
            cve5 = _decoded(bytes(raw))
    return docs, cve5


def _decoded(raw: bytes) -> Any:
    """The stored raw file (catalog/raw_copy.py) as JSON; None when it is not readable (it is provenance, not
    required)."""
    data = raw_copy.decompress(raw, limit=_MAX_RAW)
    if data is None:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def _weakness_names(cwe_ids: Any) -> dict[str, str]:
    ids = [c for c in cwe_ids or [] if isinstance(c, str)]
    if not ids:
        return {}
    return dict(Weakness.objects.filter(cwe_id__in=ids).values_list("cwe_id", "name"))
