"""`search=` latency on a loaded catalog: GET /api/cve?search=… in-process (Django's test client, session).

    CVEWATCH_DATA_DIR=/path/to/copy .venv/bin/python bench/search.py [--runs 20] [--term TERM ...]
    CVEWATCH_DATABASE_URL=postgres://…/cvewatch_copy .venv/bin/python bench/search.py

Each term is requested once to warm up, then --runs times; a request is the API's whole answer: the count
and the first page (newest modification first) serialised. Prints p50/p95 per term against the issue's
target (50 ms), the first (cold) request's time, this process's CPU time per request (p50/p95: on SQLite
that includes the database's work; a busy machine inflates wall times, not CPU time) and the load average.
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

TARGET_MS = 50
# The examples: a frequent word, a phrase, a vendor name, an id prefix, a rare word, a 3-char term.
TERMS = ("buffer", "remote code execution", "microsoft", "CVE-2021-44", "log4j", "xss", "wordpress", "sql")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--term", action="append", help="terms to measure instead of the default ones")
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
        print(
            f"{'search':28} {'count':>7} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8}  target"
        )
        for term in args.term or TERMS:
            started = time.perf_counter()
            response = client.get("/api/cve", {"search": term})
            first = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                print(f"{term:28} HTTP {response.status_code}: {response.content[:200]!r}")
                missed += 1
                continue
            count = response.json()["count"]
            times, cpu = [], []
            for _ in range(args.runs):
                started, started_cpu = time.perf_counter(), time.process_time()
                client.get("/api/cve", {"search": term})
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            p95 = percentile(times, 95)
            verdict = "ok" if p95 <= TARGET_MS else "OVER TARGET"
            missed += p95 > TARGET_MS
            print(
                f"{term:28} {count:>7,} {first:9.1f} {percentile(times, 50):8.1f} {p95:8.1f} "
                f"{percentile(cpu, 50):8.1f} {percentile(cpu, 95):8.1f}  <= {TARGET_MS} ms: {verdict}"
            )
    finally:
        user.delete()
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average {load} at the end (other work on the machine skews wall times)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
