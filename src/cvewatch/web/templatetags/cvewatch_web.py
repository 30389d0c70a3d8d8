"""Template helpers of the web UI: severity badges, metric summaries, vendor names, the organization menu."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cvewatch.catalog import names
from cvewatch.organizations.choices import Role
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


# When a CVE has no v3.1 score (the one the filters use), the newest other version stands in, labelled.
_CVSS_FIELDS = (
    ("cvss31_score", ""),
    ("cvss40_score", "v4.0"),
    ("cvss30_score", "v3.0"),
    ("cvss20_score", "v2"),
)


@register.simple_tag
def cvss_badge(cve: Any) -> str:
    for field, label in _CVSS_FIELDS:
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


@register.simple_tag
def metric_summary(name: str, data: Any) -> str:
    """One line for a metric's data in any of the shapes `metrics` holds (docs/api.md)."""
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
    if isinstance(value, str) and names.is_product(value):
        vendor, product = names.split_product(value)
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
