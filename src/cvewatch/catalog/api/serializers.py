"""The catalog's shapes: CveList, CveDetail, Vendor, Product, Weakness. Read-only; key order is the order
clients see.

Each serializer writes its dict by hand: these are the hot path of every list, and DRF's per-field
machinery would cost more than the query.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cvewatch.api.fields import format_timestamp
from cvewatch.catalog.choices import METRIC_NAMES
from cvewatch.catalog.models import Cve, Product, Vendor, Weakness


class CveListSerializer(serializers.Serializer):
    """A CveList item: exactly created_at, updated_at, cve_id, description."""

    def to_representation(self, instance: Cve) -> dict[str, Any]:
        return {
            "created_at": format_timestamp(instance.created_at),
            "updated_at": format_timestamp(instance.updated_at),
            "cve_id": instance.cve_id,
            "description": instance.description,
        }


def _absent_metric(name: str) -> dict[str, Any]:
    return {"data": None if name == "threat_severity" else {}, "provider": None}


def serialize_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Every contract metric in a fixed order, absent ones as {"data": {}, "provider": null}.

    `epss` is shown only when the CVE has a score, as OpenCVE's merged view does.
    """
    result: dict[str, Any] = {}
    for name in METRIC_NAMES:
        value = metrics.get(name)
        present = isinstance(value, dict) and "data" in value and value.get("provider") is not None
        if present:
            result[name] = {"data": value["data"], "provider": value["provider"]}
        elif name != "epss":
            result[name] = _absent_metric(name)
    return result


class CveDetailSerializer(serializers.Serializer):
    """CveDetail: CveList plus title, metrics, weaknesses and vendors."""

    def to_representation(self, instance: Cve) -> dict[str, Any]:
        return {
            "created_at": format_timestamp(instance.created_at),
            "updated_at": format_timestamp(instance.updated_at),
            "cve_id": instance.cve_id,
            "title": instance.title,
            "description": instance.description,
            "metrics": serialize_metrics(instance.metrics or {}),
            "weaknesses": list(instance.weaknesses or []),
            "vendors": list(instance.vendors or []),
        }


class VendorSerializer(serializers.Serializer):
    """Vendor, and Product with the same shape: {"id": <uuid>, "created_at", "updated_at", "name"}."""

    def to_representation(self, instance: Vendor | Product) -> dict[str, Any]:
        return {
            "id": str(instance.uuid),
            "created_at": format_timestamp(instance.created_at),
            "updated_at": format_timestamp(instance.updated_at),
            "name": instance.name,
        }


class WeaknessSerializer(serializers.Serializer):
    """Weakness: {"created_at", "updated_at", "cwe_id"}."""

    def to_representation(self, instance: Weakness) -> dict[str, Any]:
        return {
            "created_at": format_timestamp(instance.created_at),
            "updated_at": format_timestamp(instance.updated_at),
            "cwe_id": instance.cwe_id,
        }


ProductSerializer = VendorSerializer  # the contract gives a Product the Vendor shape
