"""The weaknesses pages: search by id or name, CVE counts, one weakness with its CVEs; query counts pinned."""

from __future__ import annotations

import pytest

from cvewatch.catalog import selectors
from cvewatch.catalog.models import Weakness
from tests.factories import CveFactory, WeaknessFactory
from tests.support.engines import UNFILED_COUNT

pytestmark = pytest.mark.django_db


@pytest.fixture
def weaknesses(catalog):
    selectors.forget_weakness_cve_totals()  # counted per process, at most every few minutes
    for cwe_id, name in (
        ("CWE-79", "Improper Neutralization of Input During Web Page Generation"),
        ("CWE-502", "Deserialization of Untrusted Data"),  # the catalog's CVEs already name CWE-502 and 94
        ("CWE-1004", "Sensitive Cookie Without 'HttpOnly' Flag"),
    ):
        Weakness.objects.update_or_create(cwe_id=cwe_id, defaults={"name": name})
    for n in range(60):
        WeaknessFactory(cwe_id=f"CWE-{2000 + n}", name=f"Filler weakness {n}")
    for _ in range(3):
        CveFactory(weaknesses=["CWE-79"])
    return catalog


def test_list_is_in_cwe_number_order_with_counts(owner_client, weaknesses):
    response = owner_client.get("/weaknesses")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [w.cwe_id for w, _ in rows[:4]] == ["CWE-79", "CWE-94", "CWE-502", "CWE-1004"]  # not CWE-1004 first
    assert dict((w.cwe_id, n) for w, n in rows)["CWE-79"] == 3
    assert response.context["page"].paginator.count == 64 and len(rows) == 50
    assert b"Page 1 of 2" in response.content


def test_search_by_number_id_or_name(owner_client, weaknesses):
    def found(term: str) -> list[str]:
        return [w.cwe_id for w, _ in owner_client.get("/weaknesses", {"search": term}).context["rows"]]

    assert found("79")[0] == "CWE-79"  # the exact id first, then ids containing it
    assert found("cwe-502") == ["CWE-502"]
    assert found("DESERIAL") == ["CWE-502"]
    assert found("'httponly'") == ["CWE-1004"]
    assert found("no such thing") == []
    text = owner_client.get("/weaknesses", {"search": "<script>%", "page": "x"}).content.decode()
    assert "No weakness matches." in text and "<script>%" not in text


def test_order_by_most_cves(owner_client, weaknesses):
    response = owner_client.get("/weaknesses", {"order": "cves"})
    rows = [(w.cwe_id, n) for w, n in response.context["rows"]]
    assert rows[0] == ("CWE-79", 3) and {rows[1][0], rows[2][0]} == {"CWE-502", "CWE-94"}
    assert rows[3][1] == 0
    assert b"?order=cves&amp;page=2" in response.content  # paging keeps the order
    searched = owner_client.get("/weaknesses", {"order": "cves", "search": "filler weakness 1"})
    assert b"?search=filler+weakness+1&amp;order=cves&amp;page=2" not in searched.content  # one page only
    assert [w.cwe_id for w, _ in searched.context["rows"]][0] == "CWE-2001"
    assert owner_client.get("/weaknesses", {"order": "bogus"}).context["order"] == "number"


def test_counts_have_thousands_separators(owner_client, weaknesses):
    from cvewatch.web.templatetags.cvewatch_web import thousands

    assert thousands(12345) == "12,345" and thousands("n/a") == "n/a"


def test_detail_lists_its_cves_and_spellings_redirect(owner_client, weaknesses):
    response = owner_client.get("/weaknesses/CWE-79")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3
    assert b"Improper Neutralization of Input" in response.content
    assert owner_client.get("/weaknesses/79")["Location"] == "/weaknesses/CWE-79"
    assert owner_client.get("/weaknesses/cwe-502")["Location"] == "/weaknesses/CWE-502"
    assert owner_client.get("/weaknesses/CWE-9999999").status_code == 404
    assert owner_client.get("/weaknesses/%3Cx%3E").status_code == 404


def test_pages_need_a_sign_in(client, weaknesses):
    assert client.get("/weaknesses")["Location"].startswith("/login")
    assert client.get("/weaknesses/CWE-79")["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        # Session and user; count, page, the page's CVE counts; the organization switcher's read (with roles).
        ("/weaknesses", 6),
        ("/weaknesses?search=weakness&page=2", 6),
        ("/weaknesses?order=cves&page=2", 5),  # matching ids, the page's rows (the totals are cached)
        # Session and user; the weakness; count and page of its CVEs; the switcher's read.
        ("/weaknesses/CWE-79", 6 + UNFILED_COUNT),
    ],
)
def test_query_counts_are_pinned(owner_client, weaknesses, path, queries, django_assert_num_queries):
    owner_client.get(path)
    with django_assert_num_queries(queries):
        assert owner_client.get(path).status_code == 200
