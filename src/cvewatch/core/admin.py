"""What every app's operator admin (Django admin at /admin, staff only) shares: the site's names and the
read-only base for tables that only services write.

Admin list pages must stay fast on the full corpus: large tables set `show_full_result_count = False` (no
second, unfiltered COUNT), `list_select_related` for what their columns show, and `raw_id_fields` for
foreign keys to CVEs, vendors and products (a select of 200,000 options would render every one).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

admin.site.site_header = "cvewatch operators"
admin.site.site_title = "cvewatch admin"
admin.site.index_title = "Operate cvewatch"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operators look; the services write (their rules and audit trails are not bypassed here)."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
