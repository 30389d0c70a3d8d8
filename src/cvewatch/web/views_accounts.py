"""Sign-in, sign-out, sign-up and password pages: Django's auth views with our templates."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from cvewatch.organizations import selectors as org_selectors
from cvewatch.organizations.services import accounts
from cvewatch.web.forms import SignupForm
from cvewatch.web.refusals import caught_refusal, refusal_on_form

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    template_name = "web/accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default since 5.0): a link or an image cannot sign anyone out."""


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/accounts/password_change.html"
    success_url = "/account/password/done"


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "web/accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "web/accounts/password_reset.html"
    email_template_name = "web/accounts/password_reset_email.txt"
    subject_template_name = "web/accounts/password_reset_subject.txt"
    success_url = "/password-reset/sent"

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        # The link comes from CVEWATCH_BASE_URL alone: a reset asked with `Host: evil.example` must not mail
        # a link to evil.example carrying a valid token. Without a known public URL no link can be mailed.
        if not settings.BASE_URL:
            logger.warning("password reset asked but no mail sent: CVEWATCH_BASE_URL is not set")
            return redirect(self.get_success_url())
        self.extra_email_context = {"base_url": settings.BASE_URL}
        # Django logs (by user id) and swallows a failed send, so the answer never tells whether an
        # account uses the address; the operator sees the failure in the log.
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/accounts/password_reset_confirm.html"
    success_url = "/password-reset/complete"

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        # The reset link was mailed to the account's address: opening it proves the address.
        if form.user.email:
            accounts.mark_email_verified(user=form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/accounts/password_reset_complete.html"


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    # A closed instance must not even reveal that sign-up exists.
    if not settings.ALLOW_SIGNUP:
        raise Http404("Sign-up is disabled")
    if request.user.is_authenticated:
        return redirect("web:dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_on_form(form) as refusal:
            accounts.sign_up(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        if not refusal:
            # The same answer whether or not the address already had an account: the mail tells them.
            return render(request, "web/accounts/signup_done.html", {"email": form.cleaned_data["email"]})
    return render(request, "web/accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """A confirmation link: GET shows a button (mail scanners open links), POST proves the address."""
    if request.method == "POST":
        with caught_refusal() as refusal:
            user = accounts.verify_email(token=token)
        if not refusal:
            messages.success(request, f"Your e-mail address {user.email} is confirmed.")
            return redirect("web:dashboard" if request.user.is_authenticated else "web:login")
        return render(request, "web/accounts/verify_email.html", {"error": refusal.message}, status=400)
    return render(request, "web/accounts/verify_email.html", {})


@login_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    if org_selectors.email_is_verified(user=request.user):
        messages.info(request, "Your e-mail address is already confirmed.")
    elif accounts.send_email_verification(user=request.user):
        messages.success(request, f"We sent a confirmation link to {request.user.email}.")
    else:
        messages.error(request, "The confirmation mail could not be sent: ask the operator.")
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) or not target.startswith("/"):
        target = ""
    return redirect(target or "web:dashboard")
