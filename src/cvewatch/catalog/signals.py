"""Signals of the catalog layer. Apps above the catalog listen; the catalog imports none of them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by whoever bulk-creates Change rows (the importer's batch writer, and through it `cvewatch sync`),
# inside the transaction that created them, with `change_uuids`: the uuids of the Change rows just created.
# Receivers run in that transaction: what they write commits, or rolls back, with the changes themselves.
changes_recorded = Signal()
