"""Whatever access path `search` and the query language's text fields take, the answer is a plain icontains scan's.

The reference is written without catalog.search: Django's icontains on catalog_cve's own columns (ASCII
case folding on SQLite, UPPER on PostgreSQL) plus the exact vendor/product name, every match in list order.
The terms cover punctuation, LIKE wildcards and the escape character, non-ASCII letters, 1–3 characters, a
term spanning the id and the description, and terms that match through names only.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q

from cvewatch.catalog import search, selectors
from cvewatch.catalog.filters import CveFilter
from cvewatch.catalog.models import Cve, CveVendor, Vendor
from tests.factories import BASE_TIME, CveFactory

pytestmark = pytest.mark.django_db

TEXTS = [
    (
        "CVE-2021-44228",
        "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP",
        ["apache"],
    ),
    ("CVE-2021-45046", "Log4j 2.15.0 was incomplete in certain non-default configurations", ["apache"]),
    ("CVE-2022-22965", "Spring Framework RCE via Data Binding on JDK 9+", ["vmware"]),
    ("CVE-2023-0001", "Buffer overflow in the parser: 100% CPU with a_b and a\\b paths", ["microsoft"]),
    ("CVE-2023-0002", "Ünïcode naïve Straße handling in ÉTÉ and été; ﬁle ligature, İstanbul", []),
    (
        "CVE-2023-0003",
        "SQL injection (sqli) via 'id' parameter; <script>alert(1)</script> XSS",
        ["wordpress"],
    ),
    ("CVE-2023-0004", "Remote code execution in Microsoft Exchange Server", ["microsoft"]),
    ("CVE-2023-0005", "Heap-based buffer over-read; see CVE-2021-44228 for the class", []),
    ("CVE-2023-0006", "", ["linux"]),
    ("CVE-2023-0007", 'Tab\tand\nnewline, quote " and backtick `x` and percent %d', []),
]
TERMS = [
    "buffer", "BUFFER", "Buffer overflow", "remote code execution", "microsoft", "Microsoft", "apache",
    "linux", "wordpress", "CVE-2021-44", "cve-2021-4", "2021-44228", "2023-000", "-", "e", "xs", "xss",
    "sql", "100%", "%", "_", "a_b", "a\\b", "\\", "%d", "'id'", "<script>", "(sqli)", "\"", "`x`", "9+",
    "Ünïcode", "ünïcode", "naïve", "NAÏVE", "straße", "STRASSE", "été", "ÉTÉ", "ﬁle", "İstanbul",
    "istanbul", "tab\tand", "newline", "0006", "no such text anywhere", "zz", "ve-2", "j2",
]  # fmt: skip


@pytest.fixture
def catalog() -> list[Cve]:
    return [
        CveFactory(
            cve_id=cve_id,
            description=text,
            title=f"T{n} {text[:20]}",
            vendors=vendors,
            created_at=BASE_TIME + timedelta(hours=n),
            updated_at=BASE_TIME + timedelta(days=1, hours=(n * 7) % 10),
        )
        for n, (cve_id, text, vendors) in enumerate(TEXTS)
    ]


def reference(term: str) -> list[str]:
    """The contract's search read the slow, obvious way: every CVE tested, newest modification first."""
    name = term.lower()
    condition = (
        Q(cve_id__icontains=term)
        | Q(description__icontains=term)
        | Q(vendor_links__name=name)
        | Q(product_links__name=name)
    )
    ids = Cve.objects.filter(condition).values_list("pk", flat=True)
    return list(
        Cve.objects.filter(pk__in=list(ids)).order_by("-updated_at", "-id").values_list("cve_id", flat=True)
    )


@pytest.mark.parametrize("term", TERMS)
def test_search_answers_what_a_plain_scan_answers(catalog, term):
    expected = reference(term)
    listing = selectors.searched_cves(term=term)
    assert listing.count() == len(expected)
    assert [c.cve_id for c in listing.queryset(rows_needed=1)] == expected  # the walk plan
    assert [c.cve_id for c in listing.queryset(rows_needed=10**9)] == expected  # the fetch plan
    combined = CveFilter(search=term).apply(selectors.cve_list())  # search with other filters
    assert list(combined.values_list("cve_id", flat=True)) == expected


@pytest.mark.parametrize("column", ["description", "title", "cve_id"])
@pytest.mark.parametrize("term", TERMS)
def test_text_fields_answer_what_icontains_answers(catalog, column, term):
    expected = set(Cve.objects.filter(**{f"{column}__icontains": term}).values_list("cve_id", flat=True))
    found = set(Cve.objects.filter(search.column_contains(column, term)).values_list("cve_id", flat=True))
    assert found == expected


def test_the_api_answers_what_a_plain_scan_answers(catalog, api):
    for term in ["buffer", "microsoft", "CVE-2021-44", "e", "100%", "naïve"]:
        body = api.get("/api/cve", {"search": term}).json()
        assert body["count"] == len(reference(term))
        assert [item["cve_id"] for item in body["results"]] == reference(term)[:10]


def test_a_changed_description_changes_the_answer_at_once(catalog, api):
    assert api.get("/api/cve", {"search": "buffer"}).json()["count"] == 2
    Cve.objects.filter(cve_id="CVE-2023-0006").update(description="A new buffer overflow")
    assert api.get("/api/cve", {"search": "buffer"}).json()["count"] == 3
    Cve.objects.filter(cve_id="CVE-2023-0001").delete()
    assert api.get("/api/cve", {"search": "buffer"}).json()["count"] == 2
    CveFactory(cve_id="CVE-2023-0100", description="yet another BUFFER")
    assert api.get("/api/cve", {"search": "buffer"}).json()["count"] == 3


def test_a_new_vendor_link_changes_the_answer_at_once(catalog, api):
    assert api.get("/api/cve", {"search": "linux"}).json()["count"] == 1
    linux = Vendor.objects.get(name="linux")
    CveVendor.objects.create(cve=Cve.objects.get(cve_id="CVE-2023-0007"), vendor=linux)
    assert api.get("/api/cve", {"search": "linux"}).json()["count"] == 2
    CveVendor.objects.filter(vendor=linux).delete()
    assert api.get("/api/cve", {"search": "linux"}).json()["count"] == 0
