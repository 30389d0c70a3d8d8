"""The big tables' rows rendered in Python (web/rows.py): escaped as the templates escaped them, every branch
of the CVE row, the triage cell and the vendor row, and byte for byte what the templates they replaced
rendered (kept here as the reference)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.template import Context, engines
from django.template.defaultfilters import date as date_filter
from django.test import RequestFactory
from django.utils import timezone
from django.utils.text import Truncator

from cvewatch.catalog.ordering import CveSort
from cvewatch.web import rows
from cvewatch.web.forms_workbench import TRIAGE_FILTER_CHOICES

HOSTILE = "<script>alert(\"x&y\")</script> 'quoted' ü"
HOSTILE_VENDOR = "<b>&\"' x ü/ä?q=1#f%20+"

# The templates' rows before they moved to web/rows.py (cve_table.html with triage_cell.html inlined, and
# vendor_list.html): the renderers must produce exactly what these did.
CVE_ROW_TEMPLATE = """{% load cvewatch_web cvewatch_lists %}{% for cve in cves %}
    <tr>
      <td class="id nowrap"><a class="mono" href="{% url 'web:cve_detail' cve.cve_id %}">{{ cve.cve_id }}</a>
        {% if cve.kev_added %}<span class="badge kev" title="In CISA's Known Exploited Vulnerabilities catalog since {{ cve.kev_added|date:'Y-m-d' }}">KEV</span>{% endif %}
        {% if cve.state == 'REJECTED' %}<span class="badge rejected">rejected</span>{% endif %}</td>
      <td class="desc">{% if cve.title %}<strong>{{ cve.title|truncatechars:120 }}</strong>{% endif %}{% if cve.description != cve.title %}{% if cve.title %}<br>{% endif %}<span class="muted">{{ cve.description|truncatechars:220 }}</span>{% endif %}</td>
      <td class="score">{% cvss_badge cve %}</td>
      <td class="epss num" data-label="EPSS">{% if cve.epss_score is not None %}<span title="EPSS {{ cve.epss_score|floatformat:5 }}: the probability of exploitation in the next 30 days">{{ cve.epss_score|epss_percent }}</span>{% else %}<span class="muted" title="No EPSS score">—</span>{% endif %}</td>
      {% if sort.key == "published" %}<td class="date muted" data-label="Published"><time datetime="{{ cve.created_at|date:'c' }}">{{ cve.created_at|date:"Y-m-d" }}</time></td>
      {% else %}<td class="date muted" data-label="Updated"><time datetime="{{ cve.updated_at|date:'c' }}">{{ cve.updated_at|date:"Y-m-d" }}</time></td>{% endif %}
      {% if triage_column %}
<td class="triage-cell" data-label="Triage">
  <form method="post" action="{% url 'web:cve_triage' organization.name project.name cve.cve_id %}" class="row-triage">{% csrf_token %}
    <input type="hidden" name="next" value="{{ request.get_full_path }}">
    <label for="row-status-{{ cve.pk }}" class="visually-hidden">Triage status of {{ cve.cve_id }}</label>
    <select id="row-status-{{ cve.pk }}" name="status" class="triage-{{ cve.triage_status }}" data-autosubmit>
      {% for value, label in triage_statuses %}{% if value %}<option value="{{ value }}"{% if value == cve.triage_status %} selected{% endif %}>{{ label }}</option>{% endif %}{% endfor %}
    </select>
    <noscript><button type="submit" class="small secondary">Set</button></noscript>
  </form>
  {% if cve.triage_assignee %}<span class="muted small">assigned to {{ cve.triage_assignee }}</span>{% endif %}
  <a class="small" href="{% url 'web:cve_detail' cve.cve_id %}#workbench-panel">history</a>
</td>
{% endif %}
    </tr>
  {% endfor %}"""

VENDOR_ROW_TEMPLATE = """{% load cvewatch_lists %}{% for vendor, count, followed in rows %}
    <tr><td><a href="{% url 'web:vendor_detail' vendor.name %}">{{ vendor.name }}</a></td>
        <td class="num"><a href="{% url 'web:cve_list' %}?vendor={{ vendor.name|urlencode }}" title="The CVEs of {{ vendor.name }}">{{ count|thousands }}</a></td>
        {% if current %}<td class="nowrap"><form method="post" action="{% url 'web:catalog_subscribe' %}" class="inline-form">{% csrf_token %}
          <input type="hidden" name="vendor" value="{{ vendor.name }}"><input type="hidden" name="project" value="{{ current.name }}"><input type="hidden" name="next" value="{{ next }}">
          {% if followed %}<span class="badge subscribed">✓ subscribed</span> <button type="submit" name="action" value="unsubscribe" class="linkbutton small" aria-label="Unsubscribe {{ current.name }} from {{ vendor.name }}">undo</button>
          {% else %}<button type="submit" name="action" value="subscribe" class="secondary small" aria-label="Subscribe {{ current.name }} to {{ vendor.name }}">Subscribe</button>{% endif %}
        </form></td>{% endif %}</tr>
  {% endfor %}"""

WHEN = dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.UTC)


def cve(**fields):
    values = {
        "pk": 7,
        "cve_id": "CVE-2024-1234",
        "title": "",
        "description": "A flaw.",
        "kev_added": None,
        "state": "PUBLISHED",
        "epss_score": None,
        "cvss31_score": None,
        "cvss40_score": None,
        "cvss30_score": None,
        "cvss20_score": None,
        "created_at": WHEN - dt.timedelta(days=40),
        "updated_at": WHEN,
        "triage_status": "to_evaluate",
        "triage_assignee": "",
    }
    return SimpleNamespace(**{**values, **fields})


def context(*, sort: str = "updated", path: str = "/org/acme/projects/web?status=fixed&q=<b>\"'", **extra):
    request = RequestFactory().get(path)
    return Context(
        {
            "request": request,
            "sort": CveSort.from_params({"sort": sort}),
            "csrf_token": "tok<&>",
            "organization": SimpleNamespace(name="acme"),
            "project": SimpleNamespace(name="web"),
            "triage_statuses": TRIAGE_FILTER_CHOICES,
            **extra,
        }
    )


def cve_row(item, *, triage: bool = False, **ctx) -> str:
    return rows.CveRows(context(**ctx), triage_column=triage).row(item)


def reference_cve_row(item, *, triage: bool = False, **ctx) -> str:
    c = context(**ctx)
    c.update({"cves": [item], "triage_column": triage})
    html = engines["django"].from_string(CVE_ROW_TEMPLATE).template.render(c)
    assert html.startswith("\n    ") and html.endswith("\n  ")
    return html[5:-3]


CASES = [
    cve(),
    cve(title=HOSTILE * 10, description=HOSTILE * 20, kev_added=dt.date(2021, 12, 10), state="REJECTED"),
    cve(title="Same", description="Same", cvss31_score=9.8, epss_score=0.97431),
    cve(title="", description="<i>only</i>", cvss20_score=5.0, epss_score=0.00043),
    cve(epss_score=0.0, cvss40_score=0.0, triage_status="resolved", triage_assignee="ev<i>l&'\""),
    cve(triage_status="not-a-status", pk=99, cve_id="CVE-2024-99999"),
]


@pytest.mark.parametrize("item", CASES)
@pytest.mark.parametrize("sort", ["updated", "published"])
@pytest.mark.parametrize("triage", [False, True])
def test_cve_row_is_what_the_template_rendered(item, sort, triage):
    assert cve_row(item, triage=triage, sort=sort) == reference_cve_row(item, triage=triage, sort=sort)


def test_cve_row_in_another_time_zone_is_what_the_template_rendered():
    with timezone.override("Asia/Tokyo"):
        row = cve_row(cve(), sort="published")
        assert row == reference_cve_row(cve(), sort="published")
    assert 'datetime="2024-01-22T08:30:00+09:00">2024-01-22<' in row


def test_cve_row_escapes_hostile_titles_and_descriptions():
    row = cve_row(cve(title=HOSTILE, description='<img src=x onerror="a&b">'))
    assert "<script>" not in row and "<img" not in row
    assert (
        "<strong>&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; &#x27;quoted&#x27; ü</strong>" in row
    )
    assert '<br><span class="muted">&lt;img src=x onerror=&quot;a&amp;b&quot;&gt;</span>' in row


def test_cve_row_truncates_title_and_description():
    row = cve_row(cve(title="t" * 200, description="d" * 300))
    assert f"<strong>{'t' * 119}…</strong>" in row
    assert f'<span class="muted">{"d" * 219}…</span>' in row


def test_cve_row_shows_description_alone_without_title_and_title_alone_when_equal():
    assert '<td class="desc"><span class="muted">A flaw.</span></td>' in cve_row(cve())
    assert '<td class="desc"><strong>Same</strong></td>' in cve_row(cve(title="Same", description="Same"))


def test_cve_row_badges():
    row = cve_row(cve(kev_added=dt.date(2021, 12, 10), state="REJECTED"))
    assert 'title="In CISA\'s Known Exploited Vulnerabilities catalog since 2021-12-10">KEV</span>' in row
    assert '<span class="badge rejected">rejected</span>' in row
    plain = cve_row(cve())
    assert "KEV" not in plain and "rejected" not in plain


def test_cve_row_scores():
    assert '<span class="badge" title="No CVSS score">n/a</span>' in cve_row(cve())
    assert '<span class="muted" title="No EPSS score">—</span>' in cve_row(cve())
    row = cve_row(cve(cvss31_score=9.8, epss_score=0.97431))
    assert '<span class="badge critical" title="CVSS v3.1 critical">9.8 critical</span>' in row
    assert (
        '<span title="EPSS 0.97431: the probability of exploitation in the next 30 days">97.4%</span>' in row
    )
    assert ">0.04%</span>" in cve_row(cve(epss_score=0.00043))
    assert (
        'title="EPSS 0.00000: the probability of exploitation in the next 30 days">0.00%</span>'
        in cve_row(cve(epss_score=0.0))
    )


def test_cve_row_date_column_follows_the_sort():
    item = cve()
    updated = cve_row(item, sort="updated")
    assert (
        '<td class="date muted" data-label="Updated"><time datetime="2024-03-01T23:30:00+00:00">2024-03-01</time>'
        in (updated)
    )
    published = cve_row(item, sort="published")
    assert (
        '<td class="date muted" data-label="Published"><time datetime="2024-01-21T23:30:00+00:00">'
        in published
    )
    assert "Updated" not in published and "Published" not in updated


def test_triage_cell_selects_the_status_and_shows_the_assignee():
    row = cve_row(cve(triage_status="resolved", triage_assignee="ev<i>l&'\""), triage=True)
    assert row.count(" selected") == 1
    assert '<option value="resolved" selected>' in row
    assert '<select id="row-status-7" name="status" class="triage-resolved" data-autosubmit>' in row
    assert '<span class="muted small">assigned to ev&lt;i&gt;l&amp;&#x27;&quot;</span>' in row
    assert 'action="/org/acme/projects/web/triage/CVE-2024-1234"' in row
    assert '<input type="hidden" name="csrfmiddlewaretoken" value="tok&lt;&amp;&gt;">' in row
    assert (
        '<input type="hidden" name="next" value="/org/acme/projects/web?status=fixed&amp;q=%3Cb%3E%22&#x27;">'
        in row
    )
    unassigned = cve_row(cve(), triage=True)
    assert "assigned to" not in unassigned
    assert '<option value="to_evaluate" selected>' in unassigned and unassigned.count(" selected") == 1
    assert " selected" not in cve_row(cve(triage_status="unknown"), triage=True)
    assert "triage-cell" not in cve_row(cve())


def vendor_rows(triples, **ctx) -> str:
    return "".join(f"\n    {row}\n  " for row in rows.VendorRows(context(**ctx)).render(triples))


def reference_vendor_rows(triples, **ctx) -> str:
    c = context(**ctx)
    c.update({"rows": triples})
    return engines["django"].from_string(VENDOR_ROW_TEMPLATE).template.render(c)


VENDORS = [
    (SimpleNamespace(name=HOSTILE_VENDOR), 1234567, True),
    (SimpleNamespace(name="microsoft"), 0, False),
    (SimpleNamespace(name="a b/c?d=e&f#g%h+i ü"), 12, True),
]


@pytest.mark.parametrize("current", [None, SimpleNamespace(name="web")])
def test_vendor_rows_are_what_the_template_rendered(current):
    extra = {"current": current, "next": "/vendors?search=<b>&page=2"}
    assert vendor_rows(VENDORS, **extra) == reference_vendor_rows(VENDORS, **extra)


def test_vendor_rows_quote_and_escape_the_name():
    html = vendor_rows(VENDORS[:1], current=SimpleNamespace(name="web"), next="/vendors?a=1&b=<")
    assert '<a href="/vendors/%3Cb%3E&amp;%22&#x27;%20x%20%C3%BC/%C3%A4%3Fq=1%23f%2520+">' in html
    assert ">&lt;b&gt;&amp;&quot;&#x27; x ü/ä?q=1#f%20+</a>" in html
    assert 'href="/cve?vendor=%3Cb%3E%26%22%27%20x%20%C3%BC/%C3%A4%3Fq%3D1%23f%2520%2B"' in html
    assert ">1,234,567</a>" in html
    assert '<input type="hidden" name="vendor" value="&lt;b&gt;&amp;&quot;&#x27; x ü/ä?q=1#f%20+">' in html
    assert '<input type="hidden" name="next" value="/vendors?a=1&amp;b=&lt;">' in html
    assert "✓ subscribed" in html and 'value="unsubscribe"' in html
    assert "<b>" not in html


def test_vendor_rows_without_a_current_project_have_no_form():
    html = vendor_rows(VENDORS, current=None)
    assert "<form" not in html and "csrfmiddlewaretoken" not in html
    followed = vendor_rows(VENDORS[1:2], current=SimpleNamespace(name="web"))
    assert 'value="subscribe"' in followed and "subscribed</span>" not in followed


@pytest.mark.parametrize("length", [1, 2, 5, 120, 220])
def test_truncation_is_truncatechars(length):
    texts = [
        "",
        "a",
        "<&>",
        "x" * (length - 1),
        "x" * length,
        "x" * (length + 1),
        "y" * 500,
        "e\u0301" * length,
    ]
    texts += ["é" * (length + 3), "ü<" * length, "a" * (length - 1) + "é", "a" * length + "e\u0301\u0301"]
    text = rows._Text()
    for value in texts:
        assert text.truncated(value, length) == rows.escape(Truncator(value).chars(length)), value


def test_dates_are_the_date_filter():
    values = [WHEN, dt.date(2021, 12, 10), dt.datetime(2024, 1, 1, 0, 30, tzinfo=dt.UTC), None, ""]
    with timezone.override("America/New_York"):
        text = rows._Text()
        for value in values:
            local = timezone.template_localtime(value)
            assert text.day(value) == date_filter(local, "Y-m-d")
            assert text.iso(value) == date_filter(local, "c")
        assert text.day(values[2]) == "2023-12-31"
