"""NVD parsers: the JSON 1.1 feed fixture (cases in MANIFEST.csv) and the API 2.0 cve objects."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from cvewatch.ingest.parsers._json import load_json
from cvewatch.ingest.parsers.nvd import nvd_api_records, nvd_feed_records
from cvewatch.ingest.records import CveRecord, Metric, ParseError, Skipped

DATA = Path(__file__).resolve().parent.parent / "data"
FEED = DATA / "nvd-1.1" / "nvdcve-1.1-fixtures.json"
MANIFEST = list(csv.DictReader((DATA / "nvd-1.1" / "MANIFEST.csv").open(encoding="utf-8")))


# Bytes in, as the walker does it: decoded once (load_json, which detect_format uses), then the format's parser.
def parse_nvd_feed(data: bytes, *, origin: str = "") -> Iterator[CveRecord | Skipped]:
    return nvd_feed_records(load_json(data), origin=origin)


def parse_nvd_api(data: bytes, *, origin: str = "") -> Iterator[CveRecord | Skipped]:
    return nvd_api_records(load_json(data), origin=origin)


@pytest.fixture(scope="module")
def feed() -> dict[str, CveRecord]:
    items = list(parse_nvd_feed(FEED.read_bytes(), origin="feed.json"))
    assert all(isinstance(i, CveRecord) for i in items)
    return {i.cve_id: i for i in items}


@pytest.fixture(scope="module")
def raw_items() -> dict[str, dict]:
    return {i["cve"]["CVE_data_meta"]["ID"]: i for i in orjson.loads(FEED.read_bytes())["CVE_Items"]}


def _all_cpes(nodes: list[dict], vulnerable: bool) -> set[str]:
    found = set()
    for node in nodes:
        found |= {m["cpe23Uri"] for m in node.get("cpe_match", []) if m["vulnerable"] is vulnerable}
        found |= _all_cpes(node.get("children", []), vulnerable)
    return found


def test_feed_yields_every_manifest_case(feed: dict[str, CveRecord]) -> None:
    assert len(feed) == 33
    assert set(feed) == {row["cve_id"] for row in MANIFEST}


@pytest.mark.parametrize("row", MANIFEST, ids=[row["cve_id"] for row in MANIFEST])
def test_feed_case(row: dict[str, str], feed: dict[str, CveRecord], raw_items: dict[str, dict]) -> None:
    features = set(row["features"].split())
    record, item = feed[row["cve_id"]], raw_items[row["cve_id"]]
    assert record.source == "nvd"
    assert record.published is not None and record.published.tzinfo is UTC
    assert record.updated is not None and record.updated >= record.published
    assert orjson.loads(record.raw) == item
    assert record.description
    assert ("cvssV2_0" in record.metrics) == ("v2" in features)
    assert ("cvssV3_0" in record.metrics or "cvssV3_1" in record.metrics) == ("v3" in features)
    for metric in record.metrics.values():
        assert metric.provider == "nvd" and 0 <= metric.data["score"] <= 10 and metric.data["vector"]
    assert (record.state == "REJECTED") == ("rejected" in features)
    nodes = item["configurations"]["nodes"]
    assert set(record.cpes) == _all_cpes(nodes, True)
    if "no_configurations" in features:
        assert record.cpes == () and record.vendors == ()
    if "children_nodes" in features:
        assert record.cpes and any(node.get("children") for node in nodes)
    if "non_vulnerable_platform" in features:
        assert _all_cpes(nodes, False) - _all_cpes(nodes, True)
        assert not (set(record.cpes) & (_all_cpes(nodes, False) - _all_cpes(nodes, True)))
    if "nvd_cwe_placeholder" in features:
        assert b"NVD-CWE-" in record.raw
    cwe_values = [
        d["value"] for p in item["cve"]["problemtype"]["problemtype_data"] for d in p["description"]
    ]
    assert list(record.weaknesses) == [v for v in cwe_values if not v.startswith("NVD-CWE-")]
    if "multi_cwe" in features:
        assert len(cwe_values) >= 2


def test_feed_details(feed: dict[str, CveRecord]) -> None:
    record = feed["CVE-2012-4154"]
    assert record.metrics == {
        "cvssV2_0": Metric({"score": 10.0, "vector": "AV:N/AC:L/Au:N/C:C/I:C/A:C"}, "nvd")
    }
    assert record.vendors == ("adobe", "adobe$PRODUCT$acrobat", "adobe$PRODUCT$acrobat_reader")
    assert record.published == datetime(2012, 8, 15, 10, 31, tzinfo=UTC)
    assert feed["CVE-2025-0870"].metrics["cvssV3_1"].data == {
        "score": 5.9,
        "vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H",
    }
    assert feed["CVE-2025-0870"].weaknesses == ("CWE-119", "CWE-122")
    assert feed["CVE-2021-0384"].description.startswith("** REJECT **")


def test_feed_v3_version_from_vector_when_the_version_field_is_missing() -> None:
    doc = orjson.loads(FEED.read_bytes())
    item = next(i for i in doc["CVE_Items"] if i["cve"]["CVE_data_meta"]["ID"] == "CVE-2016-1991")
    cvss = item["impact"]["baseMetricV3"]["cvssV3"]
    del cvss["version"]
    cvss["vectorString"] = "CVSS:3.0/" + cvss["vectorString"].split("/", 1)[1]
    (record,) = parse_nvd_feed(orjson.dumps({"CVE_Items": [item]}))
    assert isinstance(record, CveRecord)
    assert "cvssV3_0" in record.metrics and "cvssV3_1" not in record.metrics


def test_feed_bad_items_are_skipped_and_the_rest_kept() -> None:
    doc = orjson.loads(FEED.read_bytes())
    items = doc["CVE_Items"][:3]
    broken = orjson.loads(orjson.dumps(items[1]))
    broken["impact"]["baseMetricV2"]["cvssV2"]["baseScore"] = "ten"
    no_id = {"cve": {"CVE_data_meta": {}}}
    doc["CVE_Items"] = [items[0], broken, "not an object", no_id, items[2]]
    out = list(parse_nvd_feed(gzip.decompress(gzip.compress(orjson.dumps(doc))), origin="f.json"))
    assert [type(o).__name__ for o in out] == ["CveRecord", "Skipped", "Skipped", "Skipped", "CveRecord"]
    assert out[1] == Skipped(
        "f.json#CVE-1999-0016", "impact.baseMetricV2.cvssV2.baseScore: expected a number, got 'ten'"
    )
    assert out[2] == Skipped("f.json#item[2]", "item: expected an object, got a string")
    assert out[3] == Skipped("f.json#item[3]", "cve.CVE_data_meta.ID is missing")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b'{"CVE_Items": [', "invalid JSON"),
        (b'{"CVE_Items": {}}', "CVE_Items: expected an array"),
        (b'{"foo": 1}', "no 'CVE_Items'"),
    ],
)
def test_feed_unusable_file(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_nvd_feed(data)


def test_api_cve_with_cvss_4_kev_and_configurations() -> None:
    data = (DATA / "nvd-api-2.0" / "CVE-2024-0012.json").read_bytes()
    (record,) = parse_nvd_api(data)
    assert isinstance(record, CveRecord)
    assert record.cve_id == "CVE-2024-0012" and record.source == "nvd" and record.state == "PUBLISHED"
    assert record.published == datetime(2024, 11, 18, 16, 15, 11, 683000, tzinfo=UTC)
    assert record.updated == datetime(2025, 10, 21, 20, 19, 49, 640000, tzinfo=UTC)
    assert record.description.startswith("An authentication bypass in Palo Alto")
    # NVD's own (Primary) CVSS 3.1 wins over the CNA's (Secondary) one.
    assert record.metrics["cvssV3_1"] == Metric(
        {"score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, "nvd"
    )
    assert record.metrics["cvssV4_0"].data["score"] == 9.3
    assert record.metrics["kev"] == Metric({"dateAdded": "2024-11-18", "dueDate": "2024-12-09"}, "cisa")
    assert record.vendors == ("paloaltonetworks", "paloaltonetworks$PRODUCT$pan-os")
    assert "cpe:2.3:o:paloaltonetworks:pan-os:11.2.4:-:*:*:*:*:*:*" in record.cpes
    assert record.weaknesses == ("CWE-306",)
    assert orjson.loads(record.raw) == orjson.loads(data)


def test_api_cve_without_configurations() -> None:
    (record,) = parse_nvd_api((DATA / "nvd-api-2.0" / "CVE-2024-0056.json").read_bytes())
    assert isinstance(record, CveRecord)
    assert record.cpes == () and record.vendors == () and list(record.metrics) == ["cvssV3_1"]


def test_api_page_wrapper_rejected_status_and_bad_entries() -> None:
    cve = orjson.loads((DATA / "nvd-api-2.0" / "CVE-2024-0056.json").read_bytes())
    rejected = dict(
        cve,
        id="CVE-2024-0057",
        vulnStatus="Rejected",
        configurations=[
            {
                "nodes": [
                    {
                        "cpeMatch": [
                            {"vulnerable": True, "criteria": "cpe:2.3:a:foo\\:bar:baz:1:*:*:*:*:*:*:*"},
                            {"vulnerable": False, "criteria": "cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*"},
                        ]
                    }
                ]
            }
        ],
        weaknesses=[
            {"description": [{"lang": "en", "value": "NVD-CWE-noinfo"}, {"lang": "en", "value": "CWE-79"}]}
        ],
    )
    page = {
        "resultsPerPage": 3,
        "format": "NVD_CVE",
        "version": "2.0",
        "vulnerabilities": [{"cve": cve}, {"cve": {"id": "nope"}}, {"cve": rejected}, 7],
    }
    out = list(parse_nvd_api(orjson.dumps(page), origin="page.json"))
    assert [type(o).__name__ for o in out] == ["CveRecord", "Skipped", "CveRecord", "Skipped"]
    assert out[1] == Skipped("page.json#nope", "id 'nope' is not a CVE id")
    assert out[3].origin == "page.json#item[3]"
    record = out[2]
    assert isinstance(record, CveRecord)
    assert record.state == "REJECTED"
    assert record.cpes == ("cpe:2.3:a:foo\\:bar:baz:1:*:*:*:*:*:*:*",)
    assert record.vendors == ("foo:bar", "foo:bar$PRODUCT$baz")
    assert record.weaknesses == ("CWE-79",)
    (wrapped,) = parse_nvd_api(orjson.dumps({"cve": cve}))
    assert wrapped == out[0]


def test_api_unusable_document() -> None:
    with pytest.raises(ParseError, match="not an NVD API 2.0 document"):
        parse_nvd_api(b'{"hello": "world"}')


def _nested_item(cve_id: str, depth: int) -> dict:
    node: dict = {"operator": "OR", "children": [],
                  "cpe_match": [{"vulnerable": True, "cpe23Uri": "cpe:2.3:a:deep:thing:1:*:*:*:*:*:*:*"}]}
    for _ in range(depth):
        node = {"operator": "AND", "children": [node], "cpe_match": []}
    return {"cve": {"CVE_data_meta": {"ID": cve_id}, "description": {"description_data": [{"lang": "en", "value": "d"}]}},
            "configurations": {"nodes": [node]}, "publishedDate": "2020-01-01T00:00Z"}


def test_feed_deeply_nested_configurations_do_not_break_the_feed() -> None:
    import json  # orjson refuses to write documents this deep; the stdlib builds the hostile input

    doc = {"CVE_Items": [_nested_item("CVE-2020-0001", 100), _nested_item("CVE-2020-0002", 200),
                         _nested_item("CVE-2020-0003", 1)]}
    out = list(parse_nvd_feed(json.dumps(doc).encode(), origin="deep.json"))
    assert [type(o).__name__ for o in out] == ["CveRecord", "Skipped", "CveRecord"]
    assert out[0].cpes == ("cpe:2.3:a:deep:thing:1:*:*:*:*:*:*:*",)
    assert out[1] == Skipped("deep.json#CVE-2020-0002", "cannot keep the record as JSON: Recursion limit reached")
