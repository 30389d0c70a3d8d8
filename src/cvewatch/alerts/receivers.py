"""Signal receivers of the alerts app (connected in apps.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from cvewatch.alerts.services.matching import write_deliveries


def on_changes_recorded(sender: Any, *, change_uuids: Sequence[uuid.UUID], **kwargs: Any) -> None:
    """catalog.signals.changes_recorded: write the deliveries in the same transaction as the changes."""
    write_deliveries(change_uuids=change_uuids)
