"""A project's notifications (create, test, delete; a webhook secret shown once) and its delivery log with a
retry button. Any member of the organization; outsiders get 404. Thin: the alerts services decide."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cvewatch.alerts import selectors as alert_selectors
from cvewatch.alerts.choices import Channel, DeliveryStatus, Digest
from cvewatch.alerts.services import notifications, sending
from cvewatch.alerts.services.digests import day_bounds
from cvewatch.catalog.vocabulary import ChangeType
from cvewatch.core.errors import DomainError
from cvewatch.web import orgs

LOG_LIMIT = 200


class NotificationForm(forms.Form):
    name = forms.CharField(max_length=64, help_text="Letters, digits, '-', '_', '.'; unique in the project.")
    channel = forms.ChoiceField(choices=Channel.choices)
    target = forms.CharField(
        max_length=2000, label="URL or e-mail address",
        help_text="Webhook, Slack incoming-webhook or Teams Workflows URL; or the address to mail.",
    )  # fmt: skip
    event_types = forms.MultipleChoiceField(
        choices=[(t.value, t.value) for t in ChangeType], required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None selected: every type.",
    )  # fmt: skip
    min_cvss31 = forms.FloatField(
        required=False, min_value=0, max_value=10, label="Minimum CVSS v3.1",
        help_text="CVEs without a v3.1 score are kept.",
    )  # fmt: skip
    kev_only = forms.BooleanField(required=False, label="Known exploited (KEV) only")
    digest = forms.ChoiceField(choices=Digest.choices, initial=Digest.IMMEDIATE)


def _context(request: HttpRequest, org: str, project: str):  # type: ignore[no-untyped-def]
    organization = orgs.organization_or_404(request, org)
    return organization, orgs.project_or_404(organization, project)


def _notification_or_404(project, name: str):  # type: ignore[no-untyped-def]
    notification = alert_selectors.notification_named(project=project, name=name)
    if notification is None:
        raise Http404("No Notification matches the given query.")
    return notification


@never_cache  # the creation response carries the webhook secret
@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest, org: str, project: str) -> HttpResponse:
    organization, project_row = _context(request, org, project)
    form = NotificationForm(request.POST or None)
    created = secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                created, secret = notifications.create_notification(
                    project=project_row, name=data["name"], channel=data["channel"], target=data["target"],
                    event_types=data["event_types"], min_cvss31=data["min_cvss31"], kev_only=data["kev_only"],
                    digest=data["digest"],
                )  # fmt: skip
            except DomainError as exc:
                form.add_error(None, str(exc))
        if created is None:
            status = 400
        else:
            form = NotificationForm()
            if created.channel == Channel.EMAIL:
                messages.info(request, f"A confirmation link was mailed to {created.target}; nothing is sent before.")
    return render(
        request,
        "web/alerts/notifications.html",
        {
            "section": "projects", "organization": organization, "project": project_row, "form": form,
            "notifications": list(alert_selectors.notifications_of(project=project_row)),
            "created": created, "secret": secret,
        },
        status=status,
    )  # fmt: skip


@login_required
@require_POST
def notification_test(request: HttpRequest, org: str, project: str, name: str) -> HttpResponse:
    organization, project_row = _context(request, org, project)
    notification = _notification_or_404(project_row, name)
    if notification.channel == Channel.EMAIL and notification.confirmed_at is None:
        outcome = notifications.send_confirmation(notification=notification)
        if outcome.delivered:
            messages.info(request, f"{notification.target} is not confirmed yet: the link was mailed again.")
        else:
            messages.error(request, f"The confirmation mail failed: {outcome.detail}")
    else:
        delivery = notifications.send_test(notification=notification)
        if delivery.status == DeliveryStatus.DELIVERED:
            messages.success(request, f"Test sent to {notification.name} (status {delivery.last_status_code}).")
        else:
            messages.error(request, f"The test to {notification.name} failed: {delivery.last_error}")
    return redirect("web:notification_list", organization.name, project_row.name)


@login_required
@require_POST
def notification_delete(request: HttpRequest, org: str, project: str, name: str) -> HttpResponse:
    organization, project_row = _context(request, org, project)
    notification = _notification_or_404(project_row, name)
    notifications.delete_notification(notification=notification)
    messages.success(request, f"Notification {notification.name} deleted.")
    return redirect("web:notification_list", organization.name, project_row.name)


@login_required
@require_GET
def delivery_log(request: HttpRequest, org: str, project: str) -> HttpResponse:
    organization, project_row = _context(request, org, project)
    status = request.GET.get("status") or None
    if status not in (None, *DeliveryStatus.values):
        status = None
    rows = alert_selectors.deliveries_of(organization=organization, project=project_row, status=status)
    return render(
        request,
        "web/alerts/deliveries.html",
        {
            "section": "projects", "organization": organization, "project": project_row,
            "deliveries": list(rows[:LOG_LIMIT]), "status": status or "", "statuses": DeliveryStatus.values,
        },
    )  # fmt: skip


@login_required
@require_POST
def delivery_retry(request: HttpRequest, org: str, project: str, delivery_id: str) -> HttpResponse:
    organization, project_row = _context(request, org, project)
    delivery = alert_selectors.delivery_for(organization=organization, delivery_id=delivery_id)
    if delivery is None or delivery.notification.project_id != project_row.pk:
        raise Http404("No Delivery matches the given query.")
    try:
        sending.retry_delivery(delivery=delivery)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        status = sending.send_now(delivery=delivery)
        if status == DeliveryStatus.DELIVERED:
            messages.success(request, f"Delivery {delivery.uuid} delivered.")
        else:
            delivery.refresh_from_db()
            messages.error(request, f"Delivery {delivery.uuid} failed again: {delivery.last_error}")
    return redirect("web:delivery_log", organization.name, project_row.name)


REPORT_LIMIT = 500


@login_required
@require_GET
def daily_report(request: HttpRequest, org: str, project: str) -> HttpResponse:
    """The changes of one UTC day that touch the project (default: today so far)."""
    organization, project_row = _context(request, org, project)
    try:
        day = date.fromisoformat(request.GET.get("day", "")) if request.GET.get("day") else timezone.now().date()
    except ValueError:
        day = timezone.now().date()
    start, end = day_bounds(day)
    changes = alert_selectors.project_changes_between(project=project_row, start=start, end=end)
    return render(
        request,
        "web/alerts/report.html",
        {
            "section": "projects", "organization": organization, "project": project_row, "day": day,
            "previous": day - timedelta(days=1), "next": day + timedelta(days=1),
            "changes": list(changes[:REPORT_LIMIT]), "limit": REPORT_LIMIT,
        },
    )  # fmt: skip
