"""Changes -> deliveries: matching on real imported records, filters, the body, and the transaction."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from cvewatch.alerts.choices import Channel, Digest
from cvewatch.alerts.models import Delivery
from cvewatch.alerts.services import payloads
from cvewatch.alerts.services.matching import write_deliveries
from cvewatch.alerts.services.notifications import create_notification
from cvewatch.catalog.models import Change, Cve
from cvewatch.ingest.services import import_paths
from cvewatch.organizations.services import projects as org_projects
from tests.factories import CveFactory, VendorFactory

pytestmark = pytest.mark.django_db(transaction=False)


def _webhook(project, name="soc", **filters):
    notification, _ = create_notification(
        project=project, name=name, channel=Channel.WEBHOOK, target="https://hooks.example.com/x", **filters
    )
    return notification


def _expected_cves(subscriptions: set[str]) -> set[str]:
    """The oracle: CVEs whose served vendor list names a subscription (independent of the link tables)."""
    return {c.cve_id for c in Cve.objects.all() if subscriptions & set(c.vendors)}


def test_an_import_of_real_records_yields_one_delivery_per_notification_with_exactly_the_touching_changes(
    project, data_dir
):
    soc = _webhook(project)
    other = org_projects.create_project(organization=project.organization, name="unrelated")
    VendorFactory(name="nobody-ships-this")
    org_projects.subscribe_project(project=other, vendors=["nobody-ships-this"])
    _webhook(other, name="quiet")

    import_paths([data_dir / "cve5", data_dir / "nvd-api-2.0", data_dir / "kev"], batch_size=50)

    deliveries = list(Delivery.objects.filter(notification=soc))
    assert len(deliveries) >= 1  # one per import batch with a matching change
    reported = [c["cve"]["cve_id"] for d in deliveries for c in d.payload["changes"]]
    assert len(reported) == len(set(reported))
    expected = _expected_cves({"microsoft", "samsung_mobile", "google$PRODUCT$android"})
    assert set(reported) == expected
    # The CNA-only vendor: samsung_mobile appears only in the CNA container, never in NVD or ADP data.
    assert "CVE-2023-30696" in reported
    assert not Delivery.objects.filter(notification__project=other).exists()
    # Every change id reported belongs to a recorded change of a reported CVE.
    change_ids = [uuid.UUID(i) for d in deliveries for i in d.change_ids]
    assert set(Change.objects.filter(uuid__in=change_ids).values_list("cve__cve_id", flat=True)) == expected


def test_the_body_is_the_contract_field_for_field(project, data_dir):
    soc = _webhook(project)
    import_paths([data_dir / "cve5" / "CVE-2023-30696.json"])
    delivery = Delivery.objects.get(notification=soc)
    body = delivery.payload
    assert list(payloads.in_contract_order(body)) == [
        "organization", "project", "notification", "subscriptions", "matched_subscriptions", "title", "period",
        "changes",
    ]  # fmt: skip
    assert set(body) == set(payloads.BODY_FIELDS)
    assert body["organization"] == "acme" and body["project"] == "production" and body["notification"] == "soc"
    assert body["subscriptions"] == {
        "raw": ["google$PRODUCT$android", "microsoft", "samsung_mobile"],
        "human": ["Android", "Microsoft", "Samsung Mobile"],
    }
    assert body["matched_subscriptions"] == {"raw": ["samsung_mobile"], "human": ["Samsung Mobile"]}
    assert body["title"] == "1 change on Samsung Mobile"
    cve = Cve.objects.get(cve_id="CVE-2023-30696")
    (change,) = body["changes"]
    assert change["cve"] == {
        "cve_id": "CVE-2023-30696",
        "description": cve.description,
        "cvss31": cve.cvss31_score,
        "subscriptions": {"raw": ["samsung_mobile"], "human": ["Samsung Mobile"]},
    }
    assert [e["type"] for e in change["events"]][0] == "created"
    recorded = Change.objects.get(cve=cve)
    assert change["events"] == recorded.events
    assert body["period"]["start"] == recorded.created_at.isoformat()
    assert delivery.change_ids == [str(recorded.uuid)]
    assert delivery.period_start == recorded.created_at


def _change(cve, types):
    return Change.objects.create(cve=cve, events=[{"type": t, "details": {}} for t in types], types=types)


@pytest.fixture
def cves(project):
    return {
        "critical": CveFactory(cve_id="CVE-2024-0001", vendors=["microsoft"], cvss31_score=9.8),
        "low": CveFactory(cve_id="CVE-2024-0002", vendors=["microsoft"], cvss31_score=3.1),
        "unscored": CveFactory(cve_id="CVE-2024-0003", vendors=["microsoft"]),
        "kev": CveFactory(
            cve_id="CVE-2024-0004", vendors=["google", "google$PRODUCT$android"], cvss31_score=5.0,
            kev_added="2024-02-01",
        ),
        "elsewhere": CveFactory(cve_id="CVE-2024-0005", vendors=["apple"], cvss31_score=10.0),
    }  # fmt: skip


def _reported(notification):
    return sorted(c["cve"]["cve_id"] for d in notification.deliveries.all() for c in d.payload["changes"])


def test_filters_types_min_cvss_and_kev_only(project, cves):
    every = _webhook(project, name="every")
    serious = _webhook(project, name="serious", min_cvss31=7.0)
    kev = _webhook(project, name="kev", kev_only=True)
    titles = _webhook(project, name="titles", event_types=["title", "description"])
    changes = [
        _change(cves["critical"], ["created"]),
        _change(cves["low"], ["metrics"]),
        _change(cves["unscored"], ["title"]),
        _change(cves["kev"], ["description", "references"]),
        _change(cves["elsewhere"], ["created"]),
    ]
    written = write_deliveries(change_uuids=[c.uuid for c in changes])
    assert len(written) == 4
    assert _reported(every) == ["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003", "CVE-2024-0004"]
    # A CVE without a CVSS v3.1 score is kept by a minimum score.
    assert _reported(serious) == ["CVE-2024-0001", "CVE-2024-0003"]
    assert _reported(kev) == ["CVE-2024-0004"]
    assert _reported(titles) == ["CVE-2024-0003", "CVE-2024-0004"]


def test_no_delivery_when_the_filters_let_nothing_through(project, cves):
    kev = _webhook(project, name="kev", kev_only=True)
    assert write_deliveries(change_uuids=[_change(cves["low"], ["metrics"]).uuid]) == []
    assert not kev.deliveries.exists()


def test_disabled_unconfirmed_daily_and_inactive_get_nothing_immediately(project, cves, org):
    disabled = _webhook(project, name="disabled")
    disabled.enabled = False
    disabled.save()
    unconfirmed, _ = create_notification(
        project=project, name="mail", channel=Channel.EMAIL, target="soc@example.com"
    )
    daily = _webhook(project, name="daily", digest=Digest.DAILY)
    inactive = org_projects.create_project(organization=org, name="old", vendors=["microsoft"], active=False)
    on_inactive = _webhook(inactive, name="x")
    assert write_deliveries(change_uuids=[_change(cves["critical"], ["created"]).uuid]) == []
    for notification in (disabled, unconfirmed, daily, on_inactive):
        assert not notification.deliveries.exists()


def test_deliveries_roll_back_with_the_changes(project, cves):
    soc = _webhook(project)
    with pytest.raises(RuntimeError), transaction.atomic():
        change = _change(cves["critical"], ["created"])
        assert len(write_deliveries(change_uuids=[change.uuid])) == 1
        raise RuntimeError("the import batch fails after the deliveries were written")
    assert not soc.deliveries.exists()
    assert not Change.objects.filter(cve=cves["critical"]).exists()


def test_matching_cost_does_not_grow_with_projects_or_changes(org):
    """1,000 projects x 5 subscriptions, each with a webhook: the queries do not depend on the changes' count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cvewatch.alerts.models import Notification
    from cvewatch.organizations.models import Project, ProjectVendor

    vendors = [VendorFactory(name=f"vendor{i}") for i in range(50)]
    projects = Project.objects.bulk_create([Project(organization=org, name=f"p{i}") for i in range(1000)])
    ProjectVendor.objects.bulk_create(
        [ProjectVendor(project=p, vendor=vendors[(i + k) % 50]) for i, p in enumerate(projects) for k in range(5)]
    )
    Notification.objects.bulk_create(
        [Notification(project=p, name="hook", channel=Channel.WEBHOOK, target="https://h.example/") for p in projects]
    )
    few = [_change(CveFactory(vendors=[f"vendor{i}"]), ["created"]) for i in range(50)]
    many = [_change(CveFactory(vendors=[f"vendor{i % 50}"]), ["created"]) for i in range(400)]
    with CaptureQueriesContext(connection) as small:
        assert len(write_deliveries(change_uuids=[c.uuid for c in few])) == 1000
    with CaptureQueriesContext(connection) as large:
        written = write_deliveries(change_uuids=[c.uuid for c in many])
    # Every project watches 5 of the 50 vendors, and every vendor has 8 of the 400 CVEs.
    assert len(written) == 1000
    assert all(len(d.payload["changes"]) == 40 for d in written)
    assert len(large) == len(small)  # the same plan for 50 or 400 changes: no query per change
    # Reads are a handful (one of them the query subscriptions); the rest are the multi-row INSERTs of
    # 1,000 deliveries (engine batch limits).
    assert len([q for q in large.captured_queries if not q["sql"].startswith("INSERT")]) <= 13


def test_without_any_live_notification_a_batch_costs_one_query(project, cves, django_assert_num_queries):
    change = _change(cves["critical"], ["created"])
    with django_assert_num_queries(1):
        assert write_deliveries(change_uuids=[change.uuid]) == []
