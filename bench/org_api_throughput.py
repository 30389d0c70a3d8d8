"""Token-authenticated throughput of a project's CVE list through the real server (`cvewatch serve`).

Assumes the database named by the environment (CVEWATCH_DATA_DIR for SQLite, or CVEWATCH_DATABASE_URL)
holds the corpus. Creates a throw-away user, organization, project (subscribed to the vendors given, by
default microsoft, linux and google) and API token; starts `cvewatch serve` on a free loopback port; measures
latency at concurrency 1 and throughput at concurrency 8; deletes what it created.

    CVEWATCH_DATA_DIR=/path/to/data .venv/bin/python bench/org_api_throughput.py [--requests 1000]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics

from _loadgen import Client, percentile, run_load, running_server

TIMEOUT_S = 120  # per request


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    os.environ.setdefault("CVEWATCH_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def create_fixture(vendors: list[str]) -> tuple[str, str, str, int]:
    """(username, organization name, full token, matching CVE count); missing vendors are left out."""
    from django.contrib.auth import get_user_model

    from cvewatch.catalog.models import Vendor
    from cvewatch.organizations import selectors
    from cvewatch.organizations.services import organizations, projects, tokens

    name = f"bench-{secrets.token_hex(4)}"
    user = get_user_model().objects.create_user(username=name, password=secrets.token_urlsafe(24))
    organization = organizations.create_organization(name=name, owner=user)
    present = list(Vendor.objects.filter(name__in=vendors).values_list("name", flat=True))
    missing = sorted(set(vendors) - set(present))
    if missing:
        print(f"note: vendors not in this catalog, left out of the subscription: {', '.join(missing)}")
    project = projects.create_project(organization=organization, name="bench", vendors=present, actor=user)
    _, token = tokens.create_token(organization=organization, name="bench", actor=user)
    return name, organization.name, token, selectors.cves_for_project(project=project).count()


def delete_fixture(username: str) -> None:
    from django.contrib.auth import get_user_model

    from cvewatch.organizations.models import Organization

    Organization.objects.filter(name=username).delete()
    get_user_model().objects.filter(username=username).delete()


def print_load(port: int, token: str, urls: list[str], concurrency: int, total: int) -> None:
    result = run_load(
        port=port,
        authorization=f"Bearer {token}",
        urls=urls,
        concurrency=concurrency,
        total=total,
        timeout=TIMEOUT_S,
    )
    latencies = result.latencies_ms
    print(
        f"  concurrency {concurrency}: {total} requests, {result.requests_per_second:.1f} req/s, "
        f"errors {len(result.errors)}, p50 {percentile(latencies, 50):.1f} ms, "
        f"p95 {percentile(latencies, 95):.1f} ms, wall {result.elapsed_s:.1f} s"
    )
    for error in result.errors[:5]:
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
    try:
        with running_server(
            workers=args.workers, threads=args.threads, probe_url="/api/organizations"
        ) as port:
            print(
                f"engine={engine} cves={cves:,} project vendors={','.join(args.vendors)} matching={matching:,} "
                f"workers={args.workers} threads={args.threads}"
            )
            client = Client(port, f"Bearer {token}", timeout=TIMEOUT_S)
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
            print_load(port, token, [base], args.concurrency, args.requests)
            print("throughput, round robin over the URLs above:")
            print_load(port, token, urls, args.concurrency, args.requests)
    finally:
        delete_fixture(username)


if __name__ == "__main__":
    main()
