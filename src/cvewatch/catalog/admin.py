"""The catalog's operator trail in the Django admin, read-only: which input files imports read completely."""

from __future__ import annotations

from django.contrib import admin

from cvewatch.catalog.models import ImportedInput
from cvewatch.core.admin import ReadOnlyAdmin


@admin.register(ImportedInput)
class ImportedInputAdmin(ReadOnlyAdmin):
    """What `cvewatch import` skips unread: delete nothing here, `cvewatch import --reread` reads them again."""

    list_display = ("origin", "sha256", "format_version", "size", "import_run", "imported_at")
    list_filter = ("format_version",)
    raw_id_fields = ("import_run",)
    search_fields = ("origin", "sha256")
    date_hierarchy = "imported_at"
