"""Render times of the workbench's pages on a loaded database: the tag filter, the CVE page with its panel, a
project list filtered by triage status and assignee, /tags and /views.

    CVEWATCH_DATA_DIR=/path/to/a/copy .venv/bin/python bench/workbench_pages.py [--samples 5]

Run it on a COPY of a loaded database (it writes): it creates a throw-away user and organization with a
project watching microsoft and apache, tags --tagged CVEs and triages --triaged of the project's CVEs,
renders each page once to warm up, prints the median of --samples renders with the load average, then
deletes what it created.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--tagged", type=int, default=300)
    parser.add_argument("--triaged", type=int, default=1000)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from cvewatch.catalog.models import Cve
    from cvewatch.organizations import selectors as org_selectors
    from cvewatch.organizations.services import organizations, projects
    from cvewatch.workbench.models import CveTag, Triage, TriageStatus, UserTag
    from cvewatch.workbench.services import views

    suffix = secrets.token_hex(4)
    user = get_user_model().objects.create_user(username=f"bench-{suffix}")
    org = organizations.create_organization(name=f"bench-{suffix}", owner=user)
    try:
        project = projects.create_project(
            organization=org, name="prod", vendors=["microsoft", "apache"], actor=user
        )
        started = time.perf_counter()
        cve_ids = list(
            org_selectors.cves_for_project(project=project).values_list("pk", flat=True)[: args.triaged]
        )
        tag = UserTag.objects.create(user=user, name="bench")
        CveTag.objects.bulk_create([CveTag(tag=tag, cve_id=pk) for pk in cve_ids[: args.tagged]])
        statuses = [s for s in TriageStatus.values if s != TriageStatus.TO_EVALUATE]
        Triage.objects.bulk_create(
            [
                Triage(
                    project=project,
                    cve_id=pk,
                    status=statuses[n % len(statuses)],
                    assignee=user if n % 3 else None,
                )
                for n, pk in enumerate(cve_ids)
            ]
        )
        for n in range(10):
            views.create_view(
                organization=org, owner=user, name=f"view {n}", query=f"cvss=critical&n={n}", shared=True
            )
        setup = time.perf_counter() - started
        sample_cve = Cve.objects.get(pk=cve_ids[0]).cve_id
        base = f"/org/{org.name}/projects/prod"
        pages = (
            "/cve?tag=bench",
            "/cve?tag=bench&cvss=critical",
            f"/cve/{sample_cve}",
            base,
            f"{base}?status=to_evaluate",
            f"{base}?status=resolved",
            f"{base}?status=resolved&page=3",
            f"{base}?assignee={user.username}",
            f"{base}?assignee=-&cvss=critical",
            "/tags",
            "/views",
        )
        setup_test_environment()  # records each response's context (the list's count); adds "testserver" as a host
        client = Client()
        client.force_login(user)
        load = os.getloadavg()
        print(
            f"cves={Cve.objects.count():,} project CVEs triaged={len(cve_ids):,} tagged={min(args.tagged, len(cve_ids)):,} "
            f"setup {setup:.1f}s samples={args.samples} load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
        )
        print(f"{'page':52} status  count  median ms  sql ms (queries)")
        for url in pages:
            response = client.get(url)
            times, sql = [], []
            for _ in range(args.samples):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(url)
                    times.append((time.perf_counter() - started) * 1000)
                sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
            page = response.context["page"] if response.context and "page" in response.context else None
            count = f"{page.paginator.count:>6,}" if page is not None else "     -"
            print(
                f"{url[:52]:52} {response.status_code:>6} {count}  {statistics.median(times):9.1f}"
                f"  {statistics.median(sql):6.1f} ({len(queries.captured_queries)})"
            )
        load = os.getloadavg()
        print(
            f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end (other work on the machine skews times)"
        )
    finally:
        org.delete()
        user.delete()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
