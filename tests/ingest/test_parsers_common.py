"""The parts every parser reads the same way: one language rule for descriptions, one reference reader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from cvewatch.ingest.parsers._common import english_text, is_english, reference_urls
from cvewatch.ingest.parsers._json import load_json
from cvewatch.ingest.parsers.cve5 import cve5_records
from cvewatch.ingest.parsers.nvd import nvd_api_records, nvd_feed_records
from cvewatch.ingest.records import CveRecord, ParseError

CVE5 = Path(__file__).resolve().parent.parent / "data" / "cve5" / "CVE-2023-23770.json"


@pytest.mark.parametrize(
    ("lang", "english"),
    [
        ("en", True), ("EN", True), ("en-US", True), ("en-us", True), ("en-GB", True), ("En-Gb", True),
        ("en-Latn-US", True), ("eng", False), ("fr", False), ("es-EN", False), ("english", False), ("", False),
        (None, False), (1, False),
    ],
)  # fmt: skip
def test_the_one_language_rule(lang: object, english: bool) -> None:
    assert is_english(lang) is english


def test_english_text_prefers_the_first_english_value_else_the_first_value() -> None:
    texts = [
        {"lang": "fr", "value": "Une faille"},
        {"lang": "en", "value": ""},
        {"lang": "en-GB", "value": "A flaw"},
    ]
    assert english_text(texts, "d") == "A flaw"
    assert (
        english_text([{"lang": "fr", "value": "Une faille"}, {"lang": "de", "value": "x"}], "d")
        == "Une faille"
    )
    assert english_text(None, "d") is None and english_text([], "d") is None
    with pytest.raises(ParseError, match=r"d\[0\]\.value: expected a string"):
        english_text([{"lang": "en", "value": 3}], "d")


def test_reference_urls_keep_order_and_drop_empty_ones() -> None:
    refs = [{"url": "https://a.example"}, {"url": ""}, {"name": "no url"}, {"url": "https://b.example"}]
    assert reference_urls(refs, "r") == ["https://a.example", "https://b.example"]
    with pytest.raises(ParseError, match=r"r\[1\]: expected an object"):
        reference_urls([{"url": "https://a.example"}, "https://b.example"], "r")


TEXTS = [{"lang": "es", "value": "Una falla"}, {"lang": "EN-gb", "value": "A flaw"}]
REFS = [{"url": "https://vendor.example/advisory"}, {"url": "https://vendor.example/fix"}]


def _parsed_by_every_format() -> dict[str, CveRecord]:
    doc = orjson.loads(CVE5.read_bytes())
    doc["containers"]["cna"]["descriptions"] = TEXTS
    doc["containers"]["cna"]["references"] = REFS
    doc["containers"].pop("adp", None)
    api = {"id": "CVE-2024-0001", "descriptions": TEXTS, "references": REFS}
    feed = {
        "CVE_Items": [
            {
                "cve": {
                    "CVE_data_meta": {"ID": "CVE-2024-0001"},
                    "description": {"description_data": TEXTS},
                    "references": {"reference_data": REFS},
                }
            }
        ]
    }
    records = {
        "cve5": cve5_records(doc, raw=orjson.dumps(doc))[0],
        "nvd-2.0": next(iter(nvd_api_records(load_json(orjson.dumps(api))))),
        "nvd-1.1": next(iter(nvd_feed_records(load_json(orjson.dumps(feed))))),
    }
    assert all(isinstance(r, CveRecord) for r in records.values())
    return records


def test_every_parser_picks_the_same_description_and_references() -> None:
    for fmt, record in _parsed_by_every_format().items():
        assert (fmt, record.description) == (fmt, "A flaw")
        assert (fmt, record.references) == (fmt, tuple(r["url"] for r in REFS))


def test_the_parsers_and_the_walker_import_nothing_of_django() -> None:
    # Parsers are pure: the catalog vocabulary and names they use are Django-free modules.
    code = "import sys, cvewatch.ingest.sources; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
