"""CPU per request of the filtered CVE lists, a project's CVE list and the vendor, product and weakness lists,
in-process (Django's test client).

    CVEWATCH_DATA_DIR=/path/to/copy .venv/bin/python bench/list_cost.py [--requests 200]
    CVEWATCH_DATABASE_URL=postgres://…/cvewatch_copy .venv/bin/python bench/list_cost.py

Wall times on the shared two-core machine follow the load; CPU time far less. For each URL, after a warm-up
(which fills the counts kept per search generation), --requests requests are sent and the CPU they cost is
read: this process's (Django, DRF, the driver, and SQLite's own work) and, on PostgreSQL, the server
backend's serving this connection (utime + stime of its pid from /proc, the same machine). Prints queries,
client and server CPU ms per request, and their sum: 2 cores / (sum) bounds the req/s of the whole machine
before HTTP, gunicorn and the load generator take their share.
Run it on a copy of the full-corpus database: it creates (and deletes) a user, an organization and projects.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_equality import NAME, PASSWORD, create_fixture, delete_fixture, setup_django  # noqa: E402

URLS = (
    "/api/cve",
    "/api/cve?vendor=microsoft",
    "/api/cve?vendor=microsoft&page=991",  # the last page
    "/api/cve?vendor=linux&product=linux_kernel",
    "/api/cve?cvss=critical",
    "/api/cve?weakness=CWE-79",
    f"/api/organizations/{NAME}/projects/watch-big/cve",  # microsoft, linux, google
    f"/api/organizations/{NAME}/projects/watch-big/cve?page=2000",
    f"/api/organizations/{NAME}/projects/watch-one/cve",  # a vendor and a product
    "/api/vendors",
    "/api/vendors?page=3000",  # near the end: 32,803 vendors
    "/api/vendors/microsoft/products",  # 1,131 products, counted
    "/api/vendors/microsoft/products?page=100",
    "/api/weaknesses",
)


def backend_cpu(pid: int | None) -> float:
    """Seconds of CPU the PostgreSQL backend `pid` has used (0 without one)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    setup_django()
    import base64

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    create_fixture()
    try:
        auth = base64.b64encode(f"{NAME}:{PASSWORD}".encode()).decode()
        client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0].lstrip("."), HTTP_AUTHORIZATION=f"Basic {auth}")
        client.get("/api/cve")
        pid = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
        print(f"engine={connection.vendor} requests={args.requests} load average {os.getloadavg()[0]:.1f}")
        print(f"{'url':58} {'queries':>7} {'client ms':>9} {'server ms':>9} {'sum ms':>7} {'wall ms':>7}")
        for url in URLS:
            for _ in range(5):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
            queries: list[str] = []  # counted by a wrapper: SQLite's connection closes after each request

            def count(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                client.get(url)
            cpu, server, wall = time.process_time(), backend_cpu(pid), time.perf_counter()
            for _ in range(args.requests):
                client.get(url)
            n = args.requests
            client_ms = (time.process_time() - cpu) / n * 1000
            server_ms = (backend_cpu(pid) - server) / n * 1000
            wall_ms = (time.perf_counter() - wall) / n * 1000
            print(
                f"{url[:58]:58} {len(queries):7} {client_ms:9.3f} {server_ms:9.3f} "
                f"{client_ms + server_ms:7.3f} {wall_ms:7.3f}"
            )
        print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} at the end")
    finally:
        delete_fixture()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
