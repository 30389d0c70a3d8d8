"""The orders of a CVE list, in one place: `sort=updated|published|cvss|epss` and `dir=desc|asc`.

    CveSort.from_params(request.GET).apply(listing)

Every order ends with the id in the same direction, so pages are stable. A CVE without the sorted score
comes last when sorting from the highest score and first when sorting from the lowest, on both engines:
that is SQLite's own NULL order, and PostgreSQL's index `(score DESC NULLS LAST, id DESC)` read backwards.
One index per order serves both directions (migration 0004_l_sort_indexes). `cvss` is the v3.1 base score,
as the `cvss` filter's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy

# sort value -> (Cve field, may be NULL)
SORTS: dict[str, tuple[str, bool]] = {
    "updated": ("updated_at", False),
    "published": ("created_at", False),
    "cvss": ("cvss31_score", True),
    "epss": ("epss_score", True),
}
SORT_LABELS = {"updated": "Last modified", "published": "Published", "cvss": "CVSS v3.1", "epss": "EPSS"}
DEFAULT_SORT = "updated"

Listing = TypeVar("Listing")


@dataclass(frozen=True, slots=True)
class CveSort:
    """One of SORTS and a direction; anything unknown in the parameters falls back to the default."""

    key: str = DEFAULT_SORT
    descending: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CveSort:
        key = str(params.get("sort") or "").strip().lower()
        direction = str(params.get("dir") or "").strip().lower()
        return cls(key=key if key in SORTS else DEFAULT_SORT, descending=direction != "asc")

    @property
    def is_default(self) -> bool:
        return self.key == DEFAULT_SORT and self.descending

    @property
    def phrase(self) -> str:
        """How the list reads: "by CVSS v3.1, highest first", "by last modified, newest first"."""
        dated = not SORTS[self.key][1]
        first = ("newest" if self.descending else "oldest") if dated else ("highest" if self.descending else "lowest")
        return f"by {SORT_LABELS[self.key] if self.key in ('cvss', 'epss') else SORT_LABELS[self.key].lower()}, {first} first"

    @property
    def direction(self) -> str:
        return "desc" if self.descending else "asc"

    @property
    def ordering(self) -> tuple[OrderBy, OrderBy]:
        field, nullable = SORTS[self.key]
        if self.descending:
            first = F(field).desc(nulls_last=True) if nullable else F(field).desc()
            return first, F("id").desc()
        first = F(field).asc(nulls_first=True) if nullable else F(field).asc()
        return first, F("id").asc()

    def apply(self, listing: Listing) -> Listing:
        """The listing (a Cve queryset or a selectors.CountedCves) in this order."""
        if self.is_default:
            return listing  # the selectors' own order, (-updated_at, -id)
        if isinstance(listing, QuerySet):
            return listing.order_by(*self.ordering)  # type: ignore[return-value]
        return listing.order_by(*self.ordering)  # type: ignore[attr-defined]


DEFAULT = CveSort()
