"""Server-side render times (p95) of the CVE list and detail pages and the weaknesses pages, on a loaded database.

    CVEWATCH_DATA_DIR=/path/to/data .venv/bin/python bench/web_render.py [--samples 20] [--runs 3] [PATH ...]
    CVEWATCH_DATABASE_URL=postgres://... .venv/bin/python bench/web_render.py

In-process with Django's test client (middleware, session, queries, template; no network), as a throw-away
signed-in user. Each page is rendered once to warm up, then --samples times per run; a run's p95 is the
nearest-rank 95th percentile, and the script prints the median of the --runs runs' p95 (each run's too)
against the 100 ms target, with the load average (the machine is shared: wall times move with it). It also
prints the p95 of the CPU time the rendering process spent (time.process_time), which waiting for a busy
CPU does not inflate: on SQLite that includes the queries; on PostgreSQL the server's share is not in it.
Detail pages: CVE-2021-44228 and other large real records (most vendor/product names, most changes,
longest reference list) picked from the database itself, plus a few ordinary ones.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loadgen import percentile  # noqa: E402

TARGET_MS = 100.0
LIST_PAGES = (
    "/cve",
    "/cve?page=200",
    "/cve?vendor=microsoft",
    "/cve?weakness=CWE-79",
    "/weaknesses",
    "/weaknesses?search=injection",
    "/weaknesses?order=cves",
    "/weaknesses/CWE-79",
    "/weaknesses/CWE-79?page=40",
)
KNOWN_CVES = ("CVE-2021-44228", "CVE-2017-3881", "CVE-2023-4785", "CVE-2024-3400", "CVE-2014-0160")


def big_cves() -> list[str]:
    """Real CVEs that make the detail page work hardest, found in the database at hand."""
    from django.db import connection
    from django.db.models import Count

    from cvewatch.catalog.models import Change, Cve

    picked = [c for c in KNOWN_CVES if Cve.objects.filter(cve_id=c).exists()]
    text = "vendors::text" if connection.vendor == "postgresql" else "vendors"
    refs = "\"references\"::text" if connection.vendor == "postgresql" else "\"references\""
    for column in (text, refs):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT cve_id FROM catalog_cve ORDER BY length({column}) DESC LIMIT 1")
            picked.append(cursor.fetchone()[0])
    most_changed = (
        Change.objects.values("cve_id").annotate(n=Count("id")).order_by("-n").values_list("cve_id", flat=True)[:1]
    )
    picked += list(Cve.objects.filter(pk__in=list(most_changed)).values_list("cve_id", flat=True))
    return list(dict.fromkeys(picked))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("pages", nargs="*", help="only these paths (default: the list pages and big CVEs)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from cvewatch.catalog.models import Cve

    user = get_user_model().objects.create_user(username=f"bench-{secrets.token_hex(4)}")
    try:
        client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0].lstrip("."))
        client.force_login(user)
        pages = args.pages or [*LIST_PAGES, *(f"/cve/{cve_id}" for cve_id in big_cves())]
        print(f"engine={connection.vendor} cves={Cve.objects.count():,} samples={args.samples} runs={args.runs}"
              f" load average at start {' '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
        print(f"{'page':44} status  wall p95 ms (runs)       CPU p95 ms  target {TARGET_MS:.0f} ms (wall)")
        misses = 0
        for url in pages:
            response = client.get(url)
            p95s, cpu_p95s = [], []
            for _ in range(args.runs):
                times, cpu = [], []
                for _ in range(args.samples):
                    started, started_cpu = time.perf_counter(), time.process_time()
                    response = client.get(url)
                    times.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
                p95s.append(percentile(times, 95))
                cpu_p95s.append(percentile(cpu, 95))
            p95 = statistics.median(p95s)
            verdict = "ok" if p95 <= TARGET_MS else "MISS"
            misses += verdict == "MISS"
            print(f"{url:44} {response.status_code:>6}  {p95:8.1f} {' '.join(f'{p:.0f}' for p in p95s):>14}"
                  f"  {statistics.median(cpu_p95s):10.1f}  {verdict}")  # fmt: skip
        print(f"load average at end {' '.join(f'{x:.1f}' for x in os.getloadavg())}; {misses} page(s) over target")
    finally:
        user.delete()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
