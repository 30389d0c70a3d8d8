"""A child process kept alive by its parent: started, restarted when it dies, stopped with the parent.

`cvewatch serve` keeps its internal job worker with it this way. The child runs in its own session and
process group (a Ctrl-C in the terminal reaches the parent, which stops the child in order) and is told the
parent's pid so it exits by itself if the parent is killed outright.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time

logger = logging.getLogger("cvewatch.serve")

# A child that keeps dying is restarted with a growing delay, reset once it has run this long.
_HEALTHY_AFTER = 60.0
_MAX_DELAY = 60.0


class ChildProcess:
    def __init__(self, *, name: str, argv: list[str]) -> None:
        self.name, self.argv = name, argv
        self.process: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._delay = 1.0
        self._next_start = 0.0
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def ensure_running(self) -> None:
        """Start the child, or restart it if it died; cheap enough to call every second."""
        if self._stopping:
            return
        if self.process is not None:
            if self.process.poll() is None:
                if time.monotonic() - self._started_at > _HEALTHY_AFTER:
                    self._delay = 1.0
                return
            # The server's own SIGCHLD handler may have reaped it first, leaving no exit status to report.
            logger.warning("%s (pid %s) is gone; restarting it in %.0f s", self.name, self.process.pid, self._delay)
            self.process = None
            self._next_start = time.monotonic() + self._delay
            self._delay = min(self._delay * 2, _MAX_DELAY)
        if time.monotonic() < self._next_start:
            return
        self.process = subprocess.Popen(self.argv, start_new_session=True, close_fds=True)
        self._started_at = time.monotonic()
        logger.info("%s started (pid %s)", self.name, self.process.pid)

    def terminate(self) -> None:
        """SIGTERM the child's process group and restart it no more."""
        self._stopping = True
        if self.process is not None and self.process.poll() is None:
            self._signal_group(self.process.pid, signal.SIGTERM)

    def reap(self, *, timeout: float) -> None:
        """Wait up to `timeout` seconds for a terminated child to exit, then SIGKILL its process group."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning("%s (pid %s) did not stop in %.0f s; killing it", self.name, process.pid, timeout)
            self._signal_group(process.pid, signal.SIGKILL)
            process.wait()
        logger.info("%s (pid %s) stopped", self.name, process.pid)

    @staticmethod
    def _signal_group(pid: int, signum: int) -> None:
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            pass
