from django.db import models


class CveState(models.TextChoices):
    PUBLISHED = "PUBLISHED", "Published"
    REJECTED = "REJECTED", "Rejected"


class Source(models.TextChoices):
    """Where a per-source record came from. Names follow OpenCVE's provider names."""

    MITRE = "mitre", "CVE Program (CNA container)"
    VULNRICHMENT = "vulnrichment", "CISA ADP (vulnrichment)"
    NVD = "nvd", "NVD"
    REDHAT = "redhat", "Red Hat"
    OPENCVE = "opencve", "OpenCVE knowledge base (merged view)"
    KEV = "cisa", "CISA KEV catalog"
    EPSS = "first", "FIRST EPSS"


# Keys of Cve.metrics, in the order the API shows them.
METRIC_NAMES = ("kev", "ssvc", "cvssV2_0", "cvssV3_0", "cvssV3_1", "cvssV4_0", "epss", "threat_severity")
CVSS_METRICS = ("cvssV2_0", "cvssV3_0", "cvssV3_1", "cvssV4_0")


class ChangeType(models.TextChoices):
    CREATED = "created"
    FIRST_TIME = "first_time"
    VENDORS = "vendors"
    CPES = "cpes"
    REFERENCES = "references"
    WEAKNESSES = "weaknesses"
    DESCRIPTION = "description"
    TITLE = "title"
    METRICS = "metrics"


class ImportStatus(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some records skipped
    FAILED = "failed"  # nothing could be imported
