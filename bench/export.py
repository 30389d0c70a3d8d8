"""The CSV export of the whole catalog through a real `cvewatch serve`: rows/s, total time, server memory.

Starts `cvewatch serve` (1 web worker, 2 threads, no job worker) on the database given, signs a throw-away
user in (a real session row, as /login writes it), downloads `/cve/export.csv` (every CVE: on the full
corpus 213,629 rows) while sampling the web worker's memory every 0.1 s, and prints the time to the first
byte, the total time, rows/s and MiB/s, the worker's CPU time (rows per CPU-second), and the worker's memory growth (peak during the export − baseline
after a small warm-up export) against the 50 MiB target, with the load average (the machine is shared).

Memory is read from /proc/PID/status: RssAnon is the process's own heap (what a row cap would protect;
the target applies to it), RssFile the file pages mapped in, which on SQLite includes the database pages
read through its memory map (PRAGMA mmap_size: clean page cache, shared and reclaimable, not growth).

    .venv/bin/python bench/export.py --data-dir DIR [--database-url postgres://...] [--path "/cve/export.csv?cvss=high"]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

from _loadgen import HOST, free_port, stop_server, wait_until_up

TARGET_GROWTH_MIB = 50


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite in the data dir)")
    parser.add_argument("--path", default="/cve/export.csv", help="the export to download")
    args = parser.parse_args()
    os.environ["CVEWATCH_DATA_DIR"] = str(args.data_dir.resolve())
    os.environ.pop("CVEWATCH_DATABASE_URL", None)
    if args.database_url:
        os.environ["CVEWATCH_DATABASE_URL"] = args.database_url
    os.environ.update(CVEWATCH_WORKER="external", CVEWATCH_LOG_LEVEL="WARNING")

    engine, cves, cookie, drop_user = sign_in()
    print(f"engine: {engine}, catalog: {cves:,} CVEs, export: {args.path}")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cvewatch", "serve", "--bind", f"{HOST}:{port}", "--no-migrate",
         "--workers", "1", "--threads", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(port, server, probe_url="/api/cve")
        worker = web_worker(server.pid)
        download(port, cookie, "/cve/export.csv?cvss=critical")  # warm-up: imports, plans, connection
        time.sleep(1)
        baseline = memory(worker)
        sampler = Sampler(worker)
        sampler.start()
        load_before, cpu_before = os.getloadavg(), cpu_seconds(worker)
        result = download(port, cookie, args.path)
        sampler.stop()
        load_after, cpu = os.getloadavg(), cpu_seconds(worker) - cpu_before
    finally:
        stop_server(server)
        drop_user()
    status, rows, size, first_byte, total = result
    print(f"status {status}: {rows:,} rows, {size / 2**20:.1f} MiB in {total:.1f} s "
          f"(first byte after {first_byte * 1000:.0f} ms): {rows / total:,.0f} rows/s, {size / 2**20 / total:.1f} MiB/s")  # fmt: skip
    print(f"web worker CPU: {cpu:.1f} s for the export, {rows / cpu:,.0f} rows per CPU-second (less load-bound "
          "than the wall clock on a shared machine)")  # fmt: skip
    growth = (sampler.peak["RssAnon"] - baseline["RssAnon"]) / 1024
    verdict = "within" if growth < TARGET_GROWTH_MIB else "OVER"
    print(f"web worker memory (MiB): baseline RssAnon {baseline['RssAnon'] / 1024:.1f}, RssFile "
          f"{baseline['RssFile'] / 1024:.1f}, VmRSS {baseline['VmRSS'] / 1024:.1f}; peak during the export RssAnon "
          f"{sampler.peak['RssAnon'] / 1024:.1f}, RssFile {sampler.peak['RssFile'] / 1024:.1f}, VmRSS "
          f"{sampler.peak['VmRSS'] / 1024:.1f} ({sampler.samples} samples)")  # fmt: skip
    print(f"heap growth (peak - baseline RssAnon): {growth:.1f} MiB, {verdict} the {TARGET_GROWTH_MIB} MiB target; "
          f"VmRSS growth {(sampler.peak['VmRSS'] - baseline['VmRSS']) / 1024:.1f} MiB")  # fmt: skip
    print("load average (1/5/15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f} on {} CPUs".format(
        *load_before, *load_after, os.cpu_count()))  # fmt: skip


def sign_in() -> tuple[str, int, str, object]:
    """(engine, CVE count, session cookie, a function deleting the user) for a fresh user with a session."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from cvewatch.catalog.models import Cve

    user = get_user_model().objects.create_user(username=f"bench-{secrets.token_hex(4)}")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    count = Cve.objects.count()
    engine = connection.vendor
    connection.close()
    return engine, count, f"{settings.SESSION_COOKIE_NAME}={session.session_key}", user.delete


def download(port: int, cookie: str, path: str) -> tuple[int, int, int, float, float]:
    """(status, CSV rows, bytes, seconds to the first byte, seconds in all), reading as a client would."""
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status} {response.getheader('Location') or ''}")
    counter = Counting(response)
    text = io.TextIOWrapper(counter, encoding="utf-8", newline="")
    rows = sum(1 for _ in csv.reader(text)) - 1  # the header
    total = time.perf_counter() - started
    first = counter.first_at - started
    conn.close()
    return response.status, rows, counter.size, first, total


class Counting(io.RawIOBase):
    """The response body as a raw stream, counting bytes and noting when the first one arrived."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.response, self.size, self.first_at = response, 0, 0.0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.response.readinto(buffer)
        if n and not self.first_at:
            self.first_at = time.perf_counter()
        self.size += n
        return n


def web_worker(master: int) -> int:
    """The gunicorn worker under `cvewatch serve` (the only child with no job worker)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("no web worker started")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory(pid: int) -> dict[str, int]:
    """VmRSS, RssAnon and RssFile of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            values[name] = int(rest.split()[0])
    return values


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.samples = pid, 0
        self.peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(0.1):
            for name, value in memory(self.pid).items():
                self.peak[name] = max(self.peak[name], value)
            self.samples += 1


if __name__ == "__main__":
    main()
