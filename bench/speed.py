"""Every figure of the speed table (issue 11) on the full corpus, next to its target: the median of N runs.

    .venv/bin/python bench/speed.py [--runs 3] [--part import|api|all] [--sqlite-dir DIR] [--pg-db NAME]

import part, on each engine: `--runs` times a fresh database, `cvewatch migrate` (not timed), then the
real `cvewatch import` of the corpus (bench/import_corpus.py's inputs: the cve5 tarball, every NVD 1.1
feed, the modified snapshots, KEV, CWE) from empty, then the same import again (nothing changed). And
`--runs` times merely reading and parsing the same inputs (bench/parse_corpus.py, one process). Wall times
and CPU times are the child processes' own (os.wait4: an import's parsing child included).
api part, on each engine's database (the last import's, or --sqlite-dir / --pg-db as they are):
`cvewatch serve` with 2 web workers and its job worker; throughput at concurrency 8 of each list endpoint
with HTTP Basic and with an organization token (wrk when installed — `apt-get install wrk`, a C load
generator that leaves the server the CPU; else bench/_loadgen.py's Python threads, which take a share of
the two cores themselves); p95 at concurrency 1 of /api/cve, of three projects' CVE lists (subscribed to
microsoft, linux, google) and of `search=`; then the memory of the serve process tree (PSS and RSS). Before
each measurement it waits (at most --quiet-timeout s) for a quiet server — its job worker idle, no
PostgreSQL checkpoint or autovacuum, the page cache written back (bench/_quiet.py) — and prints what it
waited for and how long; on PostgreSQL a CHECKPOINT runs first.

Run it on an otherwise idle machine: the load average is printed before and after each part.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_corpus import CVEWATCH, PG_SERVER, default_paths  # noqa: E402

BENCH = Path(__file__).resolve().parent
TARGETS = {
    "first import s": {"sqlite": 40.0, "postgresql": 60.0},
    "re-import s": 20.0,  # and no more than parsing alone
    "list req/s": 500.0,
    "cve p95 ms": 10.0,  # /api/cve on PostgreSQL
    "project p95 ms": 15.0,
    "project req/s": 300.0,
    "search p95 ms": 50.0,
    "serve MiB": 300.0,
}


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def timed_child(argv: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """(exit code, wall s, CPU s of the child and its waited-for children, output)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, out


class Table:
    """The figures as they are measured: (figure, engine) → runs; printed at the end with medians."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[list[float], str, str]] = {}

    def add(self, figure: str, engine: str, value: float, *, target: str, better: str) -> None:
        runs, _, _ = self.rows.setdefault((figure, engine), ([], target, better))
        runs.append(value)

    def print(self) -> None:
        print(f"\n{'figure':58} {'engine':10} {'runs':>26} {'median':>9}  target")
        for (figure, engine), (runs, target, better) in self.rows.items():
            median = statistics.median(runs)
            limit = float(target.split()[-1]) if target else None
            ok = (
                ""
                if limit is None
                else ("ok" if (median <= limit if better == "low" else median >= limit) else "MISSED")
            )
            shown = ", ".join(f"{r:.1f}" for r in runs)
            print(f"{figure:58} {engine:10} {shown:>26} {median:9.1f}  {target} {ok}")


def engine_env(engine: str, *, data_dir: Path, pg_db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVEWATCH_")}
    env["CVEWATCH_DATA_DIR"] = str(data_dir)
    env["CVEWATCH_LOG_LEVEL"] = "WARNING"
    if engine == "postgresql":
        env["CVEWATCH_DATABASE_URL"] = f"{PG_SERVER}/{pg_db}"
    return env


def fresh_database(engine: str, *, data_dir: Path, pg_db: str) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {pg_db}")


def import_part(table: Table, *, runs: int, sqlite_dir: Path, pg_db: str, pg_dir: Path) -> None:
    paths = [str(p) for p in default_paths()]
    print(f"\n== import part: {len(paths)} inputs, {runs} runs; load average {load()}", flush=True)
    for run in range(1, runs + 1):
        code, wall, cpu, out = timed_child(
            [sys.executable, str(BENCH / "parse_corpus.py"), *paths], dict(os.environ)
        )
        if code != 0:
            raise SystemExit(f"parse_corpus.py failed ({code}):\n{out[-2000:]}")
        table.add("parse only (read + parse the same inputs), s", "-", wall, target="", better="low")
        print(f"parse only, run {run}: {wall:.1f} s wall, {cpu:.1f} s CPU; load {load()}", flush=True)
    for engine in ("sqlite", "postgresql"):
        data_dir = sqlite_dir if engine == "sqlite" else pg_dir
        env = engine_env(engine, data_dir=data_dir, pg_db=pg_db)
        for run in range(1, runs + 1):
            fresh_database(engine, data_dir=data_dir, pg_db=pg_db)
            code, _, _, out = timed_child([str(CVEWATCH), "migrate", "-v0"], env)
            if code != 0:
                raise SystemExit(f"{engine}: migrate failed:\n{out[-2000:]}")
            for figure, target in (
                ("first import (from empty), s", f"<= {TARGETS['first import s'][engine]:.0f}"),
                ("re-import (nothing changed), s", f"<= {TARGETS['re-import s']:.0f}"),
            ):
                code, wall, cpu, out = timed_child(
                    [str(CVEWATCH), "import", *paths, "--progress-interval", "600"], env
                )
                if code != 0:
                    raise SystemExit(f"{engine}: import failed ({code}):\n{out[-3000:]}")
                table.add(figure, engine, wall, target=target, better="low")
                table.add(
                    figure.replace(", s", ", CPU s (all processes)"), engine, cpu, target="", better="low"
                )
                last = out.strip().splitlines()[-1] if out.strip() else ""
                print(
                    f"{engine} run {run} {figure}: {wall:.1f} s wall, {cpu:.1f} s CPU; load {load()}\n  {last}",
                    flush=True,
                )
    parse = statistics.median(table.rows[("parse only (read + parse the same inputs), s", "-")][0])
    for engine in ("sqlite", "postgresql"):
        first = statistics.median(table.rows[("first import (from empty), s", engine)][0])
        table.add("first import / parse only (medians)", engine, first / parse, target="<= 2", better="low")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--part", choices=("import", "api", "all"), default="all")
    parser.add_argument("--sqlite-dir", type=Path, default=Path("/work/speed-sqlite"))
    parser.add_argument(
        "--pg-db", default="cvewatch_speed", help="PostgreSQL database (re-created by the import part)"
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of each throughput run")
    parser.add_argument(
        "--quiet-timeout", type=float, default=20.0,
        help="api part: longest wait before each measurement for a quiet server (bench/_quiet.py); 0: none",
    )  # fmt: skip
    args = parser.parse_args(argv)
    table = Table()
    pg_dir = args.sqlite_dir.with_name(args.sqlite_dir.name + "-pg")  # PostgreSQL's data dir: its secret key
    print(f"{os.cpu_count()} CPUs; load average {load()} at start")
    if args.part in ("import", "all"):
        import_part(table, runs=args.runs, sqlite_dir=args.sqlite_dir, pg_db=args.pg_db, pg_dir=pg_dir)
    if args.part in ("api", "all"):
        from _speed_api import api_part

        for engine in ("sqlite", "postgresql"):
            data_dir = args.sqlite_dir if engine == "sqlite" else pg_dir
            pg_dir.mkdir(parents=True, exist_ok=True)
            api_part(
                table, engine=engine, env=engine_env(engine, data_dir=data_dir, pg_db=args.pg_db),
                runs=args.runs, duration=args.duration, quiet_timeout=args.quiet_timeout,
            )  # fmt: skip
    table.print()
    print(f"\nload average {load()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
