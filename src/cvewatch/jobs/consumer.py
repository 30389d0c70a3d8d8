"""Running the Huey consumer as `cvewatch worker`: threads, periodic tasks, signals, parent death."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading

from cvewatch.jobs.queue import huey

logger = logging.getLogger("cvewatch.jobs.worker")

# SIGTERM lets running jobs finish for this long, then the worker exits anyway: every job is safe to cut
# short (a sync commits its cursor with its data), and container runtimes send SIGKILL after 10 s.
SHUTDOWN_TIMEOUT = 8.0
_PR_SET_PDEATHSIG = 1


def run_worker(*, threads: int, parent_pid: int | None = None) -> None:
    """Consume the queue with `threads` threads and the periodic scheduler until SIGTERM or SIGINT."""
    import cvewatch.jobs.tasks  # noqa: F401  (registers every task with Huey)

    if parent_pid is not None:
        _exit_with_parent(parent_pid)
    consumer = huey.create_consumer(
        workers=threads,
        worker_type="thread",
        periodic=True,
        # SIGTERM (service managers, `cvewatch serve`) is graceful: no new jobs, running ones get
        # SHUTDOWN_TIMEOUT. SIGINT (Ctrl-C) stops at once; both leave the database consistent.
        graceful_signal="TERM",
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        check_worker_health=True,
    )
    logger.info(
        "cvewatch worker pid %s: %s threads on %s queue %r; periodic jobs on",
        os.getpid(), threads, type(huey.storage).__name__, huey.name,
    )
    consumer.run()
    logger.info("cvewatch worker pid %s stopped", os.getpid())


def _exit_with_parent(parent_pid: int) -> None:
    """Stop (SIGTERM to ourselves) as soon as `parent_pid` is gone, even if it died by SIGKILL."""
    if sys.platform.startswith("linux"):
        # The kernel signals us when the parent dies; the poll below covers other systems and the race
        # where the parent died before this call.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:
        logger.warning("parent %s is gone before the worker started; exiting", parent_pid)
        sys.exit(0)

    def watch() -> None:
        while os.getppid() == parent_pid:
            threading.Event().wait(1.0)
        logger.warning("parent %s is gone; stopping", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
