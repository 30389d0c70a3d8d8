"""Template helpers of the list pages: numbers with thousands separators, EPSS, sortable column headers."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cvewatch.catalog.ordering import DEFAULT_SORT, CveSort

register = template.Library()


@register.filter
def thousands(value: Any) -> str:
    """12345 -> "12,345"; anything not a number is shown as it is."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)


@register.filter
def epss_percent(value: Any) -> str:
    """An EPSS probability as a percentage: 0.97431 -> "97.4%", 0.00043 -> "0.04%"."""
    if value is None:
        return ""
    try:
        score = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{score:.1%}" if score >= 0.001 else f"{score:.2%}"


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, key: str, label: str) -> str:
    """A column header's link: sorts by `key` from the highest down, or flips the direction if it already does.

    The other parameters of the page (its filters) are kept; the page number is dropped.
    """
    current: CveSort | None = context.get("sort")
    request = context.get("request")
    if current is None or request is None:
        return label
    query = request.GET.copy()
    for name in ("sort", "dir", "page"):
        query.pop(name, None)
    active = current.key == key
    descending = not (active and current.descending)
    if key != DEFAULT_SORT or not descending:
        query["sort"] = key
    if not descending:
        query["dir"] = "asc"
    arrow = ("↓" if current.descending else "↑") if active else ""
    state = f", sorted {'highest' if current.descending else 'lowest'} first" if active else ""
    return format_html(
        '<a class="sort" href="?{}"{}>{}<span aria-hidden="true"> {}</span><span class="visually-hidden">{}</span></a>',
        query.urlencode(),
        mark_safe(' aria-current="true"') if active else "",
        label,
        arrow,
        state,
    )


@register.simple_tag(takes_context=True)
def aria_sort(context: template.Context, key: str) -> str:
    current: CveSort | None = context.get("sort")
    if current is None or current.key != key:
        return ""
    return format_html(' aria-sort="{}"', "descending" if current.descending else "ascending")
