"""Memory of `cvewatch serve` with its job worker: the whole process tree, at steady state, under load.

Starts `cvewatch serve` (2 web workers x 4 threads and the internal job worker) on the data directory (and
database, with --database-url) given on the command line, lets the job worker run a sync of the sources
below, drives a mixed API load through bench/_loadgen.py, then samples the process tree for a while.
It prints, per process and in total, PSS (each shared page counted once, split between the processes
sharing it: the honest sum for a process tree, and the figure held against the 300 MiB target), USS (the
pages only that process holds: what stopping it would free, a lower bound) and RSS (shared pages counted in
every process: an upper bound). The tree is `serve` (the gunicorn master), its web workers and its job
worker (`cvewatch worker`, started by serve): every descendant of the server process is counted.

Without a catalog in that database it imports sample-data/ first and says so: those numbers are then for
about 4,200 CVEs, not the full corpus (`bench/import_corpus.py --keep` builds one).

    .venv/bin/python bench/serve_memory.py --data-dir /path/to/data [--database-url postgres://...]
        [--requests 3000] [--settle 20]
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

from _loadgen import HOST, free_port, run_load, stop_server, wait_until_up
from _quiet import tree_pids

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample-data"
TARGET_MIB = 300
URLS = [
    "/api/cve",
    "/api/cve?page=20",
    "/api/cve?vendor=microsoft",
    "/api/cve?cvss=critical",
    "/api/cve?weakness=CWE-79",
    "/api/vendors?page=2",
    "/api/cve?search=buffer",
    "/api/cve/CVE-2023-45617",
]
# The sync the job worker runs during the load: the KEV and CWE catalogs from sample-data/, read locally,
# due again after 30 s so the worker syncs when it starts and once a minute after.
SYNC_ENV = {
    "CVEWATCH_SYNC_INTERVAL": "30",
    "CVEWATCH_SOURCES": "kev,cwe",
    "CVEWATCH_KEV_URL": str(SAMPLE / "kev.json"),
    "CVEWATCH_CWE_URL": str(SAMPLE / "cwec_v4.15.xml.gz"),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite in the data dir)")
    parser.add_argument("--requests", type=int, default=3000, help="API requests in the load phase")
    parser.add_argument("--settle", type=float, default=20, help="seconds of sampling after the load")
    args = parser.parse_args()

    os.environ["CVEWATCH_DATA_DIR"] = str(args.data_dir.resolve())
    os.environ.pop("CVEWATCH_DATABASE_URL", None)
    if args.database_url:
        os.environ["CVEWATCH_DATABASE_URL"] = args.database_url
    os.environ.update(
        SYNC_ENV, CVEWATCH_WORKER="internal", CVEWATCH_LOG_LEVEL="WARNING", CVEWATCH_API_RATE_LIMIT="off"
    )
    cves, sample = prepare_catalog()
    username, password = create_bench_user()
    authorization = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    print(f"catalog: {cves:,} CVEs" + (" (sample data: NOT the full corpus)" if sample else ""))

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cvewatch", "serve", "--bind", f"{HOST}:{port}", "--workers", "2", "--threads", "4"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(port, server, probe_url="/api/cve")
        peak = Tree(server.pid)
        started = time.monotonic()
        loading = threading.Event()
        sampler = threading.Thread(target=peak.sample_until, args=(loading,), daemon=True)
        sampler.start()
        result = run_load(port=port, authorization=authorization, urls=URLS, concurrency=8,
                          total=args.requests, timeout=60)  # fmt: skip
        loading.set()
        sampler.join()
        print(
            f"load: {result.total} requests in {result.elapsed_s:.1f} s ({result.requests_per_second:.0f}/s), "
            f"{len(result.errors)} errors"
        )
        print(f"sync: {sync_summary()}")
        steady = Tree(server.pid)
        deadline = time.monotonic() + args.settle
        while time.monotonic() < deadline:
            steady.sample()
            peak.sample()
            time.sleep(1)
        print(
            f"process tree after {time.monotonic() - started:.0f} s (sampled every second for {args.settle:.0f} s):"
        )
        for pid, name, pss, rss, anon, file, uss in steady.last:
            print(
                f"  {pid:>7}  {name:<24} PSS {pss / 1024:6.1f} MiB (anonymous {anon / 1024:5.1f}, files "
                f"{file / 1024:5.1f})   USS {uss / 1024:6.1f} MiB   RSS {rss / 1024:6.1f} MiB"
            )
        pss, rss = steady.totals()
        uss = sum(r[6] for r in steady.last)
        verdict = "within" if pss / 1024 <= TARGET_MIB else "OVER"
        print(
            f"steady state, whole tree ({len(steady.last)} processes): PSS {pss / 1024:.1f} MiB "
            f"({verdict} the {TARGET_MIB} MiB target), USS {uss / 1024:.1f} MiB, RSS {rss / 1024:.1f} MiB"
        )
        ppss, prss = peak.peak
        print(f"peak during load and sync: PSS {ppss / 1024:.1f} MiB, RSS {prss / 1024:.1f} MiB")
        print("PSS by kind of mapping (MiB; /proc/PID/smaps):")
        for pid, name, *_ in steady.last:
            kinds = pss_by_mapping(pid)
            print(f"  {pid:>7}  {name:<24} " + ", ".join(f"{k} {v / 1024:.1f}" for k, v in kinds.items()))
    finally:
        stop_server(server)


class Tree:
    """Samples PSS, USS and RSS (KiB, /proc/PID/smaps_rollup) of a process and all its descendants."""

    def __init__(self, root: int) -> None:
        self.root = root
        # pid, name, PSS, RSS, PSS anon, PSS file, USS
        self.last: list[tuple[int, str, int, int, int, int, int]] = []
        self.peak = (0, 0)

    def sample(self) -> None:
        rows = []
        for pid in self._pids():
            try:
                text = Path(f"/proc/{pid}/smaps_rollup").read_text()
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            values = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()[1:]}
            name = (
                "job worker"
                if " worker " in cmd
                else ("serve (gunicorn master)" if pid == self.root else "web worker")
            )
            rows.append(
                (
                    pid,
                    name,
                    values.get("Pss", 0),
                    values.get("Rss", 0),
                    values.get("Pss_Anon", 0),
                    values.get("Pss_File", 0) + values.get("Pss_Shmem", 0),
                    values.get("Private_Clean", 0) + values.get("Private_Dirty", 0),
                )
            )
        self.last = rows
        pss, rss = self.totals()
        self.peak = (max(self.peak[0], pss), max(self.peak[1], rss))

    def sample_until(self, done: threading.Event) -> None:
        while not done.wait(0.5):
            self.sample()

    def totals(self) -> tuple[int, int]:
        return sum(r[2] for r in self.last), sum(r[3] for r in self.last)

    def _pids(self) -> list[int]:
        return tree_pids(self.root)


def pss_by_mapping(pid: int) -> dict[str, int]:
    """PSS (KiB) of one process split into the heap (anonymous memory: Python objects, malloc, SQLite's
    page cache), the database files SQLite maps, shared libraries, and the rest."""
    kinds = dict.fromkeys(("heap", "database files", "libraries", "other"), 0)
    kind = "other"
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return kinds
    for line in lines:
        head = line.split(maxsplit=1)[0]
        # A mapping's header: ADDRESS-RANGE PERMS OFFSET DEV INODE [PATH]; then its Key: value lines.
        if "-" in head and not head.endswith(":"):
            fields = line.split(maxsplit=5)
            path = fields[5] if len(fields) > 5 else ""
            if not path or path.startswith("[heap") or path.startswith("[anon"):
                kind = "heap"
            elif ".sqlite3" in path:
                kind = "database files"
            elif ".so" in path:
                kind = "libraries"
            else:
                kind = "other"
        elif head == "Pss:":
            kinds[kind] += int(line.split()[1])
    return kinds


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()


def prepare_catalog() -> tuple[int, bool]:
    """(CVE count, whether the sample data had to be loaded)."""
    _django()
    from django.core.management import call_command

    from cvewatch.catalog.models import Cve

    call_command("migrate", interactive=False, verbosity=0)
    forget_sync_cursors()
    if Cve.objects.exists():
        return Cve.objects.count(), False
    call_command("import", str(SAMPLE), stdout=io.StringIO())
    return Cve.objects.count(), True


def forget_sync_cursors() -> None:
    """Make the benchmark's sources read and merge their files again instead of finding them unchanged."""
    from cvewatch.sync.models import SyncSource

    SyncSource.objects.filter(name__in=SYNC_ENV["CVEWATCH_SOURCES"].split(",")).update(
        cursor={}, last_success_at=None, last_run_at=None
    )


def create_bench_user() -> tuple[str, str]:
    from django.contrib.auth import get_user_model

    username, password = f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    get_user_model().objects.create_user(username=username, password=password)
    return username, password


def sync_summary() -> str:
    from django.db import connection

    from cvewatch.sync.models import SyncRun

    connection.close()  # read what the job worker wrote since
    runs = list(SyncRun.objects.order_by("-id")[:4])
    if not runs:
        return "no sync ran yet"
    return "; ".join(f"{r.source.name} {r.status} {r.seconds or 0:.1f} s" for r in runs)


if __name__ == "__main__":
    main()
