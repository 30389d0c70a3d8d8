"""gunicorn's threaded worker, taking new connections in turn with the other web workers of `cvewatch serve`.

Stock gunicorn lets whichever worker wakes first take each new connection. A client that opens eight
keep-alive connections at once (wrk, a SIEM's connection pool) found all of them on one of the two workers in
about one try of ten: that worker did all the work on one core while the other idled, for as long as the
connections lived (`bench/balance.py`'s windows: 242 req/s instead of 530-843, docs/benchmarks.md).

Here each worker publishes in a small table shared by the whole tree (made by the master before it forks) how
many connections it holds, and whether it is taking new ones at all. A worker holding more than another one
that is taking connections leaves a new connection to that one, so connections spread evenly; but never
for long: if nobody took the connection within GRACE_S, it takes it itself. A peer that is busy, hung or
stopping therefore never makes a client wait more than GRACE_S.
"""

from __future__ import annotations

import select
import time
from ctypes import c_double, c_long
from multiprocessing.sharedctypes import RawArray
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# Longest a new connection waits for the worker holding the fewest connections before another takes it.
GRACE_S = 0.02
# A worker leaving a connection to a peer stops polling the listener this long between looks (no busy loop).
PAUSE_S = 0.005
# A worker whose loop has not reported for this long is not taking connections: its count is not waited for.
# (Its loop reports at least once a second: gthread polls with a 1 s timeout.)
STALE_S = 3.0


class Board:
    """Per worker slot: the connections it holds and when its loop last said it takes new ones (0: it does
    not). Shared memory, made before the fork; each slot is written by its own worker, read by the others."""

    def __init__(self, slots: int) -> None:
        self.connections = RawArray(c_long, slots)
        self.taking_at = RawArray(c_double, slots)

    @property
    def slots(self) -> int:
        return len(self.connections)

    def reset(self, slot: int) -> None:
        self.connections[slot] = 0
        self.taking_at[slot] = 0.0

    def holds_fewest(self, slot: int, now: float) -> bool:
        """Whether no other worker taking connections holds fewer than this slot's."""
        mine = self.connections[slot]
        for other in range(self.slots):
            taking_at = self.taking_at[other]
            if other != slot and taking_at and now - taking_at < STALE_S and self.connections[other] < mine:
                return False
        return True


_board: Board | None = None


def prepare(workers: int) -> None:
    """In the master, before any worker is forked: the shared table, with room for replacements."""
    global _board
    _board = Board(2 * workers + 2)


def assign_slot(server: Any, worker: Any) -> None:
    """gunicorn's pre_fork hook (in the master): a slot no live worker holds, cleared."""
    if _board is None:
        return
    used = {getattr(w, "balance_slot", None) for w in server.WORKERS.values()}
    free = next((slot for slot in range(_board.slots) if slot not in used), None)
    if free is not None:  # else (more workers than slots) it takes every connection it sees, as stock gunicorn
        _board.reset(free)
    worker.balance_slot = free


def release_slot(server: Any, worker: Any) -> None:
    """gunicorn's child_exit hook (in the master): a dead worker's count is not waited for."""
    slot = getattr(worker, "balance_slot", None)
    if _board is not None and slot is not None:
        _board.reset(slot)


def _pending(listeners: list[Any]) -> bool:
    """Whether a connection waits on any listener, without taking it."""
    try:
        readable, _, _ = select.select(listeners, [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(readable)


class BalancedThreadWorker(ThreadWorker):
    """gthread, taking a new connection only while holding no more connections than another worker taking
    them, or once the connection has waited GRACE_S."""

    balance_slot: int | None = None  # set by assign_slot before the fork

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._held = 0
        self._resume_at: float | None = None  # listener set aside until then
        self._leaving_since: float | None = None  # first left a waiting connection to a peer then
        super().__init__(*args, **kwargs)

    # gthread counts its connections in nr_conns (the main thread only): every change is published.
    @property
    def nr_conns(self) -> int:
        return self._held

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:
        self._held = value
        if _board is not None and self.balance_slot is not None:
            _board.connections[self.balance_slot] = value

    def notify(self) -> None:
        """Once per loop: gunicorn's heartbeat, and whether this worker takes new connections."""
        super().notify()
        if _board is not None and self.balance_slot is not None:
            taking = self.alive and self._held < self.worker_connections
            _board.taking_at[self.balance_slot] = time.monotonic() if taking else 0.0

    def accept(self, listener: Any) -> None:
        now = time.monotonic()
        fewest = _board is None or self.balance_slot is None or _board.holds_fewest(self.balance_slot, now)
        if fewest or (self._leaving_since is not None and now - self._leaving_since >= GRACE_S):
            self._leaving_since = None
            super().accept(listener)
            return
        # Another worker holds fewer: leave it this connection, looking again in PAUSE_S.
        if self._leaving_since is None:
            self._leaving_since = now
        self._resume_at = now + PAUSE_S
        super().set_accept_enabled(False)

    def set_accept_enabled(self, enabled: bool) -> None:
        if not enabled:  # run(): stopping, or at worker_connections: no pause left to wait out
            self._resume_at = self._leaving_since = None
        elif self._resume_at is not None:
            if time.monotonic() < self._resume_at:
                return  # run() asks again on its next turn
            self._resume_at = None
            if self._leaving_since is not None and not _pending(self.sockets):
                self._leaving_since = None  # a peer took it
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self._resume_at is not None:
            timeout = max(0.0, min(timeout, self._resume_at - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)
