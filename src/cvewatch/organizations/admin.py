"""Organizations, their people, projects and tokens in the operators' admin.

Memberships, projects and subscriptions stay editable (an operator's fix-up); tokens, their audit trail,
invitations and verified addresses are read-only, and no secret or secret hash is ever shown. Revoking a
token goes through the tokens service (audited as the operator, "cli").
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from cvewatch.core.admin import ReadOnlyAdmin, ReadOnlyInline
from cvewatch.core.errors import DomainError
from cvewatch.organizations.models import (
    Invitation,
    Membership,
    Organization,
    OrganizationToken,
    Project,
    ProjectProduct,
    ProjectVendor,
    TokenEvent,
    VerifiedEmail,
)
from cvewatch.organizations.services import tokens

User = get_user_model()


class UserMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("organization", "role", "created_at")
    readonly_fields = ("created_at",)


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class OperatorUserAdmin(UserAdmin):
    """Django's user admin, plus whether the account's current address is verified, and its memberships."""

    list_display = (
        "username", "email", "email_verified", "is_active", "is_staff", "is_superuser", "last_login",
        "date_joined",
    )  # fmt: skip
    list_select_related = ("verified_email",)
    inlines = (UserMembershipInline,)

    @admin.display(boolean=True, description="e-mail verified")
    def email_verified(self, user: Any) -> bool:
        # The rule of organizations.selectors.email_is_verified, on the row already joined.
        proof = getattr(user, "verified_email", None)
        return bool(user.email) and proof is not None and proof.email == user.email.strip().lower()


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)


class ProjectInline(ReadOnlyInline):
    model = Project
    fields = ("name", "active", "created_at")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "member_count", "project_count", "created_at")
    search_fields = ("name",)
    readonly_fields = ("uuid",)
    inlines = (MembershipInline, ProjectInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                members_n=Count("memberships", distinct=True), projects_n=Count("projects", distinct=True)
            )
        )

    @admin.display(description="members", ordering="members_n")
    def member_count(self, organization: Any) -> int:
        return organization.members_n

    @admin.display(description="projects", ordering="projects_n")
    def project_count(self, organization: Any) -> int:
        return organization.projects_n


class ProjectVendorInline(admin.TabularInline):
    model = ProjectVendor
    extra = 0
    raw_id_fields = ("vendor",)  # 30,000+ vendors: never a <select> of all of them
    verbose_name = "vendor subscription"


class ProjectProductInline(admin.TabularInline):
    model = ProjectProduct
    extra = 0
    raw_id_fields = ("product",)
    verbose_name = "product subscription"


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "active", "created_at", "updated_at")
    list_filter = ("active",)
    list_select_related = ("organization",)
    search_fields = ("name", "organization__name")
    readonly_fields = ("uuid",)
    inlines = (ProjectVendorInline, ProjectProductInline)


@admin.register(OrganizationToken)
class OrganizationTokenAdmin(ReadOnlyAdmin):
    list_display = (
        "token_id", "name", "organization", "status", "created_at", "last_used_at", "expires_at", "revoked_at",
    )  # fmt: skip
    list_select_related = ("organization",)
    list_filter = ("revoked_at",)
    search_fields = ("token_id", "name", "organization__name")
    exclude = ("secret_hash",)
    actions = ("revoke_tokens",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The revoke action needs the change right; every field stays read-only (get_readonly_fields).
        return request.user.has_perm("organizations.change_organizationtoken")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name != "secret_hash"]

    @admin.display(description="status")
    def status(self, token: OrganizationToken) -> str:
        return token.status

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[OrganizationToken]) -> None:
        done = 0
        for token in queryset.select_related("organization"):
            try:
                tokens.revoke_token(organization=token.organization, token_id=token.token_id, actor=None)
                done += 1
            except DomainError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        if done:
            self.message_user(request, f"{done} token{'s' if done != 1 else ''} revoked.", messages.SUCCESS)


@admin.register(TokenEvent)
class TokenEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "token", "organization", "actor_label")
    list_filter = ("action",)
    list_select_related = ("token", "organization")
    search_fields = ("token__token_id", "organization__name", "actor_label")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("email", "organization", "role", "created_at", "expires_at", "accepted_at", "closed_at")
    list_select_related = ("organization",)
    search_fields = ("email", "organization__name")
    exclude = ("token_hash",)


@admin.register(VerifiedEmail)
class VerifiedEmailAdmin(ReadOnlyAdmin):
    list_display = ("email", "user", "verified_at")
    list_select_related = ("user",)
    search_fields = ("email", "user__username")
