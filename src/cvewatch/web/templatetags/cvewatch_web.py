"""Template helpers of the web UI: severity badges, names and counts as people read them, the organization menu."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cvewatch.catalog import cve_facts, names, vocabulary
from cvewatch.organizations.choices import Role
from cvewatch.web import orgs

register = template.Library()

severity = vocabulary.severity


# When a CVE has no v3.1 score (the one the filters use), the newest other version stands in, labelled.
CVSS_FIELDS = (  # in the order the badge prefers them (web/rows.py keys its badges on them)
    ("cvss31_score", ""),
    ("cvss40_score", "v4.0"),
    ("cvss30_score", "v3.0"),
    ("cvss20_score", "v2"),
)


@register.simple_tag
def cvss_badge(cve: Any) -> str:
    for field, label in CVSS_FIELDS:
        score = getattr(cve, field, None)
        if score is not None:
            name = severity(score)
            prefix = f"{label} " if label else ""
            return format_html(
                '<span class="badge {}" title="CVSS {} {}">{}{} {}</span>',
                name,
                label or "v3.1",
                name,
                prefix,
                f"{score:.1f}",
                name,
            )
    return mark_safe('<span class="badge" title="No CVSS score">n/a</span>')


@register.filter
def human_vendor(value: str) -> str:
    """ "apache$PRODUCT$log4j" → "apache / log4j"; other values unchanged."""
    if isinstance(value, str) and names.is_product(value):
        vendor, product = names.split_product(value)
        return f"{vendor} / {product}"
    return str(value)


@register.filter
def thousands(value: Any) -> str:
    """12345 -> "12,345"."""
    return f"{value:,}" if isinstance(value, int) else str(value)


@register.filter
def spaced(value: Any) -> str:
    """A stored name as words: "apache_software_foundation" -> "apache software foundation"."""
    return str(value).replace("_", " ")


@register.filter
def join_spaced(values: Any) -> str:
    return ", ".join(spaced(v) for v in values) if isinstance(values, list | tuple) else spaced(values)


@register.filter
def source_label(source: Any) -> str:
    """A per-source record's or provider's name as a person reads it ("nvd" -> "NVD")."""
    return cve_facts.SOURCE_LABELS.get(str(source), str(source or "unknown"))


@register.filter
def product_url(key: Any) -> str:
    """The CVE list of a stored "vendor$PRODUCT$product" name."""
    vendor, product = names.split_product(str(key))
    query = urlencode({"vendor": vendor, "product": product} if product else {"vendor": vendor})
    return f"{reverse('web:cve_list')}?{query}"


@register.filter
def join_keys(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(str(k) for k in value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


@register.filter
def metrics_change(details: Any) -> str:
    """A metrics event ({"added", "removed", "updated"}) as "added: kev, ssvc; updated: cvssV3_1"."""
    if not isinstance(details, dict):
        return ""
    parts = [
        f"{key}: {join_keys(details[key])}" for key in ("added", "updated", "removed") if details.get(key)
    ]
    return "; ".join(parts)


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def is_web_url(value: Any) -> bool:
    # References come from third-party feeds: only http(s) links become clickable (no javascript: URLs).
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


@register.simple_tag
def signup_allowed() -> bool:
    return bool(settings.ALLOW_SIGNUP)


@register.simple_tag(takes_context=True)
def current_organization(context: template.Context) -> Any:
    request = context.get("request")
    return orgs.current_organization(request) if request is not None else None


@register.simple_tag(takes_context=True)
def user_organizations(context: template.Context) -> list[Any]:
    request = context.get("request")
    return orgs.organizations_of(request) if request is not None else []


@register.simple_tag(takes_context=True)
def is_owner(context: template.Context, organization: Any) -> bool:
    request = context.get("request")
    return request is not None and orgs.role_in(request, organization) == Role.OWNER
