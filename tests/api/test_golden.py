"""Golden responses: the API answers byte for byte what it answered when these files were recorded.

Each case is one request; its fixture `tests/api/golden/<name>.http` holds the status, the Content-Type,
the `Allow` and `WWW-Authenticate` headers when present, a blank line, then the exact body bytes. The data are the real
records of tests/data/opencve-kb and a few of tests/data/cve5, plus one organization, with every random or
clock-dependent value (uuids, row timestamps) pinned, so the files do not change from run to run or
between SQLite and PostgreSQL.

After a deliberate change of the API's output, rewrite the files and review the diff:

    CVEWATCH_GOLDEN_REGENERATE=1 .venv/bin/pytest -q tests/api/test_golden.py
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from cvewatch.catalog.models import Product, Vendor, Weakness
from cvewatch.organizations.models import Organization, Project
from cvewatch.organizations.services import organizations, projects, tokens
from tests.api.conftest import basic_header
from tests.support.people import PASSWORD

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = os.environ.get("CVEWATCH_GOLDEN_REGENERATE", "") == "1"
PINNED_AT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
CVE5 = Path(__file__).resolve().parent.parent / "data" / "cve5"
CVE5_RECORDS = [
    "CVE-2017-3881",
    "CVE-2021-44529",
    "CVE-2023-20198",
    "CVE-2024-11667",
    "CVE-2024-24919",
    "CVE-2024-3388",
]
NAMESPACE = uuid.UUID("6f1c54a8-3b0e-4d47-9a51-2d6a8e1f0c11")

# (fixture name, caller, method, path). Callers: "basic" (alice), "token" (acme's token), "anon",
# "wrong" (a wrong Basic password), "badtoken" (a well-formed token with a wrong secret).
CASES = [
    ("cve_list", "basic", "get", "/api/cve"),
    ("cve_list_page_2", "basic", "get", "/api/cve?page=2"),
    ("cve_list_past_the_end", "basic", "get", "/api/cve?page=3"),
    ("cve_list_page_last", "basic", "get", "/api/cve?page=last"),
    ("cve_search", "basic", "get", "/api/cve?search=spring"),
    ("cve_search_vendor_name", "basic", "get", "/api/cve?search=oracle"),
    ("cve_vendor", "basic", "get", "/api/cve?vendor=apache"),
    ("cve_vendor_product", "basic", "get", "/api/cve?vendor=veritas&product=Flex%20Appliance"),
    ("cve_vendor_unknown", "basic", "get", "/api/cve?vendor=nobody"),
    ("cve_product_unknown", "basic", "get", "/api/cve?vendor=veritas&product=nothing"),
    ("cve_cvss_high", "basic", "get", "/api/cve?cvss=high"),
    ("cve_cvss_empty", "basic", "get", "/api/cve?cvss=empty"),
    ("cve_weakness", "basic", "get", "/api/cve?weakness=CWE-20"),
    ("cve_weakness_unknown", "basic", "get", "/api/cve?weakness=CWE-99999"),
    ("cve_combined", "basic", "get", "/api/cve?weakness=CWE-20&cvss=critical&page=1"),
    ("cve_tag_person", "basic", "get", "/api/cve?tag=mine"),
    ("cve_tag_token", "token", "get", "/api/cve?tag=mine&cvss=critical"),
    ("cve_detail", "basic", "get", "/api/cve/CVE-2021-44228"),
    ("cve_detail_epss", "basic", "get", "/api/cve/CVE-2022-48703"),
    ("cve_detail_missing", "basic", "get", "/api/cve/CVE-1999-0000"),
    ("cve_trailing_slash", "basic", "get", "/api/cve/"),
    ("vendor_list", "basic", "get", "/api/vendors"),
    ("vendor_list_page_2", "basic", "get", "/api/vendors?page=2"),
    ("vendor_detail", "basic", "get", "/api/vendors/apache"),
    ("vendor_missing", "basic", "get", "/api/vendors/nobody"),
    ("vendor_cves", "basic", "get", "/api/vendors/vmware/cve"),
    ("product_list", "basic", "get", "/api/vendors/oracle/products"),
    ("product_list_page_2", "basic", "get", "/api/vendors/oracle/products?page=2"),
    ("product_detail", "basic", "get", "/api/vendors/veritas/products/flex_appliance"),
    ("product_missing", "basic", "get", "/api/vendors/apache/products/nothing"),
    ("product_cves", "basic", "get", "/api/vendors/apache/products/log4j/cve"),
    ("weakness_list", "basic", "get", "/api/weaknesses"),
    ("weakness_detail", "basic", "get", "/api/weaknesses/CWE-20"),
    ("weakness_missing", "basic", "get", "/api/weaknesses/CWE-0"),
    ("weakness_cves", "basic", "get", "/api/weaknesses/CWE-20/cve"),
    ("organization_list", "basic", "get", "/api/organizations"),
    ("organization_list_token", "token", "get", "/api/organizations"),
    ("organization_detail", "token", "get", "/api/organizations/acme"),
    ("organization_missing", "basic", "get", "/api/organizations/globex"),
    ("project_list", "basic", "get", "/api/organizations/acme/projects"),
    ("project_detail", "token", "get", "/api/organizations/acme/projects/production"),
    ("project_missing", "token", "get", "/api/organizations/acme/projects/nothing"),
    ("project_cves", "token", "get", "/api/organizations/acme/projects/production/cve"),
    (
        "project_cves_filtered",
        "basic",
        "get",
        "/api/organizations/acme/projects/production/cve?cvss=critical",
    ),
    (
        "project_cves_unknown_vendor",
        "token",
        "get",
        "/api/organizations/acme/projects/production/cve?vendor=x",
    ),
    ("anonymous", "anon", "get", "/api/cve"),
    ("anonymous_organizations", "anon", "get", "/api/organizations/acme"),
    ("wrong_password", "wrong", "get", "/api/vendors"),
    ("invalid_token", "badtoken", "get", "/api/organizations"),
    ("post_cve_list", "basic", "post", "/api/cve"),
    ("put_cve_detail", "basic", "put", "/api/cve/CVE-2021-44228"),
    ("delete_organization", "token", "delete", "/api/organizations/acme"),
    ("patch_project", "basic", "patch", "/api/organizations/acme/projects/production"),
    ("options_cve_list", "basic", "options", "/api/cve"),
    ("options_vendor_detail", "token", "options", "/api/vendors/apache"),
    ("options_project_cves", "basic", "options", "/api/organizations/acme/projects/production/cve"),
    ("head_cve_list", "basic", "head", "/api/cve?search=log4j"),
]


def _pin(model, key: str, rows=None) -> None:
    """Deterministic uuids (derived from the name) and timestamps for rows created during the test."""
    rows = list(model.objects.all() if rows is None else rows)
    for row in rows:
        row.created_at = row.updated_at = PINNED_AT
        if hasattr(row, "uuid"):
            row.uuid = uuid.uuid5(NAMESPACE, f"{model.__name__}:{key.format(row=row)}")
    fields = ["created_at", "updated_at"] + (["uuid"] if hasattr(model, "uuid") else [])
    model.objects.bulk_update(rows, fields, batch_size=200)


@pytest.fixture
def callers(kb_all, user) -> dict[str, APIClient]:
    from cvewatch.ingest.services import import_paths

    # Enough CVEs for a second page: a few CVE JSON 5 records next to the knowledge-base ones.
    import_paths([CVE5 / f"{cve_id}.json" for cve_id in CVE5_RECORDS])
    organization = organizations.create_organization(name="acme", owner=user)
    projects.create_project(
        organization=organization,
        name="production",
        description="What runs in production",
        vendors=["vmware"],
        products=["apache/log4j"],
        actor=user,
    )
    projects.create_project(organization=organization, name="archive", active=False, actor=user)
    organizations.create_organization(name="beta", owner=user)
    _, secret = tokens.create_token(organization=organization, name="ci", actor=user)
    _pin(Vendor, "{row.name}")
    _pin(Product, "{row.vendor.name}/{row.name}", Product.objects.select_related("vendor"))
    _pin(Weakness, "{row.cwe_id}")
    _pin(Organization, "{row.name}")
    _pin(Project, "{row.organization.name}/{row.name}", Project.objects.select_related("organization"))

    def client(authorization: str | None) -> APIClient:
        api = APIClient()
        if authorization:
            api.credentials(HTTP_AUTHORIZATION=authorization)
        return api

    token_id = secret.split(".")[1]
    return {
        "basic": client(basic_header(user.username, PASSWORD)),
        "token": client(f"Bearer {secret}"),
        "anon": client(None),
        "wrong": client(basic_header(user.username, "not the password")),
        "badtoken": client(f"Bearer opc_org.{token_id}.{'A' * 32}"),
    }


def render(response) -> bytes:
    head = [f"Status: {response.status_code}", f"Content-Type: {response['Content-Type']}"]
    for header in ("Allow", "WWW-Authenticate"):
        if response.has_header(header):
            head.append(f"{header}: {response[header]}")
    return ("\n".join(head) + "\n\n").encode() + response.content


@pytest.mark.parametrize(("name", "caller", "method", "path"), CASES, ids=[c[0] for c in CASES])
def test_the_api_answers_as_recorded(callers, name, caller, method, path):
    kwargs = {"format": "json"} if method not in ("get", "head", "options") else {}
    actual = render(getattr(callers[caller], method)(path, **kwargs))
    golden = GOLDEN / f"{name}.http"
    if REGENERATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(actual)
    assert golden.exists(), f"no recording for {name}: run with CVEWATCH_GOLDEN_REGENERATE=1"
    assert actual == golden.read_bytes(), f"{method.upper()} {path} no longer answers as recorded"


def test_every_recording_has_a_case():
    recorded = {p.stem for p in GOLDEN.glob("*.http")}
    assert recorded == {c[0] for c in CASES}
