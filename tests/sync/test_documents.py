"""KEV, EPSS and CWE over a real local HTTP server: ETags, versions, retries and every way a download fails."""

from __future__ import annotations

import io
import zipfile

import orjson
import pytest

from cvewatch.catalog.models import SourceRecord, Weakness
from cvewatch.sync import services
from cvewatch.sync.choices import RunStatus
from cvewatch.sync.transport import HttpTransport
from tests.conftest import DATA
from tests.sync.conftest import Reply, gz

pytestmark = pytest.mark.django_db

KEV_BYTES = (DATA / "kev" / "kev_subset.json").read_bytes()
EPSS_BYTES = (DATA / "epss" / "epss_scores-2024-01-01.csv").read_bytes()
CWE_BYTES = (DATA / "cwe" / "cwec_sample.xml").read_bytes()


def kev_doc(*, version: str, released: str, drop: int = 0, notes: str | None = None) -> bytes:
    doc = orjson.loads(KEV_BYTES)
    doc["catalogVersion"], doc["dateReleased"] = version, released
    doc["vulnerabilities"] = doc["vulnerabilities"][drop:]
    if notes is not None:
        doc["vulnerabilities"][0]["notes"] = notes
    return orjson.dumps(doc)


def cwe_zip(xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cwec_v4.14.xml", xml)
    return buffer.getvalue()


def run(name: str, **transport: float):
    sleeps: list[float] = []
    result = services.run_source(name=name, transport=HttpTransport(sleep=sleeps.append, **transport))
    assert result is not None
    return result, sleeps


def test_kev_etag_makes_the_second_run_a_conditional_get(upstream, sync_urls):
    sync_urls(kev=upstream.serve("/kev.json", Reply(body=KEV_BYTES, headers={"ETag": '"v1"'})))
    first, _ = run("kev")
    assert first.status == RunStatus.SUCCEEDED and first.counts["kev_entries"] == 25
    assert first.cursor_after["etag"] == '"v1"' and first.cursor_after["version"].startswith("2025-08-25")
    second, _ = run("kev")
    assert upstream.hits("/kev.json")[-1].headers["if-none-match"] == '"v1"'
    assert second.status == RunStatus.SUCCEEDED and second.counts.get("read", 0) == 0
    assert "not modified" in second.notes and second.cursor_after == first.cursor_after


def test_kev_going_back_in_time_is_noticed_and_not_applied(upstream, sync_urls):
    url = upstream.serve(
        "/kev.json", Reply(body=kev_doc(version="2025.08.25", released="2025-08-25T17:04:19Z"))
    )
    sync_urls(kev=url)
    first, _ = run("kev")
    upstream.serve(
        "/kev.json", Reply(body=kev_doc(version="2025.08.01", released="2025-08-01T10:00:00Z", drop=5))
    )
    older, _ = run("kev")
    assert older.status == RunStatus.SUCCEEDED and older.counts.get("read", 0) == 0
    assert "went back in time" in older.notes
    assert older.cursor_after == first.cursor_after


def test_epss_gzip_over_http_and_its_score_date_cursor(upstream, sync_urls, settings):
    sync_urls(epss=upstream.serve("/epss_scores-current.csv.gz", Reply(body=gz(EPSS_BYTES))))
    result, _ = run("epss")
    assert result.status == RunStatus.SUCCEEDED and result.counts["epss_scores"] > 0
    assert result.cursor_after["version"].startswith("2024-01-01")
    again, _ = run("epss")
    assert "unchanged" in again.notes and again.counts.get("read", 0) == 0


def test_cwe_zip_over_http(upstream, sync_urls):
    xml = CWE_BYTES.replace(
        b"<Weakness_Catalog ", b'<Weakness_Catalog Name="CWE" Version="4.14" Date="2024-02-29" '
    )
    sync_urls(cwe=upstream.serve("/cwec_latest.xml.zip", Reply(body=cwe_zip(xml))))
    result, _ = run("cwe")
    assert result.status == RunStatus.SUCCEEDED, result.errors
    assert result.cursor_after["version"] == "2024-02-29" and "CWE 4.14" in result.cursor_after["label"]
    assert Weakness.objects.filter(cwe_id="CWE-79", name="Cross-site Scripting").exists()


@pytest.mark.parametrize("status", [403, 429, 503])
def test_rate_limit_statuses_are_retried_honouring_retry_after(upstream, sync_urls, status):
    sync_urls(
        kev=upstream.serve(
            "/kev.json",
            Reply(status=status, headers={"Retry-After": "7"}),
            Reply(status=status),
            Reply(body=KEV_BYTES),
        )
    )
    result, sleeps = run("kev")
    assert result.status == RunStatus.SUCCEEDED
    assert sleeps == [7.0, 2.0]  # Retry-After when given, else exponential backoff
    assert len(upstream.hits("/kev.json")) == 3
    assert f"HTTP {status}" in result.notes


def test_retries_give_up_and_the_run_fails_with_the_reason(upstream, sync_urls):
    sync_urls(kev=upstream.serve("/kev.json", Reply(status=503, headers={"Retry-After": "0"})))
    result, _ = run("kev")
    assert result.status == RunStatus.FAILED and "HTTP 503 after 4 retries" in result.errors


def test_a_500_fails_at_once(upstream, sync_urls):
    sync_urls(kev=upstream.serve("/kev.json", Reply(status=500, body=b"oops")))
    result, sleeps = run("kev")
    assert result.status == RunStatus.FAILED and "HTTP 500" in result.errors and sleeps == []
    assert result.cursor_after == {}


def test_a_timeout_fails_the_run(upstream, sync_urls):
    sync_urls(kev=upstream.serve("/kev.json", Reply(body=KEV_BYTES, delay=2.0)))
    result, _ = run("kev", timeout=0.3)
    assert result.status == RunStatus.FAILED and "timed out after 0.3 s" in result.errors


def test_a_truncated_body_fails_the_run_and_keeps_the_cursor(upstream, sync_urls):
    sync_urls(kev=upstream.serve("/kev.json", Reply(body=KEV_BYTES, truncate=1000)))
    result, _ = run("kev")
    assert result.status == RunStatus.FAILED and "truncated" in result.errors
    assert result.cursor_after == {} and not SourceRecord.objects.exists()


@pytest.mark.parametrize(
    "body,reason",
    [
        (KEV_BYTES[:500], "invalid JSON"),
        (gz(EPSS_BYTES)[:-12], "truncated or corrupt gzip"),
        (b"<html>", "unsupported"),
    ],
)
def test_malformed_documents_fail_before_any_write(upstream, sync_urls, body, reason):
    sync_urls(kev=upstream.serve("/feed.json", Reply(body=body)))
    result, _ = run("kev")
    assert result.status == RunStatus.FAILED and reason in result.errors
    assert result.cursor_after == {}


def test_a_kev_entry_that_changes_between_two_runs_is_stored_once(upstream, sync_urls):
    url = upstream.serve("/kev.json", Reply(body=kev_doc(version="1", released="2025-08-25T00:00:00Z")))
    sync_urls(kev=url)
    first, _ = run("kev")
    assert first.counts["records_stored"] == 25
    upstream.serve(
        "/kev.json", Reply(body=kev_doc(version="2", released="2025-08-26T00:00:00Z", notes="changed"))
    )
    changed, _ = run("kev")
    assert changed.counts["records_stored"] == 1 and changed.counts["records_unchanged"] == 24
    upstream.serve(
        "/kev.json", Reply(body=kev_doc(version="3", released="2025-08-27T00:00:00Z", notes="changed"))
    )
    again, _ = run("kev")
    assert again.counts.get("records_stored", 0) == 0 and again.counts["records_unchanged"] == 25
