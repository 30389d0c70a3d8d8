"""Organization API tokens: list, create (the full token shown exactly once), revoke, audit trail. Owners only.

Creating is Post/Redirect/Get: the POST keeps the new secret in the session and redirects to the token's
"created" page, whose first display takes it out; reloading that page says the secret was shown already and
never creates another token.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cvewatch.organizations import selectors
from cvewatch.organizations.choices import Role
from cvewatch.organizations.errors import DuplicateName
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


# The secrets of tokens created in this session and not displayed yet: {token_id: full token}. A secret
# leaves the session on its one display (Post/Redirect/Get: reloading that page shows it no more).
UNSHOWN_SECRETS = "cvewatch.unshown_token_secrets"


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


def _keep_for_one_display(request: HttpRequest, token: OrganizationToken, full_token: str) -> HttpResponse:
    request.session[UNSHOWN_SECRETS] = {**request.session.get(UNSHOWN_SECRETS, {}), token.token_id: full_token}
    return redirect("web:token_created", token.organization.name, token.token_id)


def _unshown_token_named(request: HttpRequest, organization: Organization, name: str) -> str | None:
    """The id of this session's token of that name whose secret was not displayed yet (a resent form)."""
    holder = selectors.unrevoked_token_named(organization=organization, name=name)
    if holder is not None and holder.token_id in request.session.get(UNSHOWN_SECRETS, {}):
        return holder.token_id
    return None


@never_cache
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
        name = form.cleaned_data["name"]
        with refusal_on_form(form) as refusal:
            token, full_token = tokens.create_token(
                organization=organization,
                name=name,
                description=form.cleaned_data["description"],
                expires=form.cleaned_data["expires"],
                actor=request.user,
            )
        if not refusal:
            return _keep_for_one_display(request, token, full_token)
        # The same form sent twice (a double click, or sent again from the history) before its token was
        # shown: show that token rather than only refusing its name.
        pending = _unshown_token_named(request, organization, name)
        if isinstance(refusal.error, DuplicateName) and pending is not None:
            return redirect("web:token_created", organization.name, pending)
    return _page(request, organization, form, status=400)


@never_cache  # this page carries the secret on its one display: no cache may keep it
@login_required
@require_http_methods(["GET"])
def token_created(request: HttpRequest, org: str, token_id: str) -> HttpResponse:
    """Shows a new token's secret once, taking it out of the session; later visits say it was shown."""
    organization, forbidden = _owner_organization(request, org)
    if forbidden:
        return forbidden
    token = selectors.tokens_of(organization=organization).filter(token_id=token_id).first()
    if token is None:
        raise Http404("No token matches the given query.")
    unshown = request.session.get(UNSHOWN_SECRETS, {})
    full_token = unshown.pop(token.token_id, "")
    if full_token:
        request.session[UNSHOWN_SECRETS] = unshown  # saved with the response: gone before anyone reloads
    return _page(request, organization, TokenForm(), created=token, full_token=full_token)


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
