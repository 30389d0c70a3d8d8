"""RSS 2.0 and Atom documents of a CVE list (Django's feedgenerator): the newest updated CVEs, one item each.

Catalog text comes from third-party feeds: characters XML 1.0 cannot carry (C0 controls but tab, CR and LF;
lone surrogates; U+FFFE/U+FFFF) are dropped before they reach the generator, which would refuse them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import feedgenerator

FEED_ITEMS = 100
# Loaded per item: what the item shows, no JSON column.
ITEM_FIELDS = (
    "id",
    "cve_id",
    "title",
    "description",
    "created_at",
    "updated_at",
    "cvss31_score",
    "cvss40_score",
    "cvss30_score",
    "cvss20_score",
    "kev_added",
)
KINDS: dict[str, type[feedgenerator.SyndicationFeed]] = {
    "atom": feedgenerator.Atom1Feed,
    "rss": feedgenerator.Rss201rev2Feed,
}
CONTENT_TYPES = {"atom": "application/atom+xml; charset=utf-8", "rss": "application/rss+xml; charset=utf-8"}
# The list badge's order: v3.1 (the filters' score), else the newest other version, labelled.
_SCORES = (
    ("cvss31_score", ""),
    ("cvss40_score", "v4.0 "),
    ("cvss30_score", "v3.0 "),
    ("cvss20_score", "v2 "),
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """The text without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", str(value or ""))


def item_title(cve: Any) -> str:
    """`CVE-2021-44228 (CVSS 10.0): Apache Log4j2 …`; a score of another version says which."""
    score = next(
        (
            f"CVSS {label}{value:.1f}"
            for field, label in _SCORES
            if (value := getattr(cve, field)) is not None
        ),
        "no CVSS score",
    )
    title = xml_text(cve.title).strip()
    return f"{cve.cve_id} ({score})" + (f": {title}" if title else "")


def item_description(cve: Any) -> str:
    text = xml_text(cve.description).strip()
    if cve.kev_added:
        text = f"Known exploited (CISA KEV) since {cve.kev_added:%Y-%m-%d}. {text}"
    return text


def render_feed(
    *, kind: str, title: str, link: str, description: str, cves: Iterable[Any], cve_url: Callable[[str], str]
) -> bytes:
    """The feed document of these CVEs (already ordered newest update first), UTF-8."""
    feed = KINDS[kind](
        title=xml_text(title), link=link, description=xml_text(description), language="en", ttl="60"
    )
    for cve in cves:
        url = cve_url(cve.cve_id)
        feed.add_item(
            title=item_title(cve),
            link=url,
            description=item_description(cve),
            unique_id=url,
            unique_id_is_permalink=True,
            pubdate=cve.created_at,
            updateddate=cve.updated_at,
        )
    return feed.writeString("utf-8").encode()
