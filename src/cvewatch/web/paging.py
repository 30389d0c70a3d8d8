"""Cheap paging for long lists: read one row more than a page to know whether there is a next one.

A paginator counts the whole list on every page; at 213k CVEs that count costs more than the page. A
Window reads `per_page + 1` rows at an offset and knows its neighbours from that alone. When the listing
has a cheap count of its own (selectors.CountedCves, which needs it anyway to plan the page), the count is
shown too; otherwise it is omitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from cvewatch.catalog.selectors import CountedCves

# Offsets deeper than this cost a walk of that many index entries per page: nobody pages that far by hand.
MAX_PAGE = 400


@dataclass
class Window:
    number: int
    per_page: int
    object_list: list[Any] = field(default_factory=list)
    has_next: bool = False
    count: int | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)

    @property
    def past_the_end(self) -> bool:
        """A page number beyond the list (a stale link): the page says so and links to the first page."""
        return self.number > 1 and not self.object_list


def page_number(request: HttpRequest) -> int:
    """?page= as a number from 1 to MAX_PAGE; anything else is page 1."""
    raw = str(request.GET.get("page") or "").strip()
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
    return min(max(number, 1), MAX_PAGE)


def window(request: HttpRequest, listing: Any, *, per_page: int) -> Window:
    """The ?page= window of a queryset or CountedCves, read with one query (plus the cheap count if any)."""
    number = page_number(request)
    offset = (number - 1) * per_page
    rows = list(listing[offset : offset + per_page + 1])
    count = listing.count() if isinstance(listing, CountedCves) else None
    return Window(
        number=number, per_page=per_page, object_list=rows[:per_page], has_next=len(rows) > per_page, count=count
    )
