"""Vendors and products: a searchable list with CVE counts, a vendor's products and CVEs, a product's CVEs,
and subscribing the current project to either (organizations' project services)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cvewatch.catalog import selectors, statistics
from cvewatch.catalog.models import Product, Vendor
from cvewatch.core.errors import NotFound
from cvewatch.organizations import selectors as org_selectors
from cvewatch.organizations.services import projects as project_services
from cvewatch.web import orgs
from cvewatch.web import selectors as web_selectors
from cvewatch.web.paging import window
from cvewatch.web.refusals import refusal_as_message
from cvewatch.web.views_catalog import cve_rows

VENDORS_PER_PAGE = 50
PRODUCTS_PER_PAGE = 50
CVES_PER_PAGE = 25


@login_required
@require_GET
def vendor_list(request: HttpRequest) -> HttpResponse:
    search = (request.GET.get("search") or "").strip()[:200]
    page = window(request, web_selectors.search_vendors(term=search), per_page=VENDORS_PER_PAGE)
    ids = [v.pk for v in page.object_list]
    counts = statistics.cve_counts_of_vendors(vendor_ids=ids)
    organization = orgs.current_organization(request)
    projects = list(org_selectors.projects_of(organization=organization)) if organization else []
    current = orgs.current_project(request, organization, projects) if organization else None
    followed = org_selectors.followed_vendor_ids(project=current, vendor_ids=ids) if current and ids else set()
    rows = [(vendor, counts.get(vendor.pk, 0), vendor.pk in followed) for vendor in page.object_list]
    return render(
        request,
        "web/catalog/vendor_list.html",
        {
            "section": "vendors",
            "page": page,
            "rows": rows,
            "organization": organization,
            "current": current,
            "next": request.get_full_path(),
            "search": search,
            "query": urlencode({"search": search}) if search else "",
            "total": None if search else selectors.vendor_list().count(),
        },
    )


def _vendor_or_404(name: str) -> Vendor:
    try:
        return selectors.vendor_by_name(name=name)
    except NotFound as exc:
        raise Http404(exc.message) from None


@login_required
@require_GET
def vendor_detail(request: HttpRequest, name: str) -> HttpResponse:
    vendor = _vendor_or_404(name)
    products = window(request, selectors.products_of_vendor(vendor=vendor), per_page=PRODUCTS_PER_PAGE)
    counts = statistics.cve_counts_of_products(product_ids=[p.pk for p in products.object_list])
    cves = selectors.cves_of_vendor(vendor=vendor)
    return render(
        request,
        "web/catalog/vendor_detail.html",
        {
            "section": "vendors",
            "vendor": vendor,
            "page": products,
            "products": [(product, counts.get(product.pk, 0)) for product in products.object_list],
            "cve_count": cves.count(),
            "cves": list(cve_rows(cves)[:CVES_PER_PAGE]),
            "subscribe": _subscribe_box(request, vendor=vendor),
        },
    )


@login_required
@require_GET
def product_detail(request: HttpRequest) -> HttpResponse:
    """/products?vendor=V&product=P (names may hold "/", so they travel as parameters, not in the path)."""
    vendor = _vendor_or_404(str(request.GET.get("vendor") or ""))
    try:
        product = selectors.product_by_name(vendor=vendor, name=str(request.GET.get("product") or ""))
    except NotFound as exc:
        raise Http404(exc.message) from None
    cves = selectors.cves_of_product(product=product)
    page = window(request, cve_rows(cves), per_page=CVES_PER_PAGE)
    return render(
        request,
        "web/catalog/product_detail.html",
        {
            "section": "vendors",
            "vendor": vendor,
            "product": product,
            "page": page,
            "query": _keep(request, "vendor", "product"),
            "subscribe": _subscribe_box(request, vendor=vendor, product=product),
        },
    )


def _keep(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for key in list(query):
        if key not in names:
            query.pop(key)
    return query.urlencode()


def _subscribe_box(request: HttpRequest, *, vendor: Vendor, product: Product | None = None) -> dict[str, Any]:
    """What the "Subscribe the current project" box shows: the organization, its projects, which follow."""
    organization = orgs.current_organization(request)
    if organization is None:
        return {"organization": None}
    projects = list(org_selectors.projects_of(organization=organization))
    following = org_selectors.projects_following(organization=organization, vendor=vendor, product=product)
    current = orgs.current_project(request, organization, projects)
    return {
        "organization": organization,
        "projects": projects,
        "current": current,
        "following": [p for p in projects if p.pk in following],
        "current_follows": current is not None and current.pk in following,
        "vendor": vendor,
        "product": product,
        "next": request.get_full_path(),
    }


@login_required
@require_POST
def subscribe(request: HttpRequest) -> HttpResponse:
    """Subscribe (or with action=unsubscribe, unsubscribe) a project of the current organization."""
    organization = orgs.current_organization(request)
    if organization is None:
        raise Http404("No Organization matches the given query.")
    project = orgs.project_or_404(organization, str(request.POST.get("project") or ""))
    vendor = str(request.POST.get("vendor") or "")
    product = str(request.POST.get("product") or "")
    args: dict[str, Any] = {"products": [(vendor, product)]} if product else {"vendors": [vendor]}
    label = f"{vendor} / {product}" if product else vendor
    unsubscribing = request.POST.get("action") == "unsubscribe"
    service = project_services.unsubscribe_project if unsubscribing else project_services.subscribe_project
    with refusal_as_message(request) as refusal:
        service(project=project, actor=request.user, **args)
    if not refusal:
        orgs.remember_project(request, organization, project)
        verb = "no longer follows" if unsubscribing else "now follows"
        messages.success(request, f"Project {project.name} {verb} {label}.")
    target = str(request.POST.get("next") or "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = reverse("web:vendor_list")
    return redirect(target)
