"""Content negotiation: the API serves JSON only, whatever the request asks for."""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request


class JsonOnly(BaseContentNegotiation):
    """Always JSON: DRF would answer `?format=xml` with a 404 and `Accept: text/html` with a 406, but the
    contract ignores unknown parameters and serves only JSON."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> Any:
        return (renderers[0], renderers[0].media_type)
