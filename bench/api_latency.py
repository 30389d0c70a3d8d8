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
import os
import secrets
import statistics
from dataclasses import dataclass

from _loadgen import Client, percentile, run_load, running_server

# (url, p95 target in ms)
URLS: list[tuple[str, float]] = [
    ("/api/cve", 25),
    ("/api/cve?page=50", 25),
    ("/api/cve?vendor=microsoft", 25),
    ("/api/cve?vendor=linux&product=linux_kernel", 25),
    ("/api/cve?cvss=critical", 25),
    ("/api/cve?weakness=CWE-79", 25),
    ("/api/cve/CVE-2014-0160", 25),
    ("/api/vendors?page=3", 25),
    ("/api/vendors/microsoft/products", 25),
    ("/api/cve?search=buffer", 150),
]
TIMEOUT_S = 60  # per request


@dataclass
class Timing:
    url: str
    target_ms: float
    samples_ms: list[float]
    statuses: set[int]

    def percentile(self, p: float) -> float:
        return percentile(self.samples_ms, p)


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
    try:
        with running_server(workers=args.workers, threads=args.threads, probe_url="/api/cve") as port:
            print(f"engine={engine} cves={cve_count:,} server=127.0.0.1:{port} "
                  f"workers={args.workers} threads={args.threads}")  # fmt: skip
            client = Client(port, auth, timeout=TIMEOUT_S)
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
            print(
                f"\nconcurrency 1, {args.requests} requests per URL, Basic auth (verified once, then cached)"
            )
            print(f"{'URL':<48} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target':>7}  ok")
            for t in timings:
                p95 = t.percentile(95)
                ok = "yes" if p95 <= t.target_ms and t.statuses == {200} else "NO"
                status = ",".join(str(s) for s in sorted(t.statuses))
                print(f"{t.url:<48} {status:>6} {statistics.median(t.samples_ms):8.1f} {p95:8.1f} "
                      f"{max(t.samples_ms):8.1f} {t.target_ms:7.0f}  {ok}")  # fmt: skip
            print_load(port, auth, args.concurrency, args.load_requests)
    finally:
        delete_bench_user(username)


def print_load(port: int, auth: str, concurrency: int, total: int) -> None:
    """Every worker thread walks the URL list round robin on its own connection."""
    result = run_load(
        port=port,
        authorization=auth,
        urls=[u for u, _ in URLS],
        concurrency=concurrency,
        total=total,
        timeout=TIMEOUT_S,
    )
    latencies = result.latencies_ms
    print(f"\nconcurrency {concurrency}, {total} requests over the URLs above (round robin)")
    print(f"throughput {result.requests_per_second:.1f} req/s  errors {len(result.errors)}  "
          f"p50 {percentile(latencies, 50):.1f} ms  p95 {percentile(latencies, 95):.1f} ms  "
          f"wall {result.elapsed_s:.1f} s")  # fmt: skip
    for error in result.errors[:5]:
        print("  error:", error)


if __name__ == "__main__":
    main()
