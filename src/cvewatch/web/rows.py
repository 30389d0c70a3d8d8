"""The big tables' repeated rows, rendered in Python: the CVE table's rows (with the project page's triage
cell) and the vendor list's rows, exposed by `{% cve_rows %}` and `{% vendor_rows %}` (cvewatch_lists).

A row cost ~0.5 ms as a template (a `{% url %}` reverse, filters and an include per row); here what is the
same for every row (URL prefixes, the CSRF field, the page's path, the triage options) is computed once per
table. The markup is byte for byte what the templates rendered, every value escaped as they escaped it
(`tests/web/test_rows.py`); the tables' headers and empty rows stay in the templates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from django.template.defaultfilters import floatformat
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils import dateformat
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timezone import template_localtime

from cvewatch.web.templatetags.cvewatch_web import cvss_badge

# What `reverse` leaves unquoted in a path (django.urls.resolvers: the `pchar` characters of RFC 3986).
_PATH_SAFE = "!$&'()*+,;=" + "/~:@"
# A stand-in for a path argument when a URL is reversed once for a whole table: only unreserved characters,
# which `reverse` leaves as they are.
_PLACEHOLDER = "CVEWATCH-ROW-ARG"


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

    `refused` are the characters the argument's converter does not match (`<str:…>` a slash, `<path:…>` a
    line break): a value with one goes through `reverse` itself, and fails as it did in the template.
    """

    def __init__(self, name: str, *args: str, refused: str) -> None:
        self.name, self.args, self.refused = name, args, refused
        self.head, _, self.tail = reverse(name, args=[*args, _PLACEHOLDER]).rpartition(_PLACEHOLDER)

    def __call__(self, value: str) -> str:
        if any(char in value for char in self.refused):
            return escape(reverse(self.name, args=[*self.args, value]))
        return escape(self.head + quote(value, safe=_PATH_SAFE) + self.tail)


def _date(value: Any, fmt: str) -> str:
    # The template's `|date:fmt`: an aware datetime is shown in the current time zone first.
    if not value:
        return ""
    try:
        return dateformat.format(template_localtime(value), fmt)
    except AttributeError:
        return ""


def _truncated(value: Any, length: int) -> str:
    return escape(Truncator(value).chars(length))


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

    def render(self, cves: Iterable[Any]) -> list[SafeString]:
        return [self.row(cve) for cve in cves]

    def row(self, cve: Any) -> SafeString:
        cve_id = escape(cve.cve_id)
        kev = (
            format_html(
                '<span class="badge kev" title="In CISA\'s Known Exploited Vulnerabilities catalog since {}">'
                "KEV</span>",
                _date(cve.kev_added, "Y-m-d"),
            )
            if cve.kev_added
            else ""
        )
        rejected = '<span class="badge rejected">rejected</span>' if cve.state == "REJECTED" else ""
        title, description = cve.title, cve.description
        summary = f"<strong>{_truncated(title, 120)}</strong>" if title else ""
        if description != title:
            summary += f'{"<br>" if title else ""}<span class="muted">{_truncated(description, 220)}</span>'
        if cve.epss_score is not None:
            epss = format_html(
                '<span title="EPSS {}: the probability of exploitation in the next 30 days">{}</span>',
                floatformat(cve.epss_score, 5),
                epss_percent(cve.epss_score),
            )
        else:
            epss = '<span class="muted" title="No EPSS score">—</span>'
        # The template's published cell kept the line break before its `{% else %}`.
        label, when, end = (
            ("Published", cve.created_at, "\n      ") if self.published else ("Updated", cve.updated_at, "")
        )
        date = (
            f'<td class="date muted" data-label="{label}"><time datetime="{escape(_date(when, "c"))}">'
            f"{escape(_date(when, 'Y-m-d'))}</time></td>{end}"
        )
        triage = self.triage.cell(cve) if self.triage is not None else ""
        return mark_safe(
            f'<tr>\n      <td class="id nowrap"><a class="mono" href="{self.detail_url(cve.cve_id)}">'
            f"{cve_id}</a>\n"
            f"        {kev}\n        {rejected}</td>\n"
            f'      <td class="desc">{summary}</td>\n'
            f'      <td class="score">{cvss_badge(cve)}</td>\n'
            f'      <td class="epss num" data-label="EPSS">{epss}</td>\n'
            f"      {date}\n      {triage}\n    </tr>"
        )


class _TriageCell:
    """The project page's triage cell (`web/workbench/triage_cell.html`): a status form and the assignee."""

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
        if current:
            self.project = escape(current.name)
            self.subscribe_url = escape(reverse("web:catalog_subscribe"))
            self.csrf = csrf_field(context)
            self.next = escape(context.get("next", ""))

    def render(self, rows: Iterable[tuple[Any, int, bool]]) -> list[SafeString]:
        form = self.form if hasattr(self, "project") else None
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
