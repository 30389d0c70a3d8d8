"""Render times of the web pages that list CVEs, in-process with Django's test client, on a loaded database.

    CVEWATCH_DATA_DIR=/path/to/data .venv/bin/python bench/web_pages.py [--samples 5] [--user soak-…]

Creates a throw-away user (or renders as --user), renders each page once to warm up, then prints the median
wall and CPU time of --samples renders.
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
    parser.add_argument(
        "--user", help="render as this existing user (e.g. bench/soak.py's soak-…, whose organization has 30 "
        "projects), adding its first organization's project soak-p0 and delivery log of soak-p1",
    )  # fmt: skip
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cvewatch.catalog.models import Cve

    pages = list(PAGES)
    if args.user:
        user = get_user_model().objects.get(username=args.user)
        org = user.memberships.values_list("organization__name", flat=True).first()
        pages += ["/cve/CVE-2014-0160", f"/org/{org}/projects/soak-p0", f"/org/{org}/projects/soak-p1/deliveries"]
    else:
        user = get_user_model().objects.create_user(username=f"bench-{secrets.token_hex(4)}")
    try:
        # Outside the test environment "testserver" is no allowed host: ask as the server's own name.
        client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0].lstrip("."))
        client.force_login(user)
        print(f"cves={Cve.objects.count():,} samples={args.samples}")
        print(f"{'page':32} status  median ms  CPU ms")
        for url in pages:
            client.get(url)
            times, cpu = [], []
            for _ in range(args.samples):
                started, began = time.perf_counter(), time.process_time()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - began) * 1000)
            print(f"{url:32} {response.status_code:>6}  {statistics.median(times):9.1f}  {statistics.median(cpu):6.1f}")
    finally:
        if not args.user:
            user.delete()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
