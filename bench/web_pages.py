"""Render times of the web pages that list CVEs, in-process with Django's test client, on a loaded database.

    CVEWATCH_DATA_DIR=/path/to/data .venv/bin/python bench/web_pages.py [--samples 5]

Creates a throw-away user, renders each page once to warm up, then prints the median of --samples renders.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time

PAGES = (
    "/",
    "/cve",
    "/cve?page=50",
    "/cve?vendor=microsoft",
    "/cve?weakness=CWE-79",
    "/cve?cvss=critical",
    "/cve?search=buffer",
    "/vendors?search=micro",
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cvewatch.catalog.models import Cve

    user = get_user_model().objects.create_user(username=f"bench-{secrets.token_hex(4)}")
    try:
        # Outside the test environment "testserver" is no allowed host: ask as the server's own name.
        client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0].lstrip("."))
        client.force_login(user)
        print(f"cves={Cve.objects.count():,} samples={args.samples}")
        print(f"{'page':32} status  median ms")
        for url in PAGES:
            client.get(url)
            times = []
            for _ in range(args.samples):
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            print(f"{url:32} {response.status_code:>6}  {statistics.median(times):9.1f}")
    finally:
        user.delete()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
