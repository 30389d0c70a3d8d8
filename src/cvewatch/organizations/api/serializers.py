"""The organizations' shapes: Organization, Project and ProjectDetail. Read-only."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cvewatch.api.fields import format_timestamp
from cvewatch.organizations.models import Organization, Project


class OrganizationSerializer(serializers.Serializer):
    """Organization: {"id": <uuid>, "created_at", "updated_at", "name"}."""

    def to_representation(self, instance: Organization) -> dict[str, Any]:
        return {
            "id": str(instance.uuid),
            "created_at": format_timestamp(instance.created_at),
            "updated_at": format_timestamp(instance.updated_at),
            "name": instance.name,
        }


class ProjectSerializer(serializers.Serializer):
    """Project: {"id", "created_at", "updated_at", "name", "description"}."""

    def to_representation(self, instance: Project) -> dict[str, Any]:
        return {
            "id": str(instance.uuid),
            "created_at": format_timestamp(instance.created_at),
            "updated_at": format_timestamp(instance.updated_at),
            "name": instance.name,
            "description": instance.description,
        }


class ProjectDetailSerializer(ProjectSerializer):
    """ProjectDetail: Project plus {"subscriptions": {"vendors": [...], "products": {vendor: [...]}}}.

    The view passes the grouped subscriptions in the serializer context (one selector call).
    """

    def to_representation(self, instance: Project) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["subscriptions"] = self.context["subscriptions"]
        return data
