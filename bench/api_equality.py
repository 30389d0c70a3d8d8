"""The API's answers before and after a change, compared byte for byte on a sample of real requests.

    CVEWATCH_DATA_DIR=/path/to/copy .venv/bin/python bench/api_equality.py record answers.jsonl
    (change the code, or build the catalog again with another importer)
    CVEWATCH_DATA_DIR=/path/to/copy .venv/bin/python bench/api_equality.py compare answers.jsonl
    (CVEWATCH_DATABASE_URL=postgres://…/copy for PostgreSQL)

About 150 requests through the whole middleware stack (Django's test client, in-process), with HTTP Basic
and with an organization token: every list endpoint of the contract with its filters, first, middle, last
and past-the-end pages, `search=` terms, query-language queries, details of ~45 CVEs spread over the
catalog, vendors, products, weaknesses, organizations and projects, and the contract's errors. Each answer's
status, Content-Type and body are recorded; `compare` sends the same requests and prints every answer that
differs (exit 1), so a speed-up that changes a byte of an answer is caught.

The organization, projects and token the requests need are created with fixed ids and times and deleted at
the end (run it on a copy of a full-corpus database). `--catalog-rows` masks what belongs to the rows
rather than to the data (vendor, product and weakness ids and row times, written by the import): use it to
compare two catalogs imported from the same files by different importers.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

NAME = "api-equality-bench"
PASSWORD = "api-equality-bench-password"  # noqa: S105 - a throw-away user of the benchmark copy
FIXED_TIME = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
PROJECT_VENDORS = {"watch-big": ["microsoft", "linux", "google"], "watch-one": ["openssl"]}
PROJECT_PRODUCTS: dict[str, list[tuple[str, str]]] = {"watch-one": [("apache", "http_server")]}
MASK = "<row>"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    os.environ.setdefault("CVEWATCH_LOG_LEVEL", "WARNING")
    os.environ["CVEWATCH_API_RATE_LIMIT"] = "off"  # answers, not rate limits, are compared
    import django

    django.setup()


def create_fixture() -> str:
    """The user, organization, projects and token of the requests, with fixed uuids and times; the token."""
    from django.contrib.auth import get_user_model

    from cvewatch.organizations.models import Organization, Project
    from cvewatch.organizations.services import organizations, projects, tokens

    delete_fixture()
    user = get_user_model().objects.create_user(username=NAME, password=PASSWORD)
    organization = organizations.create_organization(name=NAME, owner=user)
    for index, (name, vendors) in enumerate(PROJECT_VENDORS.items()):
        project = projects.create_project(
            organization=organization,
            name=name,
            vendors=vendors,
            products=PROJECT_PRODUCTS.get(name, []),
            actor=user,
        )
        Project.objects.filter(pk=project.pk).update(
            uuid=uuid.UUID(int=100 + index), created_at=FIXED_TIME, updated_at=FIXED_TIME
        )
    projects.create_project(organization=organization, name="watch-nothing", actor=user)
    Project.objects.filter(organization=organization, name="watch-nothing").update(
        uuid=uuid.UUID(int=199), created_at=FIXED_TIME, updated_at=FIXED_TIME
    )
    Organization.objects.filter(pk=organization.pk).update(
        uuid=uuid.UUID(int=1), created_at=FIXED_TIME, updated_at=FIXED_TIME
    )
    _, token = tokens.create_token(organization=organization, name="equality", actor=user)
    return token


def delete_fixture() -> None:
    from django.contrib.auth import get_user_model

    from cvewatch.organizations.models import Organization

    Organization.objects.filter(name=NAME).delete()
    get_user_model().objects.filter(username=NAME).delete()


def sample_cve_ids() -> list[str]:
    """About 45 CVE ids spread over the catalog (every 5,000th by id), plus well-known ones (present or not)."""
    from cvewatch.catalog.models import Cve

    ids = list(Cve.objects.order_by("cve_id").values_list("cve_id", flat=True))
    return [*ids[::5000], "CVE-2021-44228", "CVE-2014-0160", "CVE-2017-5754", "CVE-2024-3094"]


def requests() -> Iterator[tuple[str, str]]:
    """(auth kind, URL) of every request, in a fixed order."""
    org = f"/api/organizations/{NAME}"
    catalog = [
        "/api/cve", "/api/cve?page=2", "/api/cve?page=50", "/api/cve?page=last", "/api/cve?page=999999",
        "/api/cve?page=0", "/api/cve?page=abc",
        "/api/cve?vendor=microsoft", "/api/cve?vendor=microsoft&page=30", "/api/cve?vendor=Micro%20Soft",
        "/api/cve?vendor=linux&product=linux_kernel", "/api/cve?vendor=linux&product=linux_kernel&page=last",
        "/api/cve?vendor=no-such-vendor", "/api/cve?vendor=microsoft&product=no_such_product",
        "/api/cve?product=windows_10",
        *[f"/api/cve?cvss={level}" for level in ("critical", "HIGH", "medium", "low", "empty", "bogus")],
        "/api/cve?weakness=CWE-79", "/api/cve?weakness=CWE-79&page=40", "/api/cve?weakness=CWE-99999",
        "/api/cve?vendor=microsoft&cvss=critical", "/api/cve?vendor=google&weakness=CWE-787",
        *[
            f"/api/cve?search={term}"
            for term in (
                "buffer", "remote%20code%20execution", "microsoft", "oracle", "CVE-2021-44", "log4j", "xss",
                "sql", "%25", "_", "ab", "%C3%A9", "zzzzqqq", "buffer&page=3", "overflow&vendor=linux",
            )
        ],
        *[
            f"/api/cve?q={query}"
            for query in (
                "description%3A%22remote%20code%22", "vendor%3Amicrosoft", "cvss31%3E%3D9", "kev%3Atrue",
                "description%3A%22remote%20code%22%20OR%20title%3Aoverflow", "cwe%3ACWE-79%20AND%20epss%3E%3D50",
                "vendor%3A", "cvss31%3E%3Dten",
            )
        ],
        *[f"/api/cve/{cve_id}" for cve_id in sample_cve_ids()],
        "/api/cve/CVE-1999-99999999", "/api/cve/not-a-cve", "/api/cve/cve-2021-44228",
        "/api/vendors", "/api/vendors?page=3", "/api/vendors?page=last", "/api/vendors?search=micro",
        "/api/vendors/microsoft", "/api/vendors/no-such-vendor", "/api/vendors/microsoft/products",
        "/api/vendors/microsoft/products?page=2", "/api/vendors/microsoft/products/windows_10",
        "/api/vendors/microsoft/cve", "/api/vendors/microsoft/cve?page=9",
        "/api/vendors/linux/products/linux_kernel/cve", "/api/vendors/linux/products/linux_kernel/cve?page=100",
        "/api/weaknesses", "/api/weaknesses?page=5", "/api/weaknesses/CWE-79", "/api/weaknesses/CWE-79/cve",
        "/api/weaknesses/CWE-79/cve?page=7", "/api/weaknesses/NVD-CWE-Other/cve", "/api/weaknesses/CWE-0",
    ]  # fmt: skip
    organizations = [
        "/api/organizations", org, f"{org}/projects", f"{org}/projects/watch-big", f"{org}/projects/watch-one",
        f"{org}/projects/watch-big/cve", f"{org}/projects/watch-big/cve?page=2",
        f"{org}/projects/watch-big/cve?page=500", f"{org}/projects/watch-big/cve?page=last",
        f"{org}/projects/watch-one/cve", f"{org}/projects/watch-one/cve?page=3", f"{org}/projects/watch-nothing/cve",
        f"{org}/projects/no-such-project/cve", "/api/organizations/no-such-org",
    ]  # fmt: skip
    for url in catalog:
        yield "basic", url
    for url in organizations:
        yield "basic", url
        yield "token", url
    for url in (
        "/api/cve",
        "/api/cve?vendor=microsoft",
        "/api/cve?search=buffer",
        f"/api/cve/{sample_cve_ids()[7]}",
    ):
        yield "token", url
    yield "none", "/api/cve"


def answers(token: str, *, catalog_rows: bool) -> Iterator[dict[str, Any]]:
    from django.conf import settings
    from django.test import Client

    basic = "Basic " + base64.b64encode(f"{NAME}:{PASSWORD}".encode()).decode()
    headers = {"basic": basic, "token": f"Bearer {token}", "none": None}
    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0].lstrip(".") or "localhost")
    for auth, url in requests():
        extra = {"HTTP_AUTHORIZATION": headers[auth]} if headers[auth] else {}
        response = client.get(url, **extra)
        body = response.content.decode("utf-8", "replace")
        if catalog_rows and response.status_code == 200:
            body = json.dumps(_masked(json.loads(body)), sort_keys=False)
        yield {
            "auth": auth,
            "url": url,
            "status": response.status_code,
            "content_type": response.get("Content-Type", ""),
            "www_authenticate": response.get("WWW-Authenticate", ""),
            "body": body,
        }


def _masked(value: Any) -> Any:
    """Vendor, product and weakness rows with their ids and row times masked (they belong to the import)."""
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if not isinstance(value, dict):
        return value
    is_row = "name" in value or ("cwe_id" in value and "cve_id" not in value)
    return {
        k: (MASK if is_row and k in ("id", "created_at", "updated_at") else _masked(v))
        for k, v in value.items()
    }


def first_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"at character {at}: recorded …{a[max(0, at - 40) : at + 80]!r}… now …{b[max(0, at - 40) : at + 80]!r}…"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("file", type=Path)
    parser.add_argument(
        "--catalog-rows", action="store_true", help="mask vendor/product/weakness row ids and times"
    )
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    token = create_fixture()
    try:
        got = list(answers(token, catalog_rows=args.catalog_rows))
    finally:
        delete_fixture()
    print(f"engine={connection.vendor}: {len(got)} requests")
    if args.mode == "record":
        args.file.write_text("".join(json.dumps(a) + "\n" for a in got))
        print(f"recorded in {args.file}")
        return 0
    recorded = [json.loads(line) for line in args.file.read_text().splitlines()]
    if [(r["auth"], r["url"]) for r in recorded] != [(a["auth"], a["url"]) for a in got]:
        print("the recorded requests are not this script's requests: record again with the old code")
        return 2
    differ = 0
    for old, new in zip(recorded, got, strict=True):
        for key in ("status", "content_type", "www_authenticate", "body"):
            if old[key] != new[key]:
                differ += 1
                detail = (
                    first_difference(str(old[key]), str(new[key]))
                    if key == "body"
                    else f"{old[key]!r} → {new[key]!r}"
                )
                print(f"DIFFERS {old['auth']:5} {old['url']}: {key} {detail}")
                break
    print(
        f"{len(got) - differ} of {len(got)} answers identical{'' if differ else ': the API answers as before'}"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
