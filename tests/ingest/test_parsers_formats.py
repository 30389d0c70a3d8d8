"""OpenCVE KB, CISA KEV, FIRST EPSS and MITRE CWE parsers on real (or real-looking) files."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

from cvewatch.ingest.parsers._json import load_json
from cvewatch.ingest.parsers.cwe import parse_cwe
from cvewatch.ingest.parsers.epss import parse_epss
from cvewatch.ingest.parsers.kev import kev_entries
from cvewatch.ingest.parsers.opencve_kb import opencve_kb_record
from cvewatch.ingest.records import CveRecord, CweEntry, EpssScore, KevEntry, Metric, ParseError, Skipped

DATA = Path(__file__).resolve().parent.parent / "data"
KB_FILES = sorted((DATA / "opencve-kb").glob("*/*.json"))


# Bytes in, as the walker does it: decoded once (load_json, which detect_format uses), then the format's parser.
def parse_opencve_kb(data: bytes) -> CveRecord:
    return opencve_kb_record(load_json(data), raw=data)


def parse_kev(data: bytes, *, origin: str = "") -> Iterator[KevEntry | Skipped]:
    return kev_entries(load_json(data), origin=origin)


# --- OpenCVE knowledge base ----------------------------------------------------------------------


def test_kb_fixture_set_is_complete() -> None:
    assert len(KB_FILES) == 10


@pytest.mark.parametrize("path", KB_FILES, ids=[p.stem for p in KB_FILES])
def test_every_kb_file_parses_or_is_refused_as_a_stub(path: Path) -> None:
    data = path.read_bytes()
    doc = orjson.loads(data)
    if "opencve" not in doc:
        with pytest.raises(ParseError, match=r"no opencve block: not a CVE record \(KEV-only stub\?\)"):
            parse_opencve_kb(data)
        return
    record = parse_opencve_kb(data)
    block = doc["opencve"]
    assert record.cve_id == path.stem == doc["cve"]
    assert record.source == "opencve" and record.raw == data
    assert record.description == block["description"]["data"]
    assert record.published == datetime.fromisoformat(block["created"]["data"])
    assert record.updated == datetime.fromisoformat(block["updated"]["data"])
    assert record.published.tzinfo is not None
    for key in ("vendors", "cpes", "references", "weaknesses"):
        assert list(getattr(record, key)) == block[key]["data"]
    served = {name: Metric(m["data"], m["provider"]) for name, m in block["metrics"].items() if m["provider"]}
    assert record.metrics == served


def test_kb_log4shell_as_the_contract_shows_it() -> None:
    record = parse_opencve_kb((DATA / "opencve-kb" / "2021" / "CVE-2021-44228.json").read_bytes())
    assert record.state == "PUBLISHED"
    assert record.title == "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP and other JNDI related endpoints"
    assert record.published == datetime(2021, 12, 10, tzinfo=UTC)
    assert record.updated == datetime(2024, 7, 24, 17, 8, 24, 167000, tzinfo=UTC)
    assert record.metrics == {
        "cvssV2_0": Metric({"score": 9.3, "vector": "AV:N/AC:M/Au:N/C:C/I:C/A:C"}, "nvd"),
        "cvssV3_1": Metric({"score": 10.0, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}, "nvd"),
        "threat_severity": Metric("Critical", "redhat"),
    }
    assert record.weaknesses == ("CWE-20", "CWE-400", "CWE-502", "CWE-917")
    assert "apache$PRODUCT$log4j" in record.vendors and len(record.vendors) == 180
    assert "cpe:/a:redhat:amq_streams:1" in record.cpes


def test_kb_versions_differ_only_where_the_source_changed() -> None:
    v1 = parse_opencve_kb((DATA / "opencve-kb-versions" / "CVE-2024-6962.v1.json").read_bytes())
    v2 = parse_opencve_kb((DATA / "opencve-kb-versions" / "CVE-2024-6962.v2.json").read_bytes())
    assert (v1.title, v2.title) == ("Tenda O3 formQosSet stack-based overflow", "New title")
    assert (v1.description, v1.metrics, v1.vendors) == (v2.description, v2.metrics, v2.vendors)


def test_kb_kev_metric_keeps_its_provider() -> None:
    record = parse_opencve_kb((DATA / "opencve-kb" / "2025" / "CVE-2025-48543.json").read_bytes())
    assert record.metrics["kev"] == Metric(
        {"dateAdded": "2025-09-04T00:00:00+00:00", "dueDate": "2025-09-25T00:00:00+00:00"}, "cisa")
    assert record.metrics["epss"] == Metric({"score": 0.00223}, "first")


def test_kb_rejected_and_malformed() -> None:
    doc = orjson.loads((DATA / "opencve-kb" / "2024" / "CVE-2024-31331.json").read_bytes())
    doc["opencve"]["description"]["data"] = "Rejected reason: duplicate of CVE-2024-0001."
    assert parse_opencve_kb(orjson.dumps(doc)).state == "REJECTED"
    doc["opencve"]["vendors"]["data"] = "google"
    with pytest.raises(ParseError, match=r"opencve\.vendors\.data: expected an array, got a string"):
        parse_opencve_kb(orjson.dumps(doc))
    with pytest.raises(ParseError, match="cve 'CVE-24' is missing or not a CVE id"):
        parse_opencve_kb(orjson.dumps({"cve": "CVE-24", "opencve": {}}))
    with pytest.raises(ParseError, match="invalid JSON"):
        parse_opencve_kb(b'{"cve": "CVE-2024-0001",')


# --- CISA KEV ------------------------------------------------------------------------------------


def test_kev_catalog_subset() -> None:
    entries = list(parse_kev((DATA / "kev" / "kev_subset.json").read_bytes(), origin="kev.json"))
    assert len(entries) == 25 and all(isinstance(e, KevEntry) for e in entries)
    first = entries[0]
    assert first == KevEntry(
        cve_id="CVE-2025-48384", date_added=date(2025, 8, 25), due_date=date(2025, 9, 15),
        vendor_project="Git", product="Git", name="Git Link Following Vulnerability",
        required_action=first.required_action, known_ransomware="Unknown", notes=first.notes,
    )
    assert first.required_action.startswith("Apply mitigations") and "GHSA-vwqx-4fm8-6qc9" in first.notes


def test_kev_bad_entries_are_skipped() -> None:
    doc = orjson.loads((DATA / "kev" / "kev_subset.json").read_bytes())
    good = doc["vulnerabilities"][0]
    doc["vulnerabilities"] = [
        good,
        dict(good, cveID="CVE-2025-0001", dateAdded="yesterday"),
        dict(good, cveID=None),
        dict(good, cveID="CVE-2025-0002", dueDate="soon"),
        dict(good, cveID="CVE-2025-0003", product=["Git"]),
        "CVE-2025-0004",
        dict(good, cveID="CVE-2025-0005", dueDate=None),
    ]
    out = list(parse_kev(orjson.dumps(doc), origin="kev.json"))
    assert [type(o).__name__ for o in out] == ["KevEntry"] + ["Skipped"] * 5 + ["KevEntry"]
    assert out[1] == Skipped("kev.json#CVE-2025-0001", "dateAdded 'yesterday' is missing or not a date")
    assert out[2] == Skipped("kev.json#vulnerabilities[2]", "cveID None is missing or not a CVE id")
    assert out[3] == Skipped("kev.json#CVE-2025-0002", "dueDate 'soon' is not a date")
    assert out[4] == Skipped("kev.json#CVE-2025-0003", "product: expected a string, got an array")
    assert out[5] == Skipped("kev.json#vulnerabilities[5]", "expected an object, got a string")
    assert out[6].due_date is None
    with pytest.raises(ParseError, match="not a CISA KEV catalog"):
        parse_kev(b'{"catalogVersion": "1"}')


# --- FIRST EPSS ----------------------------------------------------------------------------------


def test_epss_with_model_header() -> None:
    scores = list(parse_epss((DATA / "epss" / "epss_scores-2024-01-01.csv").read_bytes(), origin="e.csv"))
    assert len(scores) == 5
    assert scores[1] == EpssScore("CVE-2021-44228", 0.97565, 0.99996, date(2024, 1, 1))
    assert {s.score_date for s in scores} == {date(2024, 1, 1)}


def test_epss_plain_and_gzipped_bytes_after_decompression() -> None:
    data = gzip.decompress(gzip.compress((DATA / "epss" / "epss_plain.csv").read_bytes()))
    scores = list(parse_epss(data))
    assert scores[0] == EpssScore("CVE-2021-44228", 0.94358, 0.99957, None)
    assert len(scores) == 3


def test_epss_bad_rows_are_skipped_with_their_line_number() -> None:
    data = (
        b"#model_version:v2023.03.01,score_date:2024-01-01T00:00:00+0000\n"
        b"cve,epss,percentile\n"
        b"CVE-2021-44228,0.97565,0.99996\n"
        b"CVE-2021-1,0.1,0.2\n"
        b"CVE-2021-44229,high,0.2\n"
        b"CVE-2021-44230,0.1\n"
        b"\n"
        b"CVE-2021-44231,1.5,0.2\n"
        b"CVE-2021-44232,0.00001,0.0001\r\n"
    )
    out = list(parse_epss(data, origin="e.csv"))
    assert [type(o).__name__ for o in out] == ["EpssScore", "Skipped", "Skipped", "Skipped", "Skipped", "EpssScore"]
    assert out[1] == Skipped("e.csv:4", "line 4: 'CVE-2021-1' is not a CVE id")
    assert out[2] == Skipped("e.csv:5", "line 5: epss/percentile are not numbers")
    assert out[3] == Skipped("e.csv:6", "line 6: expected 3 fields, got 2")
    assert out[4] == Skipped("e.csv:8", "line 8: epss/percentile outside 0-1")
    assert out[5] == EpssScore("CVE-2021-44232", 0.00001, 0.0001, date(2024, 1, 1))


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "expected header 'cve,epss,percentile', found 'end of file'"),
     (b"id,score\nCVE-2021-44228,0.9\n", "expected header 'cve,epss,percentile', found 'id,score'"),
     (b"cve,epss,percentile\n\xff\xfe", "not UTF-8")],
)
def test_epss_unusable_file(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_epss(data)


# --- MITRE CWE -----------------------------------------------------------------------------------


def test_cwe_sample_catalog() -> None:
    entries = list(parse_cwe((DATA / "cwe" / "cwec_sample.xml").read_bytes()))
    assert entries == [
        CweEntry("CWE-79", "Cross-site Scripting", "Test XSS description"),
        CweEntry("CWE-89", "SQL Injection", "Test SQLi description"),
        CweEntry("CWE-1", "Category only", ""),
    ]


def test_cwe_without_namespace_with_nested_markup_and_bad_ids() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<Weakness_Catalog Name="CWE" Version="4.15">
  <Weaknesses>
    <Weakness ID="20" Name="Improper Input Validation" Status="Stable">
      <Description>The product receives   input
        without <xhtml:b xmlns:xhtml="http://www.w3.org/1999/xhtml">validating</xhtml:b> it.</Description>
      <Related_Weaknesses><Related_Weakness Nature="ChildOf" CWE_ID="707"/></Related_Weaknesses>
    </Weakness>
    <Weakness ID="abc" Name="Broken"><Description>x</Description></Weakness>
  </Weaknesses>
  <Categories><Category ID="264" Name="Permissions, Privileges, and Access Controls">
    <Summary>Weaknesses in this category are related to permissions.</Summary></Category></Categories>
</Weakness_Catalog>"""
    out = list(parse_cwe(data, origin="c.xml"))
    assert out == [
        CweEntry("CWE-20", "Improper Input Validation", "The product receives input without validating it."),
        Skipped("c.xml#Weakness[ID='abc']", "Weakness ID 'abc' is not a number"),
        CweEntry("CWE-264", "Permissions, Privileges, and Access Controls",
                 "Weaknesses in this category are related to permissions."),
    ]


def test_cwe_refuses_dtds_and_entities() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><Weakness_Catalog>&b;</Weakness_Catalog>'
    with pytest.raises(ParseError, match="DOCTYPE or ENTITY declaration is refused"):
        parse_cwe(bomb)
    with pytest.raises(ParseError, match="DOCTYPE or ENTITY"):
        parse_cwe(b'<Weakness_Catalog><!ENTITY x SYSTEM "file:///etc/passwd"></Weakness_Catalog>')
    with pytest.raises(ParseError, match="not a CWE catalog"):
        parse_cwe(b"<html><body/></html>")


def test_cwe_truncated_catalog_keeps_entries_before_the_damage() -> None:
    data = (DATA / "cwe" / "cwec_sample.xml").read_bytes()
    cut = data[: data.index(b"<Weakness ID=\"89\"") + 30]
    out = list(parse_cwe(cut, origin="c.xml"))
    assert out[0] == CweEntry("CWE-79", "Cross-site Scripting", "Test XSS description")
    assert isinstance(out[-1], Skipped) and out[-1].reason.startswith("XML error, catalog read up to here")
    assert len(out) == 2
