"""The person's tags (the /tags page, the CVE page's tag widget) and the triage of a CVE in a project.

The CVE page's workbench panel (`web/workbench/cve_panel.html`) takes its context from `cve_panel_context`;
its forms post here and, under htmx, get the panel back; without JavaScript they redirect to the CVE page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cvewatch.catalog import names
from cvewatch.catalog import selectors as catalog_selectors
from cvewatch.catalog.models import Cve
from cvewatch.core.errors import NotFound
from cvewatch.web import orgs
from cvewatch.web.forms_workbench import TagForm, TriageForm
from cvewatch.web.refusals import caught_refusal, refusal_on_form
from cvewatch.workbench import selectors
from cvewatch.workbench.models import TriageStatus
from cvewatch.workbench.services import tags as tag_services
from cvewatch.workbench.services.triage import UNCHANGED, set_triage


@dataclass(frozen=True, slots=True)
class PanelTriage:
    """One watching project's triage as the panel shows it: flat values and its two URLs, worked out once
    here rather than looked up again and again in the template (the panel repeats them per project)."""

    name: str
    pk: int
    status: str
    status_label: str
    assignee: str
    former_member: bool  # assigned to someone no longer in the organization
    events: list[Any]
    project_url: str
    triage_url: str


def cve_panel_context(request: HttpRequest, cve: Cve) -> dict[str, Any]:
    """What the CVE page's workbench panel shows: the person's tags, and the CVE's triage in each active
    project of the current organization that watches it (with the members a triage may be assigned to)."""
    organization = orgs.current_organization(request)
    triages = selectors.cve_triages(organization=organization, cve=cve) if organization else []
    members = selectors.assignable_members(organization=organization) if triages else []
    member_names = {m.get_username() for m in members}
    tags = selectors.tags_for_cve(user=request.user, cve=cve)
    org_name = organization.name if organization else ""
    rows = []
    for t in triages:
        assignee = t.assignee
        rows.append(
            PanelTriage(
                name=t.project.name,
                pk=t.project.pk,
                status=t.status,
                status_label=t.status_label,
                assignee=assignee,
                former_member=bool(assignee) and assignee not in member_names,
                events=t.events,
                project_url=reverse("web:project_detail", args=[org_name, t.project.name]),
                triage_url=reverse("web:cve_triage", args=[org_name, t.project.name, cve.cve_id]),
            )
        )
    return {
        "workbench": {
            "tags_on": [t for t in tags if t.on_cve],
            "tags_other": [t for t in tags if not t.on_cve],
            "organization": organization,
            "triages": rows,
            "members": members,
            "statuses": TriageStatus.choices,
        }
    }


def _cve_or_404(cve_id: str) -> Cve:
    try:
        return catalog_selectors.cve_detail(cve_id=names.normalize_cve_id(cve_id) or cve_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _panel_answer(request: HttpRequest, cve: Cve, *, error: str = "", notice: str = "") -> HttpResponse:
    """htmx: the refreshed panel (with the error or notice in it); otherwise back to the CVE page."""
    if request.headers.get("HX-Request"):
        context = {
            "cve": cve,
            "panel_error": error,
            "panel_notice": notice,
            **cve_panel_context(request, cve),
        }
        return render(request, "web/workbench/cve_panel.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(reverse("web:cve_detail", args=[cve.cve_id]) + "#workbench-panel")


@login_required
@require_POST
def cve_tags(request: HttpRequest, cve_id: str) -> HttpResponse:
    """Put a tag on the CVE (action=add, creating the tag when the person has none of that name) or take
    one off (action=remove)."""
    cve = _cve_or_404(cve_id)
    name = (request.POST.get("tag") or "").strip()
    action = request.POST.get("action")
    with caught_refusal() as refusal:
        if action == "remove":
            tag_services.untag_cve(user=request.user, cve=cve, name=name)
            notice = f"Tag {name} removed."
        elif action == "add":
            tag = tag_services.add_tag_to_cve(user=request.user, cve=cve, name=name)
            notice = f"Tagged {tag.name}."
        else:
            return HttpResponse("Unknown action.", status=400)
    return _panel_answer(request, cve, error=refusal.message, notice="" if refusal else notice)


@login_required
@require_POST
def cve_triage(request: HttpRequest, org: str, project: str, cve_id: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    row = orgs.project_or_404(organization, project)
    cve = _cve_or_404(cve_id)
    form = TriageForm(request.POST)
    if not form.is_valid():
        return _panel_answer(request, cve, error="Choose a known status.")
    with caught_refusal() as refusal:
        set_triage(
            project=row,
            cve=cve,
            actor=request.user,
            status=form.cleaned_data["status"],
            # The project list's quick status form sends no assignee: leave it as it is then.
            assignee=(form.cleaned_data["assignee"] or None) if "assignee" in request.POST else UNCHANGED,
        )
    notice = f"Triage of {cve.cve_id} in {row.name} saved."
    answer = _panel_answer(request, cve, error=refusal.message, notice="" if refusal else notice)
    back = request.POST.get("next") or ""
    if not request.headers.get("HX-Request") and back.startswith(
        reverse("web:project_detail", args=[organization.name, row.name])
    ):
        return redirect(back)  # the project page's own forms return to the list they came from
    return answer


@login_required
@require_http_methods(["GET", "POST"])
def tag_list(request: HttpRequest) -> HttpResponse:
    form = TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form) as refusal:
            tag = tag_services.create_tag(user=request.user, **form.cleaned_data)
        if not refusal:
            messages.success(request, f"Tag {tag.name} created.")
            return redirect("web:tag_list")
    return render(
        request,
        "web/workbench/tags.html",
        {"section": "tags", "form": form, "tags": list(selectors.tags_of(user=request.user))},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def tag_edit(request: HttpRequest, name: str) -> HttpResponse:
    try:
        tag = selectors.tag_of(user=request.user, name=name)
    except NotFound as exc:
        raise Http404(exc.message) from None
    initial = {"name": tag.name, "color": tag.color, "description": tag.description}
    form = TagForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form) as refusal:
            tag = tag_services.update_tag(
                user=request.user,
                name=tag.name,
                new_name=form.cleaned_data["name"],
                color=form.cleaned_data["color"],
                description=form.cleaned_data["description"],
            )
        if not refusal:
            messages.success(request, f"Tag {tag.name} saved.")
            return redirect("web:tag_list")
    return render(
        request,
        "web/workbench/tag_edit.html",
        {"section": "tags", "form": form, "tag": tag},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def tag_delete(request: HttpRequest, name: str) -> HttpResponse:
    with caught_refusal() as refusal:
        tag_services.delete_tag(user=request.user, name=name)
    if refusal:
        raise Http404(refusal.message)
    messages.success(request, f"Tag {name} deleted.")
    return redirect("web:tag_list")
