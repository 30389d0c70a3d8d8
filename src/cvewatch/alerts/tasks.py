"""Jobs of the alerts app: send deliveries soon after they commit, and sweep whatever is due every minute.

Both call sending.send_due, which claims rows under a lease: the rows are the truth, the queue only hurries
them along. Losing the queue loses nothing (the sweeper finds the rows), and two workers never send the
same row at once. Registered with Huey when the app loads (apps.py), in the server and in every worker.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from huey import crontab

from cvewatch.alerts.services import digests, sending
from cvewatch.jobs.queue import claim, db_periodic_task, db_task, release

logger = logging.getLogger(__name__)

CLAIM_KEY = "alerts:send-due"
# One send task waits in the queue at a time; a claim left by a worker that died is ignored after this.
CLAIM_STALE_AFTER = 60.0
FOLLOW_UP_KEY = "alerts:follow-up"
# A retry due sooner than this is sent on time by a scheduled follow-up; later ones wait for the sweeper.
FOLLOW_UP_WITHIN = 60.0


def queue_send() -> None:
    """Queue one send of the due deliveries, unless one is queued already. Call after commit."""
    if not claim(CLAIM_KEY, stale_after=CLAIM_STALE_AFTER):
        return
    try:
        send_due_deliveries()
    except Exception:
        release(CLAIM_KEY)
        raise


@db_task()
def send_due_deliveries() -> None:
    """Send every delivery due now (queued on commit of new deliveries or a retry)."""
    release(CLAIM_KEY)  # deliveries committed from now on queue another run
    _send_and_follow_up()


@db_task()
def send_due_later() -> None:
    """The follow-up: send what has become due since (a retry whose backoff ended, an expired lease)."""
    release(FOLLOW_UP_KEY)
    _send_and_follow_up()


def _send_and_follow_up() -> None:
    report = sending.send_due()
    if report.attempted:
        logger.info(
            "deliveries: %s attempted, %s delivered, %s to retry, %s failed",
            report.attempted, report.delivered, report.retrying, report.failed,
        )  # fmt: skip
    wait = sending.seconds_until_next_due()
    # One follow-up at a time, scheduled for the next due row, so retries leave on time (not at the minute).
    if wait is not None and wait <= FOLLOW_UP_WITHIN and claim(FOLLOW_UP_KEY, stale_after=wait + 30):
        send_due_later.schedule(delay=max(wait, 0.5))


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries() -> None:
    """Every minute: send what is due (retries whose backoff ended, rows whose queued task was lost)."""
    send_due_deliveries.call_local()


@db_periodic_task(crontab(minute="5"))
def write_daily_reports() -> None:
    """Every hour: yesterday's (UTC) daily reports, for the notifications that have none yet, then send them."""
    written = digests.write_daily_digests(day=(timezone.now() - timedelta(days=1)).date())
    if written:
        logger.info("daily reports: %s written", len(written))
