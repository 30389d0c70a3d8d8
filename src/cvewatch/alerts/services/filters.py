"""A notification's filters, one home for the rule (matching and the daily digest both apply it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from cvewatch.alerts.models import Notification


def passes(
    notification: Notification, *, types: Iterable[str], cvss31: float | None, kev_added: date | None
) -> bool:
    """Whether a change of these event types, on a CVE with this score and KEV date, is for the notification.

    No event types selected means every type; a CVE without a CVSS v3.1 score passes any minimum.
    """
    if notification.event_types and not set(notification.event_types) & set(types):
        return False
    if notification.min_cvss31 is not None and cvss31 is not None and cvss31 < notification.min_cvss31:
        return False
    return not (notification.kev_only and kev_added is None)
