"""OpenCVE knowledge-base files (`<year>/<CVE>.json`): the merged `opencve` block, as OpenCVE serves it."""

from __future__ import annotations

from typing import Any

from cvewatch.catalog.names import normalize_cve_id
from cvewatch.catalog.vocabulary import METRIC_NAMES, CveState, Source
from cvewatch.ingest.normalize import parse_timestamp
from cvewatch.ingest.parsers._json import as_list, as_obj, as_text, kind, load_json
from cvewatch.ingest.records import CveRecord, Metric, ParseError

REJECTED_PREFIX = "Rejected reason:"
NO_OPENCVE_BLOCK = "no opencve block: not a CVE record (KEV-only stub?)"


def parse_opencve_kb(data: bytes) -> CveRecord:
    """The one 'opencve' record of a KB file; ParseError for a file without an opencve block."""
    return opencve_kb_record(load_json(data), raw=data)


def opencve_kb_record(doc: Any, *, raw: bytes) -> CveRecord:
    if not isinstance(doc, dict):
        raise ParseError(f"not an OpenCVE KB record: top level is {kind(doc)}")
    block = doc.get("opencve")
    if block is None:
        raise ParseError(NO_OPENCVE_BLOCK)
    block = as_obj(block, "opencve")
    raw_id = doc.get("cve")
    cve_id = normalize_cve_id(raw_id)
    if cve_id is None:
        raise ParseError(f"cve {raw_id!r} is missing or not a CVE id")

    description = as_text(_scalar(block, "description"), "opencve.description.data")
    mitre_state = as_obj(as_obj(doc.get("mitre"), "mitre").get("cveMetadata"), "mitre.cveMetadata").get("state")
    rejected = (description or "").startswith(REJECTED_PREFIX) or mitre_state == CveState.REJECTED

    metrics: dict[str, Metric] = {}
    for name, entry in as_obj(block.get("metrics"), "opencve.metrics").items():
        entry = as_obj(entry, f"opencve.metrics.{name}")
        data, provider = entry.get("data"), entry.get("provider")
        if name not in METRIC_NAMES or provider is None or data in ({}, None, ""):
            continue
        metrics[name] = Metric(data, as_text(provider, f"opencve.metrics.{name}.provider") or "")
    return CveRecord(
        cve_id=cve_id,
        source=Source.OPENCVE,
        state=CveState.REJECTED if rejected else CveState.PUBLISHED,
        published=parse_timestamp(_scalar(block, "created")),
        updated=parse_timestamp(_scalar(block, "updated")),
        title=as_text(_scalar(block, "title"), "opencve.title.data") or None,
        description=description,
        metrics=metrics,
        vendors=_union(block, "vendors"),
        cpes=_union(block, "cpes"),
        weaknesses=_union(block, "weaknesses"),
        references=_union(block, "references"),
        raw=raw,
    )


def _scalar(block: dict[str, Any], key: str) -> object:
    """The data of a {"data": ..., "provider": ...} scalar."""
    return as_obj(block.get(key), f"opencve.{key}").get("data")


def _union(block: dict[str, Any], key: str) -> tuple[str, ...]:
    """The data of a {"data": [...], "providers": [...]} union, as it is."""
    values = as_list(as_obj(block.get(key), f"opencve.{key}").get("data"), f"opencve.{key}.data")
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise ParseError(f"opencve.{key}.data[{index}]: expected a string, got {kind(value)}")
    return tuple(values)
