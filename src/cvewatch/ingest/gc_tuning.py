"""Garbage-collector thresholds for an import's bulk work, in the writing process and the reading one.

An import allocates millions of short-lived containers (parsed records, docs, merged views, row tuples) while
it holds many live ones (the run's id caches, Django's own), and makes almost no cyclic garbage: with
Python's default thresholds (700, 10, 10) the writing process spent 10.5 of its 112 s of CPU collecting on
the full corpus (7 s of it in 81 full collections; measured with gc.callbacks), 0.8 s with these; the
reading process about 19 s, 5 s with these, all in young collections, which look at each new container once
whatever the threshold (bench/reader_cpu.py with and without --default-gc). Reference counting still frees everything else at once; the thresholds only make the cycle
collector run less often.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLDS = (50_000, 20, 10)

_lock = threading.Lock()
_depth = 0
_previous: tuple[int, ...] = ()


@contextmanager
def bulk_thresholds() -> Iterator[None]:
    """BULK_THRESHOLDS while the block runs (process-wide; nested or concurrent blocks share them), then the
    thresholds from before the first block."""
    global _depth, _previous
    with _lock:
        if _depth == 0:
            _previous = gc.get_threshold()
            gc.set_threshold(*BULK_THRESHOLDS)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_previous)
