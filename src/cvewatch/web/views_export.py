"""CSV export of the CVE list and of a project's CVEs: the page's own filters, every row, streamed.

Thin: the list comes from the selectors the pages use, the rows and the CSV from `catalog.export`. A filter
mistake (an unknown vendor) goes back to the list, which shows it, instead of a download of nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cvewatch.catalog import export, selectors
from cvewatch.catalog.filters import CveFilter
from cvewatch.organizations import selectors as org_selectors
from cvewatch.web import orgs
from cvewatch.web.refusals import refusal_as_message


def absolute_url(request: HttpRequest, path: str) -> str:
    """CVEWATCH_BASE_URL + path; the request's own origin when the install has none (bound to 0.0.0.0)."""
    return f"{settings.BASE_URL}{path}" if settings.BASE_URL else request.build_absolute_uri(path)


def cve_url_builder(request: HttpRequest):
    """cve_id → its page's absolute URL, with the path prefix reversed once rather than per row."""
    marker = "CVE-0000-0000"
    template = absolute_url(request, reverse("web:cve_detail", args=[marker]))
    head, tail = template.split(marker, 1)
    return lambda cve_id: f"{head}{cve_id}{tail}"


def _csv_response(request: HttpRequest, listing: object, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        export.export_csv(listing, cve_url=cve_url_builder(request)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _back(path: str, request: HttpRequest) -> HttpResponse:
    query = request.GET.urlencode()
    return redirect(f"{path}?{query}" if query else path)


@login_required
@require_GET
def cve_export(request: HttpRequest) -> HttpResponse:
    """/cve/export.csv?<the list's parameters>: every CVE the list shows, newest update first."""
    with refusal_as_message(request) as refusal:  # a malformed `q` too: the list shows it
        cve_filter = CveFilter.from_params(
            request.GET, user=request.user, organization=orgs.current_organization(request)
        )
        listing = selectors.cve_listing(cve_filter=cve_filter)
    if refusal:
        return _back(reverse("web:cve_list"), request)
    return _csv_response(request, listing, export.export_filename(today=timezone.now().date()))


@login_required
@require_GET
def project_export(request: HttpRequest, org: str, project: str) -> HttpResponse:
    """A project's CVEs with its list's filters; outsiders get the 404 every project page gives them."""
    organization = orgs.organization_or_404(request, org)
    row = orgs.project_or_404(organization, project)
    with refusal_as_message(request) as refusal:
        cve_filter = CveFilter.from_params(request.GET, user=request.user, organization=organization)
        listing = org_selectors.project_cve_listing(project=row, cve_filter=cve_filter)
    if refusal:
        return _back(reverse("web:project_detail", args=[organization.name, row.name]), request)
    filename = export.export_filename(organization.name, row.name, today=timezone.now().date())
    return _csv_response(request, listing, filename)
