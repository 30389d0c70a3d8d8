"""Vendors, products and weaknesses, and their CVE lists."""

from __future__ import annotations

import pytest

from cvewatch.catalog.models import Product, Vendor, Weakness
from tests.factories import CveFactory, ProductFactory, VendorFactory, WeaknessFactory

pytestmark = pytest.mark.django_db


def names(response, key: str = "name") -> list[str]:
    assert response.status_code == 200, response.content
    return [item[key] for item in response.json()["results"]]


def test_vendor_list_is_ordered_by_name_with_the_vendor_shape(api):
    for name in ["zyxel", "apache", "microsoft"]:
        VendorFactory(name=name)
    body = api.get("/api/vendors").json()
    assert [v["name"] for v in body["results"]] == ["apache", "microsoft", "zyxel"]
    apache = Vendor.objects.get(name="apache")
    assert body["results"][0] == {
        "id": str(apache.uuid),
        "created_at": apache.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": apache.updated_at.isoformat().replace("+00:00", "Z"),
        "name": "apache",
    }


def test_vendor_detail_and_404(api, log4shell):
    body = api.get("/api/vendors/apache").json()
    assert body["name"] == "apache" and body["id"] == str(Vendor.objects.get(name="apache").uuid)
    response = api.get("/api/vendors/nobody")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Vendor matches the given query."}


def test_products_of_a_vendor_ordered_by_name(api, spring4shell):
    body = api.get("/api/vendors/oracle/products").json()
    expected = sorted(Product.objects.filter(vendor__name="oracle").values_list("name", flat=True))
    assert body["count"] == len(expected) > 10
    assert [p["name"] for p in body["results"]] == expected[:10]
    assert api.get("/api/vendors/nobody/products").json() == {"detail": "No Vendor matches the given query."}


def test_products_of_a_vendor_count_exactly_also_none_and_other_vendors_products(api):
    alone, busy = VendorFactory(name="alone"), VendorFactory(name="busy")
    for n in range(12):
        ProductFactory(vendor=busy, name=f"p{n:02d}")
    ProductFactory(vendor=VendorFactory(name="busybody"), name="p00")
    assert api.get("/api/vendors/alone/products").json() == {
        "count": 0, "next": None, "previous": None, "results": [],
    }  # fmt: skip
    body = api.get("/api/vendors/busy/products?page=2").json()
    assert body["count"] == 12 and [p["name"] for p in body["results"]] == ["p10", "p11"]
    ProductFactory(vendor=busy, name="p12")  # seen by the next request
    assert api.get("/api/vendors/busy/products").json()["count"] == 13
    assert api.get("/api/vendors/alone/products?page=2").json() == {"detail": "Invalid page."}
    assert alone.products.count() == 0


def test_product_detail_has_the_vendor_shape(api):
    product = ProductFactory(vendor=VendorFactory(name="apache"), name="log4j")
    body = api.get("/api/vendors/apache/products/log4j").json()
    assert list(body) == ["id", "created_at", "updated_at", "name"]
    assert body["id"] == str(product.uuid) and body["name"] == "log4j"
    assert api.get("/api/vendors/apache/products/nothing").json() == {
        "detail": "No Product matches the given query."
    }
    assert api.get("/api/vendors/nobody/products/log4j").json() == {
        "detail": "No Vendor matches the given query."
    }


def test_product_of_another_vendor_is_not_found(api):
    ProductFactory(vendor=VendorFactory(name="apache"), name="log4j")
    VendorFactory(name="cisco")
    assert api.get("/api/vendors/cisco/products/log4j").status_code == 404


def test_cves_of_a_vendor_and_of_a_product(api, log4shell, spring4shell):
    assert names(api.get("/api/vendors/apache/cve"), "cve_id") == ["CVE-2021-44228"]
    assert names(api.get("/api/vendors/vmware/cve"), "cve_id") == ["CVE-2022-22965"]
    assert names(api.get("/api/vendors/veritas/products/flex_appliance/cve"), "cve_id") == ["CVE-2022-22965"]
    assert api.get("/api/vendors/nobody/cve").status_code == 404
    assert api.get("/api/vendors/veritas/products/nothing/cve").json() == {
        "detail": "No Product matches the given query."
    }


def test_vendor_cves_are_ordered_by_last_modification(api):
    older = CveFactory(vendors=["acme"])
    newer = CveFactory(vendors=["acme"])
    CveFactory(vendors=["other"])
    assert names(api.get("/api/vendors/acme/cve"), "cve_id") == [newer.cve_id, older.cve_id]


def test_weaknesses_list_detail_and_cves(api, kb_all):
    WeaknessFactory(cwe_id="CWE-1000")
    cwe_ids = names(api.get("/api/weaknesses?page=1"), "cwe_id")
    assert cwe_ids == sorted(cwe_ids) and cwe_ids[0] == "CWE-1000"
    body = api.get("/api/weaknesses/CWE-79").json()
    weakness = Weakness.objects.get(cwe_id="CWE-79")
    assert body == {
        "created_at": weakness.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": weakness.updated_at.isoformat().replace("+00:00", "Z"),
        "cwe_id": "CWE-79",
    }
    assert names(api.get("/api/weaknesses/CWE-20/cve"), "cve_id") == ["CVE-2022-20698", "CVE-2021-44228"]
    assert api.get("/api/weaknesses/CWE-0").json() == {"detail": "No Weakness matches the given query."}
    assert api.get("/api/weaknesses/CWE-0/cve").status_code == 404


def test_linked_cves_reads_the_same_rows_with_either_plan(db):
    from cvewatch.catalog import selectors

    cves = [CveFactory(vendors=["acme"] if n % 3 else ["other"]) for n in range(30)]
    acme = Vendor.objects.get(name="acme")
    linked = selectors.cves_of_vendor(vendor=acme)
    expected = [
        c.cve_id
        for c in sorted(cves, key=lambda c: (c.updated_at, c.pk), reverse=True)
        if "acme" in c.vendors
    ]
    assert linked.count() == len(expected) == 20
    walk = linked.queryset(rows_needed=1)  # few rows needed: walk the index, probe the links
    fetch = linked.queryset(rows_needed=10**9)  # many: fetch the linked CVEs and sort them
    assert "EXISTS" in str(walk.query) and "EXISTS" not in str(fetch.query)
    assert [c.cve_id for c in walk] == [c.cve_id for c in fetch] == expected
    assert [c.cve_id for c in linked[5:15]] == expected[5:15]
