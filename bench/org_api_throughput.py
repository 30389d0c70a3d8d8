"""Token-authenticated throughput of a project's CVE list through the real server (`cvewatch serve`).

Assumes the database named by the environment (CVEWATCH_DATA_DIR for SQLite, or CVEWATCH_DATABASE_URL)
holds the corpus. Creates a throw-away user, organization, project (subscribed to the vendors given, by
default microsoft, linux and google) and API token; starts `cvewatch serve` on a free loopback port; measures
latency at concurrency 1 and throughput at concurrency 8; deletes what it created.

    CVEWATCH_DATA_DIR=/path/to/data .venv/bin/python bench/org_api_throughput.py [--requests 1000]
"""

from __future__ import annotations

import argparse
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


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    os.environ.setdefault("CVEWATCH_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive connection per thread; reconnects once when the server closed it."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, url: str) -> tuple[int, float]:
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request("GET", url, headers=self.headers)
                response = self.conn.getresponse()
                response.read()
                return response.status, (time.perf_counter() - started) * 1000
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
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
            conn.request("GET", "/api/organizations")
            if conn.getresponse().status == 401:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("cvewatch serve did not come up")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def create_fixture(vendors: list[str]) -> tuple[str, str, str, int]:
    """(username, organization name, full token, matching CVE count); missing vendors are left out."""
    from django.contrib.auth import get_user_model

    from cvewatch.catalog.models import Vendor
    from cvewatch.organizations import selectors, services

    name = f"bench-{secrets.token_hex(4)}"
    user = get_user_model().objects.create_user(username=name, password=secrets.token_urlsafe(24))
    organization = services.create_organization(name=name, owner=user)
    present = list(Vendor.objects.filter(name__in=vendors).values_list("name", flat=True))
    missing = sorted(set(vendors) - set(present))
    if missing:
        print(f"note: vendors not in this catalog, left out of the subscription: {', '.join(missing)}")
    project = services.create_project(organization=organization, name="bench", vendors=present, actor=user)
    _, token = services.create_token(organization=organization, name="bench", actor=user)
    return name, organization.name, token, selectors.cves_for_project(project=project).count()


def delete_fixture(username: str) -> None:
    from django.contrib.auth import get_user_model

    from cvewatch.organizations.models import Organization

    Organization.objects.filter(name=username).delete()
    get_user_model().objects.filter(username=username).delete()


def run_load(port: int, token: str, urls: list[str], concurrency: int, total: int) -> None:
    counter = iter(range(total))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def worker() -> None:
        client = Client(port, token)
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
    print(
        f"  concurrency {concurrency}: {total} requests, {total / elapsed:.1f} req/s, errors {len(errors)}, "
        f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, wall {elapsed:.1f} s"
    )
    for error in errors[:5]:
        print("    error:", error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendors", nargs="+", default=["microsoft", "linux", "google"])
    parser.add_argument("--requests", type=int, default=1000, help="requests of each concurrent run")
    parser.add_argument("--samples", type=int, default=50, help="requests per URL at concurrency 1")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--migrate", action="store_true", help="apply pending migrations to the database first"
    )
    args = parser.parse_args()

    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from cvewatch.catalog.models import Cve

    if args.migrate:
        call_command("migrate", verbosity=0, interactive=False)
    username, org, token, matching = create_fixture(args.vendors)
    engine, cves = connection.vendor, Cve.objects.count()
    connection.close()  # the server processes open their own
    base = f"/api/organizations/{org}/projects/bench/cve"
    urls = [base, f"{base}?page=2", f"{base}?page=100", f"{base}?cvss=critical", f"{base}?search=overflow"]
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
        print(
            f"engine={engine} cves={cves:,} project vendors={','.join(args.vendors)} matching={matching:,} "
            f"workers={args.workers} threads={args.threads}"
        )
        client = Client(port, token)
        for url in urls:
            for _ in range(3):
                client.get(url)  # warm-up: connections, plans, the first last_used_at write
        print(f"concurrency 1, {args.samples} requests per URL (Bearer token)")
        print(f"  {'URL':<70} {'status':>6} {'p50 ms':>8} {'p95 ms':>8}")
        for url in urls:
            statuses, samples = set(), []
            for _ in range(args.samples):
                status, ms = client.get(url)
                statuses.add(status)
                samples.append(ms)
            shown = url.replace(org, "{org}")
            print(
                f"  {shown:<70} {','.join(map(str, sorted(statuses))):>6} "
                f"{statistics.median(samples):8.1f} {percentile(samples, 95):8.1f}"
            )
        print("throughput, first page only:")
        run_load(port, token, [base], args.concurrency, args.requests)
        print("throughput, round robin over the URLs above:")
        run_load(port, token, urls, args.concurrency, args.requests)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        delete_fixture(username)


if __name__ == "__main__":
    main()
