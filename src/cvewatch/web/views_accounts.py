"""Sign-in, sign-out, sign-up and password pages: Django's auth views with our templates."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from cvewatch.web.forms import SignupForm


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
        # Behind a proxy the request's host may be internal; the configured public URL wins for mailed links.
        if settings.BASE_URL:
            parts = urlsplit(settings.BASE_URL)
            self.extra_email_context = {"protocol": parts.scheme or "https", "domain": parts.netloc}
        # Django logs (by user id) and swallows a failed send, so the answer never tells whether an
        # account uses the address; the operator sees the failure in the log.
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/accounts/password_reset_confirm.html"
    success_url = "/password-reset/complete"


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/accounts/password_reset_complete.html"


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    # A closed instance must not even reveal that sign-up exists.
    if not settings.ALLOW_SIGNUP:
        raise Http404("Sign-up is disabled")
    # Someone arriving from an invitation link comes back to it once the account exists.
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ) or not target.startswith("/"):
        target = ""
    if request.user.is_authenticated:
        return redirect(target or "web:dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}. Create or join an organization to start.")
        return redirect(target or "web:dashboard")
    return render(request, "web/accounts/signup.html", {"form": form, "next": target})
