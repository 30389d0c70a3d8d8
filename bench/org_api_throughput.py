"""A project's CVE list through the real server (`cvewatch serve`), with an organization token and HTTP Basic.

Assumes the database named by the environment (CVEWATCH_DATA_DIR for SQLite, or CVEWATCH_DATABASE_URL)
holds the corpus. Creates a throw-away user (a member of the organization, for Basic), organization, one
project per `--projects` entry (a project subscribed to that vendor, or to `vendor/product`, or to several
joined by `+`; by default microsoft, linux and google, each its own project) and an API token; starts
`cvewatch serve` on a free loopback port; for each project and each authentication measures latency at
concurrency 1 (first page, and `--variants` pages and filters) and throughput at concurrency 8 on the first
page; deletes what it created.

    CVEWATCH_DATA_DIR=/path/to/data .venv/bin/python bench/org_api_throughput.py [--requests 1000]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics

from _loadgen import Client, percentile, run_load, running_server

TIMEOUT_S = 120  # per request
VARIANTS = ["?page=2", "?page=100", "?cvss=critical", "?search=overflow"]


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    os.environ.setdefault("CVEWATCH_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def subscription_of(spec: str) -> tuple[list[str], list[str]]:
    """`microsoft+linux/linux_kernel` → (vendors ["microsoft"], products ["linux/linux_kernel"])."""
    parts = spec.split("+")
    return [p for p in parts if "/" not in p], [p for p in parts if "/" in p]


def create_fixture(specs: list[str]) -> tuple[str, str, str, str, dict[str, int]]:
    """(username, password, organization name, full token, {project name: matching CVE count})."""
    from django.contrib.auth import get_user_model

    from cvewatch.organizations import selectors
    from cvewatch.organizations.services import organizations, projects, tokens

    name = f"bench-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(24)
    user = get_user_model().objects.create_user(username=name, password=password)
    organization = organizations.create_organization(name=name, owner=user)
    matching = {}
    for spec in specs:
        vendors, products = subscription_of(spec)
        project_name = spec.replace("/", "_").replace("+", "-")
        project = projects.create_project(
            organization=organization, name=project_name, vendors=vendors, products=products, actor=user
        )
        matching[project_name] = selectors.cves_for_project(project=project).count()
    _, token = tokens.create_token(organization=organization, name="bench", actor=user)
    return name, password, organization.name, token, matching


def delete_fixture(username: str) -> None:
    from django.contrib.auth import get_user_model

    from cvewatch.organizations.models import Organization

    Organization.objects.filter(name=username).delete()
    get_user_model().objects.filter(username=username).delete()


def print_load(port: int, authorization: str, urls: list[str], concurrency: int, total: int) -> None:
    result = run_load(
        port=port,
        authorization=authorization,
        urls=urls,
        concurrency=concurrency,
        total=total,
        timeout=TIMEOUT_S,
    )
    latencies = result.latencies_ms
    print(
        f"    concurrency {concurrency}: {total} requests, {result.requests_per_second:.1f} req/s, "
        f"errors {len(result.errors)}, p50 {percentile(latencies, 50):.1f} ms, "
        f"p95 {percentile(latencies, 95):.1f} ms, wall {result.elapsed_s:.1f} s"
    )
    for error in result.errors[:5]:
        print("    error:", error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", nargs="+", default=["microsoft", "linux", "google"])
    parser.add_argument("--requests", type=int, default=1000, help="requests of each concurrent run")
    parser.add_argument("--samples", type=int, default=50, help="requests per URL at concurrency 1")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--auth", nargs="+", choices=["token", "basic"], default=["token", "basic"])
    parser.add_argument(
        "--variants", action="store_true", help=f"also time {' '.join(VARIANTS)} at concurrency 1"
    )
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
    username, password, org, token, matching = create_fixture(args.projects)
    engine, cves = connection.vendor, Cve.objects.count()
    connection.close()  # the server processes open their own
    basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    authorizations = {"token": f"Bearer {token}", "basic": basic}
    try:
        with running_server(
            workers=args.workers, threads=args.threads, probe_url="/api/organizations"
        ) as port:
            print(f"engine={engine} cves={cves:,} workers={args.workers} threads={args.threads}")
            for project, count in matching.items():
                base = f"/api/organizations/{org}/projects/{project}/cve"
                urls = [base] + ([base + v for v in VARIANTS] if args.variants else [])
                print(f"project {project}: {count:,} CVEs")
                for auth in args.auth:
                    client = Client(port, authorizations[auth], timeout=TIMEOUT_S)
                    for url in urls:
                        for _ in range(3):
                            client.get(url)  # warm-up: connections, plans, caches
                    print(f"  {auth}, concurrency 1, {args.samples} requests per URL")
                    print(f"    {'URL':<40} {'status':>6} {'p50 ms':>8} {'p95 ms':>8}")
                    for url in urls:
                        statuses, samples = set(), []
                        for _ in range(args.samples):
                            status, ms = client.get(url)
                            statuses.add(status)
                            samples.append(ms)
                        shown = url.replace(base, "…/cve") or "…/cve"
                        print(
                            f"    {shown:<40} {','.join(map(str, sorted(statuses))):>6} "
                            f"{statistics.median(samples):8.1f} {percentile(samples, 95):8.1f}"
                        )
                    print(f"  {auth}, throughput, first page:")
                    print_load(port, authorizations[auth], [base], args.concurrency, args.requests)
    finally:
        delete_fixture(username)


if __name__ == "__main__":
    main()
