"""API test fixtures: real OpenCVE knowledge-base records loaded into the catalog, and callers."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from cvewatch.api.authentication import credential_cache
from cvewatch.catalog.models import Cve
from tests.support.people import PASSWORD, make_user

KB_DIR = Path(__file__).resolve().parent.parent / "data" / "opencve-kb"


def load_kb_record(path: Path) -> Cve:
    """Import one real KB file through the ingest service, as `cvewatch import` does."""
    from cvewatch.ingest.services import import_paths

    _, stats = import_paths([path])
    assert stats.imported, f"{path.name} was not imported"
    return Cve.objects.get(cve_id=path.stem)


def kb_path(cve_id: str) -> Path:
    return KB_DIR / cve_id.split("-")[1] / f"{cve_id}.json"


@pytest.fixture
def log4shell(db) -> Cve:
    return load_kb_record(kb_path("CVE-2021-44228"))


@pytest.fixture
def spring4shell(db) -> Cve:
    return load_kb_record(kb_path("CVE-2022-22965"))


@pytest.fixture
def kb_all(db) -> list[Cve]:
    """Every KB fixture that has an `opencve` block (the KEV-only stub is not a CVE record)."""
    paths = sorted(KB_DIR.glob("*/*.json"))
    return [load_kb_record(p) for p in paths if "opencve" in json.loads(p.read_bytes())]


@pytest.fixture(autouse=True)
def _fresh_credential_cache():
    credential_cache.clear()
    yield
    credential_cache.clear()


@pytest.fixture
def user(db):
    return make_user("alice")


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
def api(user) -> APIClient:
    """A client that authenticates every request with HTTP Basic as `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_header(user.username, PASSWORD))
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()
