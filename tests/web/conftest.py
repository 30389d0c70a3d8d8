"""Fixtures of the web UI tests: an organization with an owner and a member, an outsider with their own
organization, and a small catalog."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from cvewatch.catalog.models import Change
from cvewatch.organizations.services import organizations, projects, tokens
from tests.factories import CveFactory


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other_org(outsider):
    """The outsider's own organization, with a project and a token that acme's people must never see."""
    organization = organizations.create_organization(name="globex", owner=outsider)
    projects.create_project(organization=organization, name="secret-plan", actor=outsider)
    tokens.create_token(organization=organization, name="globex-ci", actor=outsider)
    return organization


@pytest.fixture
def owner_client(owner, org) -> Client:
    return client_for(owner)


@pytest.fixture
def member_client(member, org) -> Client:
    return client_for(member)


@pytest.fixture
def outsider_client(outsider, other_org) -> Client:
    return client_for(outsider)


@pytest.fixture
def catalog(db):
    """Three CVEs: log4j (critical, KEV, with a change), a medium Spring one, and a low unlinked one."""
    log4j = CveFactory(
        cve_id="CVE-2021-44228",
        title="Apache Log4j2 JNDI features do not protect against attacker controlled LDAP",
        description="Apache Log4j2 2.0-beta9 through 2.15.0 JNDI features allow remote code execution.",
        vendors=["apache", "apache$PRODUCT$log4j"],
        weaknesses=["CWE-502"],
        cvss31_score=10.0,
        kev_added=dt.date(2021, 12, 10),
        metrics={
            "cvssV3_1": {
                "data": {"score": 10.0, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"},
                "provider": "nvd",
            },
            "kev": {"data": {"dateAdded": "2021-12-10", "dueDate": "2021-12-24"}, "provider": "cisa"},
        },
        references=["https://logging.apache.org/log4j/2.x/security.html", "javascript:alert(1)"],
        cpes=["cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*"],
        updated_at=dt.datetime(2024, 7, 24, tzinfo=dt.UTC),
    )
    spring = CveFactory(
        cve_id="CVE-2022-22965",
        title="Spring4Shell",
        description="A Spring MVC or Spring WebFlux application running on JDK 9+ may be vulnerable to RCE.",
        vendors=["vmware", "vmware$PRODUCT$spring_framework"],
        weaknesses=["CWE-94"],
        cvss31_score=5.5,
        updated_at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
    )
    lonely = CveFactory(
        cve_id="CVE-2020-0001",
        description="A low one.",
        cvss31_score=2.0,
        updated_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
    )
    Change.objects.create(
        cve=log4j,
        events=[
            {"type": "title", "details": {"old": None, "new": "Apache Log4j2 JNDI features"}},
            {"type": "weaknesses", "details": {"added": ["CWE-502"], "removed": []}},
        ],
        types=["title", "weaknesses"],
    )
    return {"log4j": log4j, "spring": spring, "lonely": lonely}


# The real-browser fixtures (Playwright + Debian's Chromium), shared by every browser test module.
from tests.support.browser import browser, context  # noqa: E402,F401
