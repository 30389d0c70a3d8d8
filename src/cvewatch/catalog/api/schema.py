"""The catalog's part of the OpenAPI schema (api/schema.py): its shapes and the CVE list's filters.

The serializers write their dicts by hand, so drf-spectacular cannot see their fields; these extensions
state the shapes docs/api.md gives, closed (no other keys), as the golden responses pin them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter

from cvewatch.api.schema import STRING_LIST, TIMESTAMP, UUID, closed_object
from cvewatch.catalog.choices import METRIC_NAMES
from cvewatch.catalog.filters import CVSS_EMPTY, CVSS_RANGES, PARAMETERS

CVE_LIST = {
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "cve_id": {"type": "string", "example": "CVE-2021-44228"},
    "description": {"type": "string"},
}
METRIC = closed_object({"data": {}, "provider": {"type": "string", "nullable": True}})


class CveListSchema(OpenApiSerializerExtension):
    target_class = "cvewatch.catalog.api.serializers.CveListSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return closed_object(CVE_LIST)


class CveDetailSchema(OpenApiSerializerExtension):
    target_class = "cvewatch.catalog.api.serializers.CveDetailSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        metrics = closed_object({name: METRIC for name in METRIC_NAMES}, optional=("epss",))
        return closed_object(
            {
                **CVE_LIST,
                "title": {"type": "string"},
                "metrics": metrics,
                "weaknesses": STRING_LIST,
                "vendors": {**STRING_LIST, "example": ["apache", "apache$PRODUCT$log4j"]},
            }
        )


class VendorSchema(OpenApiSerializerExtension):
    """Vendor, and Product (the same serializer, the same shape)."""

    target_class = "cvewatch.catalog.api.serializers.VendorSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return closed_object(
            {"id": UUID, "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "name": {"type": "string"}}
        )


class WeaknessSchema(OpenApiSerializerExtension):
    target_class = "cvewatch.catalog.api.serializers.WeaknessSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return closed_object(
            {"created_at": TIMESTAMP, "updated_at": TIMESTAMP, "cwe_id": {"type": "string", "example": "CWE-79"}}
        )


_FILTER_HELP = {
    "search": "A case-insensitive substring of the CVE id or description, or a vendor or product name.",
    "vendor": "The CVEs of a vendor (lower-cased, spaces removed); an unknown vendor is a 404.",
    "product": "Only with `vendor`: the CVEs of that vendor's product; an unknown product is a 404.",
    "cvss": f"CVSS v3.1 base score range: {', '.join([*CVSS_RANGES, CVSS_EMPTY])} (case-insensitive); "
    "any other value is ignored.",
    "weakness": "An exact CWE id (CWE-79); an unknown one gives an empty list.",
    "tag": "A tag of the person calling: the CVEs they tagged with it (a person's unknown tag is a 404); "
    "ignored for tokens.",
    "q": "A query of the advanced search language (docs/query.md), combined with the other parameters by AND: "
    "fields description, title, cve, cwe, vendor, product, cvss20, cvss30, cvss31, cvss40, kev, epss (0-100), "
    "created, updated, userTag (a person's tags), project; operators : = != !: > >= < <=; AND binds tighter "
    'than OR; parentheses, "quoted values", NOT. Example: vendor:microsoft AND cvss31>=8 AND created<=7d. '
    "A malformed query is a 400 whose detail names the faulty part and its column.",
}
# One parameter per CveFilter field: the filter is the one home of what the parameters are.
CVE_FILTER_PARAMETERS = [
    OpenApiParameter(name, str, OpenApiParameter.QUERY, description=_FILTER_HELP[name]) for name in PARAMETERS
]
