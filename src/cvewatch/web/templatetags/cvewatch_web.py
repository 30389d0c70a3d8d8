"""Template helpers of the web UI: severity badges, metric summaries, vendor names, the organization menu."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cvewatch.web import orgs

register = template.Library()

# CVSS v3.x qualitative ratings (FIRST specification, section 5).
_SEVERITIES = ((9.0, "critical"), (7.0, "high"), (4.0, "medium"), (0.1, "low"))


def severity(score: float | None) -> str:
    if score is None:
        return ""
    for threshold, name in _SEVERITIES:
        if score >= threshold:
            return name
    return "none"


@register.simple_tag
def cvss_badge(score: float | None) -> str:
    if score is None:
        return mark_safe('<span class="badge" title="No CVSS v3.1 score">n/a</span>')
    name = severity(score)
    return format_html(
        '<span class="badge {}" title="CVSS v3.1 {}">{} {}</span>', name, name, f"{score:.1f}", name
    )


@register.simple_tag
def metric_summary(name: str, data: Any) -> str:
    """One line for a metric's data in any of the contract's shapes (§5)."""
    if not data:
        return mark_safe('<span class="muted">—</span>')
    if isinstance(data, str):
        return data
    if not isinstance(data, dict):
        return str(data)
    if "score" in data and name.startswith("cvss"):
        vector = data.get("vector") or ""
        return format_html(
            '<strong>{}</strong> <span class="mono muted vector">{}</span>', data["score"], vector
        )
    if name == "kev":
        return f"added {data.get('dateAdded', '?')}, due {data.get('dueDate', '?')}"
    if name == "epss":
        parts = [f"score {data.get('score')}"]
        if data.get("percentile") is not None:
            parts.append(f"percentile {data['percentile']}")
        return ", ".join(parts)
    if name == "ssvc" and isinstance(data.get("options"), dict):
        return "; ".join(f"{k}: {v}" for k, v in data["options"].items())
    return ", ".join(f"{k}: {v}" for k, v in data.items())


@register.filter
def human_vendor(value: str) -> str:
    """ "apache$PRODUCT$log4j" → "apache / log4j"; other values unchanged."""
    if isinstance(value, str) and "$PRODUCT$" in value:
        vendor, product = value.split("$PRODUCT$", 1)
        return f"{vendor} / {product}"
    return str(value)


@register.filter
def join_keys(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(str(k) for k in value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


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
    return request is not None and orgs.role_in(request, organization) == "owner"
