"""Catalog browsing for signed-in users: dashboard, CVE list and detail, vendors. Reads go through selectors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cvewatch.catalog import names, selectors
from cvewatch.catalog.choices import METRIC_NAMES
from cvewatch.core.errors import InvalidQuery, NotFound
from cvewatch.organizations import selectors as org_selectors
from cvewatch.organizations.models import Organization, Project
from cvewatch.web import selectors as web_selectors
from cvewatch.web.forms import CveFilterForm
from cvewatch.web.orgs import current_organization
from cvewatch.web.query import QueryError, page_filter

PAGE_SIZE = 25
RECENT_CVES = 15
# The list shows a short excerpt; the JSON columns stay unloaded (selectors.CVE_LIST_FIELDS).
LIST_EXTRA_FIELDS = (
    "title",
    "cvss31_score",
    "cvss40_score",
    "cvss30_score",
    "cvss20_score",
    "kev_added",
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
def dashboard(request: HttpRequest) -> HttpResponse:
    org = current_organization(request)
    recent = list(cve_rows(selectors.cve_list())[:RECENT_CVES])
    projects = _projects_of(org) if org else []
    invitations = list(org_selectors.invitations_for_user(user=request.user))
    return render(
        request,
        "web/catalog/dashboard.html",
        {
            "section": "dashboard",
            "recent": recent,
            "org": org,
            "projects": projects,
            "invitations": invitations,
            "email_verified": org_selectors.email_is_verified(user=request.user),
        },
    )


def _projects_of(org: Organization) -> list[Project]:
    return list(org_selectors.projects_of(organization=org))


@login_required
@require_GET
def cve_list(request: HttpRequest) -> HttpResponse:
    form = CveFilterForm(request.GET or None)  # shows the filters; CveFilter reads them, as the API does
    cve_filter, query_error = page_filter(request, organization=current_organization(request))
    error, queryset = "", selectors.cve_list().none()  # a malformed query: its error, no list
    if cve_filter is not None:
        try:
            queryset = selectors.cve_listing(cve_filter=cve_filter)
        except InvalidQuery as exc:  # a tag or project the query names that the caller does not have
            query_error = QueryError.of(cve_filter.q, exc)
        except NotFound as exc:
            # An unknown vendor/product is a filter mistake, shown next to the form rather than a bare 404.
            error = exc.message
    page = paginate(request, cve_rows(queryset))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/catalog/cve_list.html",
        {
            "section": "cves",
            "form": form,
            "page": page,
            "error": error,
            "query_error": query_error,
            "query": query.urlencode(),
            "filtered": cve_filter.is_active if cve_filter else True,
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


@login_required
@require_GET
def vendor_list(request: HttpRequest) -> HttpResponse:
    search = (request.GET.get("search") or "").strip()
    page = paginate(request, web_selectors.search_vendors(term=search), per_page=50)
    return render(
        request,
        "web/catalog/vendor_list.html",
        {"section": "vendors", "page": page, "search": search},
    )


@login_required
@require_GET
def vendor_detail(request: HttpRequest, name: str) -> HttpResponse:
    try:
        vendor = selectors.vendor_by_name(name=name)
    except NotFound as exc:
        raise Http404(exc.message) from None
    page = paginate(request, selectors.products_of_vendor(vendor=vendor), per_page=100)
    return render(
        request, "web/catalog/vendor_detail.html", {"section": "vendors", "vendor": vendor, "page": page}
    )
