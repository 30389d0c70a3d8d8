"""Bar charts as inline SVG, rendered on the server: readable without JavaScript, no chart library.

Each chart is an <svg role="img"> with a <title> and a <desc> that says what it shows in words; the numbers
themselves are also printed on the bars (and the page offers them as a table). Colours come from app.css
classes, so the charts follow the stylesheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

_ids = count(1)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    css: str = ""  # an extra class of the bar ("critical", ...)
    href: str = ""  # where the bar's label links to


def _fmt(value: int) -> str:
    return f"{value:,}"


def _n(value: float) -> str:
    """A coordinate, to a tenth of a pixel."""
    return f"{value:.1f}"


def _short(value: int) -> str:
    """Axis and bar numbers: 12345 -> "12k", 1234 -> "1.2k"."""
    if value >= 10_000:
        return f"{value // 1000}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return str(value)


def column_chart(*, title: str, desc: str, bars: Sequence[Bar], x_label: str, y_label: str) -> SafeString:
    """Vertical bars left to right (years, score buckets), the value above each bar."""
    uid = next(_ids)
    width, height = 420, 240
    left, right, top, bottom = 46, 6, 18, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((b.value for b in bars), default=0) or 1
    step = plot_w / max(len(bars), 1)
    bar_w = max(step * 0.72, 1.0)
    # Label every bar when they fit, else every n-th (years: 1999 ... 2025).
    every = 1 if len(bars) <= 12 else -(-len(bars) // 8)
    parts = []
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / peak
        x = left + i * step + (step - bar_w) / 2
        y = top + plot_h - h
        parts.append(
            format_html(
                '<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>',
                bar.css, _n(x), _n(y), _n(bar_w), _n(h), bar.label, _fmt(bar.value),
            )
        )  # fmt: skip
        if i % every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle">{}</text>', _n(x + bar_w / 2), top + plot_h + 14, bar.label
                )
            )
            if len(bars) <= 12 or bar.value == peak:
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" text-anchor="middle">{}</text>', _n(x + bar_w / 2), _n(y - 4), _short(bar.value)
                    )
                )
    axes = format_html(
        '<line class="axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"/><line class="axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"/>'
        '<text x="{l2}" y="{t2}" text-anchor="end">{peak}</text><text x="{l2}" y="{b}" text-anchor="end">0</text>'
        '<text x="{cx}" y="{xl}" text-anchor="middle">{x_label}</text>'
        '<text x="12" y="{cy}" text-anchor="middle" transform="rotate(-90 12 {cy})">{y_label}</text>',
        l=left, r=width - right, t=top, b=top + plot_h, l2=left - 4, t2=top + 4, peak=_short(peak),
        cx=_n(left + plot_w / 2), xl=height - 8, cy=_n(top + plot_h / 2), x_label=x_label, y_label=y_label,
    )  # fmt: skip
    return _svg(uid, width, height, title, desc, mark_safe(axes + "".join(parts)))


def bar_chart(*, title: str, desc: str, bars: Sequence[Bar], x_label: str) -> SafeString:
    """Horizontal bars top to bottom (top vendors, top weaknesses), the label left, the value right."""
    uid = next(_ids)
    row, label_w, value_w = 24, 128, 50
    width = 420
    top, bottom = 6, 30
    height = top + row * len(bars) + bottom
    plot_w = width - label_w - value_w
    peak = max((b.value for b in bars), default=0) or 1
    parts = []
    for i, bar in enumerate(bars):
        y = top + i * row
        w = max(plot_w * bar.value / peak, 1.0)
        label = bar.label if len(bar.label) <= 18 else bar.label[:17] + "…"
        text = format_html('<text x="{}" y="{}" text-anchor="end">{}</text>', label_w - 6, y + 16, label)
        if bar.href:
            text = format_html('<a href="{}">{}</a>', bar.href, text)
        parts.append(text)
        parts.append(
            format_html(
                '<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>',
                bar.css, label_w, y + 3, _n(w), row - 6, bar.label, _fmt(bar.value),
            )
        )  # fmt: skip
        parts.append(format_html('<text x="{}" y="{}">{}</text>', _n(label_w + w + 4), y + 16, _fmt(bar.value)))
    axis = format_html(
        '<line class="axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"/><text x="{cx}" y="{xl}" text-anchor="middle">{x_label}</text>',
        l=label_w, t=top, b=top + row * len(bars), cx=_n(label_w + plot_w / 2), xl=height - 8, x_label=x_label,
    )  # fmt: skip
    return _svg(uid, width, height, title, desc, mark_safe(axis + "".join(parts)))


def _svg(uid: int, width: int, height: int, title: str, desc: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
        'aria-labelledby="chart{uid}-title chart{uid}-desc"><title id="chart{uid}-title">{title}</title>'
        '<desc id="chart{uid}-desc">{desc}</desc>{body}</svg>',
        w=width, h=height, uid=uid, title=title, desc=desc, body=body,
    )  # fmt: skip


def rows_table(*, caption: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> SafeString:
    """The chart's numbers as a small table (the page puts it in a <details>)."""
    head = format_html_join("", "<th scope=\"col\">{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((_fmt(c) if isinstance(c, int) else c,) for c in r)),) for r in rows),
    )
    return format_html(
        '<table><caption class="visually-hidden">{}</caption><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        caption, head, body,
    )  # fmt: skip
