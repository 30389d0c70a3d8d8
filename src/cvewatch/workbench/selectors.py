"""Reads of the workbench, every one scoped by the caller: tags are the person's own; triage and saved views
are read through an organization the caller is a member of (the edges resolve it with organizations'
selectors, which only ever return the caller's organizations).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from cvewatch.catalog import selectors as catalog_selectors
from cvewatch.catalog.filters import NO_FILTER, CveFilter
from cvewatch.catalog.models import Cve, CveProduct, CveVendor
from cvewatch.core.errors import NotFound
from cvewatch.organizations import selectors as org_selectors
from cvewatch.organizations.choices import Role
from cvewatch.organizations.models import Membership, Organization, Project, ProjectProduct, ProjectVendor
from cvewatch.workbench.models import (
    CveTag,
    FeedKey,
    QuerySubscription,
    SavedView,
    Triage,
    TriageEvent,
    TriageStatus,
    UserTag,
)

TRIAGE_HISTORY_LIMIT = 20

# --- Tags -------------------------------------------------------------------------------------------------


def tags_of(*, user: AbstractBaseUser) -> QuerySet[UserTag]:
    """The person's tags by name, each with `cve_count`."""
    return UserTag.objects.filter(user_id=user.pk).annotate(cve_count=Count("cves")).order_by("name")


def tag_of(*, user: AbstractBaseUser, name: str, for_update: bool = False) -> UserTag:
    """The person's tag named `name`, or NotFound("UserTag") (also for another person's tag)."""
    rows = UserTag.objects.filter(user_id=user.pk, name=(name or "").strip())
    tag = (rows.select_for_update() if for_update else rows).first()
    if tag is None:
        raise NotFound("UserTag")
    return tag


def tags_for_cve(*, user: AbstractBaseUser, cve: Cve) -> list[UserTag]:
    """All the person's tags, each with `on_cve` saying whether it is on this CVE (one query)."""
    return list(
        UserTag.objects.filter(user_id=user.pk)
        .annotate(on_cve=Exists(CveTag.objects.filter(tag=OuterRef("pk"), cve=cve)))
        .order_by("name")
    )


def tagged_with(queryset: QuerySet[Cve], *, user: AbstractBaseUser, name: str) -> QuerySet[Cve]:
    """The CVEs of `queryset` carrying the person's tag `name` (NotFound("UserTag") for an unknown tag)."""
    tag = tag_of(user=user, name=name)
    return queryset.filter(pk__in=CveTag.objects.filter(tag=tag).values("cve_id"))


# --- Triage -----------------------------------------------------------------------------------------------


def project_watches(*, project: Project, cve: Cve) -> bool:
    """Whether the CVE is one of the project's (a subscribed vendor or product, or a query subscription)."""
    return Cve.objects.filter(pk=cve.pk).filter(org_selectors.project_condition(project=project)).exists()


def _watching_projects(*, organization: Organization, cve: Cve) -> list[Project]:
    """The organization's active projects that watch the CVE, by name: through a subscribed vendor or product,
    or through a query subscription. One statement reads the active projects linked to the CVE or having
    query subscriptions; then two queries per project that has query subscriptions and is not linked.

    Plain SQL (as organizations.selectors._subscription_ids): every CVE page reads this, and building it as
    a queryset of nested Exists cost several times more CPU than running it.
    """
    params = [cve.pk, cve.pk, organization.pk, True]
    watching = []
    for project in Project.objects.raw(_watching_projects_sql(), params):
        if project.linked:
            watching.append(project)
        else:
            extra = org_selectors.extra_project_condition(project=project)
            if extra is not None and Cve.objects.filter(pk=cve.pk).filter(extra).exists():
                watching.append(project)
    return sorted(watching, key=lambda p: p.name)


@functools.cache
def _watching_projects_sql() -> str:
    q = connection.ops.quote_name
    table = {m: q(m._meta.db_table) for m in (Project, ProjectVendor, ProjectProduct, CveVendor, CveProduct)}
    queries = q(QuerySubscription._meta.db_table)
    linked = (
        f"EXISTS (SELECT 1 FROM {table[ProjectVendor]} pv WHERE pv.project_id = p.id AND pv.vendor_id IN "
        f"(SELECT vendor_id FROM {table[CveVendor]} WHERE cve_id = %s)) OR "
        f"EXISTS (SELECT 1 FROM {table[ProjectProduct]} pp WHERE pp.project_id = p.id AND pp.product_id IN "
        f"(SELECT product_id FROM {table[CveProduct]} WHERE cve_id = %s))"
    )
    projects = f"SELECT p.*, ({linked}) AS linked FROM {table[Project]} p WHERE p.organization_id = %s AND p.active = %s"
    return (
        f"SELECT * FROM ({projects}) watching "
        f"WHERE linked OR EXISTS (SELECT 1 FROM {queries} qs WHERE qs.project_id = watching.id)"
    )


def triage_condition(*, project: Project, status: str = "", assignee: str = "") -> Q:
    """A filter on the project's CVEs by triage status and/or assignee username (an untriaged CVE is 'to
    evaluate' and has no assignee; assignee "-" means nobody). Unknown statuses match nothing.

    Written as `id [NOT] IN (SELECT cve_id ...)` over the (project, status) index rather than correlated
    EXISTS: on the 213k-CVE corpus SQLite counts and pages a 11k-CVE project about a third faster so.
    """
    rows = Triage.objects.filter(project=project)
    condition = Q()
    if status == TriageStatus.TO_EVALUATE:
        condition &= ~Q(pk__in=rows.exclude(status=TriageStatus.TO_EVALUATE).values("cve_id"))
    elif status:
        condition &= Q(pk__in=rows.filter(status=status).values("cve_id"))
    if assignee == "-":
        condition &= ~Q(pk__in=rows.filter(assignee__isnull=False).values("cve_id"))
    elif assignee:
        condition &= Q(pk__in=rows.filter(assignee__username=assignee).values("cve_id"))
    return condition


def project_triage_listing(
    *, project: Project, cve_filter: CveFilter = NO_FILTER, status: str = "", assignee: str = ""
) -> QuerySet[Cve] | catalog_selectors.CountedCves:
    """The project's CVEs passing the list's filters and this triage (see triage_condition), newest first.

    Two plans, by what the filter names (on the 213k-CVE corpus, an 11k-CVE project, 1,000 triaged):
    - triaged CVEs (a status other than 'to evaluate', an assignee): driven from the project's triage rows,
      each CVE then probed for a subscription (200 resolved CVEs counted in ~12 ms instead of 70 ms);
    - the untriaged rest ('to evaluate', 'nobody'), most of the project: counted as the project's count
      minus its triaged CVEs that do not pass, and paged like the project's list (CountedCves' walk or
      fetch), instead of one NOT IN over every project CVE (~200 ms of SQL).
    """
    condition = triage_condition(project=project, status=status, assignee=assignee)
    names_triaged = (status and status != TriageStatus.TO_EVALUATE) or (assignee and assignee != "-")
    watched = _watched_by(project)
    if names_triaged:
        return cve_filter.apply(catalog_selectors.cve_list().filter(condition).filter(watched))
    listing = org_selectors.project_cve_listing(project=project, cve_filter=cve_filter)
    failing = Q()
    if status == TriageStatus.TO_EVALUATE:
        failing |= ~Q(status=TriageStatus.TO_EVALUATE)
    if assignee == "-":
        failing |= Q(assignee__isnull=False)
    excluded_ids = Triage.objects.filter(project=project).filter(failing).values("cve_id")
    excluded = cve_filter.apply(Cve.objects.filter(pk__in=excluded_ids).filter(watched))
    return catalog_selectors.CountedCves(
        count=lambda: listing.count() - excluded.count(),
        walk=cve_filter.apply(catalog_selectors.cve_list()).filter(watched).filter(condition),
        fetch=cve_filter.apply(catalog_selectors.cve_list())
        .filter(pk__in=org_selectors.cves_for_project(project=project).values("pk"))
        .filter(condition),
    )


def _watched_by(project: Project) -> Q:
    """CVEs linked to one of the project's subscribed vendors or products (probed per CVE)."""
    vendor_ids = ProjectVendor.objects.filter(project=project).values("vendor_id")
    product_ids = ProjectProduct.objects.filter(project=project).values("product_id")
    return Q(Exists(CveVendor.objects.filter(cve=OuterRef("pk"), vendor_id__in=vendor_ids))) | Q(
        Exists(CveProduct.objects.filter(cve=OuterRef("pk"), product_id__in=product_ids))
    )


def triages_by_cve(*, project: Project, cve_ids: list[int]) -> dict[int, Triage]:
    """The project's triage rows of these CVEs (with their assignee), by CVE id: one query for a page."""
    rows = Triage.objects.filter(project=project, cve_id__in=cve_ids).select_related("assignee")
    return {row.cve_id: row for row in rows}


def assignable_members(*, organization: Organization) -> list[Any]:
    """The users a triage may be assigned to: the organization's members, by username."""
    return [
        m.user
        for m in Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__username")
    ]


@dataclass
class ProjectTriage:
    """One project's triage of one CVE for the CVE page: its row (None: untriaged) and latest events."""

    project: Project
    triage: Triage | None
    events: list[TriageEvent] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.triage.status if self.triage else TriageStatus.TO_EVALUATE

    @property
    def status_label(self) -> str:
        return TriageStatus(self.status).label

    @property
    def assignee(self) -> str:
        return self.triage.assignee.get_username() if self.triage and self.triage.assignee else ""


def cve_triages(*, organization: Organization, cve: Cve) -> list[ProjectTriage]:
    """The triage of the CVE in each active project of the organization that watches it (three queries)."""
    projects = _watching_projects(organization=organization, cve=cve)
    if not projects:
        return []
    triages = {
        t.project_id: t
        for t in Triage.objects.filter(project__in=projects, cve=cve).select_related("assignee")
    }
    events: dict[int, list[TriageEvent]] = {}
    if triages:
        rows = TriageEvent.objects.filter(triage__in=list(triages.values())).order_by("-created_at", "-id")
        for event in rows[: TRIAGE_HISTORY_LIMIT * len(triages)]:
            events.setdefault(event.triage_id, []).append(event)
    result = []
    for project in projects:
        triage = triages.get(project.pk)
        history = events.get(triage.pk, [])[:TRIAGE_HISTORY_LIMIT] if triage else []
        result.append(ProjectTriage(project=project, triage=triage, events=history))
    return result


def triage_history(*, project: Project, cve: Cve) -> list[TriageEvent]:
    return list(
        TriageEvent.objects.filter(triage__project=project, triage__cve=cve).order_by("-created_at", "-id")
    )


# --- Saved views ------------------------------------------------------------------------------------------


def views_for(*, user: AbstractBaseUser, organization: Organization) -> QuerySet[SavedView]:
    """The views the person sees in the organization: their own and the ones shared with it, by name.

    Nothing unless the person is a member (a former member's own views stay hidden with the rest).
    """
    return (
        SavedView.objects.filter(organization=organization, organization__memberships__user_id=user.pk)
        .filter(Q(owner_id=user.pk) | Q(shared=True))
        .select_related("owner")
        .order_by("name", "id")
    )


def view_for(*, user: AbstractBaseUser, organization: Organization, view_id: int) -> SavedView:
    """One view the person sees, or NotFound("SavedView") (another person's private view is not found)."""
    view = views_for(user=user, organization=organization).filter(pk=view_id).first()
    if view is None:
        raise NotFound("SavedView")
    return view


def may_edit_view(*, user: AbstractBaseUser, view: SavedView) -> bool:
    """The owner edits a view; an owner of the organization also edits the views shared with it."""
    if view.owner_id == user.pk:
        return True
    return view.shared and is_org_owner(user=user, organization_id=view.organization_id)


def is_org_owner(*, user: AbstractBaseUser, organization_id: int) -> bool:
    return Membership.objects.filter(
        organization_id=organization_id, user_id=user.pk, role=Role.OWNER
    ).exists()


# --- Feed keys --------------------------------------------------------------------------------------------


def feed_keys_of(*, organization: Organization, user: object) -> QuerySet[FeedKey]:
    """This person's feed keys of this organization (revoked ones too), newest first."""
    return FeedKey.objects.filter(organization=organization, user_id=getattr(user, "pk", None)).order_by(
        "-created_at", "-id"
    )
