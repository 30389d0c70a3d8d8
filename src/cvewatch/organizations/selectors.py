"""Read-side queries of the organizations app. Every org-scoped read starts from the caller."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from functools import reduce
from typing import Any, TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from cvewatch.catalog import search
from cvewatch.catalog import selectors as catalog_selectors
from cvewatch.catalog.filters import NO_FILTER, CveFilter
from cvewatch.catalog.models import Cve, CveProduct, CveVendor, Product, Vendor
from cvewatch.organizations.callers import is_token_user
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


def organizations_for(*, caller: object) -> QuerySet[Organization]:
    """Organizations the caller may see: a user's memberships, a token's own organization, else none."""
    if is_token_user(caller):
        return Organization.objects.filter(pk=caller.organization.pk)
    user_id = getattr(caller, "pk", None)
    if not getattr(caller, "is_authenticated", False) or user_id is None:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user_id=user_id)


def organizations_with_role(*, caller: object) -> QuerySet[Organization]:
    """organizations_for, each with `caller_role`: the caller's membership role (None for a token)."""
    organizations = organizations_for(caller=caller)
    if is_token_user(caller):
        return organizations.annotate(caller_role=Value(None, output_field=CharField()))
    return organizations.annotate(caller_role=F("memberships__role"))  # the filter's membership join


def organization_for(*, caller: object, name: str) -> Organization | None:
    """The organization named `name` if the caller may see it (None otherwise: do not reveal it exists)."""
    return organizations_for(caller=caller).filter(name=name).first()


def projects_of(*, organization: Organization) -> QuerySet[Project]:
    """All projects of the organization, active and inactive, by name."""
    return Project.objects.filter(organization=organization).order_by("name")


def project_for(*, organization: Organization, name: str) -> Project | None:
    return Project.objects.filter(organization=organization, name=name).select_related("organization").first()


def visible_project(*, caller: object, organization_name: str, name: str) -> Project | None:
    """The project `name` of the organization `organization_name` if the caller may see both, in one query.

    The same scope as organizations_for, written as joins: every API request of a project pays for
    building this query.
    """
    projects = Project.objects.filter(organization__name=organization_name, name=name)
    if is_token_user(caller):
        projects = projects.filter(organization_id=caller.organization.pk)
    else:
        user_id = getattr(caller, "pk", None)
        if not getattr(caller, "is_authenticated", False) or user_id is None:
            return None
        projects = projects.filter(organization__memberships__user_id=user_id)
    return projects.select_related("organization").first()


class Subscriptions(TypedDict):
    vendors: list[str]
    products: dict[str, list[str]]


def project_subscriptions(*, project: Project) -> Subscriptions:
    """{"vendors": ["fortinet"], "products": {"apache": ["airflow", "log4j"]}}, names sorted (one statement)."""
    vendors: list[str] = []
    products: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_subscription_names_sql(), [project.pk, project.pk])
        for kind, vendor, product in cursor.fetchall():
            if kind:
                products.setdefault(vendor, []).append(product)
            else:
                vendors.append(vendor)
    return {"vendors": vendors, "products": products}


@functools.cache
def _subscription_names_sql() -> str:
    quote = connection.ops.quote_name
    vendors, products = quote(ProjectVendor._meta.db_table), quote(ProjectProduct._meta.db_table)
    vendor, product = quote(Vendor._meta.db_table), quote(Product._meta.db_table)
    return (
        f"SELECT 0, v.name, '' FROM {vendors} pv INNER JOIN {vendor} v ON v.id = pv.vendor_id"
        " WHERE pv.project_id = %s"
        f" UNION ALL SELECT 1, v.name, p.name FROM {products} pp INNER JOIN {product} p ON p.id = pp.product_id"
        f" INNER JOIN {vendor} v ON v.id = p.vendor_id WHERE pp.project_id = %s"
        " ORDER BY 1, 2, 3"
    )


def _subscription_ids(project: Project) -> tuple[list[int], list[int]]:
    """The subscribed vendor ids and product ids, as literal lists, read in one statement.

    Literal ids rather than subqueries let PostgreSQL estimate from its per-value statistics how many CVEs
    each vendor has, and pick the right join; with subqueries it guessed a few rows for a vendor with
    thousands and chose nested loops. Plain SQL: every list request reads these, and building the queryset
    cost more than running it.
    """
    vendor_ids: list[int] = []
    product_ids: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(_subscription_ids_sql(), [project.pk, project.pk])
        for kind, pk in cursor.fetchall():
            (product_ids if kind else vendor_ids).append(pk)
    return vendor_ids, product_ids


@functools.cache
def _subscription_ids_sql() -> str:
    quote = connection.ops.quote_name
    vendors, products = quote(ProjectVendor._meta.db_table), quote(ProjectProduct._meta.db_table)
    return (
        f"SELECT 0, vendor_id FROM {vendors} WHERE project_id = %s "
        f"UNION ALL SELECT 1, product_id FROM {products} WHERE project_id = %s"
    )


def _linked_ids(vendor_ids: list[int], product_ids: list[int]) -> QuerySet[Any]:
    """Ids of the CVEs linked to these vendors UNION those linked to these products.

    Both halves are range scans of the (vendor, cve) / (product, cve) unique indexes; UNION removes the
    duplicates, so counting this set never reads a CVE row.
    """
    by_vendor = CveVendor.objects.filter(vendor_id__in=vendor_ids).values("cve_id")
    by_product = CveProduct.objects.filter(product_id__in=product_ids).values("cve_id")
    # Django drops an empty half of a UNION, and with it the de-duplication: say DISTINCT then.
    if not product_ids:
        return by_vendor.distinct()
    if not vendor_ids:
        return by_product.distinct()
    return by_vendor.union(by_product)


# More CVEs of a project, from apps above this one (the workbench's query subscriptions): each returns the
# condition of the project's extra CVEs, or None when it adds none. Registered at start-up (AppConfig.ready).
ProjectCondition = Callable[[Project], Q | None]
_extra_project_conditions: list[ProjectCondition] = []


def register_project_condition(condition: ProjectCondition) -> None:
    """Add a source of a project's CVEs beyond its vendor and product subscriptions (idempotent)."""
    if condition not in _extra_project_conditions:
        _extra_project_conditions.append(condition)


def extra_project_condition(*, project: Project) -> Q | None:
    """The project's CVEs beyond its vendor/product subscriptions (its query subscriptions), or None."""
    extra: Q | None = None
    for source in _extra_project_conditions:
        condition = source(project)
        if condition is not None:
            extra = condition if extra is None else extra | condition
    return extra


def project_condition(*, project: Project) -> Q:
    """A CVE condition: linked to a subscribed vendor or product, or matched by an extra condition."""
    vendor_ids, product_ids = _subscription_ids(project)
    condition = Q(pk__in=CveVendor.objects.filter(vendor_id__in=vendor_ids).values("cve_id")) | Q(
        pk__in=CveProduct.objects.filter(product_id__in=product_ids).values("cve_id")
    )
    extra = extra_project_condition(project=project)
    return condition if extra is None else condition | extra


def cves_for_project(*, project: Project) -> QuerySet[Cve]:
    """CVEs linked to any subscribed vendor or product, newest-updated first; none without subscriptions."""
    vendor_ids = ProjectVendor.objects.filter(project=project).values("vendor_id")
    product_ids = ProjectProduct.objects.filter(project=project).values("product_id")
    cve_ids = (
        CveVendor.objects.filter(vendor_id__in=vendor_ids)
        .values("cve_id")
        .union(CveProduct.objects.filter(product_id__in=product_ids).values("cve_id"))
    )
    return Cve.objects.filter(pk__in=cve_ids).order_by("-updated_at", "-id")


def project_cve_listing(
    *, project: Project, cve_filter: CveFilter = NO_FILTER
) -> catalog_selectors.CountedCves:
    """The project's CVEs for a paginator, with a CVE list's filters applied on top.

    The page plan follows the catalog's CountedCves rule: walk the (-updated_at, -id) index probing the
    subscriptions when they match many CVEs, fetch-and-sort the matches when they are few. Without an
    active filter (the usual call, and every page of a sync) the count reads the link tables alone: one
    index range when the project follows one vendor or one product, their de-duplicated union otherwise.
    """
    vendor_ids, product_ids = _subscription_ids(project)
    extra = extra_project_condition(project=project)
    if extra is None and not cve_filter.is_active and (vendor_ids or product_ids):
        return SubscribedCves(vendor_ids, product_ids)  # the usual call, in prepared SQL
    filtered = cve_filter.apply(catalog_selectors.cve_list())
    if not vendor_ids and not product_ids and extra is None:
        return catalog_selectors.CountedCves(count=lambda: 0, walk=filtered.none(), fetch=filtered.none())
    walk_condition, fetch_condition = _project_conditions(vendor_ids, product_ids, extra)
    walk = filtered.filter(walk_condition)
    fetch = filtered.filter(fetch_condition)
    count = (
        fetch.count
        if cve_filter.is_active or extra is not None
        else _linked_ids(vendor_ids, product_ids).count
    )
    return catalog_selectors.CountedCves(count=count, walk=walk, fetch=fetch)


def _project_conditions(vendor_ids: list[int], product_ids: list[int], extra: Q | None) -> tuple[Q, Q]:
    """The project's CVE condition written for walking the list's index (probes) and for fetching (ids)."""
    # Only the halves that name something: an empty `IN ()` half would still be planned and probed.
    walk_parts: list[Q] = []
    if vendor_ids:
        walk_parts.append(Q(Exists(CveVendor.objects.filter(cve=OuterRef("pk"), vendor_id__in=vendor_ids))))
    if product_ids:
        walk_parts.append(
            Q(Exists(CveProduct.objects.filter(cve=OuterRef("pk"), product_id__in=product_ids)))
        )
    fetch_parts = [Q(pk__in=_linked_ids(vendor_ids, product_ids))] if walk_parts else []
    if extra is not None:  # query subscriptions: no link table to count on, the CVE rows are read
        walk_parts.append(extra)
        fetch_parts.append(extra)
    return reduce(operator.or_, walk_parts), reduce(operator.or_, fetch_parts)


class SubscribedCves(catalog_selectors.CountedCves):
    """The CVEs linked to a project's subscribed vendors or products, without filters: the list's hot path.

    The same rows, order and count as the ORM's CountedCves, in SQL written once per shape (building and
    compiling querysets cost more than running them). The count reads the link tables alone, once per search
    generation (catalog.search, which follows every link table). A page merges the subscriptions' list-order
    indexes (catalog/link_order.py): each subscription gives at most its first `stop` entries, their union
    (one row per CVE: the copied updated_at is the CVE's) is ordered and cut, then that many CVE rows are read.
    Anything else (other fields, another order, the whole list) is the ORM's CountedCves.
    """

    def __init__(
        self,
        vendor_ids: list[int],
        product_ids: list[int],
        fields: tuple[str, ...] = catalog_selectors.CVE_LIST_FIELDS,
    ) -> None:
        self.vendor_ids, self.product_ids, self.fields = vendor_ids, product_ids, fields
        self._count: int | None = None
        self._orm_listing: catalog_selectors.CountedCves | None = None

    def _params(self) -> list[int]:
        return [*self.vendor_ids, *self.product_ids]

    def _count_now(self) -> int:
        sql = _subscribed_sql("count", len(self.vendor_ids), len(self.product_ids), connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(sql, self._params())
            return int(cursor.fetchone()[0])

    def count(self) -> int:
        if self._count is None:
            question = f"project:{sorted(self.vendor_ids)}:{sorted(self.product_ids)}"
            self._count = search.count_once_per_generation(question, self._count_now)
        return self._count

    def __getitem__(self, key: slice) -> list[Cve]:
        start, stop = self.page_bounds(key)
        if stop <= start:
            return []
        sql = _subscribed_sql(
            "page", len(self.vendor_ids), len(self.product_ids), connection.vendor, self.fields
        )
        branches = len(self.vendor_ids) + len(self.product_ids)
        params = self._params() if branches == 1 else [v for pk in self._params() for v in (pk, stop)]
        return list(Cve.objects.raw(sql, [*params, stop - start, start]))

    def _orm(self) -> catalog_selectors.CountedCves:
        if self._orm_listing is None:
            walk_condition, fetch_condition = _project_conditions(self.vendor_ids, self.product_ids, None)
            listing = catalog_selectors.cve_list()
            if self.fields != catalog_selectors.CVE_LIST_FIELDS:
                listing = listing.only(*self.fields)
            self._orm_listing = catalog_selectors.CountedCves(
                count=self.count, walk=listing.filter(walk_condition), fetch=listing.filter(fetch_condition)
            )
        return self._orm_listing

    def only(self, *fields: str) -> catalog_selectors.CountedCves:
        """Columns of the CVE table (the web list's scores, title…) stay on this SQL path; others take the ORM's."""
        if not set(fields) <= catalog_selectors.cve_columns():
            return self._orm().only(*fields)
        listing = SubscribedCves(self.vendor_ids, self.product_ids, tuple(dict.fromkeys(("id", *fields))))
        listing._count = self._count
        return listing

    def order_by(self, *ordering: Any) -> catalog_selectors.CountedCves:
        return self._orm().order_by(*ordering)

    def queryset(self, *, rows_needed: int) -> QuerySet[Cve]:
        return self._orm().queryset(rows_needed=rows_needed)


@functools.lru_cache(maxsize=256)
def _subscribed_sql(
    shape: str,
    vendors: int,
    products: int,
    vendor: str,
    fields: tuple[str, ...] = catalog_selectors.CVE_LIST_FIELDS,
) -> str:
    """The count or page statement for this many vendor and product ids. Count params: the ids, vendors
    first. Page params: with one id, it, LIMIT and OFFSET; with more, each id and the page's end, then LIMIT
    and OFFSET. `vendor` (the engine) is part of the key: quoting may differ; a page reads `fields`."""
    quote = connection.ops.quote_name
    cve, cve_vendor, cve_product = (quote(m._meta.db_table) for m in (Cve, CveVendor, CveProduct))
    links = []
    if vendors:
        links.append((cve_vendor, "vendor_id", vendors))
    if products:
        links.append((cve_product, "product_id", products))

    def ids(table: str, column: str, n: int) -> str:
        return f"SELECT cve_id FROM {table} WHERE {column} IN ({', '.join(['%s'] * n)})"

    if shape == "count":
        if len(links) == 1 and links[0][2] == 1:  # one (target, cve) index range: every row a distinct CVE
            table, column, _ = links[0]
            return f"SELECT COUNT(*) FROM {table} WHERE {column} = %s"
        # UNION removes the CVEs linked twice; within one table, DISTINCT does (a CVE of two vendors).
        union = " UNION ".join(ids(*link) for link in links)
        if len(links) == 1:
            union = union.replace("SELECT cve_id", "SELECT DISTINCT cve_id", 1)
        return f"SELECT COUNT(*) FROM ({union}) linked"
    columns = ", ".join(f"{cve}.{quote(f)}" for f in fields)
    order = "ORDER BY cve_updated_at DESC, cve_id DESC"
    if vendors + products == 1:
        table, column, _ = links[0]
        page = f"SELECT cve_id FROM {table} WHERE {column} = %s {order} LIMIT %s OFFSET %s"
    else:
        # SQLite takes ORDER BY/LIMIT in a compound's member only inside a subquery.
        branches = " UNION ".join(
            f"SELECT cve_id, cve_updated_at FROM (SELECT cve_id, cve_updated_at FROM {table} "
            f"WHERE {column} = %s {order} LIMIT %s) b{table[1:-1]}{i}"
            for table, column, n in links
            for i in range(n)
        )
        page = f"SELECT cve_id FROM ({branches}) linked {order} LIMIT %s OFFSET %s"
    return f"SELECT {columns} FROM {cve} WHERE {cve}.id IN ({page}) ORDER BY {cve}.updated_at DESC, {cve}.id DESC"


def membership_of(*, organization: Organization, user: object) -> Membership | None:
    user_id = getattr(user, "pk", None)
    if user_id is None:
        return None
    return Membership.objects.filter(organization=organization, user_id=user_id).first()


def members_of(*, organization: Organization) -> QuerySet[Membership]:
    """Memberships with their users, owners first, then by username."""
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("-role", "user__username")  # "owner" sorts after "member": descending puts owners first
    )


def pending_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization,
        accepted_at__isnull=True,
        closed_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("created_by")


def invitations_for_user(*, user: object) -> QuerySet[Invitation]:
    """Pending invitations addressed to the user's e-mail address, once that address is verified."""
    email = (getattr(user, "email", "") or "").strip().lower()
    if not email or not email_is_verified(user=user):  # registering an address shows nothing sent to it
        return Invitation.objects.none()
    return Invitation.objects.filter(
        email=email, accepted_at__isnull=True, closed_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("organization")


def email_is_verified(*, user: object) -> bool:
    """Whether the user has proven to receive mail at their account's current e-mail address.

    The one rule others call (accepting invitations, alerts to a user's address): an address is trusted only
    once a link mailed to it came back (sign-up confirmation, an invitation that created the account, a
    password reset), or the operator created the account with it.
    """
    email = (getattr(user, "email", "") or "").strip().lower()
    pk = getattr(user, "pk", None)
    if not email or pk is None:
        return False
    return VerifiedEmail.objects.filter(user_id=pk, email=email).exists()


def tokens_of(*, organization: Organization) -> QuerySet[OrganizationToken]:
    """All tokens of the organization (revoked and expired too), newest first."""
    return OrganizationToken.objects.filter(organization=organization).select_related(
        "created_by", "revoked_by"
    )


def unrevoked_token_named(*, organization: Organization, name: str) -> OrganizationToken | None:
    """The organization's token not revoked (active or expired) that carries this name in any case."""
    return (
        OrganizationToken.objects.filter(
            organization=organization, name__iexact=(name or "").strip(), revoked_at__isnull=True
        )
        .order_by()
        .first()
    )


def token_events_of(*, organization: Organization) -> QuerySet[TokenEvent]:
    """The token audit trail of the organization, newest first (for owners)."""
    return TokenEvent.objects.filter(organization=organization).select_related("token")


def all_organizations() -> QuerySet[Organization]:
    """The operator's list (the CLI): every organization, by name."""
    return Organization.objects.order_by("name")


def organization_named(*, name: str) -> Organization | None:
    """The operator's lookup (the CLI): any organization, by name, case-insensitively."""
    return Organization.objects.filter(name__iexact=(name or "").strip()).first()


def user_named(*, username: str) -> AbstractBaseUser | None:
    """The operator's lookup (the CLI): the user with this username, case-insensitively."""
    return get_user_model().objects.filter(username__iexact=(username or "").strip()).first()


def projects_following(
    *, organization: Organization, vendor: Vendor | None = None, product: Product | None = None
) -> set[int]:
    """Ids of the organization's projects subscribed to the vendor, or to the product."""
    if product is not None:
        rows = ProjectProduct.objects.filter(project__organization=organization, product=product)
    elif vendor is not None:
        rows = ProjectVendor.objects.filter(project__organization=organization, vendor=vendor)
    else:
        return set()
    return set(rows.values_list("project_id", flat=True))


def followed_vendor_ids(*, project: Project, vendor_ids: list[int]) -> set[int]:
    """Which of these vendors the project subscribes to."""
    rows = ProjectVendor.objects.filter(project=project, vendor_id__in=vendor_ids)
    return set(rows.values_list("vendor_id", flat=True))
