"""Organization API tokens: list, create (the full token shown exactly once), revoke, audit trail. Owners only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cvewatch.organizations import selectors
from cvewatch.organizations.choices import Role
from cvewatch.organizations.models import Organization, OrganizationToken
from cvewatch.organizations.services import tokens
from cvewatch.web import orgs
from cvewatch.web.forms import TokenForm
from cvewatch.web.refusals import refusal_as_message, refusal_on_form


def _owner_organization(request: HttpRequest, org: str) -> tuple[Organization, HttpResponse | None]:
    """The organization, or a clear 403 page for members (outsiders already got a 404)."""
    organization = orgs.organization_or_404(request, org)
    if orgs.role_in(request, organization) != Role.OWNER:
        page = render(
            request,
            "web/forbidden.html",
            {
                "organization": organization,
                "message": f"Only owners of {organization.name} can see and manage its API tokens.",
            },
            status=403,
        )
        return organization, page
    return organization, None


def _page(
    request: HttpRequest,
    organization: Organization,
    form: TokenForm,
    *,
    created: OrganizationToken | None = None,
    full_token: str = "",
    status: int = 200,
) -> HttpResponse:
    events = list(selectors.token_events_of(organization=organization)[:200])
    return render(
        request,
        "web/tokens/list.html",
        {
            "section": "tokens",
            "organization": organization,
            "form": form,
            "tokens": list(selectors.tokens_of(organization=organization)),
            "events": events,
            "created": created,
            "full_token": full_token,
        },
        status=status,
    )


@never_cache  # the creation response carries the secret: no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest, org: str) -> HttpResponse:
    organization, forbidden = _owner_organization(request, org)
    if forbidden:
        return forbidden
    if request.method == "GET":
        return _page(request, organization, TokenForm())
    form = TokenForm(request.POST)
    if form.is_valid():
        with refusal_on_form(form) as refusal:
            token, full_token = tokens.create_token(
                organization=organization,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                expires=form.cleaned_data["expires"],
                actor=request.user,
            )
        if not refusal:
            # Rendered in the POST response itself, never stored: reloading cannot show it again.
            return _page(request, organization, TokenForm(), created=token, full_token=full_token)
    return _page(request, organization, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, org: str, token_id: str) -> HttpResponse:
    organization, forbidden = _owner_organization(request, org)
    if forbidden:
        return forbidden
    token = selectors.tokens_of(organization=organization).filter(token_id=token_id).first()
    if token is None:
        raise Http404("No token matches the given query.")
    if request.method == "POST":
        with refusal_as_message(request) as refusal:
            tokens.revoke_token(organization=organization, token_id=token.token_id, actor=request.user)
        if not refusal:
            messages.success(
                request, f"Token {token.name} ({token.token_id}) was revoked. It stops working now."
            )
        return redirect("web:token_list", organization.name)
    return render(
        request,
        "web/tokens/revoke.html",
        {
            "section": "tokens",
            "organization": organization,
            "token": token,
        },
    )
