"""The catalog's fixed vocabularies as plain enums, free of Django so the feed parsers can use them.

`catalog/choices.py` builds the model choices from these values; nothing else spells them out. Members are
`str` (StrEnum): they compare, hash and serialise as their value.
"""

from __future__ import annotations

import enum


class CveState(enum.StrEnum):
    PUBLISHED = "PUBLISHED"
    REJECTED = "REJECTED"


class Source(enum.StrEnum):
    """Where a per-source record came from (SourceRecord.source). Names follow OpenCVE's provider names."""

    MITRE = "mitre"  # the CVE Program record: the CNA container of a CVE JSON 5 file
    VULNRICHMENT = "vulnrichment"  # CISA's ADP container in the same file
    NVD = "nvd"
    REDHAT = "redhat"
    OPENCVE = "opencve"  # an OpenCVE knowledge-base file's merged view
    KEV = "cisa"  # the CISA KEV catalog (and NVD's cisaExploitAdd KEV data)
    EPSS = "first"  # FIRST's EPSS scores


class ChangeType(enum.StrEnum):
    """The type of one change event (Change.events[].type)."""

    CREATED = "created"
    FIRST_TIME = "first_time"
    VENDORS = "vendors"
    CPES = "cpes"
    REFERENCES = "references"
    WEAKNESSES = "weaknesses"
    DESCRIPTION = "description"
    TITLE = "title"
    METRICS = "metrics"


# Keys of Cve.metrics, in the order the API shows them.
METRIC_NAMES = ("kev", "ssvc", "cvssV2_0", "cvssV3_0", "cvssV3_1", "cvssV4_0", "epss", "threat_severity")
CVSS_METRICS = ("cvssV2_0", "cvssV3_0", "cvssV3_1", "cvssV4_0")


# CVSS v3.x/v4.0 qualitative ratings (FIRST specification, section 5): the one rule of the pages' badges, the
# CSV export and the alerts' grouping (catalog.cvss keeps the per-version scales of the CVE page's cards).
SEVERITY_THRESHOLDS = ((9.0, "critical"), (7.0, "high"), (4.0, "medium"), (0.1, "low"))


def severity(score: float | None) -> str:
    """The lowercase rating of a score: "critical" … "low", "none" for 0.0, "" without a score."""
    if score is None:
        return ""
    for threshold, name in SEVERITY_THRESHOLDS:
        if score >= threshold:
            return name
    return "none"
