"""Template helpers of the workbench pages (tags, triage)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from django import template

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
