"""How cvewatch's long-running processes (`serve`'s web workers, `cvewatch worker`) keep their heap small.

Measured with bench/serve_memory.py (docs/benchmarks.md): glibc gives every thread that allocates its own
malloc arena (up to 8 per core), and memory freed in one arena is neither reused by the others nor handed
back by malloc_trim while it is fragmented. After the same two syncs (kev and cwe from sample-data/, one per
job thread) and the same malloc_trim, the job worker kept 126 MiB (PSS) with glibc's default, 121 MiB with
two arenas and 92 MiB with one.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys

# Python holds the GIL around nearly all of its allocations, so its threads hardly contend for the one arena;
# the default (8 per core) only multiplies the free memory that cannot be given back.
MALLOC_ARENAS = 1
_M_ARENA_MAX = -8  # mallopt's parameter number (glibc malloc.h)

_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _glibc() -> bool:
    return _LIBC is not None and hasattr(_LIBC, "mallopt") and hasattr(_LIBC, "malloc_trim")


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> None:
    """Cap glibc's malloc arenas for this process (and the processes it forks) before its threads start.

    An operator's own MALLOC_ARENA_MAX (read by glibc itself) wins; elsewhere than glibc this does nothing.
    """
    if _glibc() and "MALLOC_ARENA_MAX" not in os.environ:
        _LIBC.mallopt(_M_ARENA_MAX, arenas)  # type: ignore[union-attr]


def give_memory_back() -> None:
    """Collect garbage and return the free heap to the OS (after a job that parsed a whole feed)."""
    gc.collect()
    if _glibc():
        _LIBC.malloc_trim(0)  # type: ignore[union-attr]
