"""Replay NVD's eight `modified` snapshots as successive `nvd` syncs, on SQLite and PostgreSQL.

Usage: .venv/bin/python bench/sync_replay.py [--engine sqlite|postgresql|both]

Each engine runs in a child process on a fresh database (a temporary SQLite data dir; a fresh PostgreSQL
database `cvewatch_bench_sync` on 127.0.0.1:5432, dropped at the end). The child drops the snapshots one by one
into a feed directory and runs the nvd source once per snapshot (tests/sync/replay.py, the scenario the tests
pin), printing records and changes per second per snapshot; the parent adds the child's peak RSS (os.wait4).
Migrations are not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DB = "cvewatch_bench_sync"


def child() -> int:
    """Runs in the benchmark process: the replay, one JSON line per snapshot."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from tests.sync.replay import replay_nvd_history

    feed_dir = Path(os.environ["CVEWATCH_NVD_URL"])
    for result in replay_nvd_history(feed_dir):
        print(
            json.dumps(
                {
                    "snapshot": result.snapshot,
                    "status": result.run.status,
                    "seconds": result.seconds,
                    "records": result.records,
                    "changes": result.changes,
                    "created": result.run.counts.get("created", 0),
                    "updated": result.run.counts.get("updated", 0),
                }
            ),
            flush=True,
        )
    return 0


def bench(engine: str) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"cvewatch-bench-sync-{engine}-"))
    env = {
        **os.environ, "CVEWATCH_DATA_DIR": str(work / "var"), "CVEWATCH_NVD_URL": str(work / "feeds"),
        "CVEWATCH_SOURCES": "nvd", "CVEWATCH_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    env.pop("CVEWATCH_DATABASE_URL", None)
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")
        env["CVEWATCH_DATABASE_URL"] = f"{PG_SERVER}/{PG_DB}"
    try:
        subprocess.run([sys.executable, "-m", "cvewatch", "migrate", "-v0"], env=env, check=True)
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child"], env=env, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        rows = [json.loads(line) for line in proc.stdout]
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{engine}: the replay child failed")
        return {
            "engine": engine, "rows": rows, "wall": time.perf_counter() - started, "rss_mib": usage.ru_maxrss / 1024,
        }  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if engine == "postgresql":
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def report(result: dict[str, Any]) -> None:
    print(f"\n== {result['engine']}: 8 NVD modified snapshots as nvd syncs")
    print(
        f"{'snapshot':<48} {'status':<10} {'records':>8} {'changes':>8} {'s':>6} {'records/s':>10} {'changes/s':>10}"
    )
    records = changes = seconds = 0.0
    for row in result["rows"]:
        s = max(row["seconds"], 1e-9)
        records, changes, seconds = (
            records + row["records"],
            changes + row["changes"],
            seconds + row["seconds"],
        )
        print(
            f"{row['snapshot']:<48} {row['status']:<10} {row['records']:>8,} {row['changes']:>8,} {s:>6.2f} "
            f"{row['records'] / s:>10,.0f} {row['changes'] / s:>10,.0f}"
        )
    print(
        f"{'total':<48} {'':<10} {records:>8,.0f} {changes:>8,.0f} {seconds:>6.2f} {records / seconds:>10,.0f} "
        f"{changes / seconds:>10,.0f}"
    )
    print(
        f"peak RSS of the sync process: {result['rss_mib']:.0f} MiB (wall {result['wall']:.1f} s with start-up)"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child()
    for engine in ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]:
        report(bench(engine))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
