"""OpenCVE's page-number pagination: {"count", "next", "previous", "results"}, `?page=N` or `page=last`."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.request import Request
from rest_framework.settings import api_settings


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page-number pagination with the page size read per request, not at import.

    Absolute next/previous links keep the other query parameters; page 2's previous link has no `page`;
    page 0, a non-integer page or a page past the end → 404 {"detail": "Invalid page."}.
    """

    page_query_param = "page"
    last_page_strings = ("last",)

    def get_page_size(self, request: Request) -> int:
        return int(api_settings.PAGE_SIZE or 10)
