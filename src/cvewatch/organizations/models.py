"""Organizations, their members and invitations, projects with catalog subscriptions, and API tokens.

Secrets (token secrets, invitation tokens) are never stored: only an HMAC of them (see tokens.py).
Subscriptions are real link tables so that "the CVEs of a project" is an indexed IN over CveVendor/CveProduct.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from cvewatch.catalog.models import Product, Vendor
from cvewatch.organizations.choices import Role, TokenAction, TokenStatus


class Organization(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organizations"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization_id", "user_id"]
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")]
        indexes = [models.Index(fields=["organization", "role"], name="membership_org_role")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.organization_id} ({self.role})"


class Invitation(models.Model):
    """An invitation by e-mail; pending until accepted, declined, revoked or expired."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when the invitation ends without being accepted (declined, revoked by an owner, or replaced).
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "email"], name="invitation_org_email")]

    def __str__(self) -> str:
        return f"{self.email} -> {self.organization_id}"


class Project(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=64)
    description = models.TextField(blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    vendors = models.ManyToManyField(Vendor, through="ProjectVendor", related_name="projects")
    products = models.ManyToManyField(Product, through="ProjectProduct", related_name="projects")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="project_unique_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.name}"


class ProjectVendor(models.Model):
    """A vendor subscription: covers every product of the vendor."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "vendor"], name="projectvendor_unique")]
        indexes = [models.Index(fields=["vendor"], name="projectvendor_vendor")]


class ProjectProduct(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "product"], name="projectproduct_unique")]
        indexes = [models.Index(fields=["product"], name="projectproduct_product")]


class OrganizationToken(models.Model):
    """An organization API token `opc_org.<token_id>.<secret>`; the secret is kept only as an HMAC."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tokens")
    token_id = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    # Null when the operator created it from the CLI.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One name per token still in play (active or expired), whatever its case: a list of tokens
            # whose names repeat cannot say which one a script uses. Revoked tokens keep theirs for the record.
            models.UniqueConstraint(
                Lower("name"),
                "organization",
                condition=models.Q(revoked_at__isnull=True),
                name="token_name_unique_unrevoked",
            )
        ]

    def __str__(self) -> str:
        return f"{self.token_id} ({self.name})"

    @property
    def status(self) -> TokenStatus:
        """Active, expired or revoked, now. The one place that decides it (API, web and CLI ask here)."""
        return self.status_at(timezone.now())

    def status_at(self, now: dt.datetime) -> TokenStatus:
        if self.revoked_at is not None:
            return TokenStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return TokenStatus.EXPIRED
        return TokenStatus.ACTIVE


class TokenEvent(models.Model):
    """Audit trail of token creation and revocation, visible to the organization's owners."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="token_events")
    token = models.ForeignKey(OrganizationToken, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16, choices=TokenAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who did it, as shown in the audit view: a username, or "cli" for the operator. Kept if the user goes.
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="tokenevent_org_created")]

    def __str__(self) -> str:
        return f"{self.action} {self.token_id} by {self.actor_label}"


class VerifiedEmail(models.Model):
    """The e-mail address a user has proven to receive mail at (a link mailed to it was opened).

    A user's address counts as verified only while it is still the address recorded here: changing the
    account's e-mail drops the proof. `selectors.email_is_verified` is the one place that reads it.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verified_email")
    email = models.CharField(max_length=254)
    verified_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.email
