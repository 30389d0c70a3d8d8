"""The OpenAPI schema at /api/schema, and schemathesis against a live server with Basic and with a token.

A short, seeded run: every operation, positive and negative inputs; the API must answer no 5xx and nothing
the schema does not describe (status, content type, body, headers). The long run is bench/schemathesis_long.py.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import get_resolver
from rest_framework.test import APIClient

from cvewatch.organizations.services import organizations, projects, tokens
from tests.api.conftest import KB_DIR
from tests.support.people import PASSWORD

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def api_routes() -> set[str]:
    """Every /api/ route of the URL conf, in OpenAPI's {name} form (the JSON 404 catch-alls aside)."""
    routes = set()
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) != "api/":
            continue
        for inner in pattern.url_patterns:
            route = str(inner.pattern)
            if not route.startswith("^"):
                routes.add("/api/" + route.replace("<str:", "{").replace(">", "}"))
    return routes


@pytest.mark.django_db
def test_the_schema_describes_every_route_and_scheme():
    response = APIClient().get("/api/schema")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == api_routes()
    assert set(schema["components"]["securitySchemes"]) == {"basicAuth", "organizationToken", "cookieAuth"}
    cve_list = schema["paths"]["/api/cve"]["get"]
    assert {p["name"] for p in cve_list["parameters"]} == {
        "search", "vendor", "product", "cvss", "weakness", "tag", "q", "page",
    }
    assert set(cve_list["responses"]) == {"200", "400", "401", "404", "414", "429"}
    for path, operations in schema["paths"].items():
        for code, response in operations["get"]["responses"].items():
            headers = response.get("headers", {})
            counted = code not in ("400", "401", "414")
            assert ("RateLimit" in headers and "RateLimit-Policy" in headers) == counted, (path, code)
            assert ("Retry-After" in headers) == (code == "429"), (path, code)
            assert not headers.get("RateLimit", {}).get("required")  # absent when the rate limit is off
    assert cve_list["responses"]["429"]["headers"]["Retry-After"]["required"] is True
    detail = schema["components"]["schemas"]["CveDetail"]
    assert detail["additionalProperties"] is False
    assert set(detail["required"]) == {
        "created_at", "updated_at", "cve_id", "title", "description", "metrics", "weaknesses", "vendors",
    }


@pytest.fixture
def live_data(transactional_db, settings):
    """Real KB records, a person, an organization `acme` with a subscribed project `web` and its token."""
    from cvewatch.ingest.services import import_paths

    settings.API_RATE_LIMIT = None  # the run makes hundreds of requests as one caller
    import_paths(sorted(KB_DIR.glob("*/*.json")))
    user = get_user_model().objects.create_user(username="alice", password=PASSWORD)
    organization = organizations.create_organization(name="acme", owner=user)
    projects.create_project(organization=organization, name="web", actor=user, vendors=["apache"])
    _, secret = tokens.create_token(organization=organization, name="ci", actor=user)
    return {
        "basic": "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode(),
        "token": f"Bearer {secret}",
    }


@pytest.mark.django_db
def test_the_rate_limit_headers_answered_are_the_ones_described(settings):
    """The headers of a rate-limited answer match the schema's patterns, 429 and Retry-After included."""
    schema = APIClient().get("/api/schema").json()
    described = schema["paths"]["/api/weaknesses"]["get"]["responses"]
    settings.API_RATE_LIMIT = (2, 60)
    user = get_user_model().objects.create_user(username="rl", password=PASSWORD)
    client = APIClient()
    client.force_authenticate(user)
    answers = [client.get("/api/weaknesses") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    for answer in answers:
        headers = described[str(answer.status_code)]["headers"]
        for name, header in headers.items():
            assert re.fullmatch(header["schema"]["pattern"], answer[name]), (name, answer[name])


@pytest.mark.parametrize("caller", ["basic", "token", "token with the rate limit on"])
def test_schemathesis_finds_nothing(live_server, live_data, caller, tmp_path, settings):
    if caller == "token with the rate limit on":
        settings.API_RATE_LIMIT = (1_000_000, 60)  # every answer carries the quota headers, none is a 429
    command = [
        str(SCHEMATHESIS), "run", f"{live_server.url}/api/schema",
        "--checks", CHECKS,
        "--header", f"Authorization: {live_data[caller.split()[0]]}",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", "8",
        "--seed", "10",
        "--generation-database", "none",
        "--request-timeout", "30",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
