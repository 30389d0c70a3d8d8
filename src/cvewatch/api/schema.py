"""The OpenAPI 3 schema of the whole API, served at /api/schema (drf-spectacular).

drf-spectacular reads the routes, views and pagination; what it cannot see is said here and in each app's
`api/schema.py`: the shapes our hand-written serializers produce (serializer extensions), the Bearer token
scheme, the CVE filters, and the errors every endpoint may answer, each `{"detail": "<message>"}`:

- 400: a NUL character in a query parameter (web/nul_bytes.py);
- 401: no usable credentials, or wrong ones (with `WWW-Authenticate: Basic realm="api"`);
- 404: a missing object, an invalid page or a path that does not exist;
- 429: over the rate limit, or a failed-login lock-out (with `Retry-After`);
- 414 (text/html): a request line over 4,094 bytes, refused by gunicorn before Django sees it.

The rate limit's headers (api/throttling.py) are described on every answer of a rate-limited endpoint that
passes authentication (2xx, 404 and 429): `RateLimit-Policy` and `RateLimit`, optional because
CVEWATCH_API_RATE_LIMIT=off sends neither and a lock-out's 429 comes before the count; `Retry-After` on 429.

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

from cvewatch.api.throttling import RateLimitHeadersMixin

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


# What the throttle says on the answers it saw (the IETF draft's structured fields; api/throttling.py).
RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "RateLimit-Policy": {
        "description": 'The quota: `"api";q=<requests>;w=<window in seconds>` (draft-ietf-httpapi-ratelimit-headers). '
        "Absent when the rate limit is off (CVEWATCH_API_RATE_LIMIT=off).",
        "schema": {"type": "string", "pattern": r'^"api";q=\d+;w=\d+$', "example": '"api";q=1200;w=60'},
    },
    "RateLimit": {
        "description": 'What is left of the quota: `"api";r=<requests left>;t=<seconds until the window turns over>`. '
        "Absent when the rate limit is off.",
        "schema": {"type": "string", "pattern": r'^"api";r=\d+;t=\d+$', "example": '"api";r=1187;t=42'},
    },
}
RETRY_AFTER = {
    "description": "Seconds to wait before the next request: until the rate-limit window turns over, or the "
    "failed-login lock-out ends.",
    "required": True,
    "schema": {"type": "string", "pattern": r"^\d+$", "example": "42"},
}
# Answered before the throttle counts the request (middleware, authentication, the HTTP server): no quota.
UNCOUNTED = ("400", "401", "414")


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

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response") -> dict[str, Any]:
        headers = dict(super()._get_response_headers_for_code(status_code, direction))
        if isinstance(self.view, RateLimitHeadersMixin) and status_code not in UNCOUNTED:
            headers.update(RATE_LIMIT_HEADERS)
        if status_code == "429":
            headers["Retry-After"] = RETRY_AFTER
        return headers

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], "type": "string", "pattern": PATH_SEGMENT}
            if parameter["name"] in PATH_EXAMPLES:
                parameter["schema"]["example"] = PATH_EXAMPLES[parameter["name"]]
        return parameters
