"""The CVE page on real records imported through the real importer (tests/support/real_cves.py)."""

from __future__ import annotations

import pytest

from cvewatch.catalog.models import Change, Cve, SourceRecord
from tests.factories import CveFactory
from tests.support.real_cves import ALL_CVSS, LOG4SHELL, RANGES, import_real_cves
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def real(tmp_path, owner, org):
    import_real_cves(tmp_path / "feeds")
    return client_for(owner)


def page_text(client, cve_id: str) -> str:
    response = client.get(f"/cve/{cve_id}")
    assert response.status_code == 200
    return response.content.decode()


def test_log4shell_page_explains_scores_kev_epss_and_weaknesses(real):
    text = page_text(real, LOG4SHELL)
    for expected in (
        "CVSS 3.1",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        '<th scope="row">Attack Vector</th><td>Network</td>',
        '<th scope="row">Scope</th><td>Changed</td>',
        "CVSS 2.0",
        '<th scope="row">Access Complexity</th><td>Medium</td>',  # v2: AC:M
        "Known exploited · since 2021-12-10",
        "Required action:</strong> For all affected software assets",  # from the KEV catalog's own record
        "Known use in ransomware campaigns",
        "97.57%",  # EPSS 0.97565
        "higher than 99.996% of all CVEs",  # percentile 0.99996
        'href="/weaknesses/CWE-502"',
        "Deserialization of Untrusted Data",  # the CWE catalog's name
        "<dt>Red Hat severity</dt><dd>Critical</dd>",
        "OpenCVE knowledge base",  # which source said what
        "CISA KEV catalog",
        "FIRST EPSS",
    ):
        assert expected in text, expected
    # Absent versions and absent metrics show nothing: no raw keys, no rows of dashes.
    for absent in ("CVSS 4.0", "CVSS 3.0", "cvssV", "threat_severity", "<td>—</td>"):
        assert absent not in text, absent


def test_log4shell_products_are_grouped_counted_and_collapsed(real):
    text = page_text(real, LOG4SHELL)
    cve = Cve.objects.get(cve_id=LOG4SHELL)
    products = [name for name in cve.vendors if "$PRODUCT$" in name]
    assert len(products) > 100
    assert f"{len(products)} products of " in text
    assert '<details class="more"><summary>Show ' in text  # vendors beyond the first few
    assert 'more</summary><a href="/cve?vendor=' in text  # a long product list folds
    assert "apache_software_foundation" not in text.split("Affected products")[1].split("</a>")[0]


def test_history_is_a_readable_timeline_never_the_whole_product_list(real):
    text = page_text(real, LOG4SHELL)
    history = text[text.index('id="history"') :]
    assert "Added to the catalog" in history
    assert "First CVE of " in history and " products of " in history
    assert "Show the " in history  # the long list of first-seen names is collapsed
    assert "CISA KEV entry added (since 2021-12-10)" in history
    assert Change.objects.filter(cve__cve_id=LOG4SHELL).count() == 2


def test_cna_version_ranges_are_shown_as_the_cna_wrote_them(real):
    text = page_text(real, RANGES)
    assert "Versions stated by the CNA (" in text
    assert "Before 1.23" in text  # lessThan from an open start
    assert "From 1.56.0 through 1.56.1" in text  # lessThanOrEqual
    assert "(from 1.56.2: unaffected)" in text  # changes
    assert 'class="status affected"' in text
    assert "Versions not listed: " in text


def test_all_four_cvss_versions_each_get_a_card(real):
    text = page_text(real, ALL_CVSS)
    for version in ("4.0", "3.1", "3.0", "2.0"):
        assert f'aria-label="CVSS {version}"' in text, version
    assert text.index('aria-label="CVSS 4.0"') < text.index('aria-label="CVSS 2.0"')  # newest first
    assert "Vulnerable System Impact Confidentiality" in text  # v4 metric names
    assert "CISA ADP (vulnrichment)" in text


def test_a_broken_vector_or_score_mismatch_is_shown_honestly_not_a_500(owner_client, catalog):
    CveFactory(
        cve_id="CVE-2024-9999",
        metrics={
            "cvssV3_1": {"data": {"score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:L"}, "provider": "nvd"},
            "cvssV3_0": {"data": {"score": 7.5, "vector": "CVSS:3.0/AV:Q/oops"}, "provider": "nvd"},
            "cvssV2_0": {"data": {"score": 5.0}, "provider": "nvd"},
            "ssvc": {"data": {"options": {"Exploitation": "poc", "Automatable": "no", "Technical Impact": "total"}, "version": "2.0.3"}, "provider": "vulnrichment"},
        },
        references=["javascript:alert(1)", "https://example.com/advisory"],
    )
    text = page_text(owner_client, "CVE-2024-9999")
    assert "The source gives 9.8; this vector computes to 9.4" in text
    assert "CVSS:3.0/AV:Q/oops" in text and "The vector could not be read" in text
    assert "The source gave a score without a vector." in text
    assert "Proof of concept: a public proof of concept exists" in text
    assert "Total: full control of the affected component" in text
    assert 'href="javascript:' not in text and "javascript:alert(1)</span>" in text
    assert "<strong>example.com</strong>" in text


def test_a_cve_with_nothing_but_a_description(owner_client, catalog):
    text = page_text(owner_client, "CVE-2020-0001")
    assert "No CVSS score has been published for this CVE." in text
    assert "Not in CISA's KEV catalog" in text
    assert "No per-source records are stored for this CVE." in text


def test_a_corrupt_stored_raw_record_is_skipped(real):
    SourceRecord.objects.filter(cve_id=RANGES, source="mitre").update(raw=b"not zlib")
    text = page_text(real, RANGES)
    assert "Versions stated by" not in text


def test_detail_query_count_is_pinned(real, django_assert_num_queries):
    real.get(f"/cve/{LOG4SHELL}")
    # Session and user, the CVE, its per-source records, its weaknesses' names, its changes; two for the
    # workbench panel (the person's tags, the active projects flagged as watching it); the rest are the page
    # frame's (the organization switcher, with the roles).
    with django_assert_num_queries(9):
        assert real.get(f"/cve/{LOG4SHELL}").status_code == 200
    with django_assert_num_queries(9):
        assert real.get(f"/cve/{RANGES}").status_code == 200


def test_the_header_badge_agrees_with_the_score_cards(owner_client, catalog):
    CveFactory(
        cve_id="CVE-2009-0001",
        cvss20_score=9.3,
        metrics={"cvssV2_0": {"data": {"score": 9.3, "vector": "AV:N/AC:M/Au:N/C:C/I:C/A:C"}, "provider": "nvd"}},
    )
    text = page_text(owner_client, "CVE-2009-0001")
    # CVSS 2 has no "critical": NVD's v2 scale says high, in the header as in the card.
    assert 'title="CVSS 2.0 high">v2.0 9.3 high</a>' in text and "9.3 High</span>" in text
    assert 'title="CVSS 3.1 critical">10.0 critical</a>' in page_text(owner_client, "CVE-2021-44228")
    assert "no CVSS score</span>" in page_text(owner_client, "CVE-2020-0001")


# The references.html loop that the reference_items tag replaced, kept here as the tag's reference output.
_REFERENCES_LOOP = """{% for ref in references %}{% if forloop.counter == 13 %}</ul>
  <details class="more"><summary>Show {{ references|length|add:"-12" }} more reference{{ references|length|add:"-12"|pluralize }}</summary><ul class="references">{% endif %}
    <li>{% if ref.safe %}<a href="{{ ref.url }}" rel="noopener noreferrer nofollow" target="_blank"><strong>{{ ref.host }}</strong><span class="path">{{ ref.rest }}</span></a>{% else %}<span class="mono breakable" title="Not a web link: shown as text">{{ ref.url }}</span>{% endif %}</li>
  {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("count", [1, 12, 13, 14, 40])
def test_the_reference_list_renders_as_the_template_loop_did(count):
    from django.template import Context, Template

    from cvewatch.catalog.cve_facts import references
    from cvewatch.web.templatetags.cvewatch_cve import reference_items

    urls = [f"https://h{i}.example/a?b=1&c=<{i}>\"'" + "x" * (i * 5) for i in range(count - 1)]
    refs = tuple(references(["javascript:alert('&<x>')", *urls]))
    expected = Template(_REFERENCES_LOOP).render(Context({"references": refs}))
    assert reference_items(refs) == expected
