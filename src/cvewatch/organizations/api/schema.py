"""The organizations' part of the OpenAPI schema (api/schema.py): the Bearer token scheme and the shapes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension

from cvewatch.api.schema import STRING_LIST, TIMESTAMP, UUID, closed_object

ORGANIZATION = {"id": UUID, "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "name": {"type": "string"}}
PROJECT = {**ORGANIZATION, "description": {"type": "string"}}


class OrganizationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cvewatch.organizations.api.authentication.OrganizationTokenAuthentication"
    name = "organizationToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "opc_org.<12-character id>.<32-character secret>",
            "description": "An organization API token: reads the catalog and its own organization only.",
        }


class OrganizationSchema(OpenApiSerializerExtension):
    target_class = "cvewatch.organizations.api.serializers.OrganizationSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return closed_object(ORGANIZATION)


class ProjectSchema(OpenApiSerializerExtension):
    target_class = "cvewatch.organizations.api.serializers.ProjectSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return closed_object(PROJECT)


class ProjectDetailSchema(OpenApiSerializerExtension):
    target_class = "cvewatch.organizations.api.serializers.ProjectDetailSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        subscriptions = closed_object(
            {
                "vendors": STRING_LIST,
                "products": {"type": "object", "additionalProperties": STRING_LIST},
            }
        )
        return closed_object({**PROJECT, "subscriptions": subscriptions})
