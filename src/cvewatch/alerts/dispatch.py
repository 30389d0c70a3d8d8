"""What happens after deliveries commit: hurry the first attempt along through the job queue.

The rows are the truth; this only shortens the wait. If the queue cannot be reached, the periodic sweeper
(tasks.py) or `cvewatch delivery send-due` sends them all the same.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def deliveries_written() -> None:
    """Called on commit of a transaction that wrote pending deliveries (or put one back to pending)."""
    from cvewatch.alerts.tasks import queue_send

    try:
        queue_send()
    except Exception:  # the queue is down: the sweeper will send them; never fail the committed import
        logger.warning("could not queue the delivery task; the sweeper will send them", exc_info=True)
