"""Query-language latency on a loaded catalog: GET /api/cve?q=… in-process (Django's test client, session).

    CVEWATCH_DATA_DIR=/path/to/copy .venv/bin/python bench/query.py [--runs 25]
    CVEWATCH_DATABASE_URL=postgres://…/cvewatch_copy .venv/bin/python bench/query.py

Each query is requested once first (timed as "first ms": it pays the counts cached per search generation),
then --runs times; a request is the API's whole answer: parse, compile, the count and the first page (the API's page size, newest modification first) serialised. Prints
p50/p95 per query against its target and the load average (other work on the machine skews wall times).
Run it on a copy of the full-corpus database, never on a shared one: it creates (and deletes) one user.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _loadgen import percentile  # noqa: E402

# (query, p95 target in ms): the single-field and five-field figures, and the other examples.
QUERIES = (
    ('description:"remote code"', 150),
    ("vendor:microsoft", 150),
    ("cvss31>=9", 150),
    ("kev:true", 150),
    ("CVE-2021-44228", 150),
    ("vendor:microsoft AND cvss31>=8 AND created<=7d", 300),
    ('description:"remote code" OR title:overflow', 300),
    ("cwe:CWE-79 AND epss>=50", 300),
    # Five fields: the five-field example.
    ('vendor:microsoft AND cvss31>=8 AND created<=365d AND description:"remote code" AND kev:false', 300),
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=25)
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
    missed = 0
    try:
        client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0].lstrip("."))
        client.force_login(user)
        print(f"engine={connection.vendor} cves={Cve.objects.count():,} runs={args.runs}")
        client.get("/api/cve", {"q": "kev:true"})  # the process's own warm-up (imports, connection)
        print(f"{'query':92} {'count':>7} {'first ms':>8} {'p50 ms':>8} {'p95 ms':>8}  target")
        for query, target in QUERIES:
            started = time.perf_counter()
            response = client.get("/api/cve", {"q": query})
            # The first request of a query in this process: it pays the counts cached per search generation.
            first = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                print(f"{query:92} HTTP {response.status_code}: {response.content[:200]!r}")
                missed += 1
                continue
            count = response.json()["count"]
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                client.get("/api/cve", {"q": query})
                times.append((time.perf_counter() - started) * 1000)
            p95 = percentile(times, 95)
            verdict = "ok" if p95 <= target else "OVER TARGET"
            missed += p95 > target
            print(
                f"{query:92} {count:>7,} {first:8.1f} {percentile(times, 50):8.1f} {p95:8.1f}  <= {target} ms: {verdict}"
            )
    finally:
        user.delete()
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average {load} at the end (other work on the machine skews wall times)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
