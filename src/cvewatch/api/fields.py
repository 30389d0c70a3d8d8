"""Field helpers shared by every app's serializers."""

from __future__ import annotations

from datetime import UTC, datetime


def format_timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with "Z"; fractional seconds only when non-zero (2021-12-10T00:00:00Z)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime: every cvewatch timestamp is timezone-aware UTC")
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"
