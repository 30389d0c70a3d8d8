"""Import the whole shared corpus with the real `cvewatch import`, from empty, then again; on SQLite and PostgreSQL.

Usage: .venv/bin/python bench/import_corpus.py [--engine sqlite|postgresql|both] [--data-dir DIR] [--keep]
                                               [--no-second] [--reread] [--pg-db NAME] [PATH ...]
Default inputs: the cve5 tarball, every NVD 1.1 yearly feed, the NVD 1.1 modified/recent snapshots (in date
order), the KEV catalog and the CWE catalog: together the corpus's 213,629 distinct CVEs.
SQLite runs in a fresh data dir (a temporary one unless --data-dir); PostgreSQL in a fresh database
(--pg-db, default `cvewatch_bench`: dropped and re-created) on 127.0.0.1:5432, dropped at the end unless --keep. Wall time and peak RSS are the import
child's own (os.wait4); migrations are not timed. The second import skips every input unread (their bytes
were imported by the first); --reread adds a third, `cvewatch import --reread`, which parses everything again
and compares it with what is stored (the second import before inputs were skipped).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CVEWATCH = Path(sys.executable).parent / "cvewatch"
CORPUS = ROOT.parent / "shared" / "data" / "corpus"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DB = "cvewatch_bench"
TABLES = (
    "catalog_cve", "catalog_sourcerecord", "catalog_change", "catalog_vendor", "catalog_product",
    "catalog_weakness", "catalog_cvevendor", "catalog_cveproduct", "catalog_cveweakness",
)  # fmt: skip
TARGETS = {"sqlite": 120.0, "postgresql": 180.0}
SECOND_TARGET = 20.0  # no more than merely reading and parsing the corpus (bench/parse_corpus.py)
RSS_TARGET_MIB = 1536


def default_paths() -> list[Path]:
    return [
        CORPUS / "cve5-vulnrichment-2025-01-24.tar.gz",
        *sorted((CORPUS / "nvd-1.1").glob("*.json.gz")),
        # nvdcve-1.1-modified.2023-08-09.<hash>.json.gz: replay the snapshots oldest first.
        *sorted(
            (CORPUS / "nvd-1.1-modified-history").glob("*.json.gz"),
            key=lambda p: (p.name.split(".")[2], p.name),
        ),
        CORPUS / "kev" / "known_exploited_vulnerabilities.json",
        CORPUS / "cwe" / "cwec_v4.15.xml.gz",
    ]


def run_child(args: list[str], env: dict[str, str], *, show: bool) -> tuple[int, float, float, str]:
    """Runs cvewatch with args; returns (exit code, wall seconds, peak RSS MiB, stdout).

    Also prints the CPU seconds of the import process and its reading process (reaped by it, so counted in
    its rusage): on a shared machine wall time inflates, CPU time much less.
    """
    started = time.perf_counter()
    proc = subprocess.Popen([str(CVEWATCH), *args], env=env, stdout=subprocess.PIPE, stderr=None, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if show:
        print(out.rstrip())
        cpu = usage.ru_utime + usage.ru_stime
        print(
            f"(wall {wall:.1f} s, CPU {cpu:.1f} s: user {usage.ru_utime:.1f} s, system {usage.ru_stime:.1f} s)"
        )
    return proc.returncode, wall, usage.ru_maxrss / 1024, out


def counts_sqlite(db: Path) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    try:
        result: dict[str, Any] = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    result["database size MiB"] = round(size / 2**20)
    return result


def counts_postgres(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        result: dict[str, Any] = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    result["database size MiB"] = round(size / 2**20)
    return result


def bench(
    engine: str,
    paths: list[Path],
    *,
    data_dir: Path | None,
    keep: bool,
    second: bool,
    pg_db: str = PG_DB,
    reread: bool = False,
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVEWATCH_")}
    if data_dir is not None:
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
    temp = None if data_dir is not None else Path(tempfile.mkdtemp(prefix=f"cvewatch-bench-{engine}-"))
    env["CVEWATCH_DATA_DIR"] = str(data_dir or temp)
    url = f"{PG_SERVER}/{pg_db}"
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {pg_db}")
        env["CVEWATCH_DATABASE_URL"] = url
    try:
        code, _, _, _ = run_child(["migrate", "-v0"], env, show=False)
        if code != 0:
            raise SystemExit(f"{engine}: migrate failed ({code})")
        print(f"\n=== {engine}: first import (from empty) of {len(paths)} inputs", flush=True)
        import_args = ["import", *map(str, paths), "--progress-interval", "15", "--show-skipped", "5"]
        code, wall, rss, _ = run_child(import_args, env, show=True)
        result: dict[str, Any] = {"engine": engine, "first exit": code, "first s": wall, "first RSS MiB": rss}
        if second:
            print(f"=== {engine}: second import of the same data", flush=True)
            code, wall2, rss2, _ = run_child(import_args, env, show=True)
            result |= {"second exit": code, "second s": wall2, "second RSS MiB": rss2}
        if reread:
            print(f"=== {engine}: third import of the same data, --reread (parsed and compared)", flush=True)
            code, wall3, rss3, _ = run_child([*import_args, "--reread"], env, show=True)
            result |= {"reread exit": code, "reread s": wall3, "reread RSS MiB": rss3}
        db = Path(env["CVEWATCH_DATA_DIR"]) / "cvewatch.sqlite3"
        result["counts"] = counts_sqlite(db) if engine == "sqlite" else counts_postgres(url)
        return result
    finally:
        if engine == "postgresql" and not keep:
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
        if temp is not None and (engine == "postgresql" or not keep):
            shutil.rmtree(temp, ignore_errors=True)  # PostgreSQL's data dir holds only a secret key
        elif engine == "sqlite":
            print(f"(SQLite data dir kept: {env['CVEWATCH_DATA_DIR']})")


def report(result: dict[str, Any]) -> None:
    engine = result["engine"]
    target = TARGETS[engine]
    ok = "ok" if result["first s"] <= target else "OVER TARGET"
    print(f"\n--- {engine} results")
    print(
        f"first import   {result['first s']:7.1f} s  (target <= {target:.0f} s: {ok}), "
        f"peak RSS {result['first RSS MiB']:,.0f} MiB (target <= {RSS_TARGET_MIB}), exit {result['first exit']}"
    )
    if "second s" in result:
        ok2 = "ok" if result["second s"] <= SECOND_TARGET else "OVER TARGET"
        print(
            f"second import  {result['second s']:7.1f} s  (target <= {SECOND_TARGET:.0f} s: {ok2}), "
            f"peak RSS {result['second RSS MiB']:,.0f} MiB, exit {result['second exit']}"
        )
    if "reread s" in result:
        print(
            f"--reread        {result['reread s']:7.1f} s, peak RSS {result['reread RSS MiB']:,.0f} MiB, "
            f"exit {result['reread exit']}"
        )
    for key, value in result["counts"].items():
        print(f"  {key:24s} {value:>12,}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--data-dir", type=Path, help="SQLite: build the database here and keep it")
    parser.add_argument(
        "--keep", action="store_true", help="keep the PostgreSQL database / temporary data dir"
    )
    parser.add_argument("--no-second", action="store_true", help="skip the second (idempotent) import")
    parser.add_argument(
        "--reread", action="store_true", help="a third import with --reread (parse everything)"
    )
    parser.add_argument("--pg-db", default=PG_DB, help=f"PostgreSQL database to (re)create (default {PG_DB})")
    args = parser.parse_args(argv)
    paths = args.paths or default_paths()
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start")
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    results = [
        bench(
            e,
            paths,
            data_dir=args.data_dir if e == "sqlite" else None,
            keep=args.keep,
            second=not args.no_second,
            pg_db=args.pg_db,
            reread=args.reread,
        )
        for e in engines
    ]
    for result in results:
        report(result)
    load = os.getloadavg()
    print(
        f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end (other work on the machine skews wall times)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
