"""The contract's webhook body (opencve-api.md §8), built from plain values: pure functions, no ORM."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cvewatch.catalog import vocabulary
from cvewatch.catalog.names import is_product, split_product

# The body's fields in the contract's order (PostgreSQL's jsonb keeps no order: outgoing bodies are reordered).
BODY_FIELDS = (
    "organization", "project", "notification", "subscriptions", "matched_subscriptions", "title", "period", "changes",
)  # fmt: skip
CVE_FIELDS = ("cve_id", "description", "cvss31", "subscriptions")


def human_name(raw: str) -> str:
    """`vendor$PRODUCT$product` -> `Product`; `some_vendor` -> `Some Vendor` (split on `_`, capitalise).

    A query subscription's `query:<name or query>` is shown as written, without its prefix.
    """
    if raw.startswith("query:"):
        return raw.removeprefix("query:")
    name = split_product(raw)[1] if is_product(raw) else raw
    return " ".join(word.capitalize() for word in name.split("_"))


def subscription_block(raw_names: Iterable[str]) -> dict[str, list[str]]:
    """{"raw": sorted raw names, "human": sorted distinct human names}."""
    raw = sorted(set(raw_names))
    return {"raw": raw, "human": sorted({human_name(name) for name in raw})}


def title(*, count: int, matched_human: Sequence[str]) -> str:
    return f"{count} change{'' if count == 1 else 's'} on {', '.join(matched_human)}"


def iso(value: datetime) -> str:
    return value.isoformat()


def change_entry(
    *, cve_id: str, description: str, cvss31: float | None, matched: Iterable[str], events: list[Any]
) -> dict[str, Any]:
    return {
        "cve": {
            "cve_id": cve_id,
            "description": description,
            "cvss31": cvss31,
            "subscriptions": subscription_block(matched),
        },
        "events": events,
    }


def notification_body(
    *,
    organization: str,
    project: str,
    notification: str,
    subscriptions: Iterable[str],
    changes: Sequence[Mapping[str, Any]],
    period_start: datetime,
    period_end: datetime,
) -> dict[str, Any]:
    """The §8 body, field for field; `changes` are change_entry() dicts."""
    matched = subscription_block(
        name for change in changes for name in change["cve"]["subscriptions"]["raw"]
    )
    return {
        "organization": organization,
        "project": project,
        "notification": notification,
        "subscriptions": subscription_block(subscriptions),
        "matched_subscriptions": matched,
        "title": title(count=len(changes), matched_human=matched["human"]),
        "period": {"start": iso(period_start), "end": iso(period_end)},
        "changes": list(changes),
    }


def severity(cvss31: float | None) -> str:
    """The CVSS v3.1 qualitative rating, or "none" without a score (e-mail and chat group by it)."""
    return vocabulary.severity(cvss31) or "none"


SEVERITY_ORDER = ("critical", "high", "medium", "low", "none")


def changes_by_severity(body: Mapping[str, Any]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """The body's changes grouped by severity, most severe first, empty groups left out."""
    groups: dict[str, list[Mapping[str, Any]]] = {name: [] for name in SEVERITY_ORDER}
    for change in body.get("changes", []):
        groups[severity(change["cve"].get("cvss31"))].append(change)
    return [(name, groups[name]) for name in SEVERITY_ORDER if groups[name]]


def _ordered(values: Mapping[str, Any], order: Sequence[str]) -> dict[str, Any]:
    first = {name: values[name] for name in order if name in values}
    return first | {name: value for name, value in values.items() if name not in first}


def in_contract_order(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body with its keys in the contract's order (as stored on PostgreSQL, it comes back in any order)."""
    ordered = _ordered(body, BODY_FIELDS)
    if isinstance(ordered.get("period"), Mapping):
        ordered["period"] = _ordered(ordered["period"], ("start", "end"))
    ordered["changes"] = [
        _ordered({**change, "cve": _ordered(change["cve"], CVE_FIELDS)}, ("cve", "events"))
        for change in ordered.get("changes", [])
    ]
    return ordered
