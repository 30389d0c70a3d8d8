"""A stop signal that reaches `cvewatch worker` before Huey has put its handlers in place (they come only once
the worker threads run) is kept and handed over: the worker stops gracefully instead of dying mid-start."""

from __future__ import annotations

import os
import signal

from cvewatch.jobs.consumer import _Consumer
from cvewatch.jobs.queue import huey

_STOP = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def test_a_sigterm_before_hueys_handlers_is_handed_to_them():
    saved = {signum: signal.getsignal(signum) for signum in _STOP}
    try:
        consumer = _Consumer(huey, workers=1, worker_type="thread", graceful_signal="TERM")
        os.kill(os.getpid(), signal.SIGTERM)  # would end this process with the default handler
        assert consumer._signum is None  # Huey has not heard it yet
        consumer._set_signal_handlers()
        assert consumer._signum == signal.SIGTERM
        assert consumer._graceful and not consumer._restart
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def test_no_signal_before_hueys_handlers_means_nothing_to_hand_over():
    saved = {signum: signal.getsignal(signum) for signum in _STOP}
    try:
        consumer = _Consumer(huey, workers=1, worker_type="thread", graceful_signal="TERM")
        consumer._set_signal_handlers()
        assert consumer._signum is None
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
