"""Pagination of /api/cve: envelope, absolute links that keep other parameters, edge pages, page size."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cves_25(db):
    return [CveFactory(cvss31_score=9.5) for _ in range(25)]


def test_default_page_size_is_ten_with_absolute_next_link(api, cves_25):
    body = api.get("/api/cve").json()
    assert body["count"] == 25
    assert len(body["results"]) == 10
    assert body["next"] == "http://testserver/api/cve?page=2"
    assert body["previous"] is None


def test_links_keep_other_parameters_and_page_two_previous_has_no_page(api, cves_25):
    body = api.get("/api/cve?cvss=critical&page=2").json()
    assert body["next"] == "http://testserver/api/cve?cvss=critical&page=3"
    assert body["previous"] == "http://testserver/api/cve?cvss=critical"
    body = api.get("/api/cve?page=3&cvss=critical").json()
    assert len(body["results"]) == 5
    assert body["next"] is None
    assert body["previous"] == "http://testserver/api/cve?cvss=critical&page=2"


def test_pages_do_not_overlap_and_cover_everything(api, cves_25):
    seen = []
    for page in (1, 2, 3):
        seen += [item["cve_id"] for item in api.get(f"/api/cve?page={page}").json()["results"]]
    assert sorted(seen) == sorted(c.cve_id for c in cves_25)


def test_page_last(api, cves_25):
    body = api.get("/api/cve?page=last").json()
    assert len(body["results"]) == 5
    assert body["next"] is None


@pytest.mark.parametrize("page", ["0", "abc", "4", "999", "-1", "1.5", ""])
def test_invalid_pages_are_404(api, cves_25, page):
    response = api.get(f"/api/cve?page={page}")
    if page == "":
        assert response.status_code == 200  # an empty page parameter means the first page, as in DRF
        return
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_empty_list_has_a_first_page_only(api):
    assert api.get("/api/cve").json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert api.get("/api/cve?page=2").status_code == 404


def test_page_size_follows_settings(api, cves_25, settings):
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "PAGE_SIZE": 4}):
        body = api.get("/api/cve?page=last").json()
        assert len(body["results"]) == 1
        assert body["previous"] == "http://testserver/api/cve?page=6"
    assert len(api.get("/api/cve").json()["results"]) == 10
