"""catalog.cvss on real vectors of every CVSS version (tests/data/cve5, the CNAs' and CISA's own scores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cvewatch.catalog.cvss import VERSIONS, explain, severity_of

CVE5 = Path(__file__).resolve().parent.parent / "data" / "cve5"


def real_scores() -> list[tuple[str, str, str, float]]:
    """(file, metrics key, vector, base score) of every CVSS entry in the real CVE JSON 5 fixtures."""
    found = []
    for path in sorted(CVE5.glob("*.json")):
        containers = json.loads(path.read_bytes())["containers"]
        for container in [containers["cna"], *containers.get("adp", [])]:
            for entry in container.get("metrics", []):
                for key in VERSIONS:
                    if key in entry and entry[key].get("vectorString"):
                        found.append((path.name, key, entry[key]["vectorString"], entry[key]["baseScore"]))
    return found


def test_the_fixtures_hold_every_version():
    assert {key for _, key, _, _ in real_scores()} == set(VERSIONS)


def test_the_library_computes_the_published_scores_of_real_vectors():
    disagreements = []
    for name, key, vector, score in real_scores():
        explanation = explain(key=key, data={"score": score, "vector": vector}, provider="mitre")
        assert explanation is not None and explanation.problem == "", (name, vector, explanation)
        assert explanation.base_metrics, (name, vector)
        if explanation.score_differs:
            disagreements.append((name, explanation.given_score, explanation.computed_score))
    # One real CNA score is not its vector's base score (it published 5 for a 5.3 vector): shown as both.
    assert disagreements == [("CVE-2022-30299.json", 5.0, 5.3)]


@pytest.mark.parametrize(
    ("key", "vector", "score", "severity", "first", "count"),
    [
        ("cvssV3_1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "Critical",
         ("Attack Vector", "Network"), 8),
        ("cvssV3_0", "CVSS:3.0/AV:L/AC:H/PR:L/UI:R/S:U/C:L/I:N/A:N", 2.2, "Low", ("Attack Vector", "Local"), 8),
        ("cvssV2_0", "AV:N/AC:M/Au:N/C:C/I:C/A:C", 9.3, "High", ("Access Vector", "Network"), 6),
        ("cvssV4_0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "Critical",
         ("Attack Vector", "Network"), 11),
    ],
)  # fmt: skip
def test_each_version_is_explained_metric_by_metric(key, vector, score, severity, first, count):
    explanation = explain(key=key, data={"score": score, "vector": vector})
    assert explanation.computed_score == score and not explanation.score_differs
    assert explanation.severity == severity
    assert (explanation.base_metrics[0].name, explanation.base_metrics[0].label) == first
    assert len(explanation.base_metrics) == count and explanation.other_metrics == ()


def test_optional_metrics_written_in_the_vector_are_listed_apart():
    explanation = explain(
        key="cvssV3_1", data={"score": 5.3, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N/E:P/RL:U/RC:C"}
    )
    assert [(m.name, m.label) for m in explanation.other_metrics] == [
        ("Exploit Code Maturity", "Proof-of-Concept"),
        ("Remediation Level", "Unavailable"),
        ("Report Confidence", "Confirmed"),
    ]
    v2 = explain(key="cvssV2_0", data={"score": 5.0, "vector": "(AV:N/AC:L/Au:N/C:N/I:N/A:P)"})
    assert v2.problem == "" and v2.computed_score == 5.0  # parenthesised, as some feeds write v2


@pytest.mark.parametrize(
    "data",
    [
        {"score": 9.8, "vector": "garbage"},
        {"score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"},  # a mandatory metric missing
        {"score": 9.8, "vector": "CVSS:3.1/AV:Z/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},  # an unknown value
        {"score": 9.8, "vector": "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},  # a metric twice
    ],
)
def test_a_malformed_vector_is_kept_with_the_reason_never_raised(data):
    explanation = explain(key="cvssV3_1", data=data, provider="nvd")
    assert explanation.vector == data["vector"] and explanation.computed_score is None
    assert explanation.problem.startswith("The vector could not be read: ")
    assert explanation.score == 9.8 and explanation.severity == "Critical"  # from the feed's own score


def test_absent_or_odd_data():
    assert explain(key="cvssV3_1", data={}) is None
    assert explain(key="cvssV3_1", data=None) is None
    assert explain(key="kev", data={"score": 1.0}) is None
    assert explain(key="cvssV3_1", data={"score": True, "vector": None}) is None
    only_score = explain(key="cvssV2_0", data={"score": 4.3})
    assert only_score.problem == "The source gave a score without a vector." and only_score.severity == "Medium"
    assert severity_of("3.1", 0.0) == "None" and severity_of("2.0", 0.0) == "Low" and severity_of("4.0", None) == ""
