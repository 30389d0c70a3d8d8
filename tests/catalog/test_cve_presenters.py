"""The CVE page's pure presenters: affected products and version ranges, the change timeline, the facts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from cvewatch.catalog import affected, cve_facts, history

CVE5 = Path(__file__).resolve().parent.parent / "data" / "cve5"


def test_vendor_groups_put_the_cna_vendors_first_then_by_name():
    flat = ["zeta", "zeta$PRODUCT$z1", "apache$PRODUCT$log4j", "cisco$PRODUCT$b", "cisco$PRODUCT$a", "", 3]
    groups = affected.vendor_groups(flat, first=frozenset({"zeta"}))
    assert [(g.vendor, g.products) for g in groups] == [
        ("zeta", ("z1",)),
        ("apache", ("log4j",)),  # listed though the flat list omits the bare vendor
        ("cisco", ("a", "b")),
    ]


def test_statements_read_the_cna_and_cisa_adp_ranges_of_a_real_record():
    record = json.loads((CVE5 / "CVE-2023-4785.json").read_bytes())
    statements = affected.statements(record)
    assert statements[0].source == "CNA (Google)"
    entry = statements[0].entries[0]
    assert (entry.vendor, entry.product, entry.default_status) == ("Google", "gRPC", "unaffected")
    assert entry.product_key == "google$PRODUCT$grpc"
    texts = [(r.status, r.text, r.changes) for r in entry.ranges]
    assert ("unaffected", "Before 1.23", ()) in texts
    assert ("affected", "From 1.56.0 through 1.56.1", ("from 1.56.2: unaffected",)) in texts
    assert any(s.source == "CISA ADP (vulnrichment)" for s in affected.statements(
        json.loads((CVE5 / "CVE-2021-44529.json").read_bytes())))  # fmt: skip


def test_malformed_affected_entries_are_skipped():
    record = {"containers": {"cna": {"affected": [
        "text", {"vendor": 3}, {"vendor": "Acme", "product": "Rocket", "versions": [
            "x", {"status": "affected"}, {"version": "0", "lessThan": "2.0", "status": "affected", "changes": "no"},
        ]},
    ]}, "adp": "nope"}}  # fmt: skip
    [statement] = affected.statements(record)
    [entry] = statement.entries
    assert [(r.text, r.changes) for r in entry.ranges] == [("Before 2.0", ())]
    assert affected.statements(None) == [] and affected.statements({"containers": []}) == []


def test_the_timeline_groups_and_counts_long_name_lists():
    names = ["apache", "apache$PRODUCT$log4j"] + [f"cisco$PRODUCT$p{i}" for i in range(40)]
    change = SimpleNamespace(created_at=datetime(2024, 1, 1, tzinfo=UTC), events=[
        {"type": "created", "details": {}},
        {"type": "first_time", "details": names},
        {"type": "vendors", "details": {"added": ["cisco$PRODUCT$p99"], "removed": ["apache$PRODUCT$log4j"]}},
        {"type": "references", "details": {"added": ["https://a.example/1", "https://a.example/2"], "removed": []}},
        {"type": "metrics", "details": {"added": {"kev": {"dateAdded": "2021-12-10"}},
                                        "updated": {"cvssV3_1": {"old": {"score": 9.8}, "new": {"score": 10.0}}},
                                        "removed": {"ssvc": {}}}},
        {"type": "bogus"}, "not an event",
    ])  # fmt: skip
    [entry] = history.timeline([change])
    created, first, vendors, refs, metrics, bogus = entry.differences
    assert created.summary == "Added to the catalog"
    assert first.summary == "First CVE of 41 products of 2 vendors" and first.long
    assert [g.heading for g in first.added] == ["apache", "cisco"] and len(first.added[1].items) == 40
    assert vendors.summary == "Vendors and products: 1 product of 1 vendor added, 1 product of 1 vendor removed"
    assert refs.summary == "References: 2 added" and not refs.long
    assert metrics.summary == "CISA KEV entry added (since 2021-12-10); CVSS 3.1 9.8 → 10.0; SSVC decision removed"
    assert bogus.kind == "bogus"


def test_description_changes_are_a_short_word_diff():
    old = " ".join(f"w{i}" for i in range(60)) + " remote code execution"
    new = " ".join(f"w{i}" for i in range(60)) + " denial of service"
    [diff] = history.differences([{"type": "description", "details": {"old": old, "new": new}}])
    assert diff.summary == "Description changed"
    assert diff.diff[0] == ("skip", "54 unchanged words")
    assert ("delete", "remote code execution") in diff.diff and ("insert", "denial of service") in diff.diff
    [title] = history.differences([{"type": "title", "details": {"old": None, "new": "Log4Shell"}}])
    assert title.summary == "Title set" and title.diff == (("insert", "Log4Shell"),)


def test_facts_kev_epss_ssvc_and_references():
    metrics = {
        "kev": {"data": {"dateAdded": "2021-12-10", "dueDate": "2021-12-24"}, "provider": "cisa"},
        "epss": {"data": {"score": 0.97565, "percentile": 0.99996}, "provider": "first"},
        "ssvc": {"data": {"options": {"Exploitation": "active", "Automatable": "yes", "Technical Impact": "total",
                                      "Other": "x"}, "version": "2.0.3"}, "provider": "vulnrichment"},
    }  # fmt: skip
    kev = cve_facts.kev(metrics, {"kev": {"requiredAction": "Apply updates.", "knownRansomwareCampaignUse": "Known"}})
    assert (kev.due_date, kev.required_action, kev.known_ransomware) == ("2021-12-24", "Apply updates.", "Known")
    assert cve_facts.kev({}, None) is None
    epss = cve_facts.epss(metrics, {"date": "2024-01-01"})
    assert round(epss.score_percent, 3) == 97.565 and epss.date == "2024-01-01"
    points, note = cve_facts.ssvc(metrics)
    assert [p.name for p in points] == ["Exploitation", "Automatable", "Technical impact", "Other"]
    assert points[0].meaning.startswith("Active: reliable evidence") and points[3].meaning == "x"
    assert note == "SSVC 2.0.3"
    refs = cve_facts.references(["javascript:alert(1)", "https://www.example.com/a?b=1", "", 7, "http://[bad"])
    assert [(r.host, r.safe) for r in refs] == [("www.example.com", True), ("", False), ("", False)]


def test_sources_said_credits_each_record():
    docs = {
        "opencve": {"description": "d", "metrics": {"cvssV3_1": {"data": {"score": 10.0}, "provider": "nvd"}},
                    "vendors": ["a", "a$PRODUCT$b"], "updated": "2024-07-24T17:08:00+00:00"},
        "cisa": {"kind": "kev", "metrics": {"kev": {"data": {"dateAdded": "2021-12-10"}, "provider": "cisa"}}},
    }  # fmt: skip
    metrics = {"cvssV3_1": {"data": {"score": 10.0}, "provider": "nvd"},
               "kev": {"data": {"dateAdded": "2021-12-10"}, "provider": "cisa"}}  # fmt: skip
    rows = cve_facts.sources_said(docs, providers={"description": "opencve"}, metrics=metrics)
    assert [r.source for r in rows] == ["opencve", "cisa"]
    assert rows[0].said == ("description", "CVSS 3.1 10.0", "2 vendor/product names")
    assert rows[0].chosen == ("description", "CVSS 3.1 (NVD's)") and rows[0].updated == "2024-07-24"
    assert rows[1].chosen == ("CISA KEV entry",)
