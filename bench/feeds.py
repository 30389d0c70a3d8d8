"""Render times of the keyed RSS/Atom feeds, in-process with Django's test client, on a loaded database.

    CVEWATCH_DATA_DIR=/path/to/data .venv/bin/python bench/feeds.py [--samples 5]

Creates a throw-away user, organization (project subscribed to microsoft, linux and google) and feed key,
reads each feed once to warm up, prints the median of --samples reads and the load average, then deletes
what it created.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time

FEEDS = (
    "projects/prod.atom",
    "projects/prod.rss?cvss=critical",
    "cve.atom",
    "cve.rss?vendor=microsoft",
    "cve.atom?weakness=CWE-79",
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cvewatch.catalog.models import Cve
    from cvewatch.organizations.services import organizations, projects
    from cvewatch.workbench.services import feeds

    user = get_user_model().objects.create_user(username=f"bench-{secrets.token_hex(4)}")
    org = organizations.create_organization(name=f"bench-{secrets.token_hex(3)}", owner=user)
    try:
        projects.create_project(
            organization=org, name="prod", vendors=["microsoft", "linux", "google"], actor=user
        )
        _, key = feeds.create_feed_key(organization=org, user=user)
        # Outside the test environment "testserver" is no allowed host: ask as the server's own name.
        client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0].lstrip("."))
        print(f"cves={Cve.objects.count():,} samples={args.samples}")
        print(f"{'feed (/feeds/<key>/…)':36} status    bytes  median ms")
        for feed in FEEDS:
            url = f"/feeds/{key}/{feed}"
            client.get(url)
            times = []
            for _ in range(args.samples):
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            print(
                f"{feed:36} {response.status_code:>6} {len(response.content):>8}  {statistics.median(times):9.1f}"
            )
        print("load average {:.2f} {:.2f} {:.2f} on {} CPUs".format(*os.getloadavg(), os.cpu_count()))
    finally:
        org.delete()
        user.delete()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
