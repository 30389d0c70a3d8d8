"""Base views of every API endpoint: read-only, JSON only, paginated lists and looked-up details.

An endpoint subclasses ListView (define `get_queryset`) or DetailView (define `lookup`), names its
serializer, and raises `cvewatch.core.errors` kinds from the selectors it calls; the exception handler
turns those into statuses. DRF serves a view's docstring in OPTIONS answers, so endpoint classes carry
comments rather than docstrings (the answers stay as OpenCVE's: an empty description).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.http import HttpRequest, JsonResponse
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework import generics, permissions
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.request import Request

from cvewatch.api.negotiation import JsonOnly
from cvewatch.api.throttling import RateLimitHeadersMixin


def person_of(request: Request) -> Any | None:
    """The user when a person authenticated (Basic or session); None for organization tokens."""
    if isinstance(request.successful_authenticator, (BasicAuthentication, SessionAuthentication)):
        return request.user
    return None


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """An API path that does not exist, e.g. with a trailing slash: a JSON 404, never a redirect."""
    return JsonResponse({"detail": "Not found."}, status=404)


class ReadOnlyMixin(RateLimitHeadersMixin):
    """The API is read-only: any method but GET, HEAD and OPTIONS is a 405. Rate-limited (api/throttling.py)."""

    http_method_names = ["get", "head", "options"]
    content_negotiation_class = JsonOnly


class ListView(ReadOnlyMixin, generics.ListAPIView):
    pass


class DetailView(ReadOnlyMixin, generics.RetrieveAPIView):
    def get_object(self) -> Model:
        return self.lookup()

    def lookup(self) -> Model:
        raise NotImplementedError


class SchemaView(SpectacularJSONAPIView):
    """GET /api/schema: the OpenAPI 3 schema as JSON, for anyone (it describes the API, it holds no data)."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
