"""core/memory.py: the malloc arena cap that `serve` and `cvewatch worker` set before their threads start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Four threads allocate at once; glibc's malloc_stats() then prints one "Arena N:" block per arena in use.
_SCRIPT = """
import ctypes, sys, threading
from cvewatch.core import memory
if sys.argv[1] == "limit":
    memory.limit_malloc_arenas()
barrier = threading.Barrier(4)
def allocate():
    barrier.wait()
    blocks = [bytearray(4096) for _ in range(2000)]
    barrier.wait()
threads = [threading.Thread(target=allocate) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
memory.give_memory_back()
ctypes.CDLL(None).malloc_stats()
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")


def _arenas(mode: str, **env: str) -> int:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_threads_share_one_arena_once_limited():
    assert _arenas("default") > 1  # glibc's own behaviour: the cap below is what makes the difference
    assert _arenas("limit") == 1


def test_an_operators_malloc_arena_max_wins():
    assert _arenas("limit", MALLOC_ARENA_MAX="3") > 1
