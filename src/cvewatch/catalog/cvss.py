"""CVSS vectors explained metric by metric, with the score recomputed by Red Hat's `cvss` library.

Pure over strings (no Django): a feed's vector and score in, a frozen explanation out. The library parses
and scores CVSS 2.0, 3.0, 3.1 and 4.0 and names every metric and value ("Attack Vector: Network"). A vector
the library refuses is kept as it is, with the library's reason, never raised: feeds do carry broken ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cvss import CVSS2, CVSS3, CVSS4, CVSSError, constants2, constants3, constants4

# Keys of Cve.metrics (catalog.vocabulary.CVSS_METRICS) and the version each holds.
VERSIONS = {"cvssV2_0": "2.0", "cvssV3_0": "3.0", "cvssV3_1": "3.1", "cvssV4_0": "4.0"}
# Scores are given with one decimal: a larger gap is a real disagreement, not rounding.
TOLERANCE = 0.05
_V4_SEVERITIES = ((9.0, "Critical"), (7.0, "High"), (4.0, "Medium"), (0.1, "Low"))
_V2_SEVERITIES = ((7.0, "High"), (4.0, "Medium"), (0.0, "Low"))  # NVD's ranges for CVSS 2


@dataclass(frozen=True, slots=True)
class CvssMetric:
    """One metric of a vector: "AV" / "Attack Vector" / "N" / "Network"; group "base" or "other"."""

    code: str
    name: str
    value: str
    label: str
    group: str


@dataclass(frozen=True, slots=True)
class CvssExplanation:
    """A CVSS score as a feed gave it, and what the library makes of its vector."""

    key: str  # cvssV3_1
    version: str  # "3.1"
    vector: str  # as given ("" when the feed gave none)
    given_score: float | None
    computed_score: float | None  # the library's base score, None when the vector could not be parsed
    severity: str  # "Critical" ... from the computed score, else from the given one ("" when neither)
    metrics: tuple[CvssMetric, ...] = ()
    problem: str = ""  # why the vector could not be read
    provider: str = ""  # who published it (a catalog.vocabulary.Source value)

    @property
    def score(self) -> float | None:
        """The score to show first: the feed's own (what the provider published), else the computed one."""
        return self.given_score if self.given_score is not None else self.computed_score

    @property
    def score_differs(self) -> bool:
        given, computed = self.given_score, self.computed_score
        return given is not None and computed is not None and abs(given - computed) > TOLERANCE

    @property
    def base_metrics(self) -> tuple[CvssMetric, ...]:
        return tuple(m for m in self.metrics if m.group == "base")

    @property
    def other_metrics(self) -> tuple[CvssMetric, ...]:
        return tuple(m for m in self.metrics if m.group != "base")


def explain(*, key: str, data: Any, provider: str = "") -> CvssExplanation | None:
    """The explanation of one Cve.metrics entry's data ({"score", "vector"}); None when it holds nothing."""
    version = VERSIONS.get(key)
    if version is None or not isinstance(data, dict):
        return None
    vector = data.get("vector") if isinstance(data.get("vector"), str) else ""
    vector = vector.strip()
    given = _number(data.get("score"))
    if not vector and given is None:
        return None
    if not vector:
        return CvssExplanation(key, version, "", given, None, severity_of(version, given),
                               problem="The source gave a score without a vector.", provider=provider)  # fmt: skip
    try:
        computed, severity, metrics = _parse(version, vector)
    except (CVSSError, KeyError, ValueError, ArithmeticError) as exc:
        reason = str(exc).strip().rstrip(".") or type(exc).__name__
        return CvssExplanation(key, version, vector, given, None, severity_of(version, given),
                               problem=f"The vector could not be read: {reason}.", provider=provider)  # fmt: skip
    severity = severity or severity_of(version, given)
    return CvssExplanation(key, version, vector, given, computed, severity, metrics, provider=provider)


def severity_of(version: str, score: float | None) -> str:
    """The qualitative rating of a score in its version's scale ("" without a score)."""
    if score is None:
        return ""
    scale = _V2_SEVERITIES if version == "2.0" else _V4_SEVERITIES
    for threshold, name in scale:
        if score >= threshold:
            return name
    return "None"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _parse(version: str, vector: str) -> tuple[float, str, tuple[CvssMetric, ...]]:
    if version == "2.0":
        # NVD writes bare v2 vectors; some feeds wrap them in parentheses or add a "CVSS:2.0/" prefix.
        bare = vector.strip("()").removeprefix("CVSS:2.0/")
        v2 = CVSS2(bare)
        score = float(v2.base_score)
        return score, severity_of(version, score), _metrics(v2.metrics, constants2, constants2.METRICS_MANDATORY)
    if version in ("3.0", "3.1"):
        v3 = CVSS3(vector)
        return (float(v3.base_score), v3.severities()[0],
                _metrics(v3.original_metrics, constants3, constants3.METRICS_MANDATORY))  # fmt: skip
    v4 = CVSS4(vector)
    return float(v4.base_score), str(v4.severity), _metrics(v4.original_metrics, constants4, constants4.METRICS_MANDATORY)


def _metrics(given: dict[str, str], constants: Any, mandatory: list[str]) -> tuple[CvssMetric, ...]:
    """The metrics written in the vector, in the specification's order, with the library's names."""
    found = []
    for code, name in constants.METRICS_ABBREVIATIONS.items():
        value = given.get(code)
        if value is None or (value == "X" and code not in mandatory):
            continue  # "Not Defined" optional metrics say nothing
        label = constants.METRICS_VALUE_NAMES.get(code, {}).get(value, value)
        found.append(CvssMetric(code, name, value, label, "base" if code in mandatory else "other"))
    return tuple(found)
