"""The public e-mail links: confirm an address, and one-click unsubscribe (RFC 8058). Thin edges."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cvewatch.alerts.errors import NotificationNotFound
from cvewatch.alerts.services import notifications


def _page(request: HttpRequest, *, title: str, text: str, status: int = 200, form: bool = False) -> HttpResponse:
    context = {"title": title, "text": text, "form": form}
    return render(request, "alerts/web/email_link.html", context, status=status)


@require_http_methods(["GET"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        notification = notifications.confirm_email(token=token)
    except NotificationNotFound:
        return _page(request, title="Unknown link", text="This confirmation link is not valid.", status=404)
    project = notification.project
    return _page(
        request,
        title="Address confirmed",
        text=f"{notification.target} now receives the alerts of {project.organization.name}/{project.name}.",
    )


# Mail clients POST `List-Unsubscribe=One-Click` without a CSRF token: the unguessable token is the proof.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":  # link scanners follow GET links: only a POST unsubscribes
        return _page(request, title="Unsubscribe", text="Stop receiving these alerts?", form=True)
    try:
        notification = notifications.unsubscribe_email(token=token)
    except NotificationNotFound:
        return _page(request, title="Unknown link", text="This unsubscribe link is not valid.", status=404)
    return _page(request, title="Unsubscribed", text=f"{notification.target} receives no more of these alerts.")
