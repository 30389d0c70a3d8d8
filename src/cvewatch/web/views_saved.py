"""Saved views of the CVE list: save the current filters under a name (private or shared with the current
organization), list, open, rename, delete. Views live in the current organization."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cvewatch.core.errors import NotFound
from cvewatch.organizations.models import Organization
from cvewatch.web import orgs
from cvewatch.web.forms_workbench import RenameViewForm, SavedViewForm
from cvewatch.web.refusals import refusal_as_message, refusal_on_form
from cvewatch.workbench import selectors
from cvewatch.workbench.services import views as view_services


def saved_views_context(request: HttpRequest, *, query: str) -> dict[str, object]:
    """The CVE list's saved-views box: the views the person sees and a form saving `query`."""
    organization = orgs.current_organization(request)
    views = list(selectors.views_for(user=request.user, organization=organization)) if organization else []
    return {
        "saved_views": views,
        "saved_view_org": organization,
        "save_form": SavedViewForm(initial={"query": query}),
    }


def _organization(request: HttpRequest) -> Organization:
    organization = orgs.current_organization(request)
    if organization is None:
        raise Http404("Saved views live in an organization: create or join one first.")
    return organization


@login_required
@require_http_methods(["GET", "POST"])
def view_list(request: HttpRequest) -> HttpResponse:
    """GET: the views; POST: save one (from the CVE list's form), then open it."""
    organization = _organization(request)
    form = SavedViewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form) as refusal:
            view = view_services.create_view(
                organization=organization, owner=request.user, **form.cleaned_data
            )
        if not refusal:
            messages.success(request, f"View {view.name} saved.")
            return redirect("web:view_open", view.pk)
    views = list(selectors.views_for(user=request.user, organization=organization))
    is_owner = selectors.is_org_owner(user=request.user, organization_id=organization.pk)
    for view in views:
        view.editable = view.owner_id == request.user.pk or (view.shared and is_owner)
    return render(
        request,
        "web/workbench/views.html",
        {"section": "cves", "organization": organization, "views": views, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def view_open(request: HttpRequest, view_id: int) -> HttpResponse:
    organization = _organization(request)
    try:
        view = selectors.view_for(user=request.user, organization=organization, view_id=view_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    return redirect(f"{reverse('web:cve_list')}?{view.query}&view={view.pk}")


@login_required
@require_POST
def view_rename(request: HttpRequest, view_id: int) -> HttpResponse:
    organization = _organization(request)
    form = RenameViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the view a name of at most 64 characters.")
        return redirect("web:view_list")
    with refusal_as_message(request) as refusal:
        view = view_services.update_view(
            organization=organization, actor=request.user, view_id=view_id, **form.cleaned_data
        )
    if not refusal:
        messages.success(request, f"View {view.name} saved.")
    return redirect("web:view_list")


@login_required
@require_POST
def view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    organization = _organization(request)
    with refusal_as_message(request) as refusal:
        view_services.delete_view(organization=organization, actor=request.user, view_id=view_id)
    if not refusal:
        messages.success(request, "View deleted.")
    return redirect("web:view_list")
