"""Why a sync run failed. The message is what operators read on the run."""

from __future__ import annotations

from cvewatch.core.errors import DomainError, InvalidInput


class SyncError(DomainError):
    """A source could not be synced (the run records the message)."""


class UpstreamError(SyncError):
    """The upstream answered badly or not at all: an HTTP status, a timeout, a truncated body, bad content."""


class LeaseLost(SyncError):
    """Another worker took the source over (our lease expired); this run stops without moving the cursor."""


class UnknownSource(InvalidInput):
    """A source name that does not exist."""
