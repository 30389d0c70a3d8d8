"""The catalog's endpoints: thin reads over cvewatch.catalog.selectors.

Endpoint classes carry comments, not docstrings: DRF serves a docstring in OPTIONS answers.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema

from cvewatch.api.views import DetailView, ListView, person_of
from cvewatch.catalog import selectors
from cvewatch.catalog.api import serializers
from cvewatch.catalog.api.schema import CVE_FILTER_PARAMETERS
from cvewatch.catalog.filters import CveFilter
from cvewatch.catalog.models import Cve, Product, Vendor, Weakness


# GET /api/cve: every CVE, filtered by the query parameters.
@extend_schema(parameters=CVE_FILTER_PARAMETERS)
class CveListView(ListView):
    serializer_class = serializers.CveListSerializer

    def get_queryset(self) -> QuerySet[Cve] | selectors.CountedCves:
        cve_filter = CveFilter.from_params(
            self.request.query_params, user=person_of(self.request), caller=self.request.user
        )
        return selectors.cve_listing(cve_filter=cve_filter)


class CveDetailView(DetailView):
    serializer_class = serializers.CveDetailSerializer

    def lookup(self) -> Cve:
        return selectors.cve_detail(cve_id=self.kwargs["cve_id"])


class VendorListView(ListView):
    serializer_class = serializers.VendorSerializer

    def get_queryset(self) -> selectors.KeptCountList:
        return selectors.vendor_listing()


class VendorDetailView(DetailView):
    serializer_class = serializers.VendorSerializer

    def lookup(self) -> Vendor:
        return selectors.vendor_by_name(name=self.kwargs["name"])


class ProductListView(ListView):
    serializer_class = serializers.ProductSerializer

    def get_queryset(self) -> selectors.KeptCountList:
        return selectors.product_listing(vendor_name=self.kwargs["vendor"])


class ProductDetailView(DetailView):
    serializer_class = serializers.ProductSerializer

    def lookup(self) -> Product:
        vendor = selectors.vendor_by_name(name=self.kwargs["vendor"])
        return selectors.product_by_name(vendor=vendor, name=self.kwargs["name"])


class VendorCveListView(ListView):
    serializer_class = serializers.CveListSerializer

    def get_queryset(self) -> selectors.CountedCves:
        vendor = selectors.vendor_by_name(name=self.kwargs["vendor"])
        return selectors.cves_of_vendor(vendor=vendor)


class ProductCveListView(ListView):
    serializer_class = serializers.CveListSerializer

    def get_queryset(self) -> selectors.CountedCves:
        vendor = selectors.vendor_by_name(name=self.kwargs["vendor"])
        product = selectors.product_by_name(vendor=vendor, name=self.kwargs["product"])
        return selectors.cves_of_product(product=product)


class WeaknessListView(ListView):
    serializer_class = serializers.WeaknessSerializer

    def get_queryset(self) -> selectors.KeptCountList:
        return selectors.weakness_listing()


class WeaknessDetailView(DetailView):
    serializer_class = serializers.WeaknessSerializer

    def lookup(self) -> Weakness:
        return selectors.weakness_by_cwe_id(cwe_id=self.kwargs["cwe_id"])


class WeaknessCveListView(ListView):
    serializer_class = serializers.CveListSerializer

    def get_queryset(self) -> selectors.CountedCves:
        weakness = selectors.weakness_by_cwe_id(cwe_id=self.kwargs["cwe_id"])
        return selectors.cves_of_weakness(weakness=weakness)
