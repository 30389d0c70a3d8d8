"""Model choices. Values come from catalog.vocabulary (Django-free, for the parsers); labels live here."""

from django.db import models

from cvewatch.catalog import vocabulary
from cvewatch.catalog.vocabulary import CVSS_METRICS, METRIC_NAMES

__all__ = ["CVSS_METRICS", "METRIC_NAMES", "CveState", "ImportStatus"]


class CveState(models.TextChoices):
    PUBLISHED = vocabulary.CveState.PUBLISHED.value, "Published"
    REJECTED = vocabulary.CveState.REJECTED.value, "Rejected"


class ImportStatus(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some records skipped
    FAILED = "failed"  # nothing could be imported
    INTERRUPTED = "interrupted"  # its process died (killed, out of memory) before recording an outcome
