"""The facts a CVE page states besides its scores: KEV, EPSS, SSVC in words, references, and which source
said what. Pure over the served view and the per-source docs (plain dicts, no Django).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cvewatch.catalog.history import METRIC_LABELS
from cvewatch.catalog.vocabulary import METRIC_NAMES

# The SSVC decision points CISA's vulnrichment gives (SSVC 2.0.x, "CISA Coordinator"), in words.
SSVC_POINTS = {
    "exploitation": ("Exploitation", {
        "none": "None: no evidence of active exploitation and no public proof of concept",
        "poc": "Proof of concept: a public proof of concept exists, or exploitation is well known",
        "public poc": "Proof of concept: a public proof of concept exists, or exploitation is well known",
        "active": "Active: reliable evidence of exploitation in the wild",
    }),
    "automatable": ("Automatable", {
        "yes": "Yes: an attacker can automate the steps from reconnaissance to exploitation",
        "no": "No: exploitation needs steps an attacker cannot reliably automate",
    }),
    "technical impact": ("Technical impact", {
        "partial": "Partial: limited control over, or disclosure from, the affected component",
        "total": "Total: full control of the affected component, or total disclosure of its information",
    }),
}  # fmt: skip

# Per-source records (SourceRecord.source) as a person names them.
SOURCE_LABELS = {
    "mitre": "CVE record (the CNA)",
    "vulnrichment": "CISA ADP (vulnrichment)",
    "nvd": "NVD",
    "redhat": "Red Hat",
    "opencve": "OpenCVE knowledge base",
    "cisa": "CISA KEV catalog",
    "first": "FIRST EPSS",
}


@dataclass(frozen=True, slots=True)
class Kev:
    date_added: str
    due_date: str
    required_action: str = ""
    known_ransomware: str = ""  # "Known", "Unknown"
    name: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Epss:
    score: float  # probability of exploitation in the next 30 days, 0-1
    percentile: float | None  # 0-1
    date: str = ""

    @property
    def score_percent(self) -> float:
        return self.score * 100

    @property
    def percentile_percent(self) -> float | None:
        return None if self.percentile is None else self.percentile * 100


@dataclass(frozen=True, slots=True)
class SsvcPoint:
    name: str
    value: str
    meaning: str


@dataclass(frozen=True, slots=True)
class Reference:
    url: str
    host: str
    rest: str  # the URL after the host, shortened for display
    safe: bool  # http(s): shown as a link; anything else (javascript:, ftp:) as text only


@dataclass(frozen=True, slots=True)
class SourceSaid:
    source: str
    label: str
    updated: str  # the source's own last-modified date (ISO), "" when unknown
    said: tuple[str, ...]  # "CVSS 3.1 9.8", "12 products", ...
    chosen: tuple[str, ...]  # what the page shows from this source (description, CVSS 3.1, ...)


def kev(metrics: dict[str, Any], kev_doc: dict[str, Any] | None) -> Kev | None:
    """The KEV facts: dates from the served metric, the rest from the CISA catalog's own record if any."""
    data = (metrics.get("kev") or {}).get("data")
    if not isinstance(data, dict) or not data.get("dateAdded"):
        return None
    extra = (kev_doc or {}).get("kev") or {}
    return Kev(
        date_added=str(data.get("dateAdded") or ""),
        due_date=str(data.get("dueDate") or ""),
        required_action=str(extra.get("requiredAction") or ""),
        known_ransomware=str(extra.get("knownRansomwareCampaignUse") or ""),
        name=str(extra.get("vulnerabilityName") or ""),
        notes=str(extra.get("notes") or ""),
    )


def epss(metrics: dict[str, Any], epss_doc: dict[str, Any] | None) -> Epss | None:
    data = (metrics.get("epss") or {}).get("data")
    if not isinstance(data, dict) or not isinstance(data.get("score"), int | float):
        return None
    percentile = data.get("percentile")
    return Epss(
        score=float(data["score"]),
        percentile=float(percentile) if isinstance(percentile, int | float) else None,
        date=str((epss_doc or {}).get("date") or ""),
    )


def ssvc(metrics: dict[str, Any]) -> tuple[list[SsvcPoint], str]:
    """The SSVC decision points in words, and the provider's role/version note."""
    data = (metrics.get("ssvc") or {}).get("data")
    options = data.get("options") if isinstance(data, dict) else None
    if not isinstance(options, dict):
        return [], ""
    points = []
    for key, value in options.items():
        name, meanings = SSVC_POINTS.get(str(key).strip().lower(), (str(key), {}))
        text = str(value).strip()
        points.append(SsvcPoint(name, text, meanings.get(text.lower(), text)))
    version = data.get("version")
    return points, f"SSVC {version}" if isinstance(version, str) and version else ""


def references(urls: Any) -> list[Reference]:
    found = []
    for url in urls if isinstance(urls, list) else []:
        if not isinstance(url, str) or not url.strip():
            continue
        url = url.strip()
        safe = url.lower().startswith(("https://", "http://"))
        host, rest = "", url
        if safe:
            try:
                parts = urlsplit(url)
                host = parts.hostname or ""
                rest = url.split(parts.netloc, 1)[-1] if parts.netloc else url
            except ValueError:
                safe = False
        if len(rest) > 90:
            rest = rest[:60] + "…" + rest[-25:]
        found.append(Reference(url, host, rest, safe and bool(host)))
    return sorted(found, key=lambda r: (not r.safe, r.host.removeprefix("www."), r.url))


def sources_said(
    docs: dict[str, dict[str, Any]], *, providers: dict[str, Any], metrics: dict[str, Any]
) -> list[SourceSaid]:
    """For each per-source record: what it states, and what of it the page shows (the served view's pick)."""
    chosen: dict[str, list[str]] = {}
    for field in ("title", "description"):
        if providers.get(field):
            chosen.setdefault(str(providers[field]), []).append(field)
    for name in METRIC_NAMES:
        metric = metrics.get(name) or {}
        provider = str(metric.get("provider") or "")
        if not provider:
            continue
        label = METRIC_LABELS.get(name, name)
        if provider in docs:
            chosen.setdefault(provider, []).append(label)
            continue
        # A provider without a record of its own (NVD's score inside an OpenCVE KB file): credit the record
        # that carried it, naming the provider.
        for source, doc in docs.items():
            if ((doc.get("metrics") or {}).get(name) or {}).get("data") == metric.get("data"):
                by = SOURCE_LABELS.get(provider, provider)
                chosen.setdefault(source, []).append(label if by in label else f"{label} ({by}'s)")
                break
    rows = []
    for source, doc in sorted(docs.items(), key=lambda pair: _source_rank(pair[0])):
        said = [*_metrics_said(doc.get("metrics") or {})]
        for field, noun in (("vendors", "vendor/product name"), ("cpes", "CPE"), ("weaknesses", "weakness"),
                            ("references", "reference")):  # fmt: skip
            values = doc.get(field) or []
            if values:
                plural = "" if len(values) == 1 else ("es" if noun.endswith("s") else "s")
                said.append(f"{len(values)} {noun}{plural}")
        if doc.get("description"):
            said.insert(0, "description")
        rows.append(SourceSaid(
            source=source,
            label=SOURCE_LABELS.get(source, source),
            updated=str(doc.get("updated") or doc.get("date") or "")[:10],
            said=tuple(said),
            chosen=tuple(chosen.get(source, [])),
        ))  # fmt: skip
    return rows


def _source_rank(source: str) -> tuple[int, str]:
    order = list(SOURCE_LABELS)
    return (order.index(source) if source in order else len(order), source)


def _metrics_said(metrics: dict[str, Any]) -> list[str]:
    said = []
    for name in METRIC_NAMES:
        data = (metrics.get(name) or {}).get("data")
        if data in (None, {}, "", []):
            continue
        label = METRIC_LABELS.get(name, name)
        if isinstance(data, dict) and data.get("score") is not None:
            said.append(f"{label} {data['score']}")
        elif isinstance(data, str):
            said.append(f"{label} {data}")
        else:
            said.append(label)
    return said
