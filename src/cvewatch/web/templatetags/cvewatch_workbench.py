"""Template helpers of the workbench pages (tags, triage)."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from cvewatch.workbench.models import TriageStatus

register = template.Library()

_STATUS_LABELS = dict(TriageStatus.choices)  # plain strings: the labels are not translated


@register.filter
def triage_value(value: str, field: str) -> str:
    """A TriageEvent's old/new value as people read it: a status's label, a username, or 'nobody'."""
    if not value:
        return "nobody" if field == "assignee" else "—"
    if field == "status" and value in _STATUS_LABELS:
        return _STATUS_LABELS[value]
    return value


@register.filter
def query_summary(query: str) -> str:
    """A saved view's query string as people read it: `cvss: critical · vendor: apache`."""
    pairs = parse_qsl(query or "")
    return " · ".join(f"{key}: {value}" for key, value in pairs) or "—"


# The CVE page's triage forms repeat these <option> lists once per watching project (30 projects, each member):
# built here rather than in template loops, which cost most of the panel's rendering.


def _options(pairs: Iterable[tuple[str, str]], current: str) -> SafeString:
    # Plain string building (format_html's lazy-string checks cost more than the options): html.escape on
    # each value and label, as the template's autoescape did.
    return mark_safe(  # noqa: S308 - built from escaped parts
        "".join(
            f'<option value="{escape(str(value))}"{" selected" if value == current else ""}>{escape(str(label))}</option>'
            for value, label in pairs
        )
    )


@register.simple_tag
def status_options(statuses: Iterable[tuple[str, str]], current: str) -> SafeString:
    """The status <option>s, `current` selected."""
    return _options(statuses, current)


@register.simple_tag
def member_options(members: Iterable[Any], current: str) -> SafeString:
    """An <option> per member (by username), the one named `current` selected."""
    return _options(((m.username, m.username) for m in members), current)


@register.simple_tag
def triage_events(events: Iterable[Any]) -> SafeString:
    """A triage's history <li>s: up to 20 per watching project, so built here rather than in a template loop.
    Dates in local time as a template shows them: `date:'c'` is isoformat(), `date:"Y-m-d H:i"` written out
    (the filter's format machinery cost more than the rest of the item); every value is escaped."""
    items = []
    for e in events:
        when = template_localtime(e.created_at)
        shown = f"{when.year:04d}-{when.month:02d}-{when.day:02d} {when.hour:02d}:{when.minute:02d}"
        items.append(
            f'\n            <li><time datetime="{escape(when.isoformat())}">{shown}</time> '
            f"<strong>{escape(e.actor_name or 'someone')}</strong>\n              set {escape(e.field)} from "
            f"<em>{escape(str(triage_value(e.old_value, e.field)))}</em> to "
            f"<em>{escape(str(triage_value(e.new_value, e.field)))}</em></li>\n          "
        )
    return mark_safe("".join(items))  # noqa: S308 - built from escaped parts
