"""CVE JSON 5.0/5.1 records (the cvelistV5 layout): one file -> the CNA's record, plus CISA ADP's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cvewatch.catalog.names import normalize_cve_id, vendor_keys
from cvewatch.catalog.vocabulary import CVSS_METRICS, CveState, Source
from cvewatch.ingest.normalize import (
    cpe_vendor_keys,
    leading_cwe_id,
    normalize_cwe_id,
    parse_timestamp,
    unique,
)
from cvewatch.ingest.parsers._common import english_text, reference_urls
from cvewatch.ingest.parsers._json import as_list, as_obj, as_score, as_text, kind, load_json
from cvewatch.ingest.records import CveRecord, Metric, ParseError

CISA_ADP = "CISA-ADP"  # the shortName of CISA's ADP container


def parse_cve5(data: bytes) -> list[CveRecord]:
    """The 'mitre' record of a CVE JSON 5 file, then a 'vulnrichment' one when CISA ADP enriched it."""
    return cve5_records(load_json(data), raw=data)


def cve5_records(doc: Any, *, raw: bytes) -> list[CveRecord]:
    """Like parse_cve5, for a document already decoded (the walker decodes once to detect the format)."""
    if not isinstance(doc, dict):
        raise ParseError(f"not a CVE JSON 5 record: top level is {kind(doc)}")
    data_type = doc.get("dataType")
    if data_type != "CVE_RECORD":
        raise ParseError(f"not a CVE JSON 5 record: dataType is {data_type!r}, expected 'CVE_RECORD'")
    meta = as_obj(doc.get("cveMetadata"), "cveMetadata")
    raw_id = meta.get("cveId")
    if raw_id is None:
        raise ParseError("cveMetadata.cveId is missing")
    cve_id = normalize_cve_id(raw_id)
    if cve_id is None:
        raise ParseError(f"cveMetadata.cveId {raw_id!r} is not a CVE id")
    containers = as_obj(doc.get("containers"), "containers")
    cna = as_obj(containers.get("cna"), "containers.cna")
    state = as_text(meta.get("state"), "cveMetadata.state") or CveState.PUBLISHED
    if state.upper() == CveState.REJECTED:
        return [_rejected(cve_id, meta, cna, raw)]
    if state.upper() != CveState.PUBLISHED:
        raise ParseError(f"cveMetadata.state {state!r} is neither PUBLISHED nor REJECTED")

    cna_meta = as_obj(cna.get("providerMetadata"), "containers.cna.providerMetadata")
    cna_updated = parse_timestamp(cna_meta.get("dateUpdated"))
    updated = parse_timestamp(meta.get("dateUpdated")) or cna_updated
    # Some real records (MITRE-assigned, mostly) carry neither datePublished nor dateReserved:
    # the CNA's own last statement is the earliest date the record itself proves.
    published = (parse_timestamp(meta.get("datePublished")) or parse_timestamp(cna.get("datePublic"))
                 or parse_timestamp(meta.get("dateReserved")) or cna_updated or updated)

    adps = as_list(containers.get("adp"), "containers.adp")
    references = _references(cna, "containers.cna")
    cisa: tuple[int, dict[str, Any]] | None = None
    for index, adp in enumerate(adps):
        path = f"containers.adp[{index}]"
        adp = as_obj(adp, path)
        short_name = as_obj(adp.get("providerMetadata"), f"{path}.providerMetadata").get("shortName")
        if short_name == CISA_ADP:
            cisa = (index, adp)
        else:
            # Other ADPs (the CVE Program container) only republish references.
            references.extend(_references(adp, path))

    vendors, cpes = _affected(cna, "containers.cna")
    mitre = CveRecord(
        cve_id=cve_id,
        source=Source.MITRE,
        published=published,
        updated=updated or published,
        title=as_text(cna.get("title"), "containers.cna.title") or None,
        description=english_text(cna.get("descriptions"), "containers.cna.descriptions"),
        metrics=_metrics(cna, "containers.cna", provider=Source.MITRE),
        vendors=unique(vendors),
        cpes=unique(cpes),
        weaknesses=_weaknesses(cna, "containers.cna"),
        references=unique(references),
        raw=raw,
    )
    if cisa is None:
        return [mitre]
    return [mitre, _vulnrichment(cve_id, published, *cisa)]


def _vulnrichment(cve_id: str, published: datetime | None, index: int, adp: dict[str, Any]) -> CveRecord:
    path = f"containers.adp[{index}]"
    adp_meta = as_obj(adp.get("providerMetadata"), f"{path}.providerMetadata")
    vendors, cpes = _affected(adp, path)
    return CveRecord(
        cve_id=cve_id,
        source=Source.VULNRICHMENT,
        published=published,
        updated=parse_timestamp(adp_meta.get("dateUpdated")) or published,
        # The ADP title ("CISA ADP Vulnrichment") names the container, not the vulnerability.
        title=None,
        description=None,
        metrics=_metrics(adp, path, provider=Source.VULNRICHMENT),
        vendors=unique(vendors),
        cpes=unique(cpes),
        weaknesses=_weaknesses(adp, path),
        references=unique(_references(adp, path)),
        raw=b"",  # same file as the mitre record, which keeps it
    )


def _rejected(cve_id: str, meta: dict[str, Any], cna: dict[str, Any], raw: bytes) -> CveRecord:
    rejected_at = parse_timestamp(meta.get("dateRejected"))
    published = (parse_timestamp(meta.get("datePublished")) or rejected_at
                 or parse_timestamp(meta.get("dateReserved")))
    return CveRecord(
        cve_id=cve_id,
        source=Source.MITRE,
        state=CveState.REJECTED,
        published=published,
        updated=parse_timestamp(meta.get("dateUpdated")) or rejected_at or published,
        description=english_text(cna.get("rejectedReasons"), "containers.cna.rejectedReasons"),
        raw=raw,
    )


def _references(container: dict[str, Any], path: str) -> list[str]:
    return reference_urls(container.get("references"), f"{path}.references")


def _weaknesses(container: dict[str, Any], path: str) -> tuple[str, ...]:
    cwes = []
    for i, problem in enumerate(as_list(container.get("problemTypes"), f"{path}.problemTypes")):
        descriptions = as_obj(problem, f"{path}.problemTypes[{i}]").get("descriptions")
        for j, entry in enumerate(as_list(descriptions, f"{path}.problemTypes[{i}].descriptions")):
            entry = as_obj(entry, f"{path}.problemTypes[{i}].descriptions[{j}]")
            cwe = normalize_cwe_id(entry.get("cweId"))
            if cwe is None and entry.get("type") == "CWE":
                # Some CNAs only write "CWE-79 Improper Neutralization ..." in the description.
                cwe = leading_cwe_id(entry.get("description"))
            if cwe is not None:
                cwes.append(cwe)
    return unique(cwes)


def _affected(container: dict[str, Any], path: str) -> tuple[list[str], list[str]]:
    """Vendors-list entries and CPEs from affected[] (vendor/product names and cpes) and cpeApplicability."""
    vendors: list[str] = []
    cpes: list[str] = []
    for index, item in enumerate(as_list(container.get("affected"), f"{path}.affected")):
        item = as_obj(item, f"{path}.affected[{index}]")
        vendors.extend(vendor_keys(item.get("vendor"), item.get("product")))
        for j, cpe in enumerate(as_list(item.get("cpes"), f"{path}.affected[{index}].cpes")):
            cpe = as_text(cpe, f"{path}.affected[{index}].cpes[{j}]")
            if cpe:
                cpes.append(cpe)
                vendors.extend(cpe_vendor_keys(cpe))
    for index, applicability in enumerate(as_list(container.get("cpeApplicability"), f"{path}.cpeApplicability")):
        ipath = f"{path}.cpeApplicability[{index}]"
        for cpe in _node_cpes(as_list(as_obj(applicability, ipath).get("nodes"), f"{ipath}.nodes"), ipath):
            cpes.append(cpe)
            vendors.extend(cpe_vendor_keys(cpe))
    return vendors, cpes


def _node_cpes(nodes: list[Any], path: str) -> list[str]:
    found = []
    for index, node in enumerate(nodes):
        node = as_obj(node, f"{path}.nodes[{index}]")
        for j, match in enumerate(as_list(node.get("cpeMatch"), f"{path}.nodes[{index}].cpeMatch")):
            match = as_obj(match, f"{path}.nodes[{index}].cpeMatch[{j}]")
            criteria = match.get("criteria")
            if match.get("vulnerable") is True and isinstance(criteria, str) and criteria:
                found.append(criteria)
    return found


def _metrics(container: dict[str, Any], path: str, *, provider: str) -> dict[str, Metric]:
    """CVSS (the first of each version), and from ADP 'other' entries SSVC and KEV, in the API's shapes."""
    metrics: dict[str, Metric] = {}
    for index, entry in enumerate(as_list(container.get("metrics"), f"{path}.metrics")):
        epath = f"{path}.metrics[{index}]"
        entry = as_obj(entry, epath)
        for name in CVSS_METRICS:
            if name in entry and name not in metrics:
                cvss = as_obj(entry[name], f"{epath}.{name}")
                if cvss.get("baseScore") is None:
                    continue
                metrics[name] = Metric(
                    {"score": as_score(cvss["baseScore"], f"{epath}.{name}.baseScore"),
                     "vector": as_text(cvss.get("vectorString"), f"{epath}.{name}.vectorString")},
                    provider,
                )
        other = as_obj(entry.get("other"), f"{epath}.other")
        content = as_obj(other.get("content"), f"{epath}.other.content") if other else {}
        if other.get("type") == "ssvc" and "ssvc" not in metrics:
            metrics["ssvc"] = Metric(_ssvc(content, f"{epath}.other.content"), provider)
        elif other.get("type") == "kev" and "kev" not in metrics:
            metrics["kev"] = Metric(
                {"dateAdded": as_text(content.get("dateAdded"), f"{epath}.other.content.dateAdded"),
                 "dueDate": as_text(content.get("dueDate"), f"{epath}.other.content.dueDate")},
                provider,
            )
    return metrics


def _ssvc(content: dict[str, Any], path: str) -> dict[str, Any]:
    """[{"Exploitation": "Active"}, ...] -> {"options": {"Exploitation": "active", ...}, "version": ...}.

    Values are lower-cased because CISA writes both "Active" and "active" and OpenCVE serves lower case.
    """
    options: dict[str, str] = {}
    raw_options = content.get("options")
    if isinstance(raw_options, dict):
        raw_options = [raw_options]
    for index, option in enumerate(as_list(raw_options, f"{path}.options")):
        for key, value in as_obj(option, f"{path}.options[{index}]").items():
            options[key] = value.lower() if isinstance(value, str) else value
    return {"options": options, "version": as_text(content.get("version"), f"{path}.version")}
