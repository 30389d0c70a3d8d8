"""The CVE catalog: CVEs, the vendors/products/weaknesses they link to, per-source records and changes.

Filterable relations are real link tables with indexes (never JSON arrays) so the API's filters are
indexed on SQLite and PostgreSQL alike. The JSON columns on Cve are the denormalised served view used to
render details and to diff imports; the link tables are rebuilt from the same data by the ingest service.
"""

from __future__ import annotations

import os
import socket
import uuid

from django.db import models
from django.utils import timezone

from cvewatch.catalog.choices import CveState, ImportStatus


class Vendor(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: the unique (vendor, name) serves every lookup by vendor (migration 0011).
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="products", db_index=False)
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["vendor", "name"], name="product_unique_per_vendor")]
        # `search` matches a product name under any vendor.
        indexes = [models.Index(fields=["name"], name="product_name")]

    def __str__(self) -> str:
        return f"{self.vendor_id}:{self.name}"


class Weakness(models.Model):
    cwe_id = models.CharField(max_length=32, unique=True)  # "CWE-79"
    name = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cwe_id"]

    def __str__(self) -> str:
        return self.cwe_id


class Cve(models.Model):
    cve_id = models.CharField(max_length=32, unique=True)
    title = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    # Publication and last-modification dates from the source data, not row timestamps.
    # Indexed by cve_published_desc (created_at DESC, id DESC; migration 0004), ranges included.
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=CveState.choices, default=CveState.PUBLISHED)

    # Served view, contract shapes: metrics {name: {"data", "provider"}}, vendors flat
    # ["apache", "apache$PRODUCT$log4j"], weaknesses ["CWE-79"], cpes and references lists of strings.
    metrics = models.JSONField(default=dict)
    vendors = models.JSONField(default=list)
    weaknesses = models.JSONField(default=list)
    cpes = models.JSONField(default=list)
    references = models.JSONField(default=list)
    # Which source gave each scalar field ({"description": "mitre", ...}) and every contributing source.
    providers = models.JSONField(default=dict)

    # Denormalised scores and flags for indexed filters and sorting.
    cvss20_score = models.FloatField(null=True, blank=True)
    cvss30_score = models.FloatField(null=True, blank=True)
    cvss31_score = models.FloatField(null=True, blank=True)  # indexed by cve_cvss31_desc (0004)
    cvss40_score = models.FloatField(null=True, blank=True)
    kev_added = models.DateField(null=True, blank=True, db_index=True)
    epss_score = models.FloatField(null=True, blank=True)

    # Hash of the served view: a re-import that would change nothing is detected without a diff.
    digest = models.CharField(max_length=64, blank=True, default="")
    row_created_at = models.DateTimeField(default=timezone.now)
    row_updated_at = models.DateTimeField(default=timezone.now)

    vendor_links = models.ManyToManyField(Vendor, through="CveVendor", related_name="cves")
    product_links = models.ManyToManyField(Product, through="CveProduct", related_name="cves")
    weakness_links = models.ManyToManyField(Weakness, through="CveWeakness", related_name="cves")

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="cve_updated_desc"),
            # The query language's `cvss40>=9` (catalog/query); `epss>=50` uses the sort index cve_epss_desc (0004).
            models.Index(fields=["cvss40_score"], name="cve_cvss40"),
        ]

    def __str__(self) -> str:
        return self.cve_id


class CatalogCount(models.Model):
    """An exact row count kept by database triggers (catalog/counts.py): `cve` is how many CVEs there are."""

    key = models.CharField(max_length=64, primary_key=True)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}={self.n}"


class CveVendor(models.Model):
    # Indexed by cvevendor_cve and by the unique (vendor, cve): no index of their own (migration 0011).
    cve = models.ForeignKey(Cve, on_delete=models.CASCADE, db_index=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, db_index=False)
    # The CVE's updated_at, copied by triggers (catalog/link_order.py): whatever is written here is replaced.
    cve_updated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "cve"], name="cvevendor_unique")]
        indexes = [
            models.Index(fields=["cve"], name="cvevendor_cve"),
            # One target's CVEs in list order (-updated_at, -id): a page is LIMIT entries of this index.
            models.Index(fields=["vendor", "-cve_updated_at", "-cve"], name="cvevendor_order"),
        ]


class CveProduct(models.Model):
    # Indexed by cveproduct_cve and by the unique (product, cve): no index of their own (migration 0011).
    cve = models.ForeignKey(Cve, on_delete=models.CASCADE, db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, db_index=False)
    # The CVE's updated_at, copied by triggers (catalog/link_order.py): whatever is written here is replaced.
    cve_updated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "cve"], name="cveproduct_unique")]
        indexes = [
            models.Index(fields=["cve"], name="cveproduct_cve"),
            # One target's CVEs in list order (-updated_at, -id): a page is LIMIT entries of this index.
            models.Index(fields=["product", "-cve_updated_at", "-cve"], name="cveproduct_order"),
        ]


class CveWeakness(models.Model):
    # Indexed by cveweakness_cve and by the unique (weakness, cve): no index of their own (migration 0011).
    cve = models.ForeignKey(Cve, on_delete=models.CASCADE, db_index=False)
    weakness = models.ForeignKey(Weakness, on_delete=models.CASCADE, db_index=False)
    # The CVE's updated_at, copied by triggers (catalog/link_order.py): whatever is written here is replaced.
    cve_updated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["weakness", "cve"], name="cveweakness_unique")]
        indexes = [
            models.Index(fields=["cve"], name="cveweakness_cve"),
            # One target's CVEs in list order (-updated_at, -id): a page is LIMIT entries of this index.
            models.Index(fields=["weakness", "-cve_updated_at", "-cve"], name="cveweakness_order"),
        ]


class SourceRecord(models.Model):
    """One source's latest record of one CVE, kept for provenance and for re-merging.

    Keyed by the CVE id string, not a foreign key: KEV or EPSS data may arrive before the CVE itself.
    """

    cve_id = models.CharField(max_length=32)
    source = models.CharField(max_length=32)
    # The parsed, normalised record (what the merge reads) and the source's own JSON, compressed (catalog/raw_copy.py).
    record = models.JSONField(default=dict)
    raw = models.BinaryField(default=b"")
    digest = models.CharField(max_length=64)
    origin = models.TextField(blank=True, default="")  # file or bundle member it came from
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cve_id", "source"], name="sourcerecord_unique")]


class Change(models.Model):
    """One recorded change of a CVE: its events (docs/import.md), [{"type": "title", "details": ...}]."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Indexed by change_cve_created (cve, -created_at): no index of its own (migration 0011).
    cve = models.ForeignKey(Cve, on_delete=models.CASCADE, related_name="changes", db_index=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    events = models.JSONField(default=list)
    types = models.JSONField(default=list)  # the event types, for quick display
    import_run = models.ForeignKey("ImportRun", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["cve", "-created_at"], name="change_cve_created")]


def this_process() -> str:
    """host:pid of the running process, as ImportRun.worker records it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class ImportRun(models.Model):
    """Every import is recorded: what was read, what it did, and every skipped input with its reason."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    paths = models.JSONField(default=list)
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list)  # [{"path": ..., "reason": ...}], capped
    # Who runs it: a run still "running" whose process is gone was killed and is marked interrupted.
    worker = models.CharField(max_length=200, default=this_process, blank=True)
    # Written by the running import every so often: a run silent for too long is interrupted, whatever its
    # host (hosts sharing one PostgreSQL cannot see each other's processes). Null on runs older than it.
    heartbeat_at = models.DateTimeField(null=True, blank=True, default=timezone.now)

    class Meta:
        ordering = ["-started_at"]


class ImportedInput(models.Model):
    """An input file whose records were all committed: `cvewatch import` skips the same bytes unread.

    Keyed by the sha256 of the file's raw bytes (before decompression) and the parsers' version
    (ingest.records.INPUT_FORMAT_VERSION), never by its name or mtime: a renamed copy is skipped too, and a
    parser upgrade reads every input again. Written in the transaction of the batch that carries the file's
    last records, so an interrupted import leaves it unrecorded.
    """

    sha256 = models.CharField(max_length=64)
    format_version = models.PositiveIntegerField()
    size = models.BigIntegerField()
    origin = models.TextField()  # the path it was last read from
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sha256", "format_version"], name="importedinput_unique"),
        ]
