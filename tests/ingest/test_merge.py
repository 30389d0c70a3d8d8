"""The merge rules and the change-event diff (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cvewatch.catalog.choices import METRIC_NAMES
from cvewatch.ingest import merge
from cvewatch.ingest.records import CveRecord, EpssScore, KevEntry, Metric

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def rec(source: str, **kwargs) -> dict:
    kwargs.setdefault("cve_id", "CVE-2024-0001")
    return merge.cve_record_doc(CveRecord(source=source, **kwargs))


def cvss(score: float, provider: str, name: str = "cvssV3_1") -> dict[str, Metric]:
    return {name: Metric({"score": score, "vector": f"CVSS:3.1/{score}"}, provider)}


def view(docs: dict[str, dict]) -> dict:
    result = merge.merge_docs(docs, fallback_time=NOW)
    assert result is not None
    return result


# --- docs -------------------------------------------------------------------------------------------------


def test_cve_record_doc_is_canonical_json_with_utc_timestamps():
    doc = rec(
        "nvd",
        published=datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        updated=datetime(2024, 5, 2),  # noqa: DTZ001 -- naive on purpose: taken as UTC
        vendors=("b", "a", "a"),
        references=("https://z", "https://a"),
        metrics=cvss(7.5, "nvd"),
    )
    assert doc["published"] == "2024-05-01T10:00:00+00:00"
    assert doc["updated"] == "2024-05-02T00:00:00+00:00"
    assert doc["vendors"] == ["a", "b"]
    assert doc["references"] == ["https://a", "https://z"]
    assert doc["metrics"] == {
        "cvssV3_1": {"data": {"score": 7.5, "vector": "CVSS:3.1/7.5"}, "provider": "nvd"}
    }
    assert merge.canonical_json(doc)  # serialisable as is


def test_kev_and_epss_docs_carry_only_their_metric():
    kev = merge.kev_entry_doc(
        KevEntry("CVE-2024-0001", date(2024, 2, 1), date(2024, 2, 22), vendor_project="Acme")
    )
    assert kev["kind"] == "kev"
    assert kev["metrics"] == {
        "kev": {"data": {"dateAdded": "2024-02-01", "dueDate": "2024-02-22"}, "provider": "cisa"}
    }
    assert kev["kev"]["vendorProject"] == "Acme"
    epss = merge.epss_score_doc(EpssScore("CVE-2024-0001", 0.00223, 0.61, date(2024, 3, 1)))
    assert epss["metrics"] == {"epss": {"data": {"score": 0.00223, "percentile": 0.61}, "provider": "first"}}


def test_the_digest_depends_on_record_and_raw_bytes():
    def digest(doc: dict, raw: bytes) -> str:
        return merge.seal(doc, raw)[1]

    doc = rec("mitre", description="x")
    assert digest(doc, b"a") == digest(rec("mitre", description="x"), b"a")
    assert digest(doc, b"a") != digest(doc, b"b")
    assert digest(doc, b"a") != digest(rec("mitre", description="y"), b"a")


# --- merge ------------------------------------------------------------------------------------------------


def test_no_cve_source_means_no_view():
    kev = merge.kev_entry_doc(KevEntry("CVE-2024-0001", date(2024, 2, 1), None))
    assert merge.merge_docs({"cisa": kev}, fallback_time=NOW) is None
    assert merge.merge_docs({}, fallback_time=NOW) is None


def test_description_and_title_prefer_cna_then_adp_then_nvd_then_kb():
    docs = {
        "opencve": rec("opencve", title="kb title", description="kb"),
        "nvd": rec("nvd", description="nvd"),
        "vulnrichment": rec("vulnrichment", title="adp title"),
        "mitre": rec("mitre", description="cna"),
    }
    v = view(docs)
    assert (v["description"], v["providers"]["description"]) == ("cna", "mitre")
    assert (v["title"], v["providers"]["title"]) == ("adp title", "vulnrichment")
    del docs["mitre"]
    assert view(docs)["description"] == "nvd"
    del docs["nvd"]
    assert view(docs)["description"] == "kb"


def test_every_metric_name_is_served_and_absent_ones_have_the_contract_shape():
    v = view({"nvd": rec("nvd")})
    assert list(v["metrics"]) == list(METRIC_NAMES)
    assert v["metrics"]["cvssV3_1"] == {"data": {}, "provider": None}
    assert v["metrics"]["threat_severity"] == {"data": None, "provider": None}


def test_per_metric_first_source_in_priority_order_wins_and_keeps_its_provider():
    docs = {
        "nvd": rec("nvd", metrics={**cvss(9.8, "nvd"), **cvss(10.0, "nvd", "cvssV2_0")}),
        "vulnrichment": rec("vulnrichment", metrics=cvss(8.1, "vulnrichment")),
        "opencve": rec(
            "opencve",
            metrics={"threat_severity": Metric("Important", "redhat"), **cvss(1.0, "nvd", "cvssV4_0")},
        ),
    }
    m = view(docs)["metrics"]
    assert m["cvssV3_1"] == {"data": {"score": 8.1, "vector": "CVSS:3.1/8.1"}, "provider": "vulnrichment"}
    assert m["cvssV2_0"]["provider"] == "nvd"
    assert m["threat_severity"] == {"data": "Important", "provider": "redhat"}
    assert m["cvssV4_0"]["provider"] == "nvd"  # the KB's own provider is kept
    docs["mitre"] = rec("mitre", metrics=cvss(6.5, "mitre"))
    assert view(docs)["metrics"]["cvssV3_1"]["provider"] == "mitre"


def test_an_empty_metric_does_not_shadow_a_lower_priority_one():
    docs = {
        "mitre": rec("mitre", metrics={"cvssV3_1": Metric({}, "mitre")}),
        "nvd": rec("nvd", metrics=cvss(5.0, "nvd")),
    }
    assert view(docs)["metrics"]["cvssV3_1"]["provider"] == "nvd"


def test_kev_prefers_the_kev_catalog_then_adp_and_epss_comes_from_first():
    adp_kev = {"kev": Metric({"dateAdded": "2023-01-01", "dueDate": None}, "vulnrichment")}
    docs = {"mitre": rec("mitre"), "vulnrichment": rec("vulnrichment", metrics=adp_kev)}
    assert view(docs)["metrics"]["kev"]["provider"] == "vulnrichment"
    docs["cisa"] = merge.kev_entry_doc(KevEntry("CVE-2024-0001", date(2024, 2, 1), None))
    docs["first"] = merge.epss_score_doc(EpssScore("CVE-2024-0001", 0.5, 0.9))
    m = view(docs)["metrics"]
    assert m["kev"] == {"data": {"dateAdded": "2024-02-01", "dueDate": None}, "provider": "cisa"}
    assert m["epss"] == {"data": {"score": 0.5, "percentile": 0.9}, "provider": "first"}
    assert view(docs)["providers"]["sources"] == ["cisa", "first", "mitre", "vulnrichment"]


def test_published_is_the_earliest_and_updated_the_latest_known():
    early, mid, late = (datetime(2024, 1, d, tzinfo=UTC) for d in (1, 5, 9))
    docs = {
        "mitre": rec("mitre", published=mid, updated=mid),
        "nvd": rec("nvd", published=early, updated=late),
    }
    v = view(docs)
    assert (v["created_at"], v["providers"]["created_at"]) == (early.isoformat(), "nvd")
    assert (v["updated_at"], v["providers"]["updated_at"]) == (late.isoformat(), "nvd")


def test_missing_dates_fall_back_and_updated_is_never_before_created():
    v = view({"nvd": rec("nvd")})
    assert v["created_at"] == v["updated_at"] == NOW.isoformat()
    only_updated = view({"nvd": rec("nvd", updated=datetime(2023, 1, 1, tzinfo=UTC))})
    assert only_updated["created_at"] == only_updated["updated_at"] == "2023-01-01T00:00:00+00:00"
    skewed = view(
        {
            "nvd": rec(
                "nvd", published=datetime(2023, 6, 1, tzinfo=UTC), updated=datetime(2023, 1, 1, tzinfo=UTC)
            )
        }
    )
    assert skewed["updated_at"] == skewed["created_at"] == "2023-06-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({"mitre": "REJECTED", "nvd": "PUBLISHED"}, "REJECTED"),
        ({"mitre": "PUBLISHED", "nvd": "REJECTED"}, "PUBLISHED"),  # the CNA is authoritative
        ({"nvd": "REJECTED", "opencve": "PUBLISHED"}, "REJECTED"),  # without the CNA, whoever says so
        ({"nvd": "PUBLISHED"}, "PUBLISHED"),
    ],
)
def test_state(states, expected):
    assert view({s: rec(s, state=st) for s, st in states.items()})["state"] == expected


def test_lists_are_sorted_deduplicated_unions_and_products_imply_their_vendor():
    docs = {
        "mitre": rec(
            "mitre", vendors=("tenda$PRODUCT$o3",), weaknesses=("CWE-121",), references=("https://b",)
        ),
        "nvd": rec(
            "nvd",
            vendors=("tenda", "tenda$PRODUCT$o3_firmware"),
            cpes=("cpe:2.3:o:tenda:o3_firmware:1.0:*:*:*:*:*:*:*",),
            weaknesses=("CWE-121", "CWE-787"),
            references=("https://a", "https://b"),
        ),
    }
    v = view(docs)
    assert v["vendors"] == ["tenda", "tenda$PRODUCT$o3", "tenda$PRODUCT$o3_firmware"]
    assert v["weaknesses"] == ["CWE-121", "CWE-787"]
    assert v["references"] == ["https://a", "https://b"]
    assert v["cpes"] == ["cpe:2.3:o:tenda:o3_firmware:1.0:*:*:*:*:*:*:*"]
    # A CNA-only record (no CPEs yet) still links the vendor and product.
    assert view({"mitre": docs["mitre"]})["vendors"] == ["tenda", "tenda$PRODUCT$o3"]


def test_merge_and_digest_do_not_depend_on_source_order():
    a = {"nvd": rec("nvd", description="n", vendors=("x",)), "mitre": rec("mitre", vendors=("y",))}
    b = dict(reversed(list(a.items())))
    assert merge.view_digest(view(a)) == merge.view_digest(view(b))
    assert merge.view_digest(view(a)) != merge.view_digest(view({"nvd": a["nvd"]}))


def test_row_values_denormalise_scores_kev_and_epss():
    docs = {
        "nvd": rec(
            "nvd",
            published=datetime(2024, 1, 1, tzinfo=UTC),
            metrics={
                **cvss(9.8, "nvd"),
                **cvss(10, "nvd", "cvssV2_0"),
                "cvssV4_0": Metric({"score": "bad"}, "x"),
            },
        ),
        "cisa": merge.kev_entry_doc(KevEntry("CVE-2024-0001", date(2024, 2, 1), None)),
        "first": merge.epss_score_doc(EpssScore("CVE-2024-0001", 0.25, 0.5)),
    }
    values = merge.row_values(view(docs))
    assert values["cvss31_score"] == 9.8
    assert values["cvss20_score"] == 10.0
    assert values["cvss30_score"] is None
    assert values["cvss40_score"] is None  # not a number: not a score
    assert values["kev_added"] == date(2024, 2, 1)
    assert values["epss_score"] == 0.25
    assert values["created_at"] == datetime(2024, 1, 1, tzinfo=UTC)


# --- diff -------------------------------------------------------------------------------------------------


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


def test_a_new_cve_gets_created_and_first_time_for_names_never_seen():
    new = view(
        {"mitre": rec("mitre", vendors=("google$PRODUCT$android", "acme$PRODUCT$anvil"), description="d")}
    )
    events = merge.diff_views(None, new, known_vendors={"google", "acme"})
    assert events == [
        {"type": "created", "details": {}},
        {"type": "first_time", "details": ["acme$PRODUCT$anvil", "google$PRODUCT$android"]},
    ]
    everything = set(new["vendors"])
    assert merge.diff_views(None, new, known_vendors=everything) == [{"type": "created", "details": {}}]


def test_identical_views_have_no_events():
    v = view({"mitre": rec("mitre", description="d", vendors=("a",), metrics=cvss(5, "mitre"))})
    assert merge.diff_views(v, v, known_vendors={"a"}) == []


def test_text_events_carry_old_and_new():
    old = view({"mitre": rec("mitre", description="old text")})
    new = view({"mitre": rec("mitre", description="new text", title="A title")})
    assert merge.diff_views(old, new, known_vendors=()) == [
        {"type": "description", "details": {"old": "old text", "new": "new text"}},
        {"type": "title", "details": {"old": None, "new": "A title"}},
    ]


def test_list_events_carry_added_and_removed():
    old = view(
        {"nvd": rec("nvd", vendors=("a", "b"), cpes=("c1",), references=("r1",), weaknesses=("CWE-1",))}
    )
    new = view({"nvd": rec("nvd", vendors=("b", "c"), cpes=("c1",), references=("r2", "r1"), weaknesses=())})
    events = merge.diff_views(old, new, known_vendors={"a", "b"})
    assert events == [
        {"type": "first_time", "details": ["c"]},
        {"type": "vendors", "details": {"added": ["c"], "removed": ["a"]}},
        {"type": "references", "details": {"added": ["r2"], "removed": []}},
        {"type": "weaknesses", "details": {"added": [], "removed": ["CWE-1"]}},
    ]


def test_metric_events_added_removed_updated_and_epss_ignored():
    old = view(
        {
            "nvd": rec("nvd", metrics={**cvss(5.0, "nvd"), **cvss(4.0, "nvd", "cvssV2_0")}),
            "first": merge.epss_score_doc(EpssScore("CVE-2024-0001", 0.1, 0.2)),
        }
    )
    new = view(
        {
            "nvd": rec("nvd", metrics={**cvss(7.5, "nvd"), "threat_severity": Metric("Low", "redhat")}),
            "first": merge.epss_score_doc(EpssScore("CVE-2024-0001", 0.3, 0.4)),
        }
    )
    (event,) = merge.diff_views(old, new, known_vendors=())
    assert event == {
        "type": "metrics",
        "details": {
            "added": {"threat_severity": "Low"},
            "removed": {"cvssV2_0": {"score": 4.0, "vector": "CVSS:3.1/4.0"}},
            "updated": {
                "cvssV3_1": {
                    "old": {"score": 5.0, "vector": "CVSS:3.1/5.0"},
                    "new": {"score": 7.5, "vector": "CVSS:3.1/7.5"},
                }
            },
        },
    }
    epss_before = view(
        {"nvd": rec("nvd"), "first": merge.epss_score_doc(EpssScore("CVE-2024-0001", 0.1, 0.2))}
    )
    epss_after = view(
        {"nvd": rec("nvd"), "first": merge.epss_score_doc(EpssScore("CVE-2024-0001", 0.9, 0.9))}
    )
    assert merge.view_digest(epss_before) != merge.view_digest(epss_after)  # the row is still rewritten
    assert merge.diff_views(epss_before, epss_after, known_vendors=()) == []


def test_a_provider_change_alone_is_not_an_event():
    old = view({"nvd": rec("nvd", metrics=cvss(5.0, "nvd"))})
    new = view({"mitre": rec("mitre", metrics=cvss(5.0, "mitre"))})
    assert "metrics" not in types(merge.diff_views(old, new, known_vendors=()))


# --- stale copies -----------------------------------------------------------------------------------------


def test_a_copy_older_than_the_stored_one_is_stale():
    stored = {"updated": "2024-03-05T08:00:00+00:00"}
    older = {"updated": "2024-03-01T12:00:00+00:00"}
    newer = {"updated": "2024-03-09T12:00:00+00:00"}
    assert merge.stale_copy(older, "d1", stored=stored, stored_digest="d0") == merge.OLDER
    assert merge.stale_copy(newer, "d1", stored=stored, stored_digest="d0") is None
    assert merge.SUPERSEDED_KEY not in newer
    # An unknown date on either side is never "older".
    assert merge.stale_copy({"updated": None}, "d1", stored=stored, stored_digest="d0") is None


def test_a_same_dated_copy_replaces_the_stored_one_once_and_remembers_it():
    when = "2025-05-13T19:35:00+00:00"
    b = {"updated": when, "description": "B"}
    assert merge.stale_copy(b, "digest-b", stored={"updated": when}, stored_digest="digest-a") is None
    assert b[merge.SUPERSEDED_KEY] == ["digest-a"]
    # Copy A comes back after B was stored: A is superseded, B stays.
    a = {"updated": when, "description": "A"}
    assert merge.stale_copy(a, "digest-a", stored=b, stored_digest="digest-b") == merge.SUPERSEDED
    # The history is capped.
    doc = {"updated": when}
    stored = {"updated": when, merge.SUPERSEDED_KEY: ["1", "2", "3", "4"]}
    assert merge.stale_copy(doc, "6", stored=stored, stored_digest="5") is None
    assert doc[merge.SUPERSEDED_KEY] == ["2", "3", "4", "5"]
