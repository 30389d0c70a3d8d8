"""Catalog endpoints 1–11 of the contract: thin reads over cvewatch.catalog.selectors."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest, JsonResponse
from rest_framework import generics
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request

from cvewatch.api import serializers
from cvewatch.catalog import selectors
from cvewatch.catalog.models import Cve


def person_of(request: Request) -> Any | None:
    """The user when a person authenticated (Basic or session); None for organization tokens."""
    if isinstance(request.successful_authenticator, (BasicAuthentication, SessionAuthentication)):
        return request.user
    return None


class JsonOnly(BaseContentNegotiation):
    """Always JSON: DRF would answer `?format=xml` with a 404 and `Accept: text/html` with a 406, but the
    contract ignores unknown parameters and serves only JSON."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> Any:
        return (renderers[0], renderers[0].media_type)


class ReadOnlyMixin:
    """The catalog is read-only: any method but GET, HEAD and OPTIONS is a 405."""

    http_method_names = ["get", "head", "options"]
    content_negotiation_class = JsonOnly


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """An API path that does not exist, e.g. with a trailing slash: a JSON 404, never a redirect."""
    return JsonResponse({"detail": "Not found."}, status=404)


class ListView(ReadOnlyMixin, generics.ListAPIView):
    pass


class DetailView(ReadOnlyMixin, generics.RetrieveAPIView):
    def get_object(self) -> Model:
        return self.lookup()

    def lookup(self) -> Model:
        raise NotImplementedError


class CveListView(ListView):
    serializer_class = serializers.CveListSerializer

    def get_queryset(self) -> QuerySet[Cve] | selectors.CountedCves:
        return selectors.cve_listing(params=self.request.query_params, user=person_of(self.request))


class CveDetailView(DetailView):
    serializer_class = serializers.CveDetailSerializer

    def lookup(self) -> Model:
        return selectors.cve_detail(cve_id=self.kwargs["cve_id"])


class VendorListView(ListView):
    serializer_class = serializers.VendorSerializer

    def get_queryset(self) -> QuerySet:
        return selectors.vendor_list()


class VendorDetailView(DetailView):
    serializer_class = serializers.VendorSerializer

    def lookup(self) -> Model:
        return selectors.vendor_by_name(name=self.kwargs["name"])


class ProductListView(ListView):
    serializer_class = serializers.ProductSerializer

    def get_queryset(self) -> QuerySet:
        vendor = selectors.vendor_by_name(name=self.kwargs["vendor"])
        return selectors.products_of_vendor(vendor=vendor)


class ProductDetailView(DetailView):
    serializer_class = serializers.ProductSerializer

    def lookup(self) -> Model:
        vendor = selectors.vendor_by_name(name=self.kwargs["vendor"])
        return selectors.product_by_name(vendor=vendor, name=self.kwargs["name"])


class VendorCveListView(ListView):
    serializer_class = serializers.CveListSerializer

    def get_queryset(self) -> selectors.CountedCves:  # type: ignore[override]
        vendor = selectors.vendor_by_name(name=self.kwargs["vendor"])
        return selectors.cves_of_vendor(vendor=vendor)


class ProductCveListView(ListView):
    serializer_class = serializers.CveListSerializer

    def get_queryset(self) -> selectors.CountedCves:  # type: ignore[override]
        vendor = selectors.vendor_by_name(name=self.kwargs["vendor"])
        product = selectors.product_by_name(vendor=vendor, name=self.kwargs["product"])
        return selectors.cves_of_product(product=product)


class WeaknessListView(ListView):
    serializer_class = serializers.WeaknessSerializer

    def get_queryset(self) -> QuerySet:
        return selectors.weakness_list()


class WeaknessDetailView(DetailView):
    serializer_class = serializers.WeaknessSerializer

    def lookup(self) -> Model:
        return selectors.weakness_by_cwe_id(cwe_id=self.kwargs["cwe_id"])


class WeaknessCveListView(ListView):
    serializer_class = serializers.CveListSerializer

    def get_queryset(self) -> selectors.CountedCves:  # type: ignore[override]
        weakness = selectors.weakness_by_cwe_id(cwe_id=self.kwargs["cwe_id"])
        return selectors.cves_of_weakness(weakness=weakness)
