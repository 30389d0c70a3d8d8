"""API latency benchmark through the real server (`cvewatch serve`), on the loaded corpus.

Assumes the database named by the environment (CVEWATCH_DATA_DIR for SQLite, or CVEWATCH_DATABASE_URL)
already holds the corpus (`cvewatch import ...`). Creates a throw-away user, starts `cvewatch serve` on a free
loopback port, warms up, then measures every URL at concurrency 1 (p50/p95) and a mixed load at concurrency 8
(requests/s, errors). Only loopback is used.

    CVEWATCH_DATA_DIR=/path/to/data .venv/bin/python bench/api_latency.py [--requests 50]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

# (url, p95 target in ms)
URLS: list[tuple[str, float]] = [
    ("/api/cve", 25),
    ("/api/cve?page=50", 25),
    ("/api/cve?vendor=microsoft", 25),
    ("/api/cve?vendor=linux&product=linux_kernel", 25),
    ("/api/cve?cvss=critical", 25),
    ("/api/cve?weakness=CWE-79", 25),
    ("/api/cve/CVE-2021-44228", 25),
    ("/api/vendors?page=3", 25),
    ("/api/vendors/microsoft/products", 25),
    ("/api/cve?search=buffer", 150),
]


@dataclass
class Timing:
    url: str
    target_ms: float
    samples_ms: list[float]
    statuses: set[int]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples_ms)
        index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_bench_user() -> tuple[str, str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    username, password = f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    get_user_model().objects.create_user(username=username, password=password)
    return username, password


def delete_bench_user(username: str) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username=username).delete()


class Client:
    """One keep-alive connection; reconnects once if the server closed it."""

    def __init__(self, port: int, auth: str) -> None:
        self.port, self.auth = port, auth
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, url: str) -> tuple[int, float]:
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(
                    "GET", url, headers={"Authorization": self.auth, "Accept": "application/json"}
                )
                response = self.conn.getresponse()
                response.read()
                return response.status, (time.perf_counter() - started) * 1000
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def wait_until_up(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"cvewatch serve exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/cve")
            if conn.getresponse().status == 401:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("cvewatch serve did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="measured requests per URL at concurrency 1")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests per URL first")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--load-requests", type=int, default=800, help="requests of the concurrent run")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per server worker")
    args = parser.parse_args()

    username, password = create_bench_user()
    from django.db import connection

    from cvewatch.catalog.models import Cve

    engine, cve_count = connection.vendor, Cve.objects.count()
    connection.close()
    auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cvewatch", "serve", "--bind", f"127.0.0.1:{port}", "--no-migrate",
         "--workers", str(args.workers), "--threads", str(args.threads)],
        env={**os.environ, "CVEWATCH_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(port, server)
        print(f"engine={engine} cves={cve_count:,} server=127.0.0.1:{port} "
              f"workers={args.workers} threads={args.threads}")  # fmt: skip
        client = Client(port, auth)
        for url, _ in URLS:  # warm up: the first Basic verification per worker, caches, plans
            for _ in range(args.warmup):
                client.get(url)
        timings = []
        for url, target in URLS:
            timing = Timing(url, target, [], set())
            for _ in range(args.requests):
                status, ms = client.get(url)
                timing.samples_ms.append(ms)
                timing.statuses.add(status)
            timings.append(timing)
        print(f"\nconcurrency 1, {args.requests} requests per URL, Basic auth (verified once, then cached)")
        print(f"{'URL':<48} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target':>7}  ok")
        for t in timings:
            p95 = t.percentile(95)
            ok = "yes" if p95 <= t.target_ms and t.statuses == {200} else "NO"
            status = ",".join(str(s) for s in sorted(t.statuses))
            print(f"{t.url:<48} {status:>6} {statistics.median(t.samples_ms):8.1f} {p95:8.1f} "
                  f"{max(t.samples_ms):8.1f} {t.target_ms:7.0f}  {ok}")  # fmt: skip
        run_load(port, auth, args.concurrency, args.load_requests)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        delete_bench_user(username)


def run_load(port: int, auth: str, concurrency: int, total: int) -> None:
    """Each worker thread keeps its own connection and walks the URL list; counts non-200 answers."""
    urls = [u for u, _ in URLS]
    counter = iter(range(total))
    lock = threading.Lock()
    errors: list[str] = []
    latencies: list[float] = []

    def worker() -> None:
        client = Client(port, auth)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            url = urls[n % len(urls)]
            try:
                status, ms = client.get(url)
            except OSError as exc:
                status, ms = 0, 0.0
                errors.append(f"{url}: {exc}")
            with lock:
                latencies.append(ms)
                if status != 200:
                    errors.append(f"{url}: HTTP {status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    elapsed = time.perf_counter() - started
    latencies.sort()
    print(f"\nconcurrency {concurrency}, {total} requests over the URLs above (round robin)")
    print(f"throughput {total / elapsed:.1f} req/s  errors {len(errors)}  "
          f"p50 {latencies[len(latencies) // 2]:.1f} ms  p95 {latencies[int(len(latencies) * 0.95)]:.1f} ms  "
          f"wall {elapsed:.1f} s")  # fmt: skip
    for error in errors[:5]:
        print("  error:", error)


if __name__ == "__main__":
    main()
