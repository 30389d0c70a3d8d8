"""Changes recorded by `cvewatch sync` (not only by `cvewatch import`) produce their deliveries."""

from __future__ import annotations

import pytest

from cvewatch.alerts.choices import Channel
from cvewatch.alerts.models import Delivery
from cvewatch.alerts.services.notifications import create_notification
from cvewatch.catalog.models import Cve
from cvewatch.organizations.services import projects as org_projects
from cvewatch.sync import services as sync_services
from tests.conftest import DATA
from tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


def test_a_sync_of_nvd_writes_exactly_the_deliveries_its_changes_allow(org, settings):
    VendorFactory(name="freebsd")
    VendorFactory(name="hp")
    project = org_projects.create_project(organization=org, name="unix", vendors=["freebsd", "hp"])
    every, _ = create_notification(project=project, name="every", channel=Channel.WEBHOOK, target="https://h.example/")
    serious, _ = create_notification(
        project=project, name="serious", channel=Channel.WEBHOOK, target="https://h.example/", min_cvss31=9.0
    )
    settings.SYNC_URLS = {**settings.SYNC_URLS, "nvd": str(DATA / "nvd-1.1" / "nvdcve-1.1-fixtures.json")}

    run = sync_services.run_source(name="nvd", worker="test")
    assert run is not None and run.status == "succeeded"

    watched = {c.cve_id: c for c in Cve.objects.all() if {"freebsd", "hp"} & set(c.vendors)}
    assert watched  # the fixture feed has FreeBSD and HP-UX CVEs
    reported = [c["cve"]["cve_id"] for d in Delivery.objects.filter(notification=every) for c in d.payload["changes"]]
    assert sorted(reported) == sorted(watched)
    expected_serious = {i for i, c in watched.items() if c.cvss31_score is None or c.cvss31_score >= 9.0}
    reported_serious = {
        c["cve"]["cve_id"] for d in Delivery.objects.filter(notification=serious) for c in d.payload["changes"]
    }
    assert reported_serious == expected_serious
