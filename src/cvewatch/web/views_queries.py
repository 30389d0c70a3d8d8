"""A project's query subscriptions on its page: add (with the refused query shown in place) and remove."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from cvewatch.core.errors import DomainError, InvalidQuery
from cvewatch.web import orgs
from cvewatch.web.forms import QuerySubscriptionForm
from cvewatch.web.query import QueryError
from cvewatch.web.refusals import refusal_as_message
from cvewatch.web.views_projects import project_page
from cvewatch.workbench.services import query_subscriptions


@login_required
@require_POST
def query_subscription_add(request: HttpRequest, org: str, project: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    row = orgs.project_or_404(organization, project)
    form = QuerySubscriptionForm(request.POST)
    if form.is_valid():
        text = form.cleaned_data["query"]
        try:
            query_subscriptions.add_query_subscription(
                project=row, query=text, name=form.cleaned_data["name"], actor=request.user
            )
        except InvalidQuery as exc:
            error = QueryError.of(text.strip(), exc)
            return project_page(
                request, organization=organization, project=row, subscription_form=form,
                subscription_error=error, status=400,
            )  # fmt: skip
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Subscribed to the query {text.strip()}.")
            return redirect("web:project_detail", organization.name, row.name)
    return project_page(request, organization=organization, project=row, subscription_form=form, status=400)


@login_required
@require_POST
def query_subscription_remove(request: HttpRequest, org: str, project: str, subscription_id: int) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    row = orgs.project_or_404(organization, project)
    with refusal_as_message(request) as refusal:
        query_subscriptions.remove_query_subscription(project=row, subscription_id=subscription_id, actor=request.user)
    if not refusal:
        messages.success(request, "Query subscription removed.")
    return redirect("web:project_detail", organization.name, row.name)
