"""The dashboard (changes since the last visit per project, KEV, worst new CVEs, charts) and the activity feed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cvewatch.catalog.models import Change
from cvewatch.organizations.models import Project
from cvewatch.organizations.services import projects
from cvewatch.web import charts
from cvewatch.workbench import digest
from cvewatch.workbench.models import DashboardVisit
from cvewatch.workbench.services import visits
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


def test_views_within_a_minute_of_the_recorded_visit_write_nothing(owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    start = timezone.now()
    visits.record_dashboard_visit(user=owner, now=start)
    with CaptureQueriesContext(connection) as queries:
        same = visits.record_dashboard_visit(user=owner, now=start + dt.timedelta(seconds=59))
    assert same.seen_at == start
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().startswith(("UPDATE", "INSERT"))]
    later = visits.record_dashboard_visit(user=owner, now=start + dt.timedelta(seconds=61))
    assert later.seen_at == start + dt.timedelta(seconds=61)
    assert DashboardVisit.objects.get(user=owner).seen_at == start + dt.timedelta(seconds=61)


def test_a_visit_moves_since_only_between_sittings(owner):
    start = timezone.now()
    first = visits.record_dashboard_visit(user=owner, now=start)
    assert first.previous_seen_at is None
    reload = visits.record_dashboard_visit(user=owner, now=start + dt.timedelta(minutes=5))
    assert reload.previous_seen_at is None  # same sitting
    later = visits.record_dashboard_visit(user=owner, now=start + dt.timedelta(hours=3))
    assert later.previous_seen_at == start + dt.timedelta(minutes=5)
    assert DashboardVisit.objects.count() == 1
    minute = dt.timedelta(minutes=1)
    week_ago = digest.since_for(previous_seen_at=None, now=start)
    assert week_ago.second == week_ago.microsecond == 0  # rounded down to the minute: never later
    assert start - dt.timedelta(days=7) - minute < week_ago <= start - dt.timedelta(days=7)
    long_ago = start - dt.timedelta(days=400)
    month_ago = digest.since_for(previous_seen_at=long_ago, now=start)
    assert start - dt.timedelta(days=30) - minute < month_ago <= start - dt.timedelta(days=30)


@pytest.fixture
def watched(org, owner):
    """acme's project follows the vendor rocketco; one of its CVEs changed an hour ago, one long ago."""
    now = timezone.now()
    fresh = CveFactory(cve_id="CVE-2026-1000", vendors=["rocketco"], cvss31_score=9.1, created_at=now - dt.timedelta(hours=2))
    stale = CveFactory(cve_id="CVE-2020-1000", vendors=["rocketco"], cvss31_score=10.0)
    other = CveFactory(cve_id="CVE-2026-2000", vendors=["elsewhere"], cvss31_score=9.9, created_at=now - dt.timedelta(hours=3))
    Change.objects.create(cve=fresh, created_at=now - dt.timedelta(hours=1), events=[{"type": "created", "details": {}}], types=["created"])
    Change.objects.create(cve=stale, created_at=now - dt.timedelta(days=90), events=[{"type": "created", "details": {}}], types=["created"])
    Change.objects.create(cve=other, created_at=now - dt.timedelta(hours=1), events=[{"type": "created", "details": {}}], types=["created"])  # fmt: skip
    projects.create_project(organization=org, name="production", vendors=["rocketco"], actor=owner)
    return {"fresh": fresh, "stale": stale, "other": other}


def test_dashboard_shows_each_projects_changes_since_the_last_visit(owner_client, owner, watched):
    DashboardVisit.objects.create(
        user=owner, seen_at=timezone.now() - dt.timedelta(days=2), previous_seen_at=None
    )
    response = owner_client.get("/")
    assert response.status_code == 200
    [production] = response.context["digests"]
    assert (production.changed, production.new) == (1, 1)
    assert [c.cve_id for c in production.worst] == ["CVE-2026-1000"]
    # The worst new CVEs of the whole catalog, highest CVSS first.
    assert [c.cve_id for c in response.context["worst"]] == ["CVE-2026-2000", "CVE-2026-1000"]
    assert not response.context["worst_fallback"]
    assert "What changed since your last visit" in response.content.decode()


@pytest.fixture(params=["fetch", "walk"])
def plan(request, monkeypatch):
    """Both read plans of the digest and the feed: few followed CVEs (fetch them) or many (walk an index)."""
    if request.param == "walk":
        monkeypatch.setattr(digest, "FETCH_BELOW", -1)
    return request.param


def test_a_projects_digest_is_capped(org, owner, plan):
    project = projects.create_project(organization=org, name="busy", actor=owner)
    now = timezone.now()
    for n in range(digest.CHANGED_CAP + 5):
        cve = CveFactory(vendors=["bigco"], cvss31_score=float(n % 10))
        Change.objects.create(cve=cve, created_at=now, events=[], types=[])
    projects.subscribe_project(project=project, vendors=["bigco"], actor=owner)
    found = digest.project_digest(project=project, since=now - dt.timedelta(days=1))
    assert found.more and found.changed == digest.CHANGED_CAP + 1
    assert [c.cvss31_score for c in found.worst] == [9.0, 9.0, 9.0]


def test_activity_feed_all_or_my_projects(owner_client, outsider_client, watched, plan):
    everything = owner_client.get("/activity")
    assert [c.cve.cve_id for c in everything.context["page"].object_list] == [
        "CVE-2026-2000", "CVE-2026-1000", "CVE-2020-1000",
    ]  # fmt: skip
    mine = owner_client.get("/activity", {"scope": "mine"})
    assert [c.cve.cve_id for c in mine.context["page"].object_list] == ["CVE-2026-1000", "CVE-2020-1000"]
    assert b"Projects of acme" in mine.content
    # eve's organization (globex) follows nothing: her projects' feed is empty, and she never sees acme's.
    theirs = outsider_client.get("/activity", {"scope": "mine"})
    assert list(theirs.context["page"].object_list) == []
    assert b"acme" not in theirs.content


def test_activity_pages_without_counting(owner_client, org):
    cve = CveFactory()
    for _ in range(35):
        Change.objects.create(cve=cve, events=[{"type": "title", "details": {"old": "a", "new": "b"}}], types=["title"])
    first = owner_client.get("/activity").context["page"]
    assert len(first.object_list) == 30 and first.has_next and first.count is None
    assert len(owner_client.get("/activity", {"page": "2"}).context["page"].object_list) == 5


def test_statistics_charts_are_svg_with_text_alternatives(owner_client, catalog):
    text = owner_client.get("/").content.decode()
    assert text.count('<svg class="chart"') == 4 and text.count('role="img"') == 4
    assert "<title id=" in text and "<desc id=" in text
    assert "CVEs published per year" in text and "Vendors with the most CVEs" in text
    assert "<summary>The numbers</summary>" in text


def test_charts_escape_labels_and_scale_bars():
    svg = charts.bar_chart(
        title="T <b>", desc="D", bars=[charts.Bar(label="<script>", value=10), charts.Bar(label="b", value=5)], x_label="n"
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "T &lt;b&gt;" in svg
    column = charts.column_chart(title="t", desc="d", bars=[], x_label="x", y_label="y")  # empty data draws axes
    assert column.startswith("<svg") and 'role="img"' in column


def test_a_remembered_digest_follows_changes_and_subscriptions(owner_client, owner, org, watched):
    """Reloads reuse the digests, but a new change or a new subscription shows at the very next view."""
    DashboardVisit.objects.create(user=owner, seen_at=timezone.now() - dt.timedelta(days=2), previous_seen_at=None)
    assert [(d.changed, d.new) for d in owner_client.get("/").context["digests"]] == [(1, 1)]
    assert [(d.changed, d.new) for d in owner_client.get("/").context["digests"]] == [(1, 1)]  # remembered
    # A CVE of rocketco changes: the catalog's version moves, the digest is read again.
    Change.objects.create(cve=watched["stale"], events=[{"type": "title", "details": {}}], types=["title"])
    [production] = owner_client.get("/").context["digests"]
    assert (production.changed, production.new) == (2, 1)
    assert [c.cve_id for c in production.worst] == ["CVE-2020-1000", "CVE-2026-1000"]
    # The project also follows "elsewhere" now: its changed CVE counts at once, without any catalog change.
    project = Project.objects.get(organization=org, name="production")
    projects.subscribe_project(project=project, vendors=["elsewhere"], actor=owner)
    [production] = owner_client.get("/").context["digests"]
    assert production.changed == 3 and production.worst[0].cve_id == "CVE-2020-1000"


def test_dashboard_queries_stop_growing_after_six_projects(owner_client, org, owner):
    """One digest per active project, for the first MAX_PROJECTS: more projects cost no more queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        owner_client.get("/")  # the visit exists and the statistics are cached, as in use
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get("/").status_code == 200
        return len(queries.captured_queries)

    for n in range(digest.MAX_PROJECTS):
        projects.create_project(organization=org, name=f"p{n:02d}", vendors=[], actor=owner)
    six = count()
    for n in range(digest.MAX_PROJECTS, 2 * digest.MAX_PROJECTS):
        projects.create_project(organization=org, name=f"p{n:02d}", actor=owner)
    assert count() == six
    assert len(owner_client.get("/").context["digests"]) == digest.MAX_PROJECTS


def test_charts_follow_the_catalog_at_most_every_few_minutes(owner_client, catalog, monkeypatch):
    """A catalog change within CHARTS_REFRESH keeps the drawn charts; past it, the next view draws them anew."""
    from cvewatch.web import views_dashboard

    def year_2026_count(text: str) -> bool:
        return "2026" in text.split("<summary>The numbers</summary>", 1)[1]

    clock = [1_000_000.0]
    monkeypatch.setattr(views_dashboard.time, "time", lambda: clock[0])
    assert not year_2026_count(owner_client.get("/").content.decode())
    fresh = CveFactory(cve_id="CVE-2026-3000", created_at=timezone.now())
    Change.objects.create(cve=fresh, events=[{"type": "created", "details": {}}], types=["created"])
    clock[0] += views_dashboard.CHARTS_REFRESH - 1
    assert not year_2026_count(owner_client.get("/").content.decode())  # the catalog moved, too soon to redraw
    clock[0] += 2
    assert year_2026_count(owner_client.get("/").content.decode())
