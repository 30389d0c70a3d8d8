"""The contract's shapes (§5). Read-only; the field order is the order clients see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from cvewatch.catalog.choices import METRIC_NAMES
from cvewatch.catalog.models import Cve, Product, Vendor, Weakness


def format_timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with "Z"; fractional seconds only when non-zero (2021-12-10T00:00:00Z)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime: every cvewatch timestamp is timezone-aware UTC")
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


class TimestampField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: datetime) -> str | None:
        return format_timestamp(value)


class CveListSerializer(serializers.Serializer):
    """A CveList item: exactly created_at, updated_at, cve_id, description."""

    created_at = TimestampField()
    updated_at = TimestampField()
    cve_id = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)

    def to_representation(self, instance: Cve) -> dict[str, Any]:
        # Hot path of every CVE list: skip DRF's per-field machinery.
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
    created_at = TimestampField()
    updated_at = TimestampField()
    cve_id = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    metrics = serializers.JSONField(read_only=True)
    weaknesses = serializers.JSONField(read_only=True)
    vendors = serializers.JSONField(read_only=True)

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
    """Vendor: {"id": <uuid>, "created_at", "updated_at", "name"}."""

    id = serializers.UUIDField(source="uuid", read_only=True)
    created_at = TimestampField()
    updated_at = TimestampField()
    name = serializers.CharField(read_only=True)

    def to_representation(self, instance: Vendor | Product) -> dict[str, Any]:
        return {
            "id": str(instance.uuid),
            "created_at": format_timestamp(instance.created_at),
            "updated_at": format_timestamp(instance.updated_at),
            "name": instance.name,
        }


class ProductSerializer(VendorSerializer):
    """Product: the same shape as Vendor."""


class WeaknessSerializer(serializers.Serializer):
    created_at = TimestampField()
    updated_at = TimestampField()
    cwe_id = serializers.CharField(read_only=True)

    def to_representation(self, instance: Weakness) -> dict[str, Any]:
        return {
            "created_at": format_timestamp(instance.created_at),
            "updated_at": format_timestamp(instance.updated_at),
            "cwe_id": instance.cwe_id,
        }
