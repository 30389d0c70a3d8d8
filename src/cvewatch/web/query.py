"""The query language on the web pages: the filter a page's GET asks for, and a bad query shown with its faulty
part highlighted (web/partials/query_error.html)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from cvewatch.catalog.filters import CveFilter
from cvewatch.core.errors import InvalidQuery


@dataclass(frozen=True)
class QueryError:
    """A refused query cut around its faulty part: before, part (never empty: a caret at the end), after."""

    message: str
    before: str
    part: str
    after: str

    @classmethod
    def of(cls, text: str, exc: InvalidQuery) -> QueryError:
        start = min(max(exc.position, 0), len(text))
        end = min(start + exc.length, len(text))
        return cls(exc.message, text[:start], text[start:end] or " ", text[end:])


def page_filter(request: HttpRequest, *, organization: Any = None) -> tuple[CveFilter | None, QueryError | None]:
    """The CveFilter of a page's query string, or None and the error of its malformed `q`."""
    try:
        return CveFilter.from_params(request.GET, user=request.user, organization=organization), None
    except InvalidQuery as exc:
        return None, QueryError.of((request.GET.get("q") or "").strip(), exc)
