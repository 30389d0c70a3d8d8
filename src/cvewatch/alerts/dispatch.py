"""What happens after deliveries commit: hurry the first attempt along.

The rows are the truth; this only shortens the wait. Until the job engine is wired in, nothing is enqueued
and `cvewatch delivery send-due` (or the periodic sweeper) sends whatever is due.
"""

from __future__ import annotations


def deliveries_written() -> None:
    """Called on commit of a transaction that wrote pending deliveries."""
