"""Running the Huey consumer as `cvewatch worker`: threads, periodic tasks, signals, parent death."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time

from huey.consumer import Consumer

from cvewatch.core.memory import give_memory_back, limit_malloc_arenas
from cvewatch.core.priority import yield_cpu_to_the_web
from cvewatch.jobs.queue import huey

logger = logging.getLogger("cvewatch.jobs.worker")

# SIGTERM lets running jobs finish for SHUTDOWN_TIMEOUT; a job still running then gets SystemExit and
# INTERRUPT_GRACE to record itself (a sync marks its run interrupted and frees its lease, so the next worker
# need not wait for the lease to expire). Every job is safe to cut short: a sync's cursor commits with its
# data. Both fit in the 10 s container runtimes allow before SIGKILL.
SHUTDOWN_TIMEOUT = 5.0
INTERRUPT_GRACE = 3.0
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def run_worker(*, threads: int, parent_pid: int | None = None) -> None:
    """Consume the queue with `threads` threads and the periodic scheduler until SIGTERM or SIGINT."""
    import cvewatch.jobs.tasks  # noqa: F401  (registers every task with Huey)

    limit_malloc_arenas()  # before the consumer's threads start (core/memory.py says why)
    yield_cpu_to_the_web()  # before any thread starts: they inherit it (core/priority.py)
    if parent_pid is not None:
        _exit_with_parent(parent_pid)
    huey.post_execute(name="give-memory-back")(_give_memory_back)
    consumer = _Consumer(
        huey,
        workers=threads,
        worker_type="thread",
        periodic=True,
        # An idle worker polls the queue at least once a second (Huey's default backs off to 10 s), so the
        # first attempt of an alert committed after a long quiet spell still leaves within seconds.
        max_delay=1.0,
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
    _interrupt_running_jobs(grace=INTERRUPT_GRACE)
    logger.info("cvewatch worker pid %s stopped", os.getpid())


class _Consumer(Consumer):
    """Huey's consumer, deaf to no stop signal. Huey installs its signal handlers only once its threads run,
    so a SIGTERM in that moment (a service manager stopping a worker that just started) killed the process
    outright, mid-job if a thread had already taken one. From construction on, a stop signal is kept and
    handed to Huey's own handler as soon as it is in place: the worker then stops the usual graceful way."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._early_signals: list[int] = []
        for signum in self._signal_actions:
            signal.signal(signum, self._keep_early_signal)

    def _keep_early_signal(self, signum: int, frame: object) -> None:
        self._early_signals.append(signum)

    def _set_signal_handlers(self) -> None:
        super()._set_signal_handlers()
        for signum in self._early_signals:
            self._handle_signal(signum, None)


def _interrupt_running_jobs(*, grace: float) -> None:
    """Raise SystemExit in the worker threads still running a job, and give them `grace` seconds to unwind."""
    running = [t for t in threading.enumerate() if t.name.startswith("Worker-") and t.is_alive()]
    for thread in running:
        logger.warning("interrupting the job running in %s", thread.name)
        # Delivered when the thread next runs Python code (not inside a blocking C call; HTTP reads time out).
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident or 0), ctypes.py_object(SystemExit))
    deadline = time.monotonic() + grace
    for thread in running:
        thread.join(max(0.0, deadline - time.monotonic()))


def _give_memory_back(task: object, task_value: object, exc: BaseException | None) -> None:
    """After each job: a sync leaves its parsed records as free heap; hand that back to the OS, so an idle
    worker stays small (memory target: serve's whole process tree under 300 MiB, bench/serve_memory.py)."""
    give_memory_back()


def _exit_with_parent(parent_pid: int) -> None:
    """Stop (SIGTERM to ourselves) as soon as `parent_pid` is gone, even if it died by SIGKILL."""
    if _LIBC is not None:
        # The kernel signals us when the parent dies; the poll below covers other systems and the race
        # where the parent died before this call.
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:
        logger.warning("parent %s is gone before the worker started; exiting", parent_pid)
        sys.exit(0)

    def watch() -> None:
        while os.getppid() == parent_pid:
            threading.Event().wait(1.0)
        logger.warning("parent %s is gone; stopping", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
