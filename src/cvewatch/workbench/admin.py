"""The workbench's rows in the operators' admin, read-only (the workbench services write them).

Feed keys show no secret digest; revoking goes through the feed key service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from cvewatch.core.admin import ReadOnlyAdmin
from cvewatch.core.errors import DomainError
from cvewatch.workbench.models import (
    CveTag,
    DashboardVisit,
    FeedKey,
    QuerySubscription,
    SavedView,
    Triage,
    TriageEvent,
    UserTag,
)
from cvewatch.workbench.services import feeds


@admin.register(UserTag)
class UserTagAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "color", "created_at")
    list_select_related = ("user",)
    search_fields = ("name", "user__username")


@admin.register(CveTag)
class CveTagAdmin(ReadOnlyAdmin):
    list_display = ("cve", "tag", "created_at")
    list_select_related = ("cve", "tag__user")
    search_fields = ("=cve__cve_id", "tag__name")
    raw_id_fields = ("cve", "tag")


@admin.register(Triage)
class TriageAdmin(ReadOnlyAdmin):
    list_display = ("cve", "project", "status", "assignee", "updated_at")
    list_filter = ("status",)
    list_select_related = ("cve", "project__organization", "assignee")
    search_fields = ("=cve__cve_id", "project__name")
    raw_id_fields = ("cve", "project", "assignee")


@admin.register(TriageEvent)
class TriageEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "triage", "field", "old_value", "new_value", "actor_name")
    list_filter = ("field",)
    list_select_related = ("triage",)
    raw_id_fields = ("triage", "actor")


@admin.register(SavedView)
class SavedViewAdmin(ReadOnlyAdmin):
    list_display = ("name", "organization", "owner", "shared", "query", "updated_at")
    list_filter = ("shared",)
    list_select_related = ("organization", "owner")
    search_fields = ("name", "query", "organization__name")


@admin.register(QuerySubscription)
class QuerySubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("project", "name", "query", "created_by", "created_at")
    list_select_related = ("project__organization", "created_by")
    search_fields = ("name", "query", "project__name")


@admin.register(DashboardVisit)
class DashboardVisitAdmin(ReadOnlyAdmin):
    list_display = ("user", "seen_at", "previous_seen_at")
    list_select_related = ("user",)


@admin.register(FeedKey)
class FeedKeyAdmin(ReadOnlyAdmin):
    list_display = ("key_id", "user", "organization", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user", "organization")
    list_filter = ("revoked_at",)
    search_fields = ("key_id", "user__username", "organization__name")
    exclude = ("secret_digest",)
    actions = ("revoke_keys",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("workbench.change_feedkey")  # the revoke action; fields stay read-only

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name != "secret_digest"]

    @admin.action(description="Revoke the selected feed keys", permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[FeedKey]) -> None:
        done = 0
        for key in queryset.select_related("organization", "user"):
            try:
                feeds.revoke_feed_key(organization=key.organization, user=key.user, key_id=key.key_id)
                done += 1
            except DomainError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        if done:
            self.message_user(
                request, f"{done} feed key{'s' if done != 1 else ''} revoked.", messages.SUCCESS
            )
