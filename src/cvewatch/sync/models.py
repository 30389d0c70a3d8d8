"""A sync source's cursor and lease, and the record of every run."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cvewatch.catalog.models import ImportRun
from cvewatch.sync.choices import RunStatus


class SyncSource(models.Model):
    """One upstream feed: where the last committed run left off (cursor) and who runs it now (lease)."""

    name = models.CharField(max_length=32, unique=True)
    # What the catalog already holds from this source: a commit, an ETag, a timestamp, an archive name.
    # Written only in the transaction that commits the data it covers.
    cursor = models.JSONField(default=dict, blank=True)
    lease_owner = models.CharField(max_length=255, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)  # succeeded or partial
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SyncRun(models.Model):
    source = models.ForeignKey(SyncSource, on_delete=models.CASCADE, related_name="runs")
    worker = models.CharField(max_length=255, blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    counts = models.JSONField(default=dict, blank=True)  # the import counters summed over the run's steps
    errors = models.TextField(blank=True, default="")  # why it failed, and the first skipped inputs
    notes = models.TextField(
        blank=True, default=""
    )  # what the source noticed: nothing new, went back in time
    cursor_before = models.JSONField(default=dict, blank=True)
    cursor_after = models.JSONField(default=dict, blank=True)
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.source.name} run #{self.pk} ({self.status})"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
