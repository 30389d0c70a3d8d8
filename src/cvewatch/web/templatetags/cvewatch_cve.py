"""The CVE page's long lists (vendors with their products, CPEs, references) rendered in Python, not template
loops.

A CVE can name thousands of products and CPEs (CVE-2021-3942: 2,701 names, 2,723 CPEs); a template loop with
a `{% url %}` per link took most of a second there, this takes milliseconds. Output is escaped by format_html.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from urllib.parse import quote_plus

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from cvewatch.catalog.affected import VendorGroup
from cvewatch.catalog.cve_facts import Reference

register = template.Library()

VENDORS_OPEN = 6  # vendor groups shown before "Show N more vendors"
PRODUCTS_OPEN = 8  # products of a vendor shown before "N more"
MAX_CPES = 500  # CPEs listed; the API serves them all
REFERENCES_OPEN = 12  # references shown before "Show N more references"


def _spaced(name: str) -> str:
    return name.replace("_", " ")


def _products(list_url: str, group: VendorGroup) -> SafeString:
    # Plain string building: quote_plus leaves only URL-safe characters, html.escape covers the text.
    vendor = quote_plus(group.vendor)
    links = [
        f'<a href="{list_url}?vendor={vendor}&amp;product={quote_plus(p)}">{escape(_spaced(p))}</a>'
        for p in group.products
    ]
    shown = " ".join(links[:PRODUCTS_OPEN])
    if len(links) <= PRODUCTS_OPEN:
        return mark_safe(shown)  # noqa: S308 - built from escaped parts above
    rest = " ".join(links[PRODUCTS_OPEN:])
    summary = f"{len(links) - PRODUCTS_OPEN} more"
    return mark_safe(f'{shown} <details class="inline"><summary>{summary}</summary>{rest}</details>')  # noqa: S308


def _groups(list_url: str, groups: Iterable[VendorGroup]) -> SafeString:
    items = []
    for group in groups:
        vendor_url = reverse("web:vendor_detail", args=[group.vendor])
        name = format_html('<a class="vendor" href="{}">{}</a>', vendor_url, _spaced(group.vendor))
        if group.products:
            items.append(format_html('<li>{} <span class="count">{}</span> <span class="products">{}</span></li>',
                                     name, len(group.products), _products(list_url, group)))  # fmt: skip
        else:
            items.append(format_html("<li>{}</li>", name))
    return mark_safe("".join(items))


@register.simple_tag
def vendor_groups(groups: tuple[VendorGroup, ...]) -> SafeString:
    """The vendor groups, the first few open, the rest behind one <details>."""
    list_url = reverse("web:cve_list")
    shown = format_html('<ul class="vendor-groups">{}</ul>', _groups(list_url, groups[:VENDORS_OPEN]))
    if len(groups) <= VENDORS_OPEN:
        return shown
    hidden = len(groups) - VENDORS_OPEN
    return format_html(
        '{}<details class="more"><summary>Show {} more vendor{}</summary><ul class="vendor-groups">{}</ul></details>',
        shown, hidden, "" if hidden == 1 else "s", _groups(list_url, groups[VENDORS_OPEN:]),
    )  # fmt: skip


@register.simple_tag
def cpe_list(cpes: list[str]) -> SafeString:
    cpes = [c for c in cpes or [] if isinstance(c, str)]
    if not cpes:
        return mark_safe("")
    lines = format_html_join("", '<li class="mono breakable">{}</li>', ((c,) for c in cpes[:MAX_CPES]))
    more = (format_html('<li class="muted">and {} more: the API lists them all</li>', f"{len(cpes) - MAX_CPES:,}")
            if len(cpes) > MAX_CPES else "")  # fmt: skip
    return format_html('<details><summary>{} CPE{}</summary><ul class="plain">{}{}</ul></details>',
                       f"{len(cpes):,}", "" if len(cpes) == 1 else "s", lines, more)  # fmt: skip


@register.simple_tag
def reference_items(references: tuple[Reference, ...]) -> SafeString:
    """The references' <li>s (links for http(s), text otherwise), those past the first few behind a <details>
    (the template opens and closes the list around them). Heartbleed has 100+: a template loop cost ~4 ms."""
    items = []
    for number, ref in enumerate(references, 1):
        if number == REFERENCES_OPEN + 1:
            hidden = len(references) - REFERENCES_OPEN
            items.append(f'</ul>\n  <details class="more"><summary>Show {hidden} more reference{"" if hidden == 1 else "s"}'
                         '</summary><ul class="references">')  # fmt: skip
        if ref.safe:
            item = (f'<a href="{escape(ref.url)}" rel="noopener noreferrer nofollow" target="_blank">'
                    f'<strong>{escape(ref.host)}</strong><span class="path">{escape(ref.rest)}</span></a>')  # fmt: skip
        else:
            item = (
                f'<span class="mono breakable" title="Not a web link: shown as text">{escape(ref.url)}</span>'
            )
        items.append(f"\n    <li>{item}</li>\n  ")
    return mark_safe("".join(items))  # noqa: S308 - built from escaped parts above
