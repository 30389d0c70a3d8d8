"""The dashboard's reads: per project, what changed since a moment; new KEV entries; the worst new CVEs.

Every read is bounded whatever the catalog's size: a project's changed CVEs are read from its link-table
ranges with an EXISTS probe of the change index, and capped (CHANGED_CAP, shown as "100+"); the worst
CVEs of a project are picked among those ids, or by walking the CVSS index when there are more.

The answers are kept in the process's cache for DIGEST_TTL under the catalog's version (the newest import run
and change: any import that changes a CVE moves it), the minute `since` falls in and, for the projects, their
subscriptions: a reload, or another member of the organization looking in the same minute, reads none of it
again, and a change to the catalog or to a subscription is seen at the next view.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from cvewatch.catalog.models import Change, Cve, CveProduct, CveVendor
from cvewatch.catalog.statistics import catalog_version
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
WALK_LIMIT = 20
# Below this many linked CVEs a set is read whole (and sorted); above, an index is walked testing each row.
FETCH_BELOW = 3000
# How long a computed digest, KEV list or worst-new list may be shown again for the same catalog version.
DIGEST_TTL = 60

T = TypeVar("T")


def since_for(*, previous_seen_at: dt.datetime | None, now: dt.datetime | None = None) -> dt.datetime:
    """The moment "what changed since" starts: the previous visit, bounded to the last 30 days.

    Rounded down to the minute (as the page shows it): a view reads a few seconds more than the visit, never
    less, and the views of one minute share their answers (the module's cache).
    """
    now = now or timezone.now()
    since = now - FIRST_VISIT if previous_seen_at is None else max(previous_seen_at, now - FURTHEST)
    return since.replace(second=0, microsecond=0)


def _remembered(key: str, compute: Callable[[], T], version: str | None) -> T:
    """compute(), kept DIGEST_TTL seconds under `key` and the catalog's version (read here unless given)."""
    return cache.get_or_set(f"cvewatch.digest:{version or catalog_version()}:{key}", compute, DIGEST_TTL)


@dataclass
class ProjectDigest:
    project: Project
    changed: int  # CVEs changed since, capped at CHANGED_CAP + 1
    new: int  # of those, published since
    worst: list[Cve] = field(default_factory=list)

    @property
    def more(self) -> bool:
        return self.changed > CHANGED_CAP


def _sql() -> dict[str, str]:
    """The digest's statements, written once (the ORM would compile each anew per project and view)."""
    change, vendor, product = Change._meta.db_table, CveVendor._meta.db_table, CveProduct._meta.db_table
    follows_vendor, follows_product = ProjectVendor._meta.db_table, ProjectProduct._meta.db_table
    changed = f"EXISTS (SELECT 1 FROM {change} c WHERE c.cve_id = {{cve}} AND c.created_at > %(since)s)"
    vendors = f"SELECT vendor_id FROM {follows_vendor} WHERE project_id = %(project)s"
    products = f"SELECT product_id FROM {follows_product} WHERE project_id = %(project)s"
    columns = ", ".join(f"{Cve._meta.db_table}.{Cve._meta.get_field(name).column}" for name in ROW_FIELDS)
    cve = Cve._meta.db_table
    return {
        # The ids of changed CVEs, each link table's first CHANGED_CAP + 1 (their union is what is counted).
        "changed_ids": (
            f"SELECT cve_id FROM (SELECT l.cve_id FROM {vendor} l WHERE {changed.format(cve='l.cve_id')} "
            f"AND l.vendor_id IN ({vendors}) LIMIT {CHANGED_CAP + 1}) v UNION ALL "
            f"SELECT cve_id FROM (SELECT l.cve_id FROM {product} l WHERE {changed.format(cve='l.cve_id')} "
            f"AND l.product_id IN ({products}) LIMIT {CHANGED_CAP + 1}) p"
        ),
        # How many links, counted no further than FETCH_BELOW + 1 on each table (enough to compare).
        "links": (
            f"SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM {vendor} WHERE vendor_id IN ({vendors}) "
            f"LIMIT {FETCH_BELOW + 1}) v) + (SELECT COUNT(*) FROM (SELECT 1 FROM {product} "
            f"WHERE product_id IN ({products}) LIMIT {FETCH_BELOW + 1}) p)"
        ),
        # The walk of the CVSS index (cve_cvss31_desc), testing each CVE for a link and a change.
        "walk": (
            f"SELECT {columns} FROM {cve} WHERE (EXISTS (SELECT 1 FROM {vendor} l WHERE l.cve_id = {cve}.id "
            f"AND l.vendor_id IN ({vendors})) OR EXISTS (SELECT 1 FROM {product} l WHERE l.cve_id = {cve}.id "
            f"AND l.product_id IN ({products}))) AND {changed.format(cve=f'{cve}.id')} "
            f"ORDER BY {cve}.cvss31_score DESC NULLS LAST, {cve}.id DESC LIMIT {WALK_LIMIT}"
        ),
    }


_STATEMENTS: dict[str, str] = {}


def _statement(name: str) -> str:
    if not _STATEMENTS:
        _STATEMENTS.update(_sql())
    return _STATEMENTS[name]


def _rows(name: str, params: dict[str, object]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_statement(name), params)
        return cursor.fetchall()


def project_digest(*, project: Project, since: dt.datetime) -> ProjectDigest:
    """The project's CVEs changed since `since` (count capped), how many are new, and the worst of them."""
    params = {"project": project.pk, "since": connection.ops.adapt_datetimefield_value(since)}
    ids = {cve_id for (cve_id,) in _rows("changed_ids", params)}
    if not ids:
        return ProjectDigest(project=project, changed=0, new=0)
    rows = Cve.objects.only(*ROW_FIELDS)
    if len(ids) <= CHANGED_CAP:
        cves = list(rows.filter(pk__in=ids).order_by(*WORST_ORDER))
        new = sum(1 for cve in cves if cve.created_at > since)
        return ProjectDigest(project=project, changed=len(ids), new=new, worst=cves[:WORST_PER_PROJECT])
    if _rows("links", params)[0][0] <= FETCH_BELOW:
        # Few CVEs in all: test each of them and sort the changed ones.
        vendors = ProjectVendor.objects.filter(project=project).values("vendor_id")
        products = ProjectProduct.objects.filter(project=project).values("product_id")
        linked_ids = CveVendor.objects.filter(vendor_id__in=vendors).values("cve_id").union(
            CveProduct.objects.filter(product_id__in=products).values("cve_id")
        )
        changed_cve = Exists(Change.objects.filter(cve_id=OuterRef("pk"), created_at__gt=since))
        candidates = list(rows.filter(changed_cve, pk__in=linked_ids).order_by(*WORST_ORDER)[:WORST_PER_PROJECT])
        return ProjectDigest(project=project, changed=len(ids), new=-1, worst=candidates)
    # Many: walk the CVSS index testing each CVE; EPSS then orders the top few in Python, as an ORDER BY
    # that the index does not cover would sort every changed CVE of the project.
    candidates = list(Cve.objects.raw(_statement("walk"), params))
    candidates.sort(key=_severity, reverse=True)
    return ProjectDigest(project=project, changed=len(ids), new=-1, worst=candidates[:WORST_PER_PROJECT])


def _links(vendors: QuerySet, products: QuerySet) -> int:
    """How many CVE links the subscriptions have, counted no further than FETCH_BELOW + 1 on each table
    (the callers only compare the sum with FETCH_BELOW: a sum past it is past it however far)."""
    return sum(
        queryset.filter(**{f"{key}__in": ids})[: FETCH_BELOW + 1].count()
        for queryset, key, ids in (
            (CveVendor.objects, "vendor_id", vendors),
            (CveProduct.objects, "product_id", products),
        )
    )


def _severity(cve: Cve) -> tuple[float, float, int]:
    return (
        -1.0 if cve.cvss31_score is None else cve.cvss31_score,
        -1.0 if cve.epss_score is None else cve.epss_score,
        cve.pk,
    )


def organization_digests(
    *, organization: Organization, since: dt.datetime, version: str | None = None
) -> list[ProjectDigest]:
    """The digests of the organization's active projects (the first MAX_PROJECTS by name).

    version: catalog_version() when the caller already read it (as for latest_kev and worst_new)."""
    projects = list(Project.objects.filter(organization=organization, active=True).order_by("name")[:MAX_PROJECTS])
    if not projects:
        return []
    pks = [project.pk for project in projects]
    # The subscriptions are part of the key: subscribing a project to a vendor shows at the next view.
    following = sorted(ProjectVendor.objects.filter(project_id__in=pks).values_list("project_id", "vendor_id"))
    following += [(-p, v) for p, v in sorted(ProjectProduct.objects.filter(project_id__in=pks).values_list(
        "project_id", "product_id"))]  # fmt: skip
    subscriptions = hashlib.sha256(repr((pks, following)).encode()).hexdigest()
    by_pk = {project.pk: project for project in projects}

    def compute() -> list[tuple[int, int, int, list[Cve]]]:
        found = (project_digest(project=project, since=since) for project in projects)
        return [(d.project.pk, d.changed, d.new, d.worst) for d in found]

    digests = _remembered(f"projects:{since.isoformat()}:{subscriptions}", compute, version)
    return [ProjectDigest(project=by_pk[pk], changed=changed, new=new, worst=worst)
            for pk, changed, new, worst in digests]  # fmt: skip


def latest_kev(*, limit: int = LIST_LIMIT, version: str | None = None) -> list[Cve]:
    """The CVEs most recently added to CISA's KEV catalog."""
    return _remembered(
        f"kev:{limit}",
        lambda: list(
            Cve.objects.only(*ROW_FIELDS).filter(kev_added__isnull=False).order_by("-kev_added", "-id")[:limit]
        ),
        version,
    )


def worst_new(
    *, since: dt.datetime, limit: int = LIST_LIMIT, version: str | None = None
) -> tuple[list[Cve], dt.datetime]:
    """The worst CVEs published since `since`; when none is, those of the catalog's newest 30 days.

    Returns the CVEs and the moment their window starts.
    """
    return _remembered(f"worst:{since.isoformat()}:{limit}", lambda: _worst_new(since, limit), version)


def _worst_new(since: dt.datetime, limit: int) -> tuple[list[Cve], dt.datetime]:
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
