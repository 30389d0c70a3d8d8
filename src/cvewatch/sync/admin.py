"""Sync sources and runs in the Django admin, read-only: operators look, the sync service writes."""

from __future__ import annotations

from django.contrib import admin

from cvewatch.core.admin import ReadOnlyAdmin
from cvewatch.sync.models import SyncRun, SyncSource


@admin.register(SyncSource)
class SyncSourceAdmin(ReadOnlyAdmin):
    list_display = ("name", "cursor", "lease_owner", "lease_expires_at", "last_run_at", "last_success_at")
    search_fields = ("name",)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "source", "status", "started_at", "finished_at", "worker", "import_run")
    list_filter = ("status", "source")
    list_select_related = ("source", "import_run")
    date_hierarchy = "started_at"
    search_fields = ("worker",)
