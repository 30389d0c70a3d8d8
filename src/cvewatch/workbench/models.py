"""The analyst's workbench: personal tags on CVEs, per-project triage with its history, saved views,
saved-query subscriptions of projects, dashboard visits and feed keys.

Organization-scoped rows carry their organization (directly or through their project): every query of a
service filters by the caller's organization.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cvewatch.catalog.models import Cve
from cvewatch.organizations.models import Organization, Project


class UserTag(models.Model):
    """A person's own tag (OpenCVE's UserTag): a name unique per user, a colour and a description."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cve_tags")
    name = models.CharField(max_length=64)
    color = models.CharField(max_length=7, default="#3b5bdb")  # "#rrggbb"
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="usertag_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.name}"


class CveTag(models.Model):
    """One tag put on one CVE (the tag's user is the person who tagged it)."""

    tag = models.ForeignKey(UserTag, on_delete=models.CASCADE, related_name="cves")
    cve = models.ForeignKey(Cve, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "cve"], name="cvetag_unique")]
        indexes = [models.Index(fields=["cve"], name="cvetag_cve")]


class TriageStatus(models.TextChoices):
    TO_EVALUATE = "to_evaluate", "To evaluate"
    ANALYSIS = "analysis_in_progress", "Analysis in progress"
    REMEDIATION = "remediation_in_progress", "Remediation in progress"
    RESOLVED = "resolved", "Resolved"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    RISK_ACCEPTED = "risk_accepted", "Risk accepted"


class Triage(models.Model):
    """A project's decision on one CVE: a status and an assignee. A CVE without a row is 'to evaluate'."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="triages")
    cve = models.ForeignKey(Cve, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=32, choices=TriageStatus.choices, default=TriageStatus.TO_EVALUATE)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "cve"], name="triage_unique_per_project")]
        indexes = [models.Index(fields=["project", "status"], name="triage_project_status")]


class TriageEvent(models.Model):
    """One change of a triage: who changed which field from what to what, and when (kept if the user goes)."""

    triage = models.ForeignKey(Triage, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")
    field = models.CharField(max_length=32)  # "status" or "assignee"
    old_value = models.CharField(max_length=150, blank=True, default="")
    new_value = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]


class SavedView(models.Model):
    """A named query of the query language, private to its owner or shared with the organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="saved_views")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=64)
    query = models.TextField()
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "owner", "name"], name="savedview_unique_name")
        ]


class QuerySubscription(models.Model):
    """A project's subscription to a saved query (`description:"log4j"`): alerts fire on what it matches."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="query_subscriptions")
    name = models.CharField(max_length=64, blank=True, default="")
    query = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "query"], name="querysubscription_unique")]


class DashboardVisit(models.Model):
    """When a person last looked at the dashboard, and the visit before (what changed since is shown)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now)
    previous_seen_at = models.DateTimeField(null=True, blank=True)


class FeedKey(models.Model):
    """A person's key for RSS/Atom feed URLs (feed readers cannot sign in): only reads feeds, revocable.

    The URL carries `<key_id>.<secret>`; only an HMAC of the secret is stored, compared in constant time.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_keys")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="feed_keys")
    key_id = models.CharField(max_length=16, unique=True)
    secret_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
