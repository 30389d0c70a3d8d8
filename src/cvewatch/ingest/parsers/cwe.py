"""MITRE CWE XML catalog -> CweEntry per Weakness and per Category (NVD cites categories such as CWE-264)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from cvewatch.ingest.records import CweEntry, ParseError, Skipped

# Without defusedxml, refusing DTDs outright is what keeps entity expansion ("billion laughs") out.
_DTD_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_WHITESPACE_RE = re.compile(r"\s+")


def parse_cwe(data: bytes, *, origin: str = "") -> Iterator[CweEntry | Skipped]:
    """Entries of a CWE catalog; ParseError for DTDs/entities or a document that is not a catalog."""
    if _DTD_RE.search(data):
        raise ParseError("XML with a DOCTYPE or ENTITY declaration is refused (entity expansion risk)")
    if b"<Weakness_Catalog" not in data[:4096]:
        raise ParseError("not a CWE catalog: no <Weakness_Catalog> root element")
    return _entries(data, origin)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _text(element: ET.Element | None) -> str:
    if element is None:
        return ""
    return _WHITESPACE_RE.sub(" ", "".join(element.itertext())).strip()


def _entries(data: bytes, origin: str) -> Iterator[CweEntry | Skipped]:
    try:
        for _event, element in ET.iterparse(io.BytesIO(data), events=("end",)):
            name = _local(element.tag)
            if name not in ("Weakness", "Category"):
                continue
            cwe_id = element.get("ID", "")
            if not cwe_id.isdigit():
                yield Skipped(f"{origin}#{name}[ID={cwe_id!r}]", f"{name} ID {cwe_id!r} is not a number")
            else:
                text_tag = "Description" if name == "Weakness" else "Summary"
                child = next((c for c in element if _local(c.tag) == text_tag), None)
                yield CweEntry(cwe_id=f"CWE-{int(cwe_id)}", name=element.get("Name", ""), description=_text(child))
            # Entries are independent: free each subtree once read so memory stays flat.
            element.clear()
    except ET.ParseError as exc:
        yield Skipped(origin, f"XML error, catalog read up to here: {exc}")
