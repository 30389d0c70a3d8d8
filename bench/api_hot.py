"""What one API request costs in-process, per list endpoint: the SQL it sends and the time it takes.

    CVEWATCH_DATA_DIR=/path/to/copy .venv/bin/python bench/api_hot.py [--requests 300] [--sql] [--profile N]
    CVEWATCH_DATABASE_URL=postgres://…/copy .venv/bin/python bench/api_hot.py …

Each request goes through the whole WSGI stack (middleware, authentication, rate limit, view, renderer) with
Django's test client, warm (the credential cache filled, the connection open), with HTTP Basic and with an
organization token. For each endpoint and scheme it prints the statements the request sends (`--sql` prints
them), the median wall and CPU time per request and, on PostgreSQL, the mean CPU its server backend spent
(read from /proc: the server must run on this machine). `--profile N` prints cProfile's top N functions
(`--sort cumulative|tottime`) for `/api/cve` with each scheme. Under valgrind, `--only URL [--scheme token]
--requests N` for N = 0 and N = 200 (`valgrind --tool=callgrind .venv/bin/python bench/api_hot.py --only /api/cve --requests 200`):
the difference of the two instruction counts / 200 is a request's instructions, a load-independent figure.
Run it on a copy: it creates a user, an organization and a token, and deletes them at the end.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

URLS = ["/api/cve", "/api/cve?page=50", "/api/vendors", "/api/vendors/microsoft/products", "/api/weaknesses"]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    os.environ.setdefault("CVEWATCH_LOG_LEVEL", "WARNING")
    # The rate limit runs (its cost is part of a request) with a quota no run reaches.
    os.environ.setdefault("CVEWATCH_API_RATE_LIMIT", "1000000/hour")
    import django

    django.setup()


def create_fixture() -> tuple[str, dict[str, str]]:
    from django.contrib.auth import get_user_model

    from cvewatch.organizations.services import organizations, tokens

    name = f"api-hot-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(24)
    user = get_user_model().objects.create_user(username=name, password=password)
    organization = organizations.create_organization(name=name, owner=user)
    _, token = tokens.create_token(organization=organization, name="api-hot", actor=user)
    basic = "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()
    return name, {"basic": basic, "token": f"Bearer {token}"}


def delete_fixture(name: str) -> None:
    from django.contrib.auth import get_user_model

    from cvewatch.organizations.models import Organization

    Organization.objects.filter(name=name).delete()
    get_user_model().objects.filter(username=name).delete()


def statements(client: object, url: str, authorization: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, HTTP_AUTHORIZATION=authorization)  # type: ignore[attr-defined]
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.content[:200]!r}")
    return [query["sql"] for query in captured.captured_queries]


def server_cpu_seconds() -> float:
    """CPU time of this connection's PostgreSQL backend (the server runs on this machine); 0 on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    connection.ensure_connection()
    stat = Path(f"/proc/{connection.connection.info.backend_pid}/stat").read_text()
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def timed(client: object, url: str, authorization: str, requests: int) -> tuple[float, float, float]:
    """Median wall and CPU ms of this process per request, and the database server's mean CPU ms."""
    walls, cpus = [], []
    server = server_cpu_seconds()
    for _ in range(requests):
        wall, cpu = time.perf_counter(), time.process_time()
        client.get(url, HTTP_AUTHORIZATION=authorization)  # type: ignore[attr-defined]
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    server = (server_cpu_seconds() - server) / requests
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, server * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--sql", action="store_true", help="print each statement a request sends")
    parser.add_argument(
        "--profile", type=int, default=0, help="cProfile's top N for /api/cve, Basic and token"
    )
    parser.add_argument("--sort", default="cumulative", help="cProfile's order: cumulative or tottime")
    parser.add_argument("--only", default="", help="one URL only (for callgrind; see --scheme)")
    parser.add_argument("--scheme", choices=("basic", "token"), default="basic", help="--only's scheme")
    args = parser.parse_args(argv)
    setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    if args.only:
        # Under callgrind the fixture's password hash alone is billions of instructions; a cached Basic
        # request never hashes the password, so a fast hasher changes nothing that is measured.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    name, auth = create_fixture()
    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0].lstrip(".") or "localhost")
    try:
        print(f"engine {connection.vendor}, load average {os.getloadavg()[0]:.1f}", flush=True)
        if args.only:
            statements(client, args.only, auth[args.scheme])
            timed(client, args.only, auth[args.scheme], args.requests)
            return 0
        for url in URLS:
            for scheme, authorization in auth.items():
                sql = statements(client, url, authorization)
                statements(client, url, authorization)
                sql = statements(client, url, authorization)
                wall, cpu, server = timed(client, url, authorization, args.requests)
                print(
                    f"{url:34} {scheme:5} {len(sql)} statements  {wall:6.3f} ms wall  {cpu:6.3f} ms CPU"
                    f"  {server:6.3f} ms server CPU"
                )
                if args.sql:
                    for statement in sql:
                        print(f"    {statement[:300]}")
        if args.profile:
            import cProfile
            import pstats

            for scheme, authorization in auth.items():
                profile = cProfile.Profile()
                profile.enable()
                timed(client, "/api/cve", authorization, args.requests)
                profile.disable()
                print(f"/api/cve, {scheme}: {args.requests} requests")
                pstats.Stats(profile).sort_stats(args.sort).print_stats(args.profile)
        print(f"load average {os.getloadavg()[0]:.1f}")
    finally:
        delete_fixture(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
