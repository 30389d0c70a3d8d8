"""Reads only the web pages need: vendor and product name search, best matches first.

The catalog's own selectors serve the API's contract. Ranking a name search is a UI concern, so it lives here.
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from cvewatch.catalog import names
from cvewatch.catalog import selectors as catalog
from cvewatch.catalog.models import Product, Vendor


def _normalise(term: str) -> str:
    # Stored names are lower case with "_" for whitespace (CPE style): the product filter's spelling finds
    # vendors and products alike, as they are stored.
    return names.product_from_query(term)


def _ranked(queryset: QuerySet, field: str, needle: str) -> QuerySet:
    """Exact name first, then names starting with the term, then names containing it."""
    return queryset.filter(**{f"{field}__icontains": needle}).annotate(
        rank=Case(
            When(**{field: needle}, then=Value(0)),
            When(**{f"{field}__startswith": needle}, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )


def search_vendors(*, term: str) -> QuerySet[Vendor]:
    """Vendors whose name contains the term, best matches first (all vendors by name for an empty term)."""
    needle = _normalise(term)
    if not needle:
        return catalog.vendor_list()
    return _ranked(Vendor.objects.all(), "name", needle).order_by("rank", "name", "id")


def search_products(*, term: str) -> QuerySet[Product]:
    """Products whose name contains the term, with their vendor, best matches first."""
    needle = _normalise(term)
    if not needle:
        return Product.objects.none()
    return _ranked(Product.objects.select_related("vendor"), "name", needle).order_by(
        "rank", "name", "vendor__name", "id"
    )

