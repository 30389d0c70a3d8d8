"""NVD records: API 2.0 responses/cve objects and the legacy JSON 1.1 feeds ({"CVE_Items": [...]})."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

import ijson

from cvewatch.catalog.names import normalize_cve_id
from cvewatch.catalog.vocabulary import CveState, Source
from cvewatch.ingest.normalize import (
    cpe_vendor_keys,
    normalize_cwe_id,
    parse_timestamp,
    unique,
)
from cvewatch.ingest.parsers._common import english_text, reference_urls, texts_of
from cvewatch.ingest.parsers._json import as_list, as_obj, as_score, as_text, dumps, kind
from cvewatch.ingest.records import CveRecord, Metric, ParseError, Skipped

_API_METRICS = (("cvssMetricV2", "cvssV2_0"), ("cvssMetricV30", "cvssV3_0"),
                ("cvssMetricV31", "cvssV3_1"), ("cvssMetricV40", "cvssV4_0"))
REJECT_PREFIX = "** REJECT **"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


# --- NVD API 2.0 ---------------------------------------------------------------------------------


def nvd_api_records(doc: Any, *, origin: str = "") -> Iterator[CveRecord | Skipped]:
    """Records of a decoded API 2.0 page, a {"cve": {...}} wrapper or a bare cve object.

    Raises ParseError at once when the document is none of those; a bad cve entry yields Skipped.
    """
    if not isinstance(doc, dict):
        raise ParseError(f"not an NVD API 2.0 document: top level is {kind(doc)}")
    if "vulnerabilities" in doc:
        entries = as_list(doc["vulnerabilities"], "vulnerabilities")
    elif "cve" in doc:
        entries = [doc]
    elif "id" in doc and ("descriptions" in doc or "sourceIdentifier" in doc):
        entries = [{"cve": doc}]
    else:
        raise ParseError("not an NVD API 2.0 document: no 'vulnerabilities', 'cve' or cve 'id'")
    return _api_entries(entries, origin)


def _api_entries(entries: list[Any], origin: str) -> Iterator[CveRecord | Skipped]:
    for index, entry in enumerate(entries):
        yield _api_entry(entry, index, origin)


def _api_entry(entry: Any, index: int, origin: str) -> CveRecord | Skipped:
    cve = entry.get("cve") if isinstance(entry, dict) else None
    try:
        if not isinstance(cve, dict):
            raise ParseError(f"vulnerabilities[{index}]: expected an object with a 'cve' object")
        return nvd_api_record(cve)
    except ParseError as exc:
        return Skipped(f"{origin}#{_label(cve, 'id', index)}", str(exc))


def nvd_api_record(cve: dict[str, Any]) -> CveRecord:
    """One API 2.0 cve object -> the 'nvd' record."""
    cve_id = _cve_id(cve.get("id"), "id")
    metrics: dict[str, Metric] = {}
    all_metrics = as_obj(cve.get("metrics"), "metrics")
    for key, name in _API_METRICS:
        entries = [as_obj(e, f"metrics.{key}[]") for e in as_list(all_metrics.get(key), f"metrics.{key}")]
        if not entries:
            continue
        # NVD's own assessment is "Primary"; CNA-supplied ones are "Secondary".
        chosen = next((e for e in entries if e.get("type") == "Primary"), entries[0])
        data = as_obj(chosen.get("cvssData"), f"metrics.{key}[].cvssData")
        if data.get("baseScore") is not None:
            metrics[name] = Metric(
                {"score": as_score(data["baseScore"], f"metrics.{key}[].cvssData.baseScore"),
                 "vector": as_text(data.get("vectorString"), f"metrics.{key}[].cvssData.vectorString")},
                Source.NVD,
            )
    kev_added = as_text(cve.get("cisaExploitAdd"), "cisaExploitAdd")
    if kev_added:
        metrics["kev"] = Metric(
            {"dateAdded": kev_added, "dueDate": as_text(cve.get("cisaActionDue"), "cisaActionDue")}, Source.KEV
        )

    cpes: list[str] = []
    for index, config in enumerate(as_list(cve.get("configurations"), "configurations")):
        nodes = as_list(as_obj(config, f"configurations[{index}]").get("nodes"), f"configurations[{index}].nodes")
        _collect_cpes(nodes, f"configurations[{index}].nodes", "cpeMatch", "criteria", cpes)
    cwes = []
    for index, weakness in enumerate(as_list(cve.get("weaknesses"), "weaknesses")):
        descriptions = as_obj(weakness, f"weaknesses[{index}]").get("description")
        for value in texts_of(descriptions, f"weaknesses[{index}].description", "value"):
            cwe = normalize_cwe_id(value)  # drops NVD-CWE-Other / NVD-CWE-noinfo
            if cwe is not None:
                cwes.append(cwe)
    status = as_text(cve.get("vulnStatus"), "vulnStatus") or ""
    description = english_text(cve.get("descriptions"), "descriptions")
    return CveRecord(
        cve_id=cve_id,
        source=Source.NVD,
        state=CveState.REJECTED if status == "Rejected" or _is_reject_text(description) else CveState.PUBLISHED,
        published=parse_timestamp(cve.get("published")),
        updated=parse_timestamp(cve.get("lastModified")) or parse_timestamp(cve.get("published")),
        description=description,
        metrics=metrics,
        vendors=_vendors(cpes),
        cpes=unique(cpes),
        weaknesses=unique(cwes),
        references=unique(reference_urls(cve.get("references"), "references")),
        raw=dumps(cve),
    )


# --- NVD JSON 1.1 feeds --------------------------------------------------------------------------


def nvd_feed_records(doc: Any, *, origin: str = "") -> Iterator[CveRecord | Skipped]:
    """Records of a decoded 1.1 feed, one at a time; a bad item yields Skipped with its id and the reason."""
    if not isinstance(doc, dict) or "CVE_Items" not in doc:
        raise ParseError("not an NVD JSON 1.1 feed: no 'CVE_Items'")
    return _feed_items(as_list(doc["CVE_Items"], "CVE_Items"), origin)


def _feed_items(items: list[Any], origin: str) -> Iterator[CveRecord | Skipped]:
    # A yearly feed is millions of acyclic containers alive for the whole loop: parked out of the
    # cyclic GC's reach (gc.freeze) they are not rescanned by every collection (a large share of parse time).
    gc.freeze()
    try:
        for index, item in enumerate(items):
            yield _feed_item(item, index, origin)
    finally:
        gc.unfreeze()


def _feed_item(item: Any, index: int, origin: str) -> CveRecord | Skipped:
    try:
        return nvd_feed_record(as_obj(item, "item"))
    except ParseError as exc:
        cve = item.get("cve") if isinstance(item, dict) else None
        meta = cve.get("CVE_data_meta") if isinstance(cve, dict) else None
        return Skipped(f"{origin}#{_label(meta, 'ID', index)}", str(exc))


# --- streamed: a feed or page too big to decode whole ------------------------------------------------


def nvd_feed_stream(stream: Readable, *, origin: str = "") -> Iterator[CveRecord | Skipped]:
    """Records of a 1.1 feed read from a stream (ijson): one CVE_Items entry in memory at a time."""
    return _streamed(stream, "CVE_Items.item", lambda item, index: _feed_item(item, index, origin), origin)


def nvd_api_stream(stream: Readable, *, origin: str = "") -> Iterator[CveRecord | Skipped]:
    """Records of an API 2.0 page or yearly 2.0 feed read from a stream: one vulnerability at a time."""
    return _streamed(stream, "vulnerabilities.item", lambda entry, index: _api_entry(entry, index, origin), origin)


def _streamed(
    stream: Readable, prefix: str, record: Callable[[Any, int], CveRecord | Skipped], origin: str
) -> Iterator[CveRecord | Skipped]:
    count = 0
    try:
        for item in ijson.items(stream, prefix, use_float=True):
            yield record(item, count)
            count += 1
    except ijson.JSONError as exc:
        why = (str(exc).strip().splitlines() or ["?"])[0][:200]
        yield Skipped(origin, f"invalid JSON after {count} entries, read up to here: {why}")


def nvd_feed_record(item: dict[str, Any]) -> CveRecord:
    """One CVE_Items entry -> the 'nvd' record."""
    cve = as_obj(item.get("cve"), "cve")
    cve_id = _cve_id(as_obj(cve.get("CVE_data_meta"), "cve.CVE_data_meta").get("ID"), "cve.CVE_data_meta.ID")
    impact = as_obj(item.get("impact"), "impact")
    metrics: dict[str, Metric] = {}
    v2 = as_obj(as_obj(impact.get("baseMetricV2"), "impact.baseMetricV2").get("cvssV2"),
                "impact.baseMetricV2.cvssV2")
    if v2.get("baseScore") is not None:
        metrics["cvssV2_0"] = Metric(
            {"score": as_score(v2["baseScore"], "impact.baseMetricV2.cvssV2.baseScore"),
             "vector": as_text(v2.get("vectorString"), "impact.baseMetricV2.cvssV2.vectorString")},
            Source.NVD,
        )
    v3 = as_obj(as_obj(impact.get("baseMetricV3"), "impact.baseMetricV3").get("cvssV3"),
                "impact.baseMetricV3.cvssV3")
    if v3.get("baseScore") is not None:
        vector = as_text(v3.get("vectorString"), "impact.baseMetricV3.cvssV3.vectorString")
        version = v3.get("version")
        if version not in ("3.0", "3.1"):
            version = "3.0" if vector and vector.startswith("CVSS:3.0/") else "3.1"
        metrics["cvssV3_0" if version == "3.0" else "cvssV3_1"] = Metric(
            {"score": as_score(v3["baseScore"], "impact.baseMetricV3.cvssV3.baseScore"), "vector": vector},
            Source.NVD,
        )

    cpes: list[str] = []
    nodes = as_list(as_obj(item.get("configurations"), "configurations").get("nodes"), "configurations.nodes")
    _collect_cpes(nodes, "configurations.nodes", "cpe_match", "cpe23Uri", cpes)
    cwes = []
    problems = as_obj(cve.get("problemtype"), "cve.problemtype").get("problemtype_data")
    for index, problem in enumerate(as_list(problems, "cve.problemtype.problemtype_data")):
        path = f"cve.problemtype.problemtype_data[{index}]"
        for value in texts_of(as_obj(problem, path).get("description"), f"{path}.description", "value"):
            cwe = normalize_cwe_id(value)
            if cwe is not None:
                cwes.append(cwe)
    description = english_text(as_obj(cve.get("description"), "cve.description").get("description_data"),
                               "cve.description.description_data")
    references = as_obj(cve.get("references"), "cve.references").get("reference_data")
    return CveRecord(
        cve_id=cve_id,
        source=Source.NVD,
        state=CveState.REJECTED if _is_reject_text(description) else CveState.PUBLISHED,
        published=parse_timestamp(item.get("publishedDate")),
        updated=parse_timestamp(item.get("lastModifiedDate")) or parse_timestamp(item.get("publishedDate")),
        description=description,
        metrics=metrics,
        vendors=_vendors(cpes),
        cpes=unique(cpes),
        weaknesses=unique(cwes),
        references=unique(reference_urls(references, "cve.references.reference_data")),
        raw=dumps(item),
    )


# --- shared --------------------------------------------------------------------------------------


def _collect_cpes(nodes: list[Any], path: str, match_key: str, uri_key: str, out: list[str]) -> None:
    """Vulnerable CPEs of configuration nodes, children included (1.1 nests AND/OR nodes).

    Depth-first with an explicit stack, nesting capped at MAX_NODE_DEPTH (real feeds nest two or three
    deep), and a node's path is spelled out only for an error message: building every node's path up
    front let a 1 MB record of deep, wide children cost gigabytes.
    """
    stack: list[_Node] = [_Node(None, i, node, 1) for i, node in reversed(list(enumerate(nodes)))]
    while stack:
        entry = stack.pop()
        if entry.depth > MAX_NODE_DEPTH:
            raise ParseError(f"{path}: configuration nodes nested deeper than {MAX_NODE_DEPTH} levels")
        node = entry.node
        if node is None:
            continue
        if not isinstance(node, dict):
            raise ParseError(f"{entry.path(path)}: expected an object, got {kind(node)}")
        matches = node.get(match_key)
        if matches is not None and not isinstance(matches, list):
            raise ParseError(f"{entry.path(path)}.{match_key}: expected an array, got {kind(matches)}")
        for j, match in enumerate(matches or ()):
            if match is None:
                continue
            if not isinstance(match, dict):
                raise ParseError(f"{entry.path(path)}.{match_key}[{j}]: expected an object, got {kind(match)}")
            uri = match.get(uri_key)
            if match.get("vulnerable") is True and isinstance(uri, str) and uri:
                out.append(uri)
        children = node.get("children")
        if children:
            if not isinstance(children, list):
                raise ParseError(f"{entry.path(path)}.children: expected an array, got {kind(children)}")
            stack.extend(_Node(entry, i, child, entry.depth + 1) for i, child in reversed(list(enumerate(children))))


MAX_NODE_DEPTH = 32


class _Node(NamedTuple):
    parent: _Node | None
    index: int
    node: Any
    depth: int

    def path(self, root: str) -> str:
        parts = []
        entry: _Node | None = self
        while entry is not None:
            parts.append(f"[{entry.index}]")
            entry = entry.parent
        return root + ".children".join(reversed(parts))


def _vendors(cpes: list[str]) -> tuple[str, ...]:
    keys: list[str] = []
    for cpe in cpes:
        keys.extend(cpe_vendor_keys(cpe))
    return unique(keys)


def _cve_id(value: object, path: str) -> str:
    if value is None:
        raise ParseError(f"{path} is missing")
    cve_id = normalize_cve_id(value)
    if cve_id is None:
        raise ParseError(f"{path} {value!r} is not a CVE id")
    return cve_id


def _is_reject_text(description: str | None) -> bool:
    return description is not None and description.lstrip().startswith(REJECT_PREFIX)


def _label(obj: object, key: str, index: int) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value else f"item[{index}]"
