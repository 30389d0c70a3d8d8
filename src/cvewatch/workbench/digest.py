"""The dashboard's reads: per project, what changed since a moment; new KEV entries; the worst new CVEs.

Every read is bounded whatever the catalog's size: a project's changed CVEs are read from its link-table
ranges with an EXISTS probe of the change index, and capped (CHANGED_CAP, shown as "100+"); the worst
CVEs of a project are picked among those ids, or by walking the CVSS index when there are more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from cvewatch.catalog.models import Change, Cve, CveProduct, CveVendor
from cvewatch.organizations.models import Organization, Project, ProjectProduct, ProjectVendor

CHANGED_CAP = 100
WORST_PER_PROJECT = 3
MAX_PROJECTS = 6
LIST_LIMIT = 8
# The furthest back "since your last visit" reaches: older visits see the last 30 days.
FURTHEST = dt.timedelta(days=30)
FIRST_VISIT = dt.timedelta(days=7)

# What a dashboard row loads of a CVE (the JSON columns stay unloaded).
ROW_FIELDS = (
    "id", "cve_id", "title", "description", "created_at", "updated_at", "state",
    "cvss31_score", "cvss40_score", "cvss30_score", "cvss20_score", "kev_added", "epss_score",
)  # fmt: skip
WORST_ORDER = (F("cvss31_score").desc(nulls_last=True), F("epss_score").desc(nulls_last=True), F("id").desc())
INDEX_ORDER = (F("cvss31_score").desc(nulls_last=True), F("id").desc())  # the cve_cvss31_desc index
WALK_LIMIT = 20
# Below this many linked CVEs a set is read whole (and sorted); above, an index is walked testing each row.
FETCH_BELOW = 3000


def since_for(*, previous_seen_at: dt.datetime | None, now: dt.datetime | None = None) -> dt.datetime:
    """The moment "what changed since" starts: the previous visit, bounded to the last 30 days."""
    now = now or timezone.now()
    if previous_seen_at is None:
        return now - FIRST_VISIT
    return max(previous_seen_at, now - FURTHEST)


@dataclass
class ProjectDigest:
    project: Project
    changed: int  # CVEs changed since, capped at CHANGED_CAP + 1
    new: int  # of those, published since
    worst: list[Cve] = field(default_factory=list)

    @property
    def more(self) -> bool:
        return self.changed > CHANGED_CAP


def _changed_since(since: dt.datetime) -> Exists:
    return Exists(Change.objects.filter(cve_id=OuterRef("cve_id"), created_at__gt=since))


def project_digest(*, project: Project, since: dt.datetime) -> ProjectDigest:
    """The project's CVEs changed since `since` (count capped), how many are new, and the worst of them."""
    vendors = ProjectVendor.objects.filter(project=project).values("vendor_id")
    products = ProjectProduct.objects.filter(project=project).values("product_id")
    changed = _changed_since(since)
    by_vendor = CveVendor.objects.filter(changed, vendor_id__in=vendors).values_list("cve_id", flat=True)
    by_product = CveProduct.objects.filter(changed, product_id__in=products).values_list("cve_id", flat=True)
    ids = set(by_vendor[: CHANGED_CAP + 1]) | set(by_product[: CHANGED_CAP + 1])
    if not ids:
        return ProjectDigest(project=project, changed=0, new=0)
    rows = Cve.objects.only(*ROW_FIELDS)
    if len(ids) <= CHANGED_CAP:
        cves = list(rows.filter(pk__in=ids).order_by(*WORST_ORDER))
        new = sum(1 for cve in cves if cve.created_at > since)
        return ProjectDigest(project=project, changed=len(ids), new=new, worst=cves[:WORST_PER_PROJECT])
    changed_cve = Exists(Change.objects.filter(cve_id=OuterRef("pk"), created_at__gt=since))
    if _links(vendors, products) <= FETCH_BELOW:
        # Few CVEs in all: test each of them and sort the changed ones.
        linked_ids = CveVendor.objects.filter(vendor_id__in=vendors).values("cve_id").union(
            CveProduct.objects.filter(product_id__in=products).values("cve_id")
        )
        candidates = list(rows.filter(changed_cve, pk__in=linked_ids).order_by(*WORST_ORDER)[:WORST_PER_PROJECT])
        return ProjectDigest(project=project, changed=len(ids), new=-1, worst=candidates)
    # Many: walk the CVSS index (cve_cvss31_desc) testing each CVE; EPSS then orders the top few in Python,
    # as an ORDER BY that the index does not cover would sort every changed CVE of the project.
    linked = Q(Exists(CveVendor.objects.filter(cve_id=OuterRef("pk"), vendor_id__in=vendors))) | Q(
        Exists(CveProduct.objects.filter(cve_id=OuterRef("pk"), product_id__in=products))
    )
    candidates = list(rows.filter(linked, changed_cve).order_by(*INDEX_ORDER)[:WALK_LIMIT])
    candidates.sort(key=_severity, reverse=True)
    return ProjectDigest(project=project, changed=len(ids), new=-1, worst=candidates[:WORST_PER_PROJECT])


def _links(vendors: QuerySet, products: QuerySet) -> int:
    """How many CVE links the subscriptions have (two counts on the link tables' unique indexes)."""
    return (
        CveVendor.objects.filter(vendor_id__in=vendors).count()
        + CveProduct.objects.filter(product_id__in=products).count()
    )


def _severity(cve: Cve) -> tuple[float, float, int]:
    return (
        -1.0 if cve.cvss31_score is None else cve.cvss31_score,
        -1.0 if cve.epss_score is None else cve.epss_score,
        cve.pk,
    )


def organization_digests(*, organization: Organization, since: dt.datetime) -> list[ProjectDigest]:
    """The digests of the organization's active projects (the first MAX_PROJECTS by name)."""
    projects = Project.objects.filter(organization=organization, active=True).order_by("name")[:MAX_PROJECTS]
    return [project_digest(project=project, since=since) for project in projects]


def latest_kev(*, limit: int = LIST_LIMIT) -> list[Cve]:
    """The CVEs most recently added to CISA's KEV catalog."""
    return list(
        Cve.objects.only(*ROW_FIELDS).filter(kev_added__isnull=False).order_by("-kev_added", "-id")[:limit]
    )


def worst_new(*, since: dt.datetime, limit: int = LIST_LIMIT) -> tuple[list[Cve], dt.datetime]:
    """The worst CVEs published since `since`; when none is, those of the catalog's newest 30 days.

    Returns the CVEs and the moment their window starts.
    """
    found = _worst_published_after(since, limit)
    if found:
        return found, since
    newest = Cve.objects.aggregate(top=Max("created_at"))["top"]
    if newest is None:
        return [], since
    start = newest - FURTHEST
    return _worst_published_after(start, limit), start


def _worst_published_after(start: dt.datetime, limit: int) -> list[Cve]:
    queryset: QuerySet[Cve] = Cve.objects.only(*ROW_FIELDS).filter(created_at__gt=start)
    return list(queryset.order_by(*WORST_ORDER)[:limit])


def changes_feed(*, organization: Organization | None = None) -> QuerySet[Change]:
    """Recorded changes, newest first, with their CVE; with an organization, only CVEs of its projects.

    With few followed CVEs their changes are read and sorted; with many, the change index is walked testing
    each change, so a page costs about a page's worth of changes divided by the share followed; never a count.
    """
    changes = Change.objects.select_related("cve").only(
        "id", "created_at", "events", "types", *(f"cve__{name}" for name in ROW_FIELDS)
    )
    if organization is None:
        return changes.order_by("-created_at", "-id")
    projects = Project.objects.filter(organization=organization).values("pk")
    vendors = ProjectVendor.objects.filter(project__in=projects).values("vendor_id")
    products = ProjectProduct.objects.filter(project__in=projects).values("product_id")
    if _links(vendors, products) <= FETCH_BELOW:
        # Few CVEs: read their changes through the (cve, created_at) index and sort them.
        linked = CveVendor.objects.filter(vendor_id__in=vendors).values("cve_id").union(
            CveProduct.objects.filter(product_id__in=products).values("cve_id")
        )
        return changes.filter(cve_id__in=linked).order_by("-created_at", "-id")
    # Many: walk the change index newest first, testing each change's CVE against the subscriptions.
    return changes.filter(
        Q(Exists(CveVendor.objects.filter(cve_id=OuterRef("cve_id"), vendor_id__in=vendors)))
        | Q(Exists(CveProduct.objects.filter(cve_id=OuterRef("cve_id"), product_id__in=products)))
    ).order_by("-created_at", "-id")
