"""Fixtures of the workbench tests: acme (olivia owns it, max is a member) with a project watching apache,
eve's own organization globex with a project watching apache too, and two CVEs."""

from __future__ import annotations

import pytest

from cvewatch.organizations.services import organizations, projects
from tests.factories import CveFactory


@pytest.fixture
def log4j(db):
    return CveFactory(cve_id="CVE-2021-44228", vendors=["apache", "apache$PRODUCT$log4j"])


@pytest.fixture
def unwatched(db):
    return CveFactory(cve_id="CVE-2020-0001", vendors=["nobody"])


@pytest.fixture
def production(org, owner, log4j):
    return projects.create_project(organization=org, name="production", vendors=["apache"], actor=owner)


@pytest.fixture
def globex(outsider):
    return organizations.create_organization(name="globex", owner=outsider)


@pytest.fixture
def globex_project(globex, outsider, log4j):
    return projects.create_project(
        organization=globex, name="secret", products=["apache/log4j"], actor=outsider
    )
