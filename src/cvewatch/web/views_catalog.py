"""Catalog browsing for signed-in users: the CVE list and a CVE. Reads go through selectors.

The dashboard is in views_dashboard, vendors and products in views_vendors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cvewatch.catalog import cve_page, names, selectors
from cvewatch.catalog.ordering import SORT_LABELS, CveSort
from cvewatch.core.errors import InvalidQuery, NotFound
from cvewatch.web.forms import CveFilterForm
from cvewatch.web.orgs import current_organization
from cvewatch.web.paging import window
from cvewatch.web.query import QueryError, page_filter
from cvewatch.web.views_saved import saved_views_context
from cvewatch.web.views_workbench import cve_panel_context

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
    # `tag` is the person's own tag and `q` the query language; CveFilter resolves both through the
    # workbench's resolvers (catalog/query/context.py).
    tag = (request.GET.get("tag") or "").strip()
    cve_filter, query_error = page_filter(request, organization=current_organization(request))
    sort = CveSort.from_params(request.GET)
    error, listing = "", selectors.cve_list().none()  # a malformed query: its error, no list
    if cve_filter is not None:
        try:
            listing = selectors.cve_listing(cve_filter=cve_filter)
        except InvalidQuery as exc:  # a tag or project the query names that the caller does not have
            query_error = QueryError.of(cve_filter.q, exc)
        except NotFound as exc:
            # An unknown vendor/product/tag is a filter mistake, shown next to the form rather than a 404 page.
            error = f"You have no tag named {tag!r}." if exc.model_name == "UserTag" else exc.message
    page = window(request, sort.apply(cve_rows(listing)), per_page=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    active_view = query.pop("view", [""])[-1]
    untagged = query.copy()
    untagged.pop("tag", None)
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
            "query_error": query_error,
            "query": query.urlencode(),
            "filtered": cve_filter.is_active if cve_filter else True,
            "tag": tag,
            "untagged_query": untagged.urlencode(),
            "active_view": active_view,
            **saved_views_context(request, query=query.urlencode()),
        },
    )


@login_required
@require_GET
def cve_detail(request: HttpRequest, cve_id: str) -> HttpResponse:
    try:
        page = cve_page.cve_page(cve_id=names.normalize_cve_id(cve_id) or cve_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    return render(
        request,
        "web/catalog/cve_detail.html",
        {"section": "cves", "cve": page.cve, "page": page, **cve_panel_context(request, page.cve)},
    )
