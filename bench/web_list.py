"""Server-side render times of the list pages of lane l, in-process with Django's test client, on a loaded
database: the CVE list in every order, vendors, a vendor and a product, the dashboard and the activity feed.

    CVEWATCH_DATA_DIR=/path/to/data .venv/bin/python bench/web_list.py [--samples 20]
    CVEWATCH_DATABASE_URL=postgres://... .venv/bin/python bench/web_list.py

Creates a throw-away user with an organization and a project following microsoft and apache/log4j, renders
each page once to warm up (the dashboard's statistics are then cached, as in a running server), then prints
the p50 and p95 of --samples renders (wall and this process's CPU time) and the load average (the machine
is shared: wall times are noisy).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time

from _loadgen import percentile

PAGES = (
    "/cve",
    "/cve?page=40",
    "/cve?sort=published",
    "/cve?sort=published&dir=asc",
    "/cve?sort=cvss",
    "/cve?sort=cvss&dir=asc",
    "/cve?sort=epss",
    "/cve?sort=epss&dir=asc",
    "/cve?vendor=microsoft&sort=cvss",
    "/cve?cvss=critical&sort=epss",
    "/vendors",
    "/vendors?page=300",
    "/vendors?search=micro",
    "/vendors?search=a",
    "/vendors/microsoft",
    "/products?vendor=microsoft&product=windows_10",
    "/",
    "/activity",
    "/activity?scope=mine",
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from cvewatch.catalog.models import Cve, Vendor
    from cvewatch.organizations.services import organizations, projects

    user = get_user_model().objects.create_user(username=f"bench-{secrets.token_hex(4)}")
    org = organizations.create_organization(name=f"bench-{secrets.token_hex(4)}", owner=user)
    projects.create_project(
        organization=org, name="production", vendors=["microsoft"], products=["apache/log4j"], actor=user
    )
    try:
        client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0].lstrip("."))
        client.force_login(user)
        print(
            f"engine={connection.vendor} cves={Cve.objects.count():,} vendors={Vendor.objects.count():,} "
            f"samples={args.samples} load average={' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        # Wall time on a shared machine mostly measures the wait for a core; the process's CPU time is the
        # work done (on SQLite that includes the queries; PostgreSQL's own work is in its processes).
        print(f"{'page':48} status   p50 ms   p95 ms   cpu p50   cpu p95")
        for url in PAGES:
            client.get(url)
            times, cpu = [], []
            for _ in range(args.samples):
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            print(
                f"{url:48} {response.status_code:>6} {percentile(times, 50):8.1f} {percentile(times, 95):8.1f} "
                f"{percentile(cpu, 50):9.1f} {percentile(cpu, 95):9.1f}"
            )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        org.delete()
        user.delete()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
