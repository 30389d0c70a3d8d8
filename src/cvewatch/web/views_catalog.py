"""Catalog browsing for signed-in users: dashboard, CVE list and detail, vendors. Reads go through selectors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cvewatch.catalog import cve_page, names, selectors
from cvewatch.catalog.filters import CveFilter
from cvewatch.core.errors import NotFound
from cvewatch.organizations import selectors as org_selectors
from cvewatch.organizations.models import Organization, Project
from cvewatch.web import selectors as web_selectors
from cvewatch.web.forms import CveFilterForm
from cvewatch.web.orgs import current_organization
from cvewatch.web.views_saved import saved_views_context
from cvewatch.web.views_workbench import cve_panel_context
from cvewatch.workbench import selectors as workbench_selectors

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
    params = request.GET.copy()
    # The person's tag filters through the workbench's selector here, because CveFilter (catalog, below the
    # workbench) cannot resolve tags yet; once its tag resolver lands, pass `tag` through CveFilter instead.
    tag = (params.pop("tag", [""])[-1] or "").strip()
    cve_filter = CveFilter.from_params(params, user=request.user)
    error = ""
    try:
        queryset = selectors.cve_listing(cve_filter=cve_filter)
        if tag:
            queryset = workbench_selectors.tagged_with(
                cve_filter.apply(selectors.cve_list()), user=request.user, name=tag
            )
    except NotFound as exc:
        # An unknown vendor/product is a filter mistake, shown next to the form rather than a bare 404 page.
        error = f"You have no tag named {tag!r}." if exc.model_name == "UserTag" else exc.message
        queryset = selectors.cve_list().none()
    page = paginate(request, cve_rows(queryset))
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
            "error": error,
            "query": query.urlencode(),
            "filtered": cve_filter.is_active or bool(tag),
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
