"""Template helpers of the list pages: numbers with thousands separators, EPSS, sortable column headers, the
big tables' rows (web/rows.py)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from cvewatch.catalog.ordering import DEFAULT_SORT, CveSort
from cvewatch.web import rows
from cvewatch.web.rows import epss_percent, thousands

register = template.Library()


register.filter(thousands)
register.filter(epss_percent)


@register.simple_tag(takes_context=True)
def cve_rows(context: template.Context, cves: Any, triage_column: Any = False) -> list[SafeString]:
    """The CVE table's rows (web/rows.py), with the project page's triage cell if `triage_column`."""
    return rows.CveRows(context, triage_column=bool(triage_column)).render(cves)


@register.simple_tag(takes_context=True)
def vendor_rows(context: template.Context, triples: Any) -> list[SafeString]:
    """The vendor list's rows (web/rows.py) from (vendor, CVE count, followed) triples."""
    return rows.VendorRows(context).render(triples)


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
