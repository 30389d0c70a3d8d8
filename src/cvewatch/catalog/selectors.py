"""Reads of the global catalog: the CVE, vendor, product and weakness lists and details the API serves.

Every function returns a lazy queryset (the caller paginates) or one object, and raises
cvewatch.core.errors.NotFound for a missing object. Lists are ordered with a unique tiebreak so pages are
stable; CVE lists use the (-updated_at, -id) index.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from cvewatch.catalog.models import Cve, CveProduct, CveVendor, CveWeakness, Product, Vendor, Weakness
from cvewatch.core.errors import NotFound

# The four fields of a CveList item; list queries load nothing else (the JSON columns are large).
CVE_LIST_FIELDS = ("id", "cve_id", "description", "created_at", "updated_at")
CVE_ORDER = ("-updated_at", "-id")

# cvss filter values → half-open ranges on the CVSS v3.1 base score; "critical" includes 10.0.
CVSS_RANGES: dict[str, tuple[float, float | None]] = {
    "low": (0.0, 4.0),
    "medium": (4.0, 7.0),
    "high": (7.0, 9.0),
    "critical": (9.0, None),
}


def normalize_vendor_name(value: str) -> str:
    """The `vendor` filter's spelling: lower case, spaces removed (OpenCVE's rule)."""
    return value.strip().lower().replace(" ", "")


def normalize_product_name(value: str) -> str:
    """The `product` filter's spelling: lower case, spaces as "_" (CPE 2.3 style)."""
    return value.strip().lower().replace(" ", "_")


# --- CVEs -------------------------------------------------------------------------------------------------


def cve_list() -> QuerySet[Cve]:
    """All CVEs, newest modification first, loading only the CveList fields."""
    return Cve.objects.only(*CVE_LIST_FIELDS).order_by(*CVE_ORDER)


def cve_detail(*, cve_id: str) -> Cve:
    try:
        return Cve.objects.get(cve_id=cve_id)
    except Cve.DoesNotExist:
        raise NotFound("Cve") from None


def filter_cves(queryset: QuerySet[Cve], *, params: Mapping[str, str], user: Any = None) -> QuerySet[Cve]:
    """Apply the /api/cve filters (search, vendor, product, cvss, weakness, tag) to any Cve queryset.

    Empty values and unknown parameters are ignored. An unknown vendor, product (with vendor) or tag
    raises NotFound. `user` is the person calling (session/Basic); pass None for token callers, whose
    `tag` parameter is ignored.
    """
    search = (params.get("search") or "").strip()
    if search:
        queryset = queryset.filter(_search_condition(search))

    vendor_param = normalize_vendor_name(params.get("vendor") or "")
    if vendor_param:
        vendor = vendor_by_name(name=vendor_param)
        product_param = normalize_product_name(params.get("product") or "")
        if product_param:
            product = product_by_name(vendor=vendor, name=product_param)
            queryset = queryset.filter(_linked(CveProduct, product_id=product.pk))
        else:
            queryset = queryset.filter(_linked(CveVendor, vendor_id=vendor.pk))

    cvss = (params.get("cvss") or "").strip().lower()
    if cvss == "empty":
        queryset = queryset.filter(cvss31_score__isnull=True)
    elif cvss in CVSS_RANGES:
        low, high = CVSS_RANGES[cvss]
        queryset = queryset.filter(cvss31_score__gte=low)
        if high is not None:
            queryset = queryset.filter(cvss31_score__lt=high)

    cwe_id = (params.get("weakness") or "").strip()
    if cwe_id:
        weakness_id = Weakness.objects.filter(cwe_id=cwe_id).values_list("pk", flat=True).first()
        if weakness_id is None:
            return queryset.none()
        queryset = queryset.filter(_linked(CveWeakness, weakness_id=weakness_id))

    tag = (params.get("tag") or "").strip()
    if tag and user is not None and getattr(user, "is_authenticated", False):
        # Users have no tags yet (issue: user tags), so every tag of a person is unknown.
        raise NotFound("UserTag")
    return queryset


def _linked(link_model: type[CveVendor | CveProduct | CveWeakness], **match: int) -> Q:
    """CVEs having a row in a link table for one target (a vendor, product or weakness id).

    Written as `id IN (SELECT cve_id ...)` rather than a correlated EXISTS: SQLite then drives a count from
    the link table's (target, cve) unique index instead of probing it once per CVE; PostgreSQL plans both
    as the same semi-join.
    """
    return Q(pk__in=link_model.objects.filter(**match).values("cve_id"))


def _search_condition(term: str) -> Q:
    """Case-insensitive substring of the id or description, or an exact vendor/product name on the CVE."""
    name = term.lower()
    # Names are resolved first (two indexed lookups) so the per-row test is a set membership, not a join.
    vendor_ids = list(Vendor.objects.filter(name=name).values_list("pk", flat=True))
    product_ids = list(Product.objects.filter(name=name).values_list("pk", flat=True))
    condition = _substring_condition(term)
    if vendor_ids:
        condition |= Q(pk__in=CveVendor.objects.filter(vendor_id__in=vendor_ids).values("cve_id"))
    if product_ids:
        condition |= Q(pk__in=CveProduct.objects.filter(product_id__in=product_ids).values("cve_id"))
    return condition


def _substring_condition(term: str) -> Q:
    """The substring half of `search`: the one engine-specific seam of the catalog reads.

    Both engines answer the same question (case-insensitive substring). On PostgreSQL, icontains compiles
    to UPPER(col) LIKE UPPER(%term%), which the trigram GIN indexes of migration 0002 serve for terms of
    three or more characters; SQLite's LIKE is already case-insensitive for ASCII and scans.
    """
    if connection.vendor == "postgresql":
        return Q(cve_id__icontains=term) | Q(description__icontains=term)
    return Q(cve_id__icontains=term) | Q(description__icontains=term)


def cves_of_vendor(*, vendor: Vendor) -> QuerySet[Cve]:
    return cve_list().filter(_linked(CveVendor, vendor_id=vendor.pk))


def cves_of_product(*, product: Product) -> QuerySet[Cve]:
    return cve_list().filter(_linked(CveProduct, product_id=product.pk))


def cves_of_weakness(*, weakness: Weakness) -> QuerySet[Cve]:
    return cve_list().filter(_linked(CveWeakness, weakness_id=weakness.pk))


# --- Vendors, products, weaknesses ------------------------------------------------------------------------


def vendor_list() -> QuerySet[Vendor]:
    return Vendor.objects.order_by("name")  # unique: a stable order by itself


def vendor_by_name(*, name: str) -> Vendor:
    try:
        return Vendor.objects.get(name=name)
    except Vendor.DoesNotExist:
        raise NotFound("Vendor") from None


def products_of_vendor(*, vendor: Vendor) -> QuerySet[Product]:
    return Product.objects.filter(vendor=vendor).order_by("name")  # unique per vendor


def product_by_name(*, vendor: Vendor, name: str) -> Product:
    try:
        return Product.objects.get(vendor=vendor, name=name)
    except Product.DoesNotExist:
        raise NotFound("Product") from None


def weakness_list() -> QuerySet[Weakness]:
    return Weakness.objects.only("id", "cwe_id", "created_at", "updated_at").order_by("cwe_id")  # unique


def weakness_by_cwe_id(*, cwe_id: str) -> Weakness:
    try:
        return Weakness.objects.get(cwe_id=cwe_id)
    except Weakness.DoesNotExist:
        raise NotFound("Weakness") from None
