"""Waiting for a quiet server before each measurement of bench/speed.py's API part.

A 4-second throughput window on two cores shares them with whatever else runs then, which swung the same
URL's figure by 2x between runs. What the API part waits for, before each measurement, while it sends nothing:
- the serve tree (its job worker's scheduled work: the syncs it queues every minute, its heartbeat, and
  the web workers finishing the previous run): under 5% of one core over half a second;
- on PostgreSQL: no checkpoint being written (the checkpointer away from its idle wait, or its written
  buffers growing), no autovacuum worker, no other active statement in the benchmark's database;
- the kernel: under 128 MiB of dirty or writeback page cache (a bulk load's files still going to disk).
Each wait is bounded (`--quiet-timeout`); what it waited for and how long is printed, and the total at
the end. `settle()` runs once first on PostgreSQL: a CHECKPOINT (what a bulk load left in shared buffers
is written now, not during a measurement) and a sync of the page cache, each timed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TREE_CPU_LIMIT = 0.05  # of one core
DIRTY_LIMIT_KIB = 128 * 1024
WINDOW_S = 0.5

_CHECKS = """
SELECT
  count(*) FILTER (WHERE backend_type = 'checkpointer' AND wait_event IS DISTINCT FROM 'CheckpointerMain'),
  count(*) FILTER (WHERE backend_type = 'autovacuum worker'),
  count(*) FILTER (WHERE backend_type = 'client backend' AND state = 'active'
                   AND datname = current_database() AND pid <> pg_backend_pid()),
  (SELECT buffers_checkpoint FROM pg_stat_bgwriter)
FROM pg_stat_activity
"""


def tree_pids(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _tree_cpu_seconds(root: int) -> float:
    return cpu_seconds(tree_pids(root))


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (/proc; a process gone meanwhile counts nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _dirty_kib() -> int:
    values = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Dirty", "Writeback"):
            values[name] = int(rest.split()[0])
    return sum(values.values())


class Quiet:
    """`wait()` before a measurement; `summary()` at the end."""

    def __init__(self, server_pid: int, *, database_url: str | None, timeout: float) -> None:
        self.server_pid, self.timeout = server_pid, timeout
        self.conn = None
        if database_url:
            import psycopg

            self.conn = psycopg.connect(database_url, autocommit=True)
        self.waits, self.waited, self.timeouts = 0, 0.0, 0

    def _database(self) -> tuple[int, int, int, int]:
        if self.conn is None:
            return 0, 0, 0, 0
        return self.conn.execute(_CHECKS).fetchone()  # type: ignore[return-value]

    def busy(self) -> dict[str, str]:
        """What is not quiet over one WINDOW_S window: {what: detail}, empty when all is."""
        cpu, before = _tree_cpu_seconds(self.server_pid), self._database()
        time.sleep(WINDOW_S)
        share, after = (_tree_cpu_seconds(self.server_pid) - cpu) / WINDOW_S, self._database()
        reasons = {}
        if share >= TREE_CPU_LIMIT:
            reasons["serve tree"] = f"serve tree at {share:.0%} of a core"
        if before[0] or after[0] or after[3] != before[3]:
            reasons["checkpoint"] = f"checkpoint ({after[3] - before[3]} buffers written)"
        if before[1] or after[1]:
            reasons["autovacuum"] = "autovacuum"
        if after[2]:
            reasons["statements"] = f"{after[2]} other active statements in the database"
        dirty = _dirty_kib()
        if dirty >= DIRTY_LIMIT_KIB:
            reasons["page cache"] = f"{dirty // 1024} MiB of dirty page cache"
        return reasons

    def wait(self) -> None:
        started = time.monotonic()
        seen: dict[str, str] = {}
        while reasons := self.busy():
            seen.update(reasons)
            if time.monotonic() - started >= self.timeout:
                self.timeouts += 1
                print(f"  quiet: gave up after {self.timeout:.0f} s: {'; '.join(reasons.values())}", flush=True)
                break
        if seen:
            waited = time.monotonic() - started - WINDOW_S  # the last, quiet window is not waiting
            self.waits += 1
            self.waited += waited
            print(f"  quiet: waited {waited:.1f} s for {'; '.join(seen.values())}", flush=True)

    def settle(self) -> None:
        """Once before the measurements: CHECKPOINT (PostgreSQL) and sync the page cache, each timed."""
        if self.conn is not None:
            started = time.monotonic()
            self.conn.execute("CHECKPOINT")
            print(f"  settle: CHECKPOINT took {time.monotonic() - started:.1f} s", flush=True)
        started = time.monotonic()
        os.sync()
        print(f"  settle: sync of the page cache took {time.monotonic() - started:.1f} s", flush=True)

    def summary(self) -> str:
        return (
            f"waited for a quiet server before {self.waits} measurements, {self.waited:.1f} s in all"
            + (f"; gave up {self.timeouts} times (--quiet-timeout {self.timeout:.0f})" if self.timeouts else "")
        )
