"""The OpenAPI 3 schema of the whole API, served at /api/schema (drf-spectacular).

drf-spectacular reads the routes, views and pagination; what it cannot see is said here and in each app's
`api/schema.py`: the shapes our hand-written serializers produce (serializer extensions), the Bearer token
scheme, the CVE filters, and the errors every endpoint may answer, each `{"detail": "<message>"}`:

- 400: a NUL character in a query parameter (web/nul_bytes.py);
- 401: no usable credentials, or wrong ones (with `WWW-Authenticate: Basic realm="api"`);
- 404: a missing object, an invalid page or a path that does not exist;
- 429: over the rate limit, or a failed-login lock-out (with `Retry-After`);
- 414 (text/html): a request line over 4,094 bytes, refused by gunicorn before Django sees it.

The view is `api.views.SchemaView` (drf-spectacular's views import the schema class: not from here).
schemathesis checks the live API against it (tests/api/test_schema.py, bench/schemathesis_long.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

TIMESTAMP = {"type": "string", "format": "date-time", "example": "2021-12-10T00:00:00Z"}
UUID = {"type": "string", "format": "uuid"}
STRING_LIST = {"type": "array", "items": {"type": "string"}}

# A path segment: names never hold a slash (a path with one is another route, or none).
PATH_SEGMENT = r"^[^/]+$"
# Examples of the catalog's path names (schemathesis tries them first; the sample data hold them).
PATH_EXAMPLES = {"cve_id": "CVE-2021-44228", "vendor": "apache", "product": "log4j", "cwe_id": "CWE-502"}

ERRORS: dict[str, str] = {
    "400": "A NUL character in a query parameter: `Null characters are not allowed.`",
    "401": "No usable credentials, or wrong ones; `WWW-Authenticate: Basic realm=\"api\"`.",
    "404": "A missing object (`No <Model> matches the given query.`), `Invalid page.` or `Not found.`",
    "429": "Over the rate limit, or locked out after failed logins; `Retry-After` says for how long.",
}


# Not the API's answer but the HTTP server's, before the request reaches Django: gunicorn refuses a request
# line over 4,094 bytes with an HTML page.
URI_TOO_LONG = {
    "description": "The request line is over 4,094 bytes: refused by the HTTP server (gunicorn), in HTML.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}


def closed_object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with exactly these properties (all required but `optional`), as the contract's shapes are."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


class BasicScheme(OpenApiAuthenticationExtension):
    target_class = "cvewatch.api.authentication.CachedBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "basic", "description": "A person's username and password."}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "cvewatch.api.authentication.CsrfSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME,
                "description": "A browser signed in to the web UI."}


@extend_schema_serializer(many=False, component_name="Error")
class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the errors every endpoint may answer and plain-segment path names."""

    def get_description(self) -> str:
        # Endpoint classes carry comments, not docstrings (api/views.py); never inherit the base's.
        return type(self.view).__dict__.get("__doc__") or ""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, description in ERRORS.items():
            responses.setdefault(
                code,
                self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), code, direction=direction
                ),
            )
        responses.setdefault("414", URI_TOO_LONG)
        return responses

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], "type": "string", "pattern": PATH_SEGMENT}
            if parameter["name"] in PATH_EXAMPLES:
                parameter["schema"]["example"] = PATH_EXAMPLES[parameter["name"]]
        return parameters
