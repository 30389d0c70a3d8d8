"""Template helpers of the workbench pages (tags, triage)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from cvewatch.workbench.models import TriageStatus

register = template.Library()


@register.filter
def triage_value(value: str, field: str) -> str:
    """A TriageEvent's old/new value as people read it: a status's label, a username, or 'nobody'."""
    if not value:
        return "nobody" if field == "assignee" else "—"
    if field == "status" and value in TriageStatus.values:
        return TriageStatus(value).label
    return value


@register.filter
def query_summary(query: str) -> str:
    """A saved view's query string as people read it: `cvss: critical · vendor: apache`."""
    pairs = parse_qsl(query or "")
    return " · ".join(f"{key}: {value}" for key, value in pairs) or "—"


# The CVE page's triage forms repeat these <option> lists once per watching project (30 projects, each member):
# built here rather than in template loops, which cost most of the panel's rendering.


@register.simple_tag
def status_options(statuses: Iterable[tuple[str, str]], current: str) -> SafeString:
    """The status <option>s, `current` selected."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((v, " selected" if v == current else "", label) for v, label in statuses),
    )


@register.simple_tag
def member_options(members: Iterable[Any], current: str) -> SafeString:
    """An <option> per member (by username), the one named `current` selected."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((m.username, " selected" if m.username == current else "", m.username) for m in members),
    )
