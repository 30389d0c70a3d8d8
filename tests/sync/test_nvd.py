"""The nvd source against a local NVD API 2.0 server and JSON 1.1 feeds (files, a directory, a URL)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from cvewatch.catalog.models import Change, Cve
from cvewatch.sync import services
from cvewatch.sync.choices import RunStatus
from cvewatch.sync.models import SyncSource
from cvewatch.sync.sources.nvd import MAX_WINDOW
from cvewatch.sync.transport import HttpTransport, RateLimiter
from tests.conftest import DATA
from tests.sync.conftest import Reply, Request

pytestmark = pytest.mark.django_db

API_RECORDS = [orjson.loads(p.read_bytes()) for p in sorted((DATA / "nvd-api-2.0").glob("*.json"))]
FEED = orjson.loads((DATA / "nvd-1.1" / "nvdcve-1.1-fixtures.json").read_bytes())


def nvd_api(request: Request) -> Reply:
    """Pages of one record, filtered by the lastModified window like NVD does."""
    query = {k: v[0] for k, v in request.query.items()}
    records = API_RECORDS
    if "lastModStartDate" in query:
        start = datetime.fromisoformat(query["lastModStartDate"])
        end = datetime.fromisoformat(query["lastModEndDate"])
        assert end - start <= MAX_WINDOW
        records = [
            r
            for r in records
            if start <= datetime.fromisoformat(r["lastModified"]).replace(tzinfo=UTC) <= end
        ]
    index = int(query.get("startIndex", 0))
    page = records[index : index + 1]
    body = {
        "resultsPerPage": len(page), "startIndex": index, "totalResults": len(records), "format": "NVD_CVE",
        "version": "2.0", "timestamp": "2025-11-01T00:00:00.000", "vulnerabilities": [{"cve": r} for r in page],
    }  # fmt: skip
    return Reply(body=orjson.dumps(body), headers={"Content-Type": "application/json"})


def test_api_first_run_lists_everything_page_by_page(upstream, sync_urls, settings):
    settings.NVD_API_KEY = "secret-key"
    sync_urls(nvd=upstream.dynamic("/rest/json/cves/2.0", nvd_api))
    run = services.run_source(name="nvd")
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert Cve.objects.count() == 2 and run.counts["created"] == 2
    hits = upstream.hits("/rest/json/cves/2.0")
    assert [h.query["startIndex"] for h in hits] == [["0"], ["1"]]
    assert all(h.headers["apikey"] == "secret-key" and "lastModStartDate" not in h.query for h in hits)
    assert datetime.fromisoformat(run.cursor_after["last_modified"]) <= datetime.now(UTC)


def test_api_catches_up_in_windows_of_at_most_120_days(upstream, sync_urls):
    sync_urls(nvd=upstream.dynamic("/rest/json/cves/2.0", nvd_api))
    start = datetime.now(UTC) - timedelta(days=300)
    SyncSource.objects.create(name="nvd", cursor={"last_modified": start.isoformat()})
    run = services.run_source(name="nvd")
    assert run.status == RunStatus.SUCCEEDED, run.errors
    hits = upstream.hits("/rest/json/cves/2.0")
    windows = [(h.query["lastModStartDate"][0], h.query["lastModEndDate"][0]) for h in hits]
    assert len(windows) == 3 and windows[0][1] == windows[1][0] and windows[1][1] == windows[2][0]
    assert "apikey" not in hits[0].headers
    assert run.counts["steps"] == 3
    assert datetime.fromisoformat(run.cursor_after["last_modified"]) > start + 2 * MAX_WINDOW


def test_api_backs_off_on_429_and_fails_on_a_malformed_page(upstream, sync_urls):
    path = "/rest/json/cves/2.0"
    sync_urls(
        nvd=upstream.serve(path, Reply(status=429, headers={"Retry-After": "3"}), Reply(body=b'{"totalRes'))
    )
    sleeps: list[float] = []
    run = services.run_source(name="nvd", transport=HttpTransport(sleep=sleeps.append))
    assert sleeps == [3.0]
    assert run.status == RunStatus.FAILED and "malformed API page at startIndex 0" in run.errors
    assert run.cursor_after == {} and SyncSource.objects.get(name="nvd").cursor == {}


def test_rate_limiter_allows_five_requests_per_rolling_30_seconds():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(max_requests=5, period=30.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        assert limiter.wait() == 0
        now[0] += 1
    assert limiter.wait() == 25.0  # the first request left the window at t=30
    assert waits == [25.0]


def feed(timestamp: str, *, items: list | None = None) -> bytes:
    return orjson.dumps(
        {**FEED, "CVE_data_timestamp": timestamp, "CVE_Items": FEED["CVE_Items"] if items is None else items}
    )


def test_feed_directory_applies_newer_feeds_in_order_and_notices_an_older_one(sync_urls, tmp_path):
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "nvdcve-1.1-b.json").write_bytes(feed("2023-08-10T07:00Z"))
    (feeds / "nvdcve-1.1-a.json").write_bytes(feed("2023-08-09T07:00Z"))
    sync_urls(nvd=str(feeds))
    run = services.run_source(name="nvd")
    assert run.counts["steps"] == 2 and run.cursor_after["feed_timestamp"] == "2023-08-10T07:00Z"
    assert run.counts["created"] == 33
    again = services.run_source(name="nvd")
    assert again.counts["steps"] == 0 and "no feed newer" in again.notes
    older = tmp_path / "older"
    older.mkdir()
    shutil.copy(feeds / "nvdcve-1.1-a.json", older)
    sync_urls(nvd=f"file://{older}")
    back = services.run_source(name="nvd")
    assert "went back in time" in back.notes and back.cursor_after == run.cursor_after


def test_a_record_that_changes_between_two_runs_produces_its_change_events_once(upstream, sync_urls):
    items = FEED["CVE_Items"]
    path = "/feeds/nvdcve-1.1-modified.json"
    sync_urls(nvd=upstream.serve(path, Reply(body=feed("2023-08-09T07:00Z"), headers={"ETag": '"1"'})))
    services.run_source(name="nvd")
    base_changes = Change.objects.count()
    changed = orjson.loads(orjson.dumps(items[0]))
    cve_id = changed["cve"]["CVE_data_meta"]["ID"]
    changed["cve"]["description"]["description_data"][0]["value"] = "A new description."
    changed["lastModifiedDate"] = "2023-08-10T07:00Z"
    upstream.serve(path, Reply(body=feed("2023-08-10T07:00Z", items=[changed]), headers={"ETag": '"2"'}))
    run = services.run_source(name="nvd")
    assert run.counts["updated"] == 1 and run.counts["changes"] == 1
    change = Change.objects.exclude(
        pk__in=list(Change.objects.order_by("pk").values_list("pk", flat=True)[:base_changes])
    ).get()
    assert change.cve.cve_id == cve_id and "description" in change.types
    # The same record again, in a newer feed: nothing changes, no second event.
    upstream.serve(path, Reply(body=feed("2023-08-11T07:00Z", items=[changed]), headers={"ETag": '"3"'}))
    again = services.run_source(name="nvd")
    assert again.counts.get("changes", 0) == 0 and Change.objects.count() == base_changes + 1
    # Not modified: a conditional GET, no download.
    unchanged = services.run_source(name="nvd")
    assert "not modified" in unchanged.notes


def test_a_feed_that_is_garbage_after_its_header_fails_and_keeps_the_cursor(sync_urls, tmp_path):
    broken = tmp_path / "nvdcve-1.1-broken.json"
    broken.write_bytes(feed("2023-08-12T07:00Z")[:3000])
    sync_urls(nvd=str(broken))
    run = services.run_source(name="nvd")
    assert run.status == RunStatus.FAILED and "nothing usable" in run.errors and "invalid JSON" in run.errors
    assert run.cursor_after == {} and SyncSource.objects.get(name="nvd").cursor == {}


def _with_product(item: dict, cpe: str, modified: str) -> dict:
    """A copy of a feed item, modified at `modified`, that also affects the product of `cpe`."""
    copy = orjson.loads(orjson.dumps(item))
    copy["lastModifiedDate"] = modified
    copy["configurations"]["nodes"].append(
        {"operator": "OR", "children": [], "cpe_match": [{"vulnerable": True, "cpe23Uri": cpe, "cpe_name": []}]}
    )
    return copy


def test_a_syncs_steps_read_the_catalogs_ids_once_and_share_the_new_ones(sync_urls, tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cvewatch.catalog.models import Vendor

    items = FEED["CVE_Items"]
    cpe = "cpe:2.3:a:acme_shared:rocket:1.0:*:*:*:*:*:*:*"
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "nvdcve-1.1-a.json").write_bytes(feed("2023-08-09T07:00Z"))
    # Step b brings a new vendor and product; step c names them again on another CVE: it must reuse b's ids.
    (feeds / "nvdcve-1.1-b.json").write_bytes(
        feed("2023-08-10T07:00Z", items=[_with_product(items[0], cpe, "2023-08-10T06:00Z")])
    )
    (feeds / "nvdcve-1.1-c.json").write_bytes(
        feed("2023-08-11T07:00Z", items=[_with_product(items[1], cpe, "2023-08-11T06:00Z")])
    )
    sync_urls(nvd=str(feeds))
    with CaptureQueriesContext(connection) as queries:
        run = services.run_source(name="nvd")
    assert run.status == RunStatus.SUCCEEDED and run.counts["steps"] == 3
    vendor_table = Vendor._meta.db_table
    loads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'SELECT "{vendor_table}"."name"')]
    # Every vendor read once and every product read once for the whole run, not once per step.
    assert len([sql for sql in loads if "JOIN" in sql]) == 1 and len(loads) == 2, loads
    assert Vendor.objects.filter(name="acme_shared").count() == 1
    first, second = (items[i]["cve"]["CVE_data_meta"]["ID"] for i in (0, 1))
    for cve_id in (first, second):
        assert Cve.objects.get(cve_id=cve_id).cvevendor_set.filter(vendor__name="acme_shared").exists()
