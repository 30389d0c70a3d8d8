"""/api/cve and /api/cve/{id} against real OpenCVE knowledge-base records."""

from __future__ import annotations

import pytest

from cvewatch.catalog.models import Cve
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["cve_id"] for item in response.json()["results"]]


def test_list_items_have_exactly_the_four_fields(api, log4shell, spring4shell):
    body = api.get("/api/cve").json()
    assert body["count"] == 2
    assert body["next"] is None and body["previous"] is None
    assert body["results"][1] == {
        "created_at": "2021-12-10T00:00:00Z",
        "updated_at": "2024-07-24T17:08:24.167000Z",
        "cve_id": "CVE-2021-44228",
        "description": log4shell.description,
    }
    assert list(body["results"][0]) == ["created_at", "updated_at", "cve_id", "description"]


def test_list_is_ordered_by_last_modification_newest_first(api, kb_all):
    expected = [c.cve_id for c in sorted(kb_all, key=lambda c: c.updated_at, reverse=True)]
    assert ids(api.get("/api/cve?page=1")) == expected[:10]


def test_equal_update_times_have_a_stable_order(api):
    same = CveFactory.create_batch(3)
    Cve.objects.update(updated_at=same[0].updated_at)
    assert ids(api.get("/api/cve")) == [c.cve_id for c in sorted(same, key=lambda c: c.pk, reverse=True)]


def test_search_oracle_finds_only_spring4shell_by_vendor_name(api, log4shell, spring4shell):
    assert ids(api.get("/api/cve?search=oracle")) == ["CVE-2022-22965"]


def test_search_is_a_case_insensitive_substring_of_id_or_description(api, log4shell, spring4shell):
    assert ids(api.get("/api/cve?search=LOG4J2")) == ["CVE-2021-44228"]
    assert ids(api.get("/api/cve?search=webflux")) == ["CVE-2022-22965"]
    assert ids(api.get("/api/cve?search=2021-442")) == ["CVE-2021-44228"]
    assert ids(api.get("/api/cve?search=cve-2022")) == ["CVE-2022-22965"]
    assert ids(api.get("/api/cve?search=no such words anywhere")) == []


def test_search_matches_an_exact_product_name_not_a_partial_one(api, log4shell, spring4shell):
    assert ids(api.get("/api/cve?search=flex_appliance")) == ["CVE-2022-22965"]
    assert ids(api.get("/api/cve?search=flex_applian")) == []


def test_vendor_and_product_filters(api, log4shell, spring4shell):
    assert ids(api.get("/api/cve?vendor=veritas&product=flex_appliance")) == ["CVE-2022-22965"]
    assert ids(api.get("/api/cve?vendor=apache")) == ["CVE-2021-44228"]
    assert ids(api.get("/api/cve?vendor=VM ware")) == ["CVE-2022-22965"]  # lower-cased, spaces removed
    assert ids(api.get("/api/cve?vendor=ORACLE")) == ["CVE-2022-22965"]
    assert ids(api.get("/api/cve?vendor=veritas&product=Flex Appliance")) == ["CVE-2022-22965"]


def test_unknown_vendor_and_product_are_404_with_the_model_name(api, log4shell, spring4shell):
    response = api.get("/api/cve?vendor=foobar")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Vendor matches the given query."}
    response = api.get("/api/cve?vendor=veritas&product=foobar")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Product matches the given query."}


def test_product_without_vendor_is_ignored(api, log4shell, spring4shell):
    assert len(ids(api.get("/api/cve?product=foobar"))) == 2


def test_cvss_filter_on_the_v31_score(api, kb_all):
    assert set(ids(api.get("/api/cve?cvss=critical"))) == {"CVE-2021-44228", "CVE-2022-22965"}
    assert set(ids(api.get("/api/cve?cvss=CRITICAL"))) == {"CVE-2021-44228", "CVE-2022-22965"}
    assert set(ids(api.get("/api/cve?cvss=high"))) == {"CVE-2022-20698", "CVE-2024-31331", "CVE-2025-48543"}
    assert set(ids(api.get("/api/cve?cvss=medium"))) == {
        "CVE-2021-34181",
        "CVE-2022-48703",
        "CVE-2023-22490",
        "CVE-2025-2239",
    }
    assert ids(api.get("/api/cve?cvss=low")) == []
    assert ids(api.get("/api/cve?cvss=empty")) == []
    assert len(ids(api.get("/api/cve?cvss=bogus"))) == 9  # other values are ignored


def test_cvss_boundaries_and_empty(api):
    scores = {
        "CVE-2000-0001": None,
        "CVE-2000-0002": 3.9,
        "CVE-2000-0003": 4.0,
        "CVE-2000-0004": 6.9,
        "CVE-2000-0005": 7.0,
        "CVE-2000-0006": 8.9,
        "CVE-2000-0007": 9.0,
        "CVE-2000-0008": 10.0,
        "CVE-2000-0009": 0.0,
    }
    for cve_id, score in scores.items():
        CveFactory(cve_id=cve_id, cvss31_score=score)
    assert set(ids(api.get("/api/cve?cvss=empty"))) == {"CVE-2000-0001"}
    assert set(ids(api.get("/api/cve?cvss=low"))) == {"CVE-2000-0002", "CVE-2000-0009"}
    assert set(ids(api.get("/api/cve?cvss=medium"))) == {"CVE-2000-0003", "CVE-2000-0004"}
    assert set(ids(api.get("/api/cve?cvss=high"))) == {"CVE-2000-0005", "CVE-2000-0006"}
    assert set(ids(api.get("/api/cve?cvss=critical"))) == {"CVE-2000-0007", "CVE-2000-0008"}


def test_weakness_filter_is_an_exact_cwe_id(api, kb_all):
    assert set(ids(api.get("/api/cve?weakness=CWE-20"))) == {"CVE-2021-44228", "CVE-2022-20698"}
    assert ids(api.get("/api/cve?weakness=CWE-2")) == []
    assert ids(api.get("/api/cve?weakness=CWE-99999")) == []


def test_filters_combine_with_and(api, kb_all):
    assert ids(api.get("/api/cve?weakness=CWE-20&cvss=critical")) == ["CVE-2021-44228"]
    assert ids(api.get("/api/cve?vendor=apache&search=spring")) == []
    assert ids(api.get("/api/cve?vendor=vmware&cvss=critical&search=spring")) == ["CVE-2022-22965"]


def test_unknown_and_empty_parameters_are_ignored(api, log4shell, spring4shell):
    assert len(ids(api.get("/api/cve?foo=bar&vendor=&search=&cvss=&weakness="))) == 2


def test_tag_is_404_for_people_until_user_tags_exist(api, log4shell):
    response = api.get("/api/cve?tag=mine")
    assert response.status_code == 404
    assert response.json() == {"detail": "No UserTag matches the given query."}


def test_detail_shape(api, log4shell):
    response = api.get("/api/cve/CVE-2021-44228")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "created_at",
        "updated_at",
        "cve_id",
        "title",
        "description",
        "metrics",
        "weaknesses",
        "vendors",
    ]
    assert body["created_at"] == "2021-12-10T00:00:00Z"
    assert body["title"].startswith("Apache Log4j2 JNDI features do not protect")
    assert body["metrics"] == {
        "kev": {"data": {}, "provider": None},
        "ssvc": {"data": {}, "provider": None},
        "cvssV2_0": {"data": {"score": 9.3, "vector": "AV:N/AC:M/Au:N/C:C/I:C/A:C"}, "provider": "nvd"},
        "cvssV3_0": {"data": {}, "provider": None},
        "cvssV3_1": {
            "data": {"score": 10.0, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"},
            "provider": "nvd",
        },
        "cvssV4_0": {"data": {}, "provider": None},
        "threat_severity": {"data": "Critical", "provider": "redhat"},
    }
    assert body["weaknesses"] == ["CWE-20", "CWE-400", "CWE-502", "CWE-917"]
    assert body["vendors"][:4] == ["apache", "apache$PRODUCT$log4j", "apple", "apple$PRODUCT$xcode"]


def test_detail_fills_absent_metrics_and_shows_epss_when_present(api, kb_all):
    body = api.get("/api/cve/CVE-2022-48703").json()
    assert body["metrics"]["epss"]["provider"] == "first"
    assert "score" in body["metrics"]["epss"]["data"]
    bare = CveFactory(metrics={})
    metrics = api.get(f"/api/cve/{bare.cve_id}").json()["metrics"]
    assert "epss" not in metrics
    assert metrics["threat_severity"] == {"data": None, "provider": None}
    assert metrics["cvssV3_1"] == {"data": {}, "provider": None}


def test_rejected_cves_are_served(api):
    CveFactory(
        cve_id="CVE-2024-0001", state="REJECTED", description="** REJECT ** Duplicate of CVE-2024-0002."
    )
    assert ids(api.get("/api/cve")) == ["CVE-2024-0001"]
    assert api.get("/api/cve/CVE-2024-0001").json()["description"].startswith("** REJECT **")


# Mathematical bold digits: Python's \d and str.isdigit() take them, the CVE JSON 5 schema's [0-9] does not.
NON_ASCII_ID = "CVE-𝟐𝟎𝟐𝟏-𝟒𝟒𝟐𝟐𝟖"


def test_a_cve_id_with_non_ascii_digits_is_a_404(api):
    # The importer never stores such an id; a row written past it must still not be served as a CVE.
    CveFactory(cve_id=NON_ASCII_ID)
    response = api.get(f"/api/cve/{NON_ASCII_ID}")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Cve matches the given query."}
