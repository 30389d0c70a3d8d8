"""The big tables' repeated rows, rendered in Python: the CVE table's rows (with the project page's triage
cell) and the vendor list's rows, exposed by `{% cve_rows %}` and `{% vendor_rows %}` (cvewatch_lists).

A row cost ~0.5 ms as a template (a `{% url %}` reverse, filters and an include per row); here what is the
same for every row (URL prefixes, the CSRF field, the page's path, the triage options) is computed once per
table. The markup is byte for byte what the templates rendered, every value escaped as they escaped it
(`tests/web/test_rows.py`); the tables' headers and empty rows stay in the templates.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, add_truncation_text, calculate_truncate_chars_length

from cvewatch.web.templatetags.cvewatch_web import CVSS_FIELDS, cvss_badge

# What `reverse` leaves unquoted in a path (django.urls.resolvers: the `pchar` characters of RFC 3986).
_PATH_SAFE = "!$&'()*+,;=" + "/~:@"
# A stand-in for a path argument when a URL is reversed once for a whole table: only unreserved characters,
# which `reverse` leaves as they are.
_PLACEHOLDER = "CVEWATCH-ROW-ARG"


def escape(value: Any) -> str:
    """What `{{ value }}` writes: django.utils.html.conditional_escape without its lazy-string wrapper, which
    cost as much as the escaping itself at ~20 values a row."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def thousands(value: Any) -> str:
    """12345 -> "12,345"; anything not a number is shown as it is."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)


def epss_percent(value: Any) -> str:
    """An EPSS probability as a percentage: 0.97431 -> "97.4%", 0.00043 -> "0.04%"."""
    if value is None:
        return ""
    try:
        score = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{score:.1%}" if score >= 0.001 else f"{score:.2%}"


class _PathArg:
    """A named URL whose last path argument changes per row: reversed once, then completed per value
    exactly as `reverse` would (quoted) and `{% url %}` would (HTML-escaped).

    `refused` is the character the argument's converter does not match (`<str:…>` a slash, `<path:…>` a
    line break): a value with it goes through `reverse` itself, and fails as it did in the template.
    """

    def __init__(self, name: str, *args: str, refused: str) -> None:
        self.name, self.args, self.refused = name, args, refused
        self.head, _, self.tail = reverse(name, args=[*args, _PLACEHOLDER]).rpartition(_PLACEHOLDER)

    def __call__(self, value: str) -> str:
        if self.refused in value:
            return escape(reverse(self.name, args=[*self.args, value]))
        return escape(self.head + quote(value, safe=_PATH_SAFE) + self.tail)


class _Text:
    """The template filters a CVE row uses, with what they look up (the time zone, the truncation text)
    taken once per table; exactly `|date:"Y-m-d"`, `|date:"c"` and `|truncatechars:n`."""

    def __init__(self) -> None:
        self.tz = timezone.get_current_timezone()
        self.use_tz = settings.USE_TZ
        self.cut: dict[int, int] = {}

    def local(self, value: Any) -> Any:
        # timezone.template_localtime, the time zone looked up once.
        if (
            isinstance(value, dt.datetime)
            and self.use_tz
            and not timezone.is_naive(value)
            and getattr(value, "convert_to_local_time", True)
        ):
            return value.astimezone(self.tz)
        return value

    def day(self, value: Any) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, dt.date):
            value = self.local(value)
            return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        return date_filter(value, "Y-m-d")

    def iso(self, value: Any) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, dt.date):
            return str(self.local(value).isoformat())
        return date_filter(value, "c")

    def truncated(self, value: Any, length: int) -> str:
        """`value|truncatechars:length`, escaped. An ASCII text needs neither Truncator's Unicode
        normalization nor its walk over combining characters: it is cut where Truncator would cut it."""
        text = str(value)
        if not text.isascii():
            return escape(Truncator(text).chars(length))
        if len(text) <= length:
            return escape(text)
        cut = self.cut.get(length)
        if cut is None:
            cut = self.cut[length] = calculate_truncate_chars_length(length, None)
        return escape(add_truncation_text(text[:cut]))


def _epss_cell(score: Any) -> str:
    if score is None:
        return '<span class="muted" title="No EPSS score">—</span>'
    return (
        f'<span title="EPSS {escape(floatformat(score, 5))}: the probability of exploitation in the next '
        f'30 days">{escape(epss_percent(score))}</span>'
    )


def csrf_field(context: Any) -> str:
    """What `{% csrf_token %}` renders in this context."""
    return CsrfTokenNode().render(context)


class CveRows:
    """The rows of a CVE table (`web/partials/cve_table.html`), one SafeString each."""

    def __init__(self, context: Any, *, triage_column: bool = False) -> None:
        sort = context.get("sort")
        self.published = getattr(sort, "key", None) == "published"
        self.detail_url = _PathArg("web:cve_detail", refused="/")
        self.triage = _TriageCell(context) if triage_column else None
        self.text = _Text()
        # Scores repeat across a page: each badge and EPSS cell is rendered once per table.
        self.badges: dict[tuple[Any, ...], str] = {}
        self.epss: dict[Any, str] = {}

    def render(self, cves: Iterable[Any]) -> list[SafeString]:
        return [self.row(cve) for cve in cves]

    def row(self, cve: Any) -> SafeString:
        cve_id = escape(cve.cve_id)
        kev = (
            '<span class="badge kev" title="In CISA\'s Known Exploited Vulnerabilities catalog since '
            f'{escape(self.text.day(cve.kev_added))}">KEV</span>'
            if cve.kev_added
            else ""
        )
        rejected = '<span class="badge rejected">rejected</span>' if cve.state == "REJECTED" else ""
        title, description = cve.title, cve.description
        summary = f"<strong>{self.text.truncated(title, 120)}</strong>" if title else ""
        if description != title:
            summary += (
                f'{"<br>" if title else ""}<span class="muted">{self.text.truncated(description, 220)}</span>'
            )
        epss = self.epss.get(cve.epss_score)
        if epss is None:
            epss = self.epss[cve.epss_score] = _epss_cell(cve.epss_score)
        scores = tuple(getattr(cve, field) for field, _ in CVSS_FIELDS)  # what the badge reads
        badge = self.badges.get(scores)
        if badge is None:
            badge = self.badges[scores] = cvss_badge(cve)
        # The template's published cell kept the line break before its `{% else %}`.
        label, when, end = (
            ("Published", cve.created_at, "\n      ") if self.published else ("Updated", cve.updated_at, "")
        )
        date = (
            f'<td class="date muted" data-label="{label}"><time datetime="{escape(self.text.iso(when))}">'
            f"{escape(self.text.day(when))}</time></td>{end}"
        )
        triage = self.triage.cell(cve) if self.triage is not None else ""
        return mark_safe(
            f'<tr>\n      <td class="id nowrap"><a class="mono" href="{self.detail_url(cve.cve_id)}">'
            f"{cve_id}</a>\n"
            f"        {kev}\n        {rejected}</td>\n"
            f'      <td class="desc">{summary}</td>\n'
            f'      <td class="score">{badge}</td>\n'
            f'      <td class="epss num" data-label="EPSS">{epss}</td>\n'
            f"      {date}\n      {triage}\n    </tr>"
        )


class _TriageCell:
    """The project page's triage cell (was `workbench/triage_cell.html`): a status form and the assignee."""

    def __init__(self, context: Any) -> None:
        request = context["request"]
        self.triage_url = _PathArg(
            "web:cve_triage", context["organization"].name, context["project"].name, refused="/"
        )
        self.detail_url = _PathArg("web:cve_detail", refused="/")
        self.csrf = csrf_field(context)
        self.next = escape(request.get_full_path())
        choices: Sequence[tuple[str, Any]] = [(v, label) for v, label in context["triage_statuses"] if v]
        # The option list with each status selected, and with none (a status that is not a choice).
        self.options = {
            selected: "".join(
                format_html(
                    '<option value="{}"{}>{}</option>', value, " selected" if value == selected else "", label
                )
                for value, label in choices
            )
            for selected in [None, *(value for value, _ in choices)]
        }

    def cell(self, cve: Any) -> str:
        status = cve.triage_status
        options = self.options.get(status, self.options[None])
        assignee = (
            f'<span class="muted small">assigned to {escape(cve.triage_assignee)}</span>'
            if cve.triage_assignee
            else ""
        )
        cve_id, pk = escape(cve.cve_id), escape(cve.pk)
        return (
            '\n<td class="triage-cell" data-label="Triage">\n'
            f'  <form method="post" action="{self.triage_url(cve.cve_id)}" class="row-triage">{self.csrf}\n'
            f'    <input type="hidden" name="next" value="{self.next}">\n'
            f'    <label for="row-status-{pk}" class="visually-hidden">Triage status of {cve_id}</label>\n'
            f'    <select id="row-status-{pk}" name="status" class="triage-{escape(status)}" '
            "data-autosubmit>\n"
            f"      {options}\n"
            "    </select>\n"
            '    <noscript><button type="submit" class="small secondary">Set</button></noscript>\n'
            "  </form>\n"
            f"  {assignee}\n"
            f'  <a class="small" href="{self.detail_url(cve.cve_id)}#workbench-panel">history</a>\n'
            "</td>\n"
        )


class VendorRows:
    """The rows of the vendor list (`web/catalog/vendor_list.html`): (vendor, CVE count, followed) triples."""

    def __init__(self, context: Any) -> None:
        self.detail_url = _PathArg("web:vendor_detail", refused="\n")
        self.list_url = escape(reverse("web:cve_list"))
        current = context.get("current")
        self.with_form = bool(current)
        if current:
            self.project = escape(current.name)
            self.subscribe_url = escape(reverse("web:catalog_subscribe"))
            self.csrf = csrf_field(context)
            self.next = escape(context.get("next", ""))

    def render(self, rows: Iterable[tuple[Any, int, bool]]) -> list[SafeString]:
        form = self.form if self.with_form else None
        out = []
        for vendor, count, followed in rows:
            name = vendor.name
            html_name = escape(name)
            cells = (
                f'<tr><td><a href="{self.detail_url(name)}">{html_name}</a></td>\n'
                f'        <td class="num"><a href="{self.list_url}?vendor={escape(quote(name))}" '
                f'title="The CVEs of {html_name}">{escape(thousands(count))}</a></td>\n        '
            )
            out.append(mark_safe(cells + (form(html_name, followed) if form else "") + "</tr>"))
        return out

    def form(self, name: str, followed: bool) -> str:
        project = self.project
        if followed:
            action = (
                '<span class="badge subscribed">✓ subscribed</span> '
                '<button type="submit" name="action" value="unsubscribe" class="linkbutton small" '
                f'aria-label="Unsubscribe {project} from {name}">undo</button>\n          '
            )
        else:
            action = (
                '<button type="submit" name="action" value="subscribe" class="secondary small" '
                f'aria-label="Subscribe {project} to {name}">Subscribe</button>'
            )
        return (
            f'<td class="nowrap"><form method="post" action="{self.subscribe_url}" class="inline-form">'
            f"{self.csrf}\n"
            f'          <input type="hidden" name="vendor" value="{name}">'
            f'<input type="hidden" name="project" value="{project}">'
            f'<input type="hidden" name="next" value="{self.next}">\n'
            f"          {action}\n        </form></td>"
        )
