"""Catalog browsing for signed-in users: the CVE list and a CVE. Reads go through selectors.

The dashboard is in views_dashboard, vendors and products in views_vendors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cvewatch.catalog import names, selectors
from cvewatch.catalog.choices import METRIC_NAMES
from cvewatch.catalog.filters import CveFilter
from cvewatch.catalog.ordering import SORT_LABELS, CveSort
from cvewatch.core.errors import NotFound
from cvewatch.web import selectors as web_selectors
from cvewatch.web.forms import CveFilterForm
from cvewatch.web.paging import window

PAGE_SIZE = 25
# The list shows a short excerpt; the JSON columns stay unloaded (selectors.CVE_LIST_FIELDS).
LIST_EXTRA_FIELDS = (
    "title",
    "cvss31_score",
    "cvss40_score",
    "cvss30_score",
    "cvss20_score",
    "kev_added",
    "epss_score",
    "state",
)


def paginate(request: HttpRequest, queryset: Any, *, per_page: int = PAGE_SIZE) -> Page:
    """A page of the queryset; a bad or out-of-range ?page= shows the nearest valid page, not an error."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def cve_rows(listing: Any) -> Any:
    """What a CVE table row shows: the list fields plus title, scores, KEV date and state.

    `listing` is a Cve queryset or the selectors' CountedCves (the API's faster counts and page plans).
    """
    return listing.only(*selectors.CVE_LIST_FIELDS, *LIST_EXTRA_FIELDS)


@login_required
@require_GET
def cve_list(request: HttpRequest) -> HttpResponse:
    form = CveFilterForm(request.GET or None)  # shows the filters; CveFilter reads them, as the API does
    cve_filter = CveFilter.from_params(request.GET, user=request.user)
    sort = CveSort.from_params(request.GET)
    error = ""
    try:
        listing = selectors.cve_listing(cve_filter=cve_filter)
    except NotFound as exc:
        # An unknown vendor/product is a filter mistake, shown next to the form rather than a bare 404 page.
        error = exc.message
        listing = selectors.cve_list().none()
    page = window(request, sort.apply(cve_rows(listing)), per_page=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/catalog/cve_list.html",
        {
            "section": "cves",
            "form": form,
            "page": page,
            "sort": sort,
            "sort_choices": list(SORT_LABELS.items()),
            "error": error,
            "query": query.urlencode(),
            "filtered": cve_filter.is_active,
        },
    )


@login_required
@require_GET
def cve_detail(request: HttpRequest, cve_id: str) -> HttpResponse:
    try:
        cve = selectors.cve_detail(cve_id=names.normalize_cve_id(cve_id) or cve_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    metrics = [(name, (cve.metrics or {}).get(name) or {}) for name in METRIC_NAMES]
    vendors, products = _split_vendors(cve.vendors or [])
    changes = web_selectors.changes_of_cve(cve=cve)
    return render(
        request,
        "web/catalog/cve_detail.html",
        {
            "section": "cves",
            "cve": cve,
            "metrics": metrics,
            "vendors": vendors,
            "products": products,
            "changes": changes,
        },
    )


def _split_vendors(flat: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """The contract's flat list ("apache", "apache$PRODUCT$log4j") as vendors and products by vendor."""
    vendors: list[str] = []
    products: dict[str, list[str]] = {}
    for item in flat:
        if names.is_product(item):
            vendor, product = names.split_product(item)
            products.setdefault(vendor, []).append(product)
        else:
            vendors.append(item)
    return vendors, products
