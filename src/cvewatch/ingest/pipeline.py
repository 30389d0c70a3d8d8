"""Reading in a second process: a child walks, parses and prepares the inputs while the parent writes.

Parsing and preparing (ingest/preparing.py) are pure and take about as long as writing, so on a machine
with two cores a large import runs them in a forked child that streams prepared batches through a pipe.
A thread of the parent receives and decodes the batches ahead of the one being written, AHEAD_BATCHES at
most: that queue and the pipe are the bound on memory (the child blocks once the queue is full and a batch
is waiting), and the two processes no longer take turns when one batch costs more to read and the next more
to write. Every message carries what the child counted since the previous
one (items read, skips, warnings), applied by the parent before it writes the batch, so a run's counts,
its skip list and their order are exactly those of reading in the same process.

The child touches no database: it inherits the parent's connection but never uses it, and ends with
os._exit (multiprocessing's), so nothing of it is closed from the child's side. A child that fails says
why (ReaderFailed in the parent); one that is killed is noticed at once (its end of the pipe closes);
Ctrl-C reaches both (one process group), and the parent ends the child whenever it stops early.
"""

from __future__ import annotations

import fcntl
import gc
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from types import TracebackType
from typing import Any

from cvewatch.ingest.gc_tuning import BULK_THRESHOLDS
from cvewatch.ingest.preparing import Preparer, prepared_batches, without_docs
from cvewatch.ingest.records import InputRead
from cvewatch.ingest.stats import MAX_RUN_ERRORS, ImportStats
from cvewatch.ingest.writer import Prepared

log = logging.getLogger(__name__)

MIN_BYTES = 8 * 2**20  # inputs smaller than this are read in the writing process: a child costs more
TICK_SECONDS = 1.0  # the child reports its counts at least this often while it reads without a full batch
WAIT_SECONDS = 1.0  # the parent's heartbeat and progress run at least this often while it waits
# Batches received and decoded by the parent's receiving thread, waiting for the writer. One is not enough:
# batches differ (a file of new CVEs is cheap to read and dear to write, a tarball the reverse), and with a
# single slot the processes took turns (full corpus, a 70 s import: the writer waited 21 s, the reader 11 s).
AHEAD_BATCHES = 2
# A send that waited this long most likely found the receiving queue full, the writer still busy with the
# batches before: the child has time to spare, so it merges the next batch's new CVEs ahead (ingest/premerge.py);
# else it leaves them to the writer, which was waiting for it. The timed wait also holds the transfer itself,
# slower while the writing thread holds the GIL (PIPE_BYTES): on the full corpus, with a rule that merged ahead
# only 4-7 of 31 batches, the sends still waited 6-7 s in all (2026-11-29). Either way the same rows are written: the split of the work adapts to whichever process
# is behind (merging ahead was ~17% of the child's CPU on the full corpus).
WRITER_BUSY_SECONDS = 0.05
# The pipe's buffer (Linux's default is 64 KiB; 1 MiB is what an unprivileged process may ask, pipe-max-size).
# The parent reads a batch in pieces of at most this, each needing the GIL back from the writing thread: with
# 64 KiB a ~40 MB batch took ~600 turns, and the child sat blocked in its send for up to 3 s a batch (so it
# also merged ahead when the writer was in fact waiting for it). Full corpus, back to back: 98.2 / 97.3 s
# (the writer waiting 33.5 / 31.5 s) became 89.6 / 81.1 s (10.7 / 8.7 s).
PIPE_BYTES = 2**20

# (kind, counts since the previous message, the batch or an error's text, last)
Message = tuple[str, Any, Any, bool, list[InputRead]]  # kind, counts, batch or error, last, markers


class ReaderFailed(RuntimeError):
    """The reading process failed or died: the import stops (what was written so far stays)."""


def available() -> bool:
    """Whether reading can run in a second process here: fork exists and there is a second core."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1


def worth_it(paths: Sequence[str | Path], *, min_bytes: int = MIN_BYTES) -> bool:
    """Whether the inputs add up to min_bytes (directories are walked only until they do)."""
    total = 0
    for path in map(Path, paths):
        try:
            if path.is_dir():
                for dirpath, _, filenames in os.walk(path):
                    for name in filenames:
                        total += os.stat(os.path.join(dirpath, name)).st_size
                        if total >= min_bytes:
                            return True
            elif path.exists():
                total += path.stat().st_size
        except OSError:
            continue  # the walker reports unreadable input
        if total >= min_bytes:
            return True
    return False


class Reader:
    """The child reading paths, as an iterator of (counts, batch, last) in the parent; a context manager.

    idle runs in the parent at least every WAIT_SECONDS while it waits for the child.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        batch_size: int,
        idle: Callable[[], None] | None = None,
        known: Iterable[str] | None = None,
        premerge: bool = False,
    ) -> None:
        self.paths, self.batch_size, self.idle = [str(p) for p in paths], batch_size, idle
        context = multiprocessing.get_context("fork")
        self.conn, child_conn = context.Pipe(duplex=False)
        widen_pipe(self.conn)
        self.process = context.Process(
            target=_child_main,
            args=(
                child_conn, self.conn, self.paths, batch_size, None if known is None else frozenset(known), premerge
            ),
            name="cvewatch-import-reader",
            daemon=True,
        )  # fmt: skip
        self.process.start()
        child_conn.close()  # the parent's copy: the pipe then reports EOF as soon as the child is gone
        # What the receiving thread hands over: messages in order, then the exception that ended its reading.
        self.inbox: queue.Queue[Message | BaseException] = queue.Queue(maxsize=AHEAD_BATCHES)
        self.stopping = threading.Event()
        self.waited = 0.0  # seconds the parent spent waiting for a message (logged once the last one arrived)
        self.receiver = threading.Thread(target=self._receive_all, name="cvewatch-import-receiver", daemon=True)
        self.receiver.start()

    def __enter__(self) -> Reader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Ends the child (at once if it still runs: the parent stopped early) and reaps it; then the receiving
        thread, which the child's end closes the pipe for."""
        self.stopping.set()
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
            if self.process.is_alive():
                self.process.kill()
        self.process.join()
        self.receiver.join()
        self.conn.close()

    def _receive_all(self) -> None:
        """The receiving thread: each message off the pipe and decoded (the read itself leaves the GIL to the
        writer), into the inbox, until the last one, the pipe's end or a stop."""
        while not self.stopping.is_set():
            try:
                message: Message = self.conn.recv()
            except BaseException as exc:  # noqa: BLE001 - EOF (the child is gone) or whatever broke the read
                self._hand_over(exc)
                return
            if not self._hand_over(message) or message[3]:
                return

    def _hand_over(self, item: Message | BaseException) -> bool:
        """item into the inbox once it has room; False when the parent stopped meanwhile."""
        while not self.stopping.is_set():
            try:
                self.inbox.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[tuple[ImportStats, list[Prepared], bool, list[InputRead]]]:
        while True:
            kind, counts, batch, last, markers = self.receive()
            if kind == "error":
                raise ReaderFailed(f"reading the inputs failed: {batch}")
            assert counts is not None
            if last:
                log.info("the writing process waited %.1f s for the reading process", self.waited)
            yield counts, batch or [], last, markers
            if last:
                return

    def receive(self) -> Message:
        started = time.monotonic()
        while True:
            try:
                item = self.inbox.get(timeout=WAIT_SECONDS)
                break
            except queue.Empty:
                if self.idle is not None:
                    self.idle()
        self.waited += time.monotonic() - started
        if isinstance(item, EOFError):
            self.process.join(5)
            raise ReaderFailed(f"the reading process stopped before the end of the inputs ({self.exit()})")
        if isinstance(item, BaseException):
            raise ReaderFailed(f"receiving from the reading process failed: {type(item).__name__}: {item}")
        return item

    def exit(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "it closed its pipe"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"


def widen_pipe(conn: Connection, size: int = PIPE_BYTES) -> int:
    """The pipe's buffer set to size where the system allows (Linux); its size after, 0 where unknown."""
    set_size, get_size = getattr(fcntl, "F_SETPIPE_SZ", None), getattr(fcntl, "F_GETPIPE_SZ", None)
    if set_size is None or get_size is None:
        return 0
    try:
        fcntl.fcntl(conn.fileno(), set_size, size)
    except OSError as exc:  # over pipe-max-size or the user's pipe quota: the default still works, slower
        log.debug("the import's pipe keeps its default buffer: %s", exc)
    return fcntl.fcntl(conn.fileno(), get_size)


def _child_main(
    conn: Connection,
    parent_end: Connection,
    paths: list[str],
    batch_size: int,
    known: frozenset[str] | None,
    premerge: bool,
) -> None:
    """The reading process: walks, parses and prepares; sends batches with the counts since the last one.

    premerge: a first import's new CVEs are merged here too (ingest/premerge.py), so the parent only inserts;
    only while the parent is the slower of the two (WRITER_BUSY_SECONDS).
    """
    from cvewatch.ingest.premerge import Premerger
    from cvewatch.ingest.sources import iter_items

    # The parent's end, inherited by the fork: closed, so that a parent gone (killed) breaks the pipe and
    # the child's next send ends it, instead of blocking forever on a pipe it holds open itself.
    parent_end.close()
    gc.set_threshold(*BULK_THRESHOLDS)  # as the parent's import (ingest/gc_tuning.py)

    preparer = Preparer(ImportStats())
    sent_items = [0, 0]  # skipped / left-out items sent so far: a run keeps only the first MAX_RUN_ERRORS
    next_tick = time.monotonic() + TICK_SECONDS

    def counts() -> ImportStats:
        nonlocal next_tick
        delta, preparer.stats = preparer.stats, ImportStats()
        for i, items in enumerate((delta.skipped_items, delta.warning_items)):
            del items[max(0, MAX_RUN_ERRORS - sent_items[i]) :]
            sent_items[i] += len(items)
        next_tick = time.monotonic() + TICK_SECONDS
        return delta

    def tick() -> None:
        if time.monotonic() >= next_tick:
            conn.send(("counts", counts(), None, False, []))

    def seen(origin: str) -> None:
        preparer.origin = origin

    try:
        items = iter_items(paths, on_progress=seen, known=known)
        premerger = Premerger() if premerge else None
        ahead = True  # merge the next batch ahead: the writer was still busy when the last one was sent
        sent, merged, waited = 0, 0, 0.0
        for batch, last, markers in prepared_batches(items, preparer, batch_size=batch_size, after_item=tick):
            if premerger is not None:
                premerger(batch, ahead=ahead)
                merged += ahead
            # Encoded first, so that only the wait for room is timed (Connection.send's own two steps).
            message = ForkingPickler.dumps(("batch", counts(), without_docs(batch), last, markers))
            sending = time.monotonic()
            conn.send_bytes(message)
            del message
            blocked = time.monotonic() - sending
            sent, waited, ahead = sent + 1, waited + blocked, blocked >= WRITER_BUSY_SECONDS
        log.info(
            "the reading process sent %d batches (%d merged ahead) and waited %.1f s for the writer",
            sent, merged, waited,
        )  # fmt: skip
    except KeyboardInterrupt:
        os._exit(130)  # Ctrl-C reached both processes: the parent says so
    except BrokenPipeError:
        os._exit(1)  # the parent is gone
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the parent must hear of it
        detail = "".join(traceback.format_exception(exc))
        log.error("the import's reading process failed:\n%s", detail)
        try:
            conn.send(("error", None, f"{type(exc).__name__}: {exc}", True, []))
        except OSError:
            pass
        os._exit(1)
    finally:
        conn.close()
