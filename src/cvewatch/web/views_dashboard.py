"""The dashboard (what changed since the last visit, KEV, the worst new CVEs, catalog charts) and the
activity feed of changes. Reads go through catalog.statistics and workbench.digest; charts are web.charts."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from cvewatch.catalog import statistics
from cvewatch.organizations import selectors as org_selectors
from cvewatch.web import charts
from cvewatch.web.orgs import current_organization
from cvewatch.workbench import digest
from cvewatch.workbench.services import visits

SEVERITY_OF_BUCKET = {"0": "low", "1": "low", "2": "low", "3": "low", "4": "medium", "5": "medium",
                      "6": "medium", "7": "high", "8": "high", "9": "critical", "none": "none"}  # fmt: skip


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    # Recording the visit is the one write a GET makes here: it is what "since your last visit" reads.
    visit = visits.record_dashboard_visit(user=request.user)
    since = digest.since_for(previous_seen_at=visit.previous_seen_at, now=visit.seen_at)
    org = current_organization(request)
    version = statistics.catalog_version()  # read once: every cached part of the page is filed under it
    worst, worst_since = digest.worst_new(since=since, version=version)
    digests = digest.organization_digests(organization=org, since=since, version=version) if org else []
    return render(
        request,
        "web/catalog/dashboard.html",
        {
            "section": "dashboard",
            "org": org,
            "since": since,
            "first_visit": visit.previous_seen_at is None,
            "digests": digests,
            "has_projects": bool(digests) or (org is not None and org_selectors.projects_of(organization=org).exists()),
            "kev": digest.latest_kev(version=version),
            "worst": worst,
            "worst_since": worst_since,
            "worst_fallback": worst_since != since,
            "charts": _cached_charts(version),
            "invitations": list(org_selectors.invitations_for_user(user=request.user)),
            "email_verified": org_selectors.email_is_verified(user=request.user),
        },
    )


def _cve_list(**params: str) -> str:
    return f"{reverse('web:cve_list')}?{urlencode(params)}"


# The charts follow the catalog, but read it again at most this often: their statistics read every CVE (about
# 0.3 s idle at 213k CVEs), and while feeds are followed the catalog's version moves with every import batch
# and sync, which would make every few views pay that. Catalog-wide counts lag by minutes at most.
CHARTS_REFRESH = 300
CHARTS_KEY = "cvewatch.web.dashboard-charts"


def _cached_charts(version: str) -> list[dict[str, Any]]:
    """The charts' SVG, drawn again when the catalog changed and the last drawing is CHARTS_REFRESH old."""
    kept = cache.get(CHARTS_KEY)
    if kept is not None:
        drawn_for, drawn_at, charts_svg = kept
        if drawn_for == version or time.time() - drawn_at < CHARTS_REFRESH:
            return charts_svg
    charts_svg = _charts(statistics.catalog_statistics(version=version))
    cache.set(CHARTS_KEY, (version, time.time(), charts_svg), statistics.STATISTICS_TTL)
    return charts_svg


def _charts(stats: statistics.CatalogStatistics) -> list[dict[str, Any]]:
    cvss_bars = [
        charts.Bar(label=label if label == "none" else f"{label}–{int(label) + 1 if label != '9' else 10}", value=n,
                   css=SEVERITY_OF_BUCKET[label])
        for label, n in stats.cvss
    ]  # fmt: skip
    peak_year = max(stats.per_year, key=lambda row: row[1], default=("", 0))
    top_vendor = stats.top_vendors[0] if stats.top_vendors else ("none", 0)
    top_cwe = stats.top_weaknesses[0] if stats.top_weaknesses else ("none", 0, "")
    return [
        {
            "title": "CVEs published per year",
            "svg": charts.column_chart(
                title="CVEs published per year",
                desc=f"{stats.total:,} CVEs from {stats.per_year[0][0] if stats.per_year else '-'} to "
                f"{stats.per_year[-1][0] if stats.per_year else '-'}; the most in {peak_year[0]} ({peak_year[1]:,}).",
                bars=[charts.Bar(label=year, value=n) for year, n in stats.per_year],
                x_label="Year published",
                y_label="CVEs",
            ),
            "table": charts.rows_table(caption="CVEs per year", headers=["Year", "CVEs"], rows=stats.per_year),
        },
        {
            "title": "CVSS v3.1 base scores (CVEs with one)",
            "svg": charts.column_chart(
                title="CVSS v3.1 base score distribution",
                desc="CVEs by CVSS v3.1 base score, one bar per point; "
                f"{dict(stats.cvss).get('none', 0):,} CVEs have no v3.1 score.",
                bars=[bar for bar in cvss_bars if bar.label != "none"],  # often the most: it would flatten the rest
                x_label="CVSS v3.1 base score",
                y_label="CVEs",
            ),
            "table": charts.rows_table(
                caption="CVEs by CVSS v3.1 score", headers=["Score", "CVEs"], rows=[(b.label, b.value) for b in cvss_bars]
            ),
        },
        {
            "title": "Top vendors",
            "svg": charts.bar_chart(
                title="Vendors with the most CVEs",
                desc=f"The {len(stats.top_vendors)} vendors named by the most CVEs; first {top_vendor[0]} "
                f"with {top_vendor[1]:,}.",
                bars=[
                    charts.Bar(label=name, value=n, href=reverse("web:vendor_detail", args=[name]))
                    for name, n in stats.top_vendors
                ],
                x_label="CVEs",
            ),
            "table": charts.rows_table(caption="Top vendors", headers=["Vendor", "CVEs"], rows=stats.top_vendors),
        },
        {
            "title": "Top weaknesses",
            "svg": charts.bar_chart(
                title="Weaknesses (CWE) with the most CVEs",
                desc=f"The {len(stats.top_weaknesses)} most frequent weaknesses; first {top_cwe[0]} "
                f"with {top_cwe[1]:,} CVEs.",
                bars=[charts.Bar(label=cwe, value=n, href=_cve_list(weakness=cwe)) for cwe, n, _ in stats.top_weaknesses],
                x_label="CVEs",
            ),
            "table": charts.rows_table(
                caption="Top weaknesses",
                headers=["CWE", "Name", "CVEs"],
                rows=[(cwe, name, n) for cwe, n, name in stats.top_weaknesses],
            ),
        },
    ]
