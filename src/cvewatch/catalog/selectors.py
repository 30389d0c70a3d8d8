"""Reads of the global catalog: the CVE, vendor, product and weakness lists and details the API serves.

Every function returns a lazy queryset or a CountedCves (the caller paginates either), or one object, and
raises cvewatch.core.errors.NotFound for a missing object. Lists are ordered with a unique tiebreak so
pages are stable; CVE lists use the (-updated_at, -id) index. A CVE list's query parameters are a
cvewatch.catalog.filters.CveFilter.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Case, Count, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL, Subquery
from django.db.models.functions import Coalesce, Length

from cvewatch.catalog import counts, names, search
from cvewatch.catalog.models import Cve, CveProduct, CveVendor, CveWeakness, Product, Vendor, Weakness
from cvewatch.catalog.query.compiler import follows_search_generation
from cvewatch.catalog.query.parser import parse
from cvewatch.core.compiled import CompiledLookup
from cvewatch.core.errors import NotFound

if TYPE_CHECKING:  # filters builds on these selectors; the listings only call its methods
    from cvewatch.catalog.filters import CveFilter

# The four fields of a CveList item; list queries load nothing else (the JSON columns are large).
CVE_LIST_FIELDS = ("id", "cve_id", "description", "created_at", "updated_at")
CVE_ORDER = ("-updated_at", "-id")
LinkModel = type[CveVendor | CveProduct | CveWeakness]


# --- CVEs -------------------------------------------------------------------------------------------------


def cve_list() -> QuerySet[Cve]:
    """All CVEs, newest modification first, loading only the CveList fields."""
    return Cve.objects.only(*CVE_LIST_FIELDS).order_by(*CVE_ORDER)


def all_cves() -> CountedCves:
    """Every CVE as cve_list() orders them, counted by the triggers' kept count instead of COUNT(*)."""
    return CountedCves(count=counts.cve_total, walk=cve_list(), fetch=cve_list())


def cve_detail(*, cve_id: str) -> Cve:
    """The CVE of an id spelled as stored; what is not a CVE id (non-ASCII digits too) is NotFound."""
    if not names.is_cve_id(cve_id):
        raise NotFound("Cve")
    try:
        return Cve.objects.get(cve_id=cve_id)
    except Cve.DoesNotExist:
        raise NotFound("Cve") from None


def linked_to(link_model: type[CveVendor | CveProduct | CveWeakness], **match: int) -> Q:
    """CVEs having a row in a link table for one target (a vendor, product or weakness id).

    Written as `id IN (SELECT cve_id ...)` rather than a correlated EXISTS: SQLite then drives a count from
    the link table's (target, cve) unique index instead of probing it once per CVE; PostgreSQL plans both
    as the same semi-join.
    """
    return Q(pk__in=link_model.objects.filter(**match).values("cve_id"))


def search_condition(term: str) -> Q:
    """Case-insensitive substring of the id or description, or an exact vendor/product name on the CVE.

    One `id IN (... UNION ...)` so each part uses its own index and the set is built once per query; an
    OR of the parts would make both engines test every CVE row.
    """
    _, union_sql, params = _search_parts(term)
    return Q(pk__in=RawSQL(union_sql, params))


def _search_parts(term: str) -> tuple[Q, str, list[Any]]:
    """The search as a row condition (for walking an index) and as a UNION of matching ids, with params."""
    name = term.lower()
    parts = [search.substring_ids_sql(term)]
    condition = Q(cve_id__icontains=term) | Q(description__icontains=term)
    # Names are resolved first (two indexed lookups) so the union reads the link tables' unique indexes.
    vendor_ids = list(Vendor.objects.filter(name=name).values_list("pk", flat=True))
    product_ids = list(Product.objects.filter(name=name).values_list("pk", flat=True))
    if vendor_ids:
        links = CveVendor.objects.filter(vendor_id__in=vendor_ids)
        parts.append(_sql(links))
        condition |= Q(pk__in=links.values("cve_id"))
    if product_ids:
        links = CveProduct.objects.filter(product_id__in=product_ids)
        parts.append(_sql(links))
        condition |= Q(pk__in=links.values("cve_id"))
    union_sql = " UNION ".join(part_sql for part_sql, _ in parts)
    return condition, union_sql, [param for _, part_params in parts for param in part_params]


def _sql(links: QuerySet[Any]) -> tuple[str, list[Any]]:
    sql, params = links.order_by().values("cve_id").query.sql_with_params()
    return sql, list(params)


class CountedCves:
    """A CVE list, newest modification first, for a paginator: countable and sliceable like a queryset.

    Why not a queryset: the count has a cheaper source than counting CVE rows (a link table's unique index,
    or the search structure alone), and the page plan depends on that count. With many matches the page is
    read by walking the (-updated_at, -id) index and testing each CVE (`walk`), stopping after one page;
    with few, by fetching the matches and sorting them (`fetch`). SQLite has no statistics to make that
    choice itself, and the wrong plan costs orders of magnitude.
    """

    ordered = True

    def __init__(self, *, count: Callable[[], int], walk: QuerySet[Cve], fetch: QuerySet[Cve]) -> None:
        self._count_source, self._walk, self._fetch = count, walk, fetch
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self._count_source()
        return self._count

    def page_bounds(self, key: slice) -> tuple[int, int]:
        """(start, stop) of a plain slice of the list, stop defaulting to its count; any other key: TypeError."""
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("CountedCves supports plain slices only")
        return key.start or 0, key.stop if key.stop is not None else self.count()

    def __getitem__(self, key: slice) -> list[Cve]:
        start, stop = self.page_bounds(key)
        return list(self.queryset(rows_needed=stop)[start:stop])

    def only(self, *fields: str) -> CountedCves:
        """The same list loading other fields (as QuerySet.only), so pages can show more than the API."""
        return CountedCves(
            count=self._count_source, walk=self._walk.only(*fields), fetch=self._fetch.only(*fields)
        )

    def order_by(self, *ordering: Any) -> CountedCves:
        """The same list in another order (catalog.ordering): both plans walk or sort by that order's index."""
        return CountedCves(
            count=self._count_source,
            walk=self._walk.order_by(*ordering),
            fetch=self._fetch.order_by(*ordering),
        )

    def queryset(self, *, rows_needed: int) -> QuerySet[Cve]:
        """The CVEs as a queryset, written for the plan that reads fewest rows to return rows_needed."""
        count = self.count()
        # Walking reads about rows_needed * total / count index entries; fetching reads count rows and sorts
        # them, a few times dearer per row.
        if count and rows_needed * approximate_cve_total() < 4 * count * count:
            return self._walk
        return self._fetch


class LinkedCves(CountedCves):
    """The CVEs of one vendor, product or weakness: a page is read from the link table's (target,
    cve_updated_at DESC, cve_id DESC) index (catalog/link_order.py), LIMIT/OFFSET entries there, then that
    many CVE rows, whatever the page's depth, in SQL written once per link table and field list (only() of
    the CVE table's columns stays here). Counted on the link table's (target, cve) unique index once per
    search generation. Other fields, orders and a whole list are CountedCves' plans, built only then.
    """

    def __init__(
        self, link_model: LinkModel, column: str, target: int, fields: tuple[str, ...] = CVE_LIST_FIELDS
    ) -> None:
        self.link_model, self.column, self.target, self.fields = link_model, column, target, fields
        self._count = None
        self._count_source = partial(
            search.count_once_per_generation, f"{column}:{target}", self._count_links
        )
        self._planned: CountedCves | None = None

    def _count_links(self) -> int:
        return self.link_model.objects.filter(**{self.column: self.target}).count()

    def _plans(self) -> CountedCves:
        if self._planned is None:
            match = {self.column: self.target}
            listing = cve_list() if self.fields == CVE_LIST_FIELDS else cve_list().only(*self.fields)
            self._planned = CountedCves(
                count=self.count,
                walk=listing.filter(Exists(self.link_model.objects.filter(cve=OuterRef("pk"), **match))),
                fetch=listing.filter(linked_to(self.link_model, **match)),
            )
        return self._planned

    def __getitem__(self, key: slice) -> list[Cve]:
        start, stop = self.page_bounds(key)
        if stop <= start:
            return []
        sql = _linked_page_sql(self.link_model._meta.db_table, self.column, connection.vendor, self.fields)
        return list(Cve.objects.raw(sql, [self.target, stop - start, start]))

    def only(self, *fields: str) -> CountedCves:
        if not set(fields) <= cve_columns():
            return self._plans().only(*fields)
        listing = LinkedCves(self.link_model, self.column, self.target, tuple(dict.fromkeys(("id", *fields))))
        listing._count, listing._count_source = self._count, self._count_source
        return listing

    def order_by(self, *ordering: Any) -> CountedCves:
        return self._plans().order_by(*ordering)

    def queryset(self, *, rows_needed: int) -> QuerySet[Cve]:
        return self._plans().queryset(rows_needed=rows_needed)


@functools.cache
def cve_columns() -> frozenset[str]:
    """The Cve fields that are plain columns of its table: what the lists' own SQL reads in place of only()."""
    return frozenset(f.name for f in Cve._meta.concrete_fields if f.column == f.name)


@functools.lru_cache(maxsize=64)
def _linked_page_sql(link_table: str, column: str, vendor: str, fields: tuple[str, ...]) -> str:
    """One target's page of `fields`: params the target id, LIMIT and OFFSET; `vendor` (the engine) keys quoting."""
    quote = connection.ops.quote_name
    cve = quote(Cve._meta.db_table)
    columns = ", ".join(f"{cve}.{quote(f)}" for f in fields)
    page = (
        f"SELECT cve_id FROM {quote(link_table)} WHERE {quote(column)} = %s "
        "ORDER BY cve_updated_at DESC, cve_id DESC LIMIT %s OFFSET %s"
    )
    return f"SELECT {columns} FROM {cve} WHERE {cve}.id IN ({page}) ORDER BY {cve}.updated_at DESC, {cve}.id DESC"


def _linked_cves(link_model: LinkModel, **match: int) -> CountedCves:
    ((column, target),) = match.items()
    return LinkedCves(link_model, column, target)


def scored_cves(*, cve_filter: CveFilter) -> CountedCves:
    """/api/cve?cvss=… alone: counted on the score index once per search generation (which follows the
    score), paged by CountedCves' plans: the walk tests each CVE's score in list order, the fetch reads the
    score index's range and sorts it."""
    listing = cve_filter.apply(cve_list())
    return CountedCves(
        count=partial(search.count_once_per_generation, f"cvss:{cve_filter.cvss}", listing.count),
        walk=cve_filter.apply(cve_list(), score_index=False),
        fetch=listing,
    )


def searched_cves(*, term: str) -> CountedCves:
    """/api/cve?search=term alone: counted on the search structure, without reading CVE rows, once per search
    generation (catalog.search.count_once_per_generation)."""
    condition, union_sql, params = _search_parts(term)

    def count() -> int:
        with connection.cursor() as cursor:
            # Every id in the union is a CVE (triggers, foreign keys), and UNION removes duplicates.
            cursor.execute(f"SELECT COUNT(*) FROM ({union_sql}) matches", params)
            return int(cursor.fetchone()[0])

    return CountedCves(
        count=partial(search.count_once_per_generation, f"search:{term}", count),
        walk=cve_list().filter(condition),
        fetch=cve_list().filter(search.ids_among(union_sql, params)),
    )


_total_cache: tuple[float, int] = (0.0, 0)
_total_lock = threading.Lock()


def approximate_cve_total() -> int:
    """An upper bound of the CVE count (the highest id), refreshed at most once a minute; only plans use it."""
    global _total_cache
    checked_at, total = _total_cache
    if time.monotonic() - checked_at > 60:
        total = Cve.objects.aggregate(top=Max("id"))["top"] or 0
        with _total_lock:
            _total_cache = (time.monotonic(), total)
    return total


def cve_listing(*, cve_filter: CveFilter) -> QuerySet[Cve] | CountedCves:
    """/api/cve: the filter over all CVEs, or a CountedCves when it has no filter (counted by the kept count,
    catalog/counts.py), or its only filter is a search, one link or a score range."""
    active = cve_filter.active
    if not active:
        return all_cves()
    if active == {"vendor"}:
        vendor = vendor_by_name(name=cve_filter.vendor)
        if cve_filter.product:
            return cves_of_product(product=product_by_name(vendor=vendor, name=cve_filter.product))
        return cves_of_vendor(vendor=vendor)
    if active == {"search"}:
        return searched_cves(term=cve_filter.search)
    if active == {"weakness"}:
        weakness = Weakness.objects.filter(cwe_id=cve_filter.weakness).first()
        if weakness is not None:
            return cves_of_weakness(weakness=weakness)
    if active == {"cvss"}:
        return scored_cves(cve_filter=cve_filter)
    if "q" in active:
        return queried_cves(cve_filter=cve_filter)
    return cve_filter.apply(cve_list())


def queried_cves(*, cve_filter: CveFilter) -> CountedCves:
    """A list with a query (`q`): counted and fetched through the search index, or walked in list order
    testing each CVE's text (a common phrase: one page reads a few hundred rows, not every match).

    A query alone on text and names is counted once per search generation, like `search`."""
    fetch = cve_filter.apply(cve_list())
    count: Callable[[], int] = fetch.count
    if cve_filter.active == {"q"} and follows_search_generation(parse(cve_filter.q)):
        count = partial(search.count_once_per_generation, f"q:{cve_filter.q}", fetch.count)
    return CountedCves(count=count, walk=cve_filter.apply(cve_list(), search_index=False), fetch=fetch)


def cves_of_vendor(*, vendor: Vendor) -> CountedCves:
    return _linked_cves(CveVendor, vendor_id=vendor.pk)


def cves_of_product(*, product: Product) -> CountedCves:
    return _linked_cves(CveProduct, product_id=product.pk)


def cves_of_weakness(*, weakness: Weakness) -> CountedCves:
    return _linked_cves(CveWeakness, weakness_id=weakness.pk)


class KeptCountList:
    """A list for a paginator counted without its own COUNT(*): a whole table's by its kept count
    (catalog/counts.py, `key`), or by a `count` read with something else; slices are the queryset's."""

    ordered = True

    def __init__(self, queryset: QuerySet[Any], *, key: str = "", count: int | None = None) -> None:
        self.queryset, self.key, self.known = queryset, key, count

    def count(self) -> int:
        return counts.kept_count(self.key) if self.known is None else self.known

    def __getitem__(self, key: slice) -> QuerySet[Any]:
        return self.queryset[key]


# --- Vendors, products, weaknesses ------------------------------------------------------------------------


def vendor_list() -> QuerySet[Vendor]:
    return Vendor.objects.order_by("name")  # unique: a stable order by itself


def vendor_listing() -> KeptCountList:
    """/api/vendors: every vendor by name, counted by the kept count."""
    return KeptCountList(vendor_list(), key="vendor")


# Compiled once per connection (core/compiled.py): the vendor of every /api/vendors/<v>/… request.
_vendor_named = CompiledLookup(lambda name: Vendor.objects.filter(name=name).order_by())
# The vendor with its products' COUNT(*) in the same statement: /api/vendors/<v>/products's count.
_vendor_named_with_product_count = CompiledLookup(
    lambda name: Vendor.objects.filter(name=name)
    .order_by()
    .annotate(
        product_count=Coalesce(
            Subquery(
                Product.objects.filter(vendor=OuterRef("pk"))
                .order_by()
                .values("vendor")
                .annotate(n=Count("*"))
                .values("n")
            ),
            0,
        )
    )
)


def vendor_by_name(*, name: str) -> Vendor:
    vendor = _vendor_named.get(name)
    if vendor is None:
        raise NotFound("Vendor")
    return vendor


def products_of_vendor(*, vendor: Vendor) -> QuerySet[Product]:
    return Product.objects.filter(vendor=vendor).order_by("name")  # unique per vendor


def product_listing(*, vendor_name: str) -> KeptCountList:
    """/api/vendors/<v>/products: the vendor's products by name, counted by the statement that finds the
    vendor (NotFound without one)."""
    vendor = _vendor_named_with_product_count.get(vendor_name)
    if vendor is None:
        raise NotFound("Vendor")
    count: int = vendor.product_count  # type: ignore[attr-defined]
    return KeptCountList(products_of_vendor(vendor=vendor), count=count)


def product_by_name(*, vendor: Vendor, name: str) -> Product:
    try:
        return Product.objects.get(vendor=vendor, name=name)
    except Product.DoesNotExist:
        raise NotFound("Product") from None


def weakness_list() -> QuerySet[Weakness]:
    return Weakness.objects.only("id", "cwe_id", "created_at", "updated_at").order_by("cwe_id")  # unique


def weakness_listing() -> KeptCountList:
    """/api/weaknesses: every weakness by CWE id, counted by the kept count."""
    return KeptCountList(weakness_list(), key="weakness")


def weakness_by_cwe_id(*, cwe_id: str) -> Weakness:
    try:
        return Weakness.objects.get(cwe_id=cwe_id)
    except Weakness.DoesNotExist:
        raise NotFound("Weakness") from None


WEAKNESS_ORDERS = ("number", "cves")


def weakness_search(*, term: str = "") -> QuerySet[Weakness]:
    """Weaknesses whose id or name contains the term; an exact id ("79", "CWE-79") first.

    In CWE number order; weaknesses_by_cve_count orders them by CVE count.
    """
    queryset = Weakness.objects.only("id", "cwe_id", "name")
    by_number = (Length("cwe_id"), "cwe_id")  # "CWE-n": by length, then text, is by number
    term = term.strip()
    first: tuple[Any, ...] = ()
    if term:
        exact = f"CWE-{term}" if term.isdigit() else term.upper()
        queryset = queryset.filter(Q(cwe_id__icontains=term) | Q(name__icontains=term)).annotate(
            exact=Case(When(cwe_id=exact, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        first = ("exact",)
    return queryset.order_by(*first, *by_number)


def weaknesses_by_cve_count(*, term: str = "") -> list[tuple[int, int]]:
    """(weakness id, CVE count) of the weaknesses matching the term, most CVEs first (ties by CWE number).

    The counts are every weakness's, counted at most every few minutes (weakness_cve_totals); the matching
    ids are one indexed read. Sorting some 1,400 pairs in Python is cheaper than grouping the link table on
    every page view (about 100 ms on 150,000 links).
    """
    totals = weakness_cve_totals()
    ids = list(weakness_search(term=term).values_list("id", flat=True))  # exact id first, then by number
    exact = ids[:1] if term.strip() else []
    rest = sorted(ids[len(exact) :], key=lambda pk: -totals.get(pk, 0))  # stable: ties keep CWE number order
    return [(pk, totals.get(pk, 0)) for pk in exact + rest]


def weaknesses_by_id(*, ids: list[int]) -> dict[int, Weakness]:
    return Weakness.objects.only("id", "cwe_id", "name").in_bulk(ids)


_totals_cache: tuple[float, dict[int, int]] = (0.0, {})
_totals_lock = threading.Lock()
TOTALS_MAX_AGE = 300.0  # seconds; the catalog changes with imports, not with page views


def forget_weakness_cve_totals() -> None:
    """Recount on the next call (tests; an import could call it too)."""
    global _totals_cache
    with _totals_lock:
        _totals_cache = (0.0, {})


def weakness_cve_totals() -> dict[int, int]:
    """{weakness id: CVE count} of every weakness with CVEs, recounted at most every TOTALS_MAX_AGE seconds."""
    global _totals_cache
    counted_at, totals = _totals_cache
    if time.monotonic() - counted_at > TOTALS_MAX_AGE:
        rows = CveWeakness.objects.order_by().values("weakness_id").annotate(n=Count("id"))
        totals = {row["weakness_id"]: row["n"] for row in rows}
        with _totals_lock:
            _totals_cache = (time.monotonic(), totals)
    return totals


def weakness_cve_counts(*, weakness_ids: list[int]) -> dict[int, int]:
    """{weakness id: number of CVEs}, counted on the link table's (weakness, cve) index for these ids only."""
    if not weakness_ids:
        return {}
    rows = (
        CveWeakness.objects.filter(weakness_id__in=weakness_ids)
        .order_by()
        .values("weakness_id")
        .annotate(n=Count("id"))
        .values_list("weakness_id", "n")
    )
    return dict(rows)
