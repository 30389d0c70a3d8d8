"""The dashboard `/` on a loaded database: a person whose organization has --projects projects watching popular
vendors, the worst case for the digests (every CVE changed in the last 7 days right after a first import).

    CVEWATCH_DATA_DIR=/path/to/a/copy .venv/bin/python bench/dashboard.py [--projects 30] [--samples 9]

Prints the median wall and CPU time and the queries of a view through the whole middleware stack (Django's
test client, in-process), three ways: warm (the digests remembered, as on a reload), after a catalog change
(the digests computed again, the charts' statistics still cached) and cold (every cache empty). Run it on a
COPY of a loaded database (it writes): it creates a throw-away user and organization and deletes them at the
end.
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
from _soak_alerts import VENDORS  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=30)
    parser.add_argument("--samples", type=int, default=9)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cvewatch.catalog import statistics as catalog_statistics
    from cvewatch.catalog.models import Vendor
    from cvewatch.organizations.services.organizations import create_organization
    from cvewatch.organizations.services.projects import create_project
    from cvewatch.web import views_dashboard

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    name = f"dash-bench-{secrets.token_hex(4)}"
    user = get_user_model().objects.create_user(name, f"{name}@example.com", secrets.token_urlsafe(16))
    organization = create_organization(name=name, owner=user)
    try:
        known = [vendor for vendor in VENDORS if Vendor.objects.filter(name=vendor).exists()]
        for number in range(args.projects):
            watched = [known[(number * 3 + k) % len(known)] for k in range(3)] if known else []
            create_project(organization=organization, name=f"p{number:03d}", vendors=watched)
        client = Client()
        client.force_login(user)

        def view() -> tuple[float, float, int]:
            with CaptureQueriesContext(connection) as queries:
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get("/")
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert response.status_code == 200, response.status_code
            return wall * 1000, cpu * 1000, len(queries.captured_queries)

        def catalog_changed() -> None:
            cache.clear()
            views_dashboard._cached_charts(catalog_statistics.catalog_version())  # the charts stay drawn

        view()
        for label, before in (("warm (reload)", lambda: None), ("catalog changed", catalog_changed),
                              ("cold (no cache)", cache.clear)):  # fmt: skip
            samples = []
            for _ in range(args.samples):
                before()
                samples.append(view())
            print(f"{label:16} wall {statistics.median(s[0] for s in samples):7.1f} ms  "
                  f"cpu {statistics.median(s[1] for s in samples):7.1f} ms  queries {samples[-1][2]}")  # fmt: skip
        print(f"{args.projects} projects (the first 6 shown), load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        organization.delete()
        user.delete()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
