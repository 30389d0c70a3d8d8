"""Projects of an organization: list, create, edit, (de)activate, delete, subscriptions and their CVEs.

Any member manages projects (the services enforce it); outsiders get 404 for everything.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cvewatch.core.errors import InvalidQuery, NotFound
from cvewatch.organizations import selectors
from cvewatch.organizations.models import Organization, Project
from cvewatch.organizations.services import projects as project_services
from cvewatch.web import orgs, project_triage
from cvewatch.web import selectors as web_selectors
from cvewatch.web.forms import CveFilterForm, ProjectEditForm, ProjectForm, QuerySubscriptionForm
from cvewatch.web.query import QueryError, page_filter
from cvewatch.web.refusals import refusal_as_message, refusal_on_form
from cvewatch.web.views_catalog import cve_rows, paginate
from cvewatch.workbench import query as workbench_query

SEARCH_LIMIT = 10


@login_required
@require_GET
def project_list(request: HttpRequest, org: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    projects = list(selectors.projects_of(organization=organization))
    return render(
        request,
        "web/projects/list.html",
        {
            "section": "projects",
            "organization": organization,
            "projects": projects,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest, org: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form) as refusal:
            project = project_services.create_project(
                organization=organization,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        if not refusal:
            messages.success(
                request, f"Project {project.name} created. Now subscribe it to vendors or products."
            )
            return redirect("web:project_detail", organization.name, project.name)
    return _project_form_page(request, organization=organization, form=form, project=None)


@login_required
@require_GET
def project_detail(request: HttpRequest, org: str, project: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    row = orgs.project_or_404(organization, project)
    return project_page(request, organization=organization, project=row)


def project_page(
    request: HttpRequest,
    *,
    organization: Organization,
    project: Project,
    subscription_form: QuerySubscriptionForm | None = None,
    subscription_error: QueryError | None = None,
    status: int = 200,
) -> HttpResponse:
    """The project's page; the query-subscription views render it again with their form's refusal."""
    form = CveFilterForm(request.GET or None)  # shows the filters; CveFilter reads them, as the API does
    cve_filter, query_error = page_filter(request, organization=organization)
    triage_filter = project_triage.triage_filter(request.GET)
    error, queryset = "", None
    if cve_filter is not None:
        try:
            if triage_filter:
                queryset = project_triage.triaged_cves(project=project, cve_filter=cve_filter, **triage_filter)
            else:
                queryset = selectors.project_cve_listing(project=project, cve_filter=cve_filter)
        except InvalidQuery as exc:
            query_error = QueryError.of(cve_filter.q, exc)
        except NotFound as exc:
            error = exc.message
    if queryset is None:  # a malformed query or a refused filter: its error, no list
        queryset = selectors.cves_for_project(project=project).none()
    page = paginate(request, cve_rows(queryset))
    project_triage.mark_page(project=project, page=page)
    query = request.GET.copy()
    query.pop("page", None)
    # `find`: the vendor/product search of the Subscribe panel (`q` is the CVE list's query).
    term = (request.GET.get("find") or "").strip()
    context = {
        "section": "projects",
        "organization": organization,
        "project": project,
        "subscriptions": selectors.project_subscriptions(project=project),
        "query_subscriptions": workbench_query.query_subscriptions_of(project=project),
        "subscription_form": subscription_form or QuerySubscriptionForm(),
        "subscription_error": subscription_error,
        "page": page,
        "query": query.urlencode(),
        "form": form,
        "error": error,
        "query_error": query_error,
        "q": term,
        **project_triage.filter_context(organization=organization, params=request.GET),
        **(_search_results(term) if term else {}),
    }
    return render(request, "web/projects/detail.html", context, status=status)


def _search_results(term: str) -> dict[str, object]:
    """Vendors and products whose name contains the term, best matches first."""
    vendors = list(web_selectors.search_vendors(term=term)[:SEARCH_LIMIT])
    products = list(web_selectors.search_products(term=term)[:SEARCH_LIMIT])
    return {"vendors": vendors, "products": products, "searched": True}


@login_required
@require_GET
def catalog_search(request: HttpRequest, org: str, project: str) -> HttpResponse:
    """htmx partial: vendors and products matching ?q=, each with a subscribe button."""
    organization = orgs.organization_or_404(request, org)
    row = orgs.project_or_404(organization, project)
    term = (request.GET.get("find") or request.GET.get("q") or "").strip()
    context: dict[str, object] = {"organization": organization, "project": row, "q": term}
    if len(term) >= 2:
        context.update(_search_results(term))
    return render(request, "web/projects/_search_results.html", context)


def _subscription_args(request: HttpRequest) -> dict[str, list[str]]:
    vendors = [v for v in request.POST.getlist("vendor") if v.strip()]
    products = [p for p in request.POST.getlist("product") if p.strip()]
    return {"vendors": vendors, "products": products}


@login_required
@require_POST
def subscribe(request: HttpRequest, org: str, project: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    row = orgs.project_or_404(organization, project)
    args = _subscription_args(request)
    if not args["vendors"] and not args["products"]:
        messages.error(request, "Choose a vendor or a product to subscribe to.")
    else:
        with refusal_as_message(request) as refusal:
            project_services.subscribe_project(project=row, actor=request.user, **args)
        if not refusal:
            messages.success(request, f"Subscribed to {_names(args)}.")
    return redirect("web:project_detail", organization.name, row.name)


@login_required
@require_POST
def unsubscribe(request: HttpRequest, org: str, project: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    row = orgs.project_or_404(organization, project)
    args = _subscription_args(request)
    with refusal_as_message(request) as refusal:
        project_services.unsubscribe_project(project=row, actor=request.user, **args)
    if not refusal:
        messages.success(request, f"Unsubscribed from {_names(args)}.")
    return redirect("web:project_detail", organization.name, row.name)


def _names(args: dict[str, list[str]]) -> str:
    return ", ".join(args["vendors"] + args["products"])


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, org: str, project: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    row = orgs.project_or_404(organization, project)
    initial = {"name": row.name, "description": row.description, "active": row.active}
    form = ProjectEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form) as refusal:
            project_services.update_project(
                project=row,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                active=form.cleaned_data["active"],
                actor=request.user,
            )
        if not refusal:
            messages.success(request, f"Project {row.name} saved.")
            return redirect("web:project_detail", organization.name, row.name)
    return _project_form_page(request, organization=organization, form=form, project=row)


@login_required
@require_POST
def project_set_active(request: HttpRequest, org: str, project: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    row = orgs.project_or_404(organization, project)
    active = request.POST.get("active") == "1"
    with refusal_as_message(request) as refusal:
        project_services.update_project(project=row, active=active, actor=request.user)
    if not refusal:
        messages.success(request, f"Project {row.name} {'activated' if active else 'deactivated'}.")
    return redirect("web:project_detail", organization.name, row.name)


@login_required
@require_http_methods(["GET", "POST"])
def project_delete(request: HttpRequest, org: str, project: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    row: Project = orgs.project_or_404(organization, project)
    if request.method == "POST":
        with refusal_as_message(request) as refusal:
            project_services.delete_project(project=row, actor=request.user)
        if refusal:
            return redirect("web:project_detail", organization.name, row.name)
        messages.success(request, f"Project {project} deleted.")
        return redirect("web:project_list", organization.name)
    return render(
        request,
        "web/projects/delete.html",
        {
            "section": "projects",
            "organization": organization,
            "project": row,
        },
    )


def _project_form_page(request: HttpRequest, *, organization, form, project) -> HttpResponse:
    """The create/edit form, answered 400 when it holds errors."""
    return render(
        request,
        "web/projects/form.html",
        {"section": "projects", "organization": organization, "form": form, "project": project},
        status=400 if form.errors else 200,
    )
