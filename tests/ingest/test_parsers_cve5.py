"""CVE JSON 5 parser over the 200 real records in tests/data/cve5 (features listed in MANIFEST.csv)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from cvewatch.ingest.parsers._json import load_json
from cvewatch.ingest.parsers.cve5 import cve5_records
from cvewatch.ingest.records import CveRecord, Metric, ParseError

CVE5 = Path(__file__).resolve().parent.parent / "data" / "cve5"
MANIFEST = list(csv.DictReader((CVE5 / "MANIFEST.csv").open(encoding="utf-8")))


# Bytes in, as the walker does it: decoded once (load_json, which detect_format uses), then the format's parser.
def parse_cve5(data: bytes) -> list[CveRecord]:
    return cve5_records(load_json(data), raw=data)


def _records(name: str) -> dict[str, CveRecord]:
    return {r.source: r for r in parse_cve5((CVE5 / name).read_bytes())}


def test_manifest_lists_all_200_files() -> None:
    assert len(MANIFEST) == 200
    assert {row["file"] for row in MANIFEST} == {p.name for p in CVE5.glob("CVE-*.json")}


@pytest.mark.parametrize("row", MANIFEST, ids=[row["cve_id"] for row in MANIFEST])
def test_every_fixture_parses_with_its_listed_features(row: dict[str, str]) -> None:
    features = set(row["features"].split())
    data = (CVE5 / row["file"]).read_bytes()
    records = {r.source: r for r in parse_cve5(data)}
    mitre = records["mitre"]
    assert mitre.cve_id == row["cve_id"]
    assert mitre.raw == data
    assert mitre.published is not None and mitre.published.tzinfo is UTC
    assert mitre.updated is not None and mitre.updated >= mitre.published
    if "state_REJECTED" in features:
        assert mitre.state == "REJECTED" and list(records) == ["mitre"]
        assert mitre.description and not mitre.metrics
        return
    assert mitre.state == "PUBLISHED"
    assert mitre.description
    for name in ("cvssV2_0", "cvssV3_0", "cvssV3_1", "cvssV4_0"):
        if f"cna_{name}" in features:
            metric = mitre.metrics[name]
            assert metric.provider == "mitre" and 0 <= metric.data["score"] <= 10
            assert metric.data["vector"]
    if "cna_affected_cpes" in features:
        assert mitre.cpes and all(c.startswith("cpe:") for c in mitre.cpes)
    if "adp_CISA-ADP" in features:
        adp = records["vulnrichment"]
        assert adp.raw == b"" and adp.title is None
        assert adp.updated is not None
        if "adp_other_ssvc" in features:
            ssvc = adp.metrics["ssvc"]
            assert ssvc.provider == "vulnrichment"
            assert set(ssvc.data["options"]) == {"Exploitation", "Automatable", "Technical Impact"}
        if "adp_other_kev" in features:
            assert adp.metrics["kev"].data["dateAdded"]
        if "adp_cvssV3_1" in features:
            assert adp.metrics["cvssV3_1"].provider == "vulnrichment"
        if "adp_affected_cpes" in features:
            assert adp.cpes and adp.vendors
        if "adp_problemTypes" in features:
            assert all(w.startswith("CWE-") for w in adp.weaknesses)
    elif any(f.startswith("dv_") for f in features):
        # Rows with a full feature list (not the "diverse_assigner:*" ones) say when CISA ADP is absent.
        assert "vulnrichment" not in records
    for record in records.values():
        assert all(w.startswith("CWE-") and w[4:].isdigit() for w in record.weaknesses)
        assert len(set(record.vendors)) == len(record.vendors)
        names = [part for v in record.vendors for part in v.split("$PRODUCT$")]
        assert all(n == n.lower() and " " not in n and n for n in names)


def test_rejected_record() -> None:
    (record,) = parse_cve5((CVE5 / "CVE-2019-25161.json").read_bytes())
    assert record.state == "REJECTED"
    assert record.description == "This CVE ID has been rejected or withdrawn by its CVE Numbering Authority."
    assert record.published == datetime(2024, 2, 26, 17, 20, 20, 190000, tzinfo=UTC)
    assert record.updated == datetime(2024, 2, 27, 9, 57, 13, 593000, tzinfo=UTC)
    assert record.vendors == () and record.metrics == {}


def test_cvss_4_0_from_the_cna() -> None:
    records = _records("CVE-2019-17082.json")
    assert records["mitre"].metrics["cvssV4_0"] == Metric(
        {
            "score": 9.0,
            "vector": "CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/S:P/AU:N/R:I/V:C/RE:M/U:Red",
        },
        "mitre",
    )
    assert records["mitre"].weaknesses == ("CWE-522",)


def test_cisa_adp_ssvc_kev_cvss_and_cpes() -> None:
    records = _records("CVE-2021-44529.json")
    mitre, adp = records["mitre"], records["vulnrichment"]
    # The CNA names vendor "n/a": no vendor entry, and the CNA has no metrics.
    assert mitre.vendors == () and mitre.cpes == () and mitre.metrics == {}
    assert mitre.weaknesses == ("CWE-94",)
    assert mitre.published == datetime(2021, 12, 8, tzinfo=UTC)
    assert mitre.updated == datetime(2024, 8, 4, 4, 25, 16, 804000, tzinfo=UTC)
    # The CVE Program container repeats the CNA's references: kept once.
    assert len(mitre.references) == 3
    assert adp.updated == datetime(2024, 5, 1, 16, 59, 3, 218000, tzinfo=UTC)
    assert adp.metrics == {
        "cvssV3_1": Metric(
            {"score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, "vulnrichment"
        ),
        "ssvc": Metric(
            {
                "options": {"Exploitation": "active", "Automatable": "yes", "Technical Impact": "total"},
                "version": "2.0.3",
            },
            "vulnrichment",
        ),
        "kev": Metric({"dateAdded": "2024-03-25", "dueDate": None}, "vulnrichment"),
    }
    assert adp.cpes == (
        "cpe:2.3:a:ivanti:endpoint_manager_cloud_services_appliance:4.6:patch_512:*:*:*:*:*:*",
    )
    assert adp.vendors == ("ivanti", "ivanti$PRODUCT$endpoint_manager_cloud_services_appliance")


def test_cna_affected_vendors_without_cpes() -> None:
    mitre = _records("CVE-2023-23770.json")["mitre"]
    assert mitre.cpes == ()
    assert mitre.vendors == ("motorola", "motorola$PRODUCT$mbts_site_controller")
    assert mitre.weaknesses == ("CWE-259",)


def _doc(**changes: object) -> dict:
    doc = orjson.loads((CVE5 / "CVE-2023-23770.json").read_bytes())
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "top level is an array"),
        (orjson.dumps(_doc(dataType="CVE_RECORD_V4")), "dataType is 'CVE_RECORD_V4'"),
        (orjson.dumps(_doc(cveMetadata={"state": "PUBLISHED"})), "cveMetadata.cveId is missing"),
        (orjson.dumps(_doc(cveMetadata={"cveId": "GHSA-1234"})), "'GHSA-1234' is not a CVE id"),
        (
            orjson.dumps(_doc(containers={"cna": ["not", "an", "object"]})),
            "containers.cna: expected an object",
        ),
        (
            orjson.dumps(_doc(containers={"cna": {"descriptions": "text"}})),
            "containers.cna.descriptions: expected an array",
        ),
        (
            orjson.dumps(_doc(containers={"cna": {"metrics": [{"cvssV3_1": {"baseScore": "high"}}]}})),
            "containers.cna.metrics[0].cvssV3_1.baseScore: expected a number",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        parse_cve5(data)


def test_description_prefers_english_and_placeholders_are_not_vendors() -> None:
    doc = _doc()
    doc["containers"]["cna"]["descriptions"] = [
        {"lang": "fr", "value": "Une faille"},
        {"lang": "en-US", "value": "A flaw"},
    ]
    doc["containers"]["cna"]["affected"] = [
        {"vendor": "  Palo Alto  Networks ", "product": "PAN-OS"},
        {"vendor": "unknown", "product": "thing"},
        {
            "vendor": "acme",
            "product": "n/a",
            "cpes": ["cpe:2.3:a:acme\\:corp:road\\_runner:1.0:*:*:*:*:*:*:*"],
        },
    ]
    mitre = parse_cve5(orjson.dumps(doc))[0]
    assert mitre.description == "A flaw"
    assert mitre.vendors == (
        "palo_alto_networks",
        "palo_alto_networks$PRODUCT$pan-os",
        "acme",
        "acme:corp",
        "acme:corp$PRODUCT$road_runner",
    )


def test_published_falls_back_when_the_record_has_no_date_published() -> None:
    doc = _doc()
    for key in ("datePublished", "dateReserved"):
        doc["cveMetadata"].pop(key, None)
    doc["containers"]["cna"].pop("datePublic", None)
    doc["containers"]["cna"]["providerMetadata"]["dateUpdated"] = "2024-05-14T16:31:42.247377"
    doc["cveMetadata"]["dateUpdated"] = "2024-10-31T15:06:44.139Z"
    mitre = parse_cve5(orjson.dumps(doc))[0]
    assert mitre.published == datetime(2024, 5, 14, 16, 31, 42, 247377, tzinfo=UTC)
    assert mitre.updated == datetime(2024, 10, 31, 15, 6, 44, 139000, tzinfo=UTC)
    del doc["containers"]["cna"]["providerMetadata"]["dateUpdated"]
    assert parse_cve5(orjson.dumps(doc))[0].published == mitre.updated
