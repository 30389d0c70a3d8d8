"""Organization pages: create, switch, settings (members, roles, invitations), invitation links."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from cvewatch.organizations import selectors
from cvewatch.organizations.choices import Role
from cvewatch.organizations.models import Invitation, Membership, Organization
from cvewatch.organizations.services import invitations, members, organizations
from cvewatch.web import orgs
from cvewatch.web.forms import InvitedAccountForm, InviteForm, OrganizationForm, RoleForm
from cvewatch.web.refusals import caught_refusal, refusal_as_message, refusal_on_form


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    organization = selectors.organization_for(caller=request.user, name=request.POST.get("organization", ""))
    if organization is None:
        raise Http404("No Organization matches the given query.")
    orgs.remember_organization(request, organization)
    return redirect(_same_page_in(organization.name, request.POST.get("next") or "", request.get_host()))


_ORG_PAGE = re.compile(r"^/org/[^/]+/(settings|projects|tokens)(?:/|$)")


def _same_page_in(organization: str, target: str, host: str) -> str:
    """Where to land after switching: the same section of the new organization, else the page we were on."""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={host}) or not target.startswith("/"):
        return reverse("web:dashboard")
    match = _ORG_PAGE.match(target)
    if match:
        return f"/org/{organization}/{match.group(1)}"
    if target.startswith("/org/"):
        return reverse("web:dashboard")
    return target


@login_required
@require_http_methods(["GET", "POST"])
def create_organization(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form) as refusal:
            organization = organizations.create_organization(name=form.cleaned_data["name"], owner=request.user)
        if not refusal:
            orgs.remember_organization(request, organization)
            messages.success(request, f"Organization {organization.name} created. You are its owner.")
            return redirect("web:org_settings", organization.name)
    return render(request, "web/orgs/create.html", {"form": form, "section": "org"})


@login_required
@require_http_methods(["GET"])
def organization_settings(request: HttpRequest, org: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    owner = orgs.role_in(request, organization) == Role.OWNER
    members = list(selectors.members_of(organization=organization))
    context = {
        "section": "org",
        "organization": organization,
        "owner": owner,
        "members": members,
        "owner_count": sum(1 for m in members if m.role == Role.OWNER),
        "roles": Role.choices,
        "invitations": list(selectors.pending_invitations(organization=organization)) if owner else [],
        "invite_form": InviteForm(),
    }
    return render(request, "web/orgs/settings.html", context)


def _back_to_settings(organization_name: str) -> HttpResponse:
    return redirect("web:org_settings", organization_name)


@login_required
@require_POST
def invite(request: HttpRequest, org: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    form = InviteForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return _back_to_settings(organization.name)
    with refusal_as_message(request) as refusal:
        sent = invitations.invite_member(
            organization=organization,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            actor=request.user,
        )
    if refusal:
        return _back_to_settings(organization.name)
    if sent.mailed:
        messages.success(request, f"Invitation sent to {sent.invitation.email}.")
    else:
        # The invitation exists either way; the owner can pass the link on by hand.
        messages.warning(
            request,
            f"The invitation for {sent.invitation.email} was created but the mail could not be sent. "
            f"Give them this link yourself: {sent.link}",
        )
    return _back_to_settings(organization.name)


@login_required
@require_POST
def revoke_invitation(request: HttpRequest, org: str, invitation_id: int) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    invitation = selectors.pending_invitations(organization=organization).filter(pk=invitation_id).first()
    if invitation is None:
        messages.error(request, "This invitation is no longer pending.")
        return _back_to_settings(organization.name)
    with refusal_as_message(request) as refusal:
        invitations.revoke_invitation(invitation=invitation, actor=request.user)
    if not refusal:
        messages.success(request, f"The invitation for {invitation.email} was withdrawn.")
    return _back_to_settings(organization.name)


def _member_or_404(organization: Organization, user_id: int) -> Membership:
    membership = selectors.members_of(organization=organization).filter(user_id=user_id).first()
    if membership is None:
        raise Http404("No Membership matches the given query.")
    return membership


@login_required
@require_POST
def change_role(request: HttpRequest, org: str, user_id: int) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    membership = _member_or_404(organization, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return _back_to_settings(organization.name)
    with refusal_as_message(request) as refusal:
        members.change_member_role(
            organization=organization,
            user=membership.user,
            role=form.cleaned_data["role"],
            actor=request.user,
        )
    if not refusal:
        messages.success(request, f"{membership.user.get_username()} is now {form.cleaned_data['role']}.")
    return _back_to_settings(organization.name)


@login_required
@require_http_methods(["GET", "POST"])
def remove_member(request: HttpRequest, org: str, user_id: int) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    membership = _member_or_404(organization, user_id)
    leaving = membership.user_id == request.user.pk
    if request.method == "POST":
        with refusal_as_message(request) as refusal:
            members.remove_member(organization=organization, user=membership.user, actor=request.user)
        if refusal:
            return _back_to_settings(organization.name)
        if leaving:
            request.session.pop(orgs.SESSION_KEY, None)
            messages.success(request, f"You left {organization.name}.")
            return redirect("web:dashboard")
        messages.success(request, f"{membership.user.get_username()} was removed from {organization.name}.")
        return _back_to_settings(organization.name)
    return render(
        request,
        "web/orgs/remove_member.html",
        {"section": "org", "organization": organization, "membership": membership, "leaving": leaving},
    )


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation link: shows what it is, then joins or declines on POST; a visitor creates the account."""
    with caught_refusal() as refusal:
        pending = invitations.invitation_for_token(token=token)
    if refusal:  # an unknown, used, withdrawn or expired link is no page at all
        return render(request, "web/orgs/invitation.html", {"error": refusal.message}, status=404)
    if not request.user.is_authenticated:
        return _invitation_for_visitor(request, token, pending)
    if request.method == "POST":
        declining = request.POST.get("action") == "decline"
        with caught_refusal() as refusal:
            if declining:
                invitations.decline_invitation(token=token, user=request.user)
            else:
                invitations.accept_invitation(token=token, user=request.user)
        if refusal:
            return render(
                request,
                "web/orgs/invitation.html",
                {"invitation": pending, "error": refusal.message, **_addressee(request, pending)},
                status=400,
            )
        if declining:
            messages.info(request, f"You declined the invitation to {pending.organization.name}.")
            return redirect("web:dashboard")
        return _joined(request, pending.organization)
    return render(request, "web/orgs/invitation.html", {"invitation": pending, **_addressee(request, pending)})


def _addressee(request: HttpRequest, pending: Invitation) -> dict[str, bool]:
    matches = (request.user.email or "").strip().lower() == pending.email
    return {"email_matches": matches, "email_verified": matches and selectors.email_is_verified(user=request.user)}


def _joined(request: HttpRequest, organization: Organization) -> HttpResponse:
    orgs.remember_organization(request, organization)
    messages.success(request, f"Welcome to {organization.name}.")
    return redirect("web:org_settings", organization.name)


def _invitation_for_visitor(request: HttpRequest, token: str, pending: Invitation) -> HttpResponse:
    """Not signed in: sign in to answer, or let the invitation create the account for the invited address."""
    form = InvitedAccountForm(request.POST or None, email=pending.email)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form) as refusal:
            invitations.accept_invitation_with_new_account(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
        if not refusal:
            user = authenticate(
                request, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
            login(request, user)
            return _joined(request, pending.organization)
    return render(
        request,
        "web/orgs/invitation.html",
        {"invitation": pending, "account_form": form, "login_next": request.path},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def delete_organization(request: HttpRequest, org: str) -> HttpResponse:
    """Owners delete the organization after typing its name: projects, members and tokens go with it."""
    organization = orgs.organization_or_404(request, org)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm_name", "").strip() != organization.name:
            error = f"Type {organization.name} exactly to confirm."
        else:
            with caught_refusal() as refusal:
                organizations.delete_organization(organization=organization, actor=request.user)
            error = refusal.message
            if not refusal:
                request.session.pop(orgs.SESSION_KEY, None)
                messages.success(request, f"Organization {org} deleted.")
                return redirect("web:dashboard")
    return render(
        request,
        "web/orgs/delete.html",
        {
            "section": "org",
            "organization": organization,
            "error": error,
            "owner": orgs.role_in(request, organization) == Role.OWNER,
        },
        status=400 if error else 200,
    )
