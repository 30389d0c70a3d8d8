"""CSV export of the CVE list and a project's CVEs: content, escaping, filters, isolation, streaming."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.constants import MULTI
from django.http import StreamingHttpResponse

from cvewatch.catalog import export
from cvewatch.catalog.models import Cve
from cvewatch.organizations.services import projects
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_list_export_has_every_column_and_the_newest_update_first(owner_client, catalog, settings):
    settings.BASE_URL = "https://cve.example.com"
    response = owner_client.get("/cve/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="cves-') and disposition.endswith('.csv"')
    rows = read_csv(response)
    assert [r["cve_id"] for r in rows] == ["CVE-2021-44228", "CVE-2022-22965", "CVE-2020-0001"]
    log4j = rows[0]
    assert list(log4j) == list(export.COLUMNS)
    assert log4j["title"].startswith("Apache Log4j2 JNDI")
    assert log4j["updated"] == "2024-07-24T00:00:00Z"
    assert log4j["cvss_v3_1"] == "10.0" and log4j["cvss_v2"] == "" and log4j["severity"] == "critical"
    assert log4j["kev_added"] == "2021-12-10"
    assert log4j["cwes"] == "CWE-502"
    assert log4j["vendors_products"] == "apache: log4j"
    assert log4j["url"] == "https://cve.example.com/cve/CVE-2021-44228"
    assert rows[1]["severity"] == "medium" and rows[2]["severity"] == "low"


def test_the_export_honours_the_list_filters(owner_client, catalog):
    rows = read_csv(owner_client.get("/cve/export.csv?vendor=apache"))
    assert [r["cve_id"] for r in rows] == ["CVE-2021-44228"]
    rows = read_csv(owner_client.get("/cve/export.csv?cvss=medium&search=spring"))
    assert [r["cve_id"] for r in rows] == ["CVE-2022-22965"]
    rows = read_csv(owner_client.get("/cve/export.csv?weakness=CWE-94"))
    assert [r["cve_id"] for r in rows] == ["CVE-2022-22965"]
    rows = read_csv(owner_client.get("/cve/export.csv?weakness=CWE-0"))
    assert rows == []


def test_a_filter_mistake_goes_back_to_the_list_that_explains_it(owner_client, catalog):
    response = owner_client.get("/cve/export.csv?vendor=nobody&cvss=high")
    assert response.status_code == 302
    assert response["Location"] == "/cve?vendor=nobody&cvss=high"
    page = owner_client.get(response["Location"])
    assert "No Vendor matches the given query." in page.content.decode()


def test_cells_that_spreadsheets_would_run_are_defused_and_text_is_quoted(owner_client):
    CveFactory(
        cve_id="CVE-2024-0001",
        title='=HYPERLINK("http://evil.example","click"), with "quotes"\nand a newline',
        vendors=["@evil", "@evil$PRODUCT$+sum", "-minus"],
    )
    CveFactory(cve_id="CVE-2024-0002", title="\tTabbed")
    rows = {r["cve_id"]: r for r in read_csv(owner_client.get("/cve/export.csv"))}
    assert (
        rows["CVE-2024-0001"]["title"]
        == '\'=HYPERLINK("http://evil.example","click"), with "quotes"\nand a newline'
    )
    assert rows["CVE-2024-0001"]["vendors_products"] == "'@evil: +sum; -minus"
    assert rows["CVE-2024-0002"]["title"] == "'\tTabbed"


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
    ],
)
def test_safe_cell(value, safe):
    assert export.safe_cell(value) == safe


def test_the_project_export_lists_its_cves_and_outsiders_get_404(
    owner_client, outsider_client, org, owner, catalog
):
    projects.create_project(organization=org, name="production", vendors=["vmware"], actor=owner)
    response = owner_client.get("/org/acme/projects/production/export.csv")
    assert response.status_code == 200
    assert 'filename="acme-production-cves-' in response["Content-Disposition"]
    assert [r["cve_id"] for r in read_csv(response)] == ["CVE-2022-22965"]
    assert [
        r["cve_id"] for r in read_csv(owner_client.get("/org/acme/projects/production/export.csv?cvss=high"))
    ] == []
    assert outsider_client.get("/org/acme/projects/production/export.csv").status_code == 404
    assert owner_client.get("/org/globex/projects/secret-plan/export.csv").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, catalog):
    response = client.get("/cve/export.csv")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_the_list_pages_link_their_export_with_their_filters(owner_client, org, owner, catalog):
    page = owner_client.get("/cve?vendor=apache&page=1").content.decode()
    assert 'href="/cve/export.csv?vendor=apache"' in page
    projects.create_project(organization=org, name="production", vendors=["vmware"], actor=owner)
    page = owner_client.get("/org/acme/projects/production?cvss=high").content.decode()
    assert 'href="/org/acme/projects/production/export.csv?cvss=high"' in page


def test_the_export_streams_rows_from_a_cursor_not_a_loaded_list(
    owner_client, monkeypatch, django_assert_max_num_queries
):
    """Thousands of rows go out in pieces read in chunks from one query; the first piece comes before most rows."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    Cve.objects.bulk_create(
        Cve(
            cve_id=f"CVE-2020-{10000 + n}",
            title="t" * 100,
            created_at=start,
            updated_at=start + timedelta(minutes=n),
        )
        for n in range(5000)
    )
    pulled: list[int] = []
    fetches: list[tuple[bool, int]] = []
    real_execute_sql = SQLCompiler.execute_sql

    def counting_execute_sql(self, result_type=MULTI, chunked_fetch=False, chunk_size=100):
        result = real_execute_sql(self, result_type, chunked_fetch=chunked_fetch, chunk_size=chunk_size)
        if not (chunked_fetch and self.query.model is Cve):
            return result
        fetches.append((chunked_fetch, chunk_size))

        def chunks():
            for chunk in result:
                pulled.extend(1 for _ in chunk)
                yield chunk

        return chunks()

    monkeypatch.setattr(SQLCompiler, "execute_sql", counting_execute_sql)
    response = owner_client.get("/cve/export.csv")
    assert isinstance(response, StreamingHttpResponse)
    pieces = iter(response.streaming_content)
    first = next(pieces)
    assert first.startswith(b"cve_id,title,")
    assert 0 < len(pulled) <= export.EXPORT_CHUNK < 5000, "the first piece goes out after one chunk is read"
    with django_assert_max_num_queries(2):
        rest = b"".join(pieces)
    assert fetches == [(True, export.EXPORT_CHUNK)]
    assert len(pulled) == 5000
    lines = (first + rest).decode().splitlines()
    assert len(lines) == 5001 and lines[1].startswith("CVE-2020-14999,")


def test_a_malformed_query_goes_back_to_the_list_with_its_error(owner_client, org, owner, catalog):
    projects.create_project(organization=org, name="production", vendors=["vmware"], actor=owner)
    response = owner_client.get("/cve/export.csv?q=cvss31>>7")
    assert response.status_code == 302 and response["Location"].startswith("/cve?")
    project = owner_client.get("/org/acme/projects/production/export.csv?q=epss>=150")
    assert project.status_code == 302 and project["Location"].startswith("/org/acme/projects/production?")
