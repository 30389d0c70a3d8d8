"""A project's query subscriptions reach its alerts: a change matched only by a query makes a delivery."""

from __future__ import annotations

import pytest

from cvewatch.alerts.choices import Channel
from cvewatch.alerts.models import Delivery
from cvewatch.alerts.services.matching import write_deliveries
from cvewatch.alerts.services.notifications import create_notification
from cvewatch.catalog.models import Change
from cvewatch.ingest.services import import_paths
from cvewatch.organizations.services import projects as org_projects
from cvewatch.workbench.services.query_subscriptions import add_query_subscription
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def watcher(org, owner):
    """acme/exams: no vendor or product, only a query subscription, and a webhook notification."""
    project = org_projects.create_project(organization=org, name="exams")
    add_query_subscription(project=project, query='description:"Online Examination" AND cvss31>=5', actor=owner)
    notification, _ = create_notification(
        project=project, name="soc", channel=Channel.WEBHOOK, target="https://hooks.example.com/x"
    )
    return notification


def test_an_imported_cve_matched_only_by_a_query_subscription_yields_a_delivery(watcher, data_dir):
    import_paths([data_dir / "cve5" / "CVE-2023-45117.json"])

    deliveries = list(Delivery.objects.filter(notification=watcher))
    assert len(deliveries) == 1
    body = deliveries[0].payload
    assert [c["cve"]["cve_id"] for c in body["changes"]] == ["CVE-2023-45117"]
    raw = 'query:description:"Online Examination" AND cvss31>=5'
    assert body["changes"][0]["cve"]["subscriptions"] == {"raw": [raw], "human": [raw.removeprefix("query:")]}
    assert body["subscriptions"]["raw"] == [raw]
    assert body["title"] == '1 change on description:"Online Examination" AND cvss31>=5'


def test_a_query_that_does_not_match_makes_no_delivery(watcher):
    change = Change.objects.create(cve=CveFactory(description="Online Examination flaw", cvss31_score=4.0))
    assert write_deliveries(change_uuids=[change.uuid]) == []


def test_a_cve_matched_by_two_query_subscriptions_names_both(watcher, owner):
    project = watcher.project
    add_query_subscription(project=project, query="kev:true", name="KEV", actor=owner)
    hit = CveFactory(description="Anything", kev_added="2024-01-02")
    both = CveFactory(description="Online Examination System", cvss31_score=9.0, kev_added="2024-01-02")
    miss = CveFactory(description="Online Examination System", cvss31_score=1.0)
    changes = [Change.objects.create(cve=cve, types=["created"]) for cve in (hit, both, miss)]
    [delivery] = write_deliveries(change_uuids=[c.uuid for c in changes])
    entries = {c["cve"]["cve_id"]: c["cve"]["subscriptions"]["raw"] for c in delivery.payload["changes"]}
    assert entries == {
        hit.cve_id: ["query:KEV"],
        both.cve_id: ["query:KEV", 'query:description:"Online Examination" AND cvss31>=5'],
    }


def test_query_subscriptions_cost_a_fixed_number_of_queries(watcher, owner):
    for i in range(60):  # two groups of SUBSCRIPTIONS_PER_QUERY
        add_query_subscription(project=watcher.project, query=f"title:word{i}", actor=owner)
    few = [Change.objects.create(cve=CveFactory(title="word7")) for _ in range(3)]
    many = [Change.objects.create(cve=CveFactory(title=f"word{i}")) for i in range(60)]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        write_deliveries(change_uuids=[c.uuid for c in few])
    with CaptureQueriesContext(connection) as large:
        [delivery] = write_deliveries(change_uuids=[c.uuid for c in many])
    assert len(delivery.payload["changes"]) == 60
    assert len(large) == len(small)
