"""cvelist from GitHub-style release archives served by a local HTTP server (baseline, hourly, end of day)."""

from __future__ import annotations

import io
import zipfile

import orjson
import pytest

from cvewatch.catalog.models import Change, Cve
from cvewatch.sync import services
from cvewatch.sync.choices import RunStatus
from cvewatch.sync.models import SyncSource
from cvewatch.sync.sources.cvelist import CvelistSource, parse_asset
from tests.conftest import DATA
from tests.sync.conftest import Reply

pytestmark = pytest.mark.django_db

RECORDS = sorted((DATA / "cve5").glob("CVE-*.json"))
RELEASES = "/repos/CVEProject/cvelistV5/releases"


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def baseline(records) -> bytes:
    inner = {f"cves/{p.name.split('-')[1]}/x/{p.name}": p.read_bytes() for p in records}
    inner["cves/delta.json"] = b'{"new": [], "updated": []}'
    return zipped({"cves.zip": zipped(inner)})  # the real baseline is a zip in a zip


def delta(records: dict[str, bytes]) -> bytes:
    return zipped({f"deltaCves/{name}": data for name, data in records.items()})


def changed(path, description: str, updated: str) -> bytes:
    doc = orjson.loads(path.read_bytes())
    doc["containers"]["cna"]["descriptions"][0]["value"] = description
    doc["cveMetadata"]["dateUpdated"] = updated
    return orjson.dumps(doc)


class Releases:
    def __init__(self, upstream) -> None:
        self.upstream, self.assets = upstream, []

    def add(self, name: str, body: bytes) -> None:
        self.upstream.serve(f"/download/{name}", Reply(body=body))
        self.assets.insert(0, {"name": name, "browser_download_url": self.upstream.url(f"/download/{name}")})
        self.upstream.dynamic(RELEASES, self.page)

    def page(self, request) -> Reply:
        """GitHub's listing, newest first, two releases a page."""
        page = int(request.query.get("page", ["1"])[0])
        listing = [{"tag_name": f"cve_{a['name'][:10]}", "assets": [a]} for a in self.assets]
        return Reply(body=orjson.dumps(listing[(page - 1) * 2 : page * 2]))


@pytest.fixture
def releases(upstream, sync_urls):
    sync_urls(cvelist=upstream.url(RELEASES))
    return Releases(upstream)


def test_baseline_then_deltas_then_only_what_is_new(releases):
    base_records, later = RECORDS[:10], RECORDS[10:12]
    releases.add("2025-01-20_all_CVEs_at_midnight.zip.zip", baseline(base_records))
    releases.add("2025-01-20_delta_CVEs_at_0100Z.zip", delta({later[0].name: later[0].read_bytes()}))
    first = services.run_source(name="cvelist")
    assert first.status == RunStatus.SUCCEEDED, first.errors
    assert first.counts["steps"] == 2 and Cve.objects.count() == 11
    assert first.cursor_after == {
        "archive": "2025-01-20_delta_CVEs_at_0100Z.zip",
        "position": "2025-01-20 0100",
    }

    # The day goes on: the 0200Z delta holds everything since midnight (cumulative), then the day ends.
    updated = changed(later[0], "Changed upstream.", "2030-01-01T00:00:00.000Z")
    releases.add(
        "2025-01-20_delta_CVEs_at_0200Z.zip",
        delta({later[0].name: updated, later[1].name: later[1].read_bytes()}),
    )
    releases.add(
        "2025-01-20_delta_CVEs_at_end_of_day.zip",
        delta({later[0].name: updated, later[1].name: later[1].read_bytes()}),
    )
    releases.add("2025-01-21_delta_CVEs_at_0100Z.zip", delta({}))
    second = services.run_source(name="cvelist")
    assert second.status == RunStatus.SUCCEEDED, second.errors
    labels = [n.split(":")[0] for n in second.notes.splitlines()]
    assert labels == ["2025-01-20_delta_CVEs_at_end_of_day.zip", "2025-01-21_delta_CVEs_at_0100Z.zip"]
    assert Cve.objects.count() == 12 and second.counts["updated"] == 1
    cve_id = later[0].name[:-5]
    assert ["description" in c.types for c in Change.objects.filter(cve__cve_id=cve_id).order_by("pk")] == [
        False,  # created
        True,
    ]
    third = services.run_source(name="cvelist")
    assert third.counts["steps"] == 0 and "no archive newer" in third.notes


def test_an_older_listing_is_noticed_and_nothing_applied(releases):
    releases.add("2025-01-20_all_CVEs_at_midnight.zip.zip", baseline(RECORDS[:3]))
    SyncSource.objects.create(
        name="cvelist",
        cursor={"archive": "2025-02-01_delta_CVEs_at_0100Z.zip", "position": "2025-02-01 0100"},
    )
    run = services.run_source(name="cvelist")
    assert "went back in time" in run.notes and run.counts["steps"] == 0
    assert not Cve.objects.exists()


def test_a_listing_that_no_longer_reaches_the_cursor_applies_the_newest_baseline(releases):
    releases.add("2025-03-01_all_CVEs_at_midnight.zip.zip", baseline(RECORDS[:3]))
    releases.add("2025-03-01_delta_CVEs_at_0500Z.zip", delta({}))
    SyncSource.objects.create(
        name="cvelist",
        cursor={"archive": "2025-02-01_delta_CVEs_at_0100Z.zip", "position": "2025-02-01 0100"},
    )
    run = services.run_source(name="cvelist")
    assert "do not reach back" in run.notes and Cve.objects.count() == 3
    assert run.cursor_after["position"] == "2025-03-01 0500"


def test_a_malformed_listing_or_a_broken_archive_fails_the_run(releases, upstream):
    upstream.dynamic(RELEASES, lambda request: Reply(body=b"<html>rate limited</html>"))
    run = services.run_source(name="cvelist")
    assert run.status == RunStatus.FAILED and "malformed releases listing" in run.errors
    releases.add("2025-01-20_all_CVEs_at_midnight.zip.zip", baseline(RECORDS[:3])[:-100])
    broken = services.run_source(name="cvelist")
    assert broken.status == RunStatus.FAILED and "nothing usable" in broken.errors
    assert broken.cursor_after == {}


def test_plan_leaves_a_day_only_through_its_end_of_day_delta():
    names = [
        "2025-01-20_delta_CVEs_at_2300Z.zip",
        "2025-01-21_delta_CVEs_at_0100Z.zip",
        "2025-01-21_delta_CVEs_at_0200Z.zip",
    ]
    assets = sorted(a for n in names if (a := parse_asset(n, n)))
    # The 20th is not over in the listing (no end-of-day delta yet): its newest hourly, then wait.
    assert [a.name for a in CvelistSource.plan(assets, "2025-01-20 0100")] == [
        "2025-01-20_delta_CVEs_at_2300Z.zip"
    ]
    assets.append(parse_asset("2025-01-20_delta_CVEs_at_end_of_day.zip", ""))
    assert [a.name for a in CvelistSource.plan(sorted(assets), "2025-01-20 2300")] == [
        "2025-01-20_delta_CVEs_at_end_of_day.zip",
        "2025-01-21_delta_CVEs_at_0200Z.zip",
    ]
    assert CvelistSource.plan(sorted(assets), "2025-01-18 0100") is None  # the 18th is gone from the listing
    assert parse_asset("2025-01-20_all_CVEs_at_midnight.zip.zip", "").baseline


def test_a_local_archive_is_applied_once(sync_urls, tmp_path):
    archive = tmp_path / "2025-01-20_all_CVEs_at_midnight.zip.zip"
    archive.write_bytes(baseline(RECORDS[:4]))
    sync_urls(cvelist=str(archive))
    first = services.run_source(name="cvelist")
    assert first.status == RunStatus.SUCCEEDED and Cve.objects.count() == 4
    again = services.run_source(name="cvelist")
    assert "already applied" in again.notes


def test_the_baseline_inner_zip_is_read_from_disk_member_by_member(tmp_path):
    from cvewatch.sync.sources.cvelist import unwrap_zip

    outer = tmp_path / "2025-01-20_all_CVEs_at_midnight.zip.zip"
    outer.write_bytes(baseline(RECORDS[:2]))
    inner = unwrap_zip(outer)
    assert inner != outer and zipfile.is_zipfile(inner)
    assert (
        sorted(n for n in zipfile.ZipFile(inner).namelist() if n.endswith(".json"))[-1] == "cves/delta.json"
    )
    delta_zip = tmp_path / "d.zip"
    delta_zip.write_bytes(delta({"CVE-2025-0001.json": b"{}"}))
    assert unwrap_zip(delta_zip) == delta_zip
