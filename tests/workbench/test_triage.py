"""Triage: statuses and assignees, the history of each change, and organizations kept apart."""

from __future__ import annotations

import pytest

from cvewatch.catalog.models import Cve
from cvewatch.core import errors
from cvewatch.workbench import selectors
from cvewatch.workbench.errors import InvalidTriage
from cvewatch.workbench.models import Triage, TriageEvent, TriageStatus
from cvewatch.workbench.services.triage import set_triage
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


def events():
    return list(
        TriageEvent.objects.order_by("id").values_list("actor_name", "field", "old_value", "new_value")
    )


def test_status_and_assignee_changes_are_recorded(production, log4j, owner, member):
    triage = set_triage(
        project=production, cve=log4j, actor=owner, status=TriageStatus.ANALYSIS, assignee="max"
    )
    assert (triage.status, triage.assignee) == (TriageStatus.ANALYSIS, member)
    set_triage(project=production, cve=log4j, actor=member, status=TriageStatus.RESOLVED)
    set_triage(project=production, cve=log4j, actor=member, assignee=None)
    assert events() == [
        ("olivia", "status", "to_evaluate", "analysis_in_progress"),
        ("olivia", "assignee", "", "max"),
        ("max", "status", "analysis_in_progress", "resolved"),
        ("max", "assignee", "max", ""),
    ]
    history = selectors.triage_history(project=production, cve=log4j)
    assert history[0].field == "assignee" and history[0].actor == member


def test_no_event_when_nothing_changes(production, log4j, owner):
    assert set_triage(project=production, cve=log4j, actor=owner, status=TriageStatus.TO_EVALUATE) is None
    assert Triage.objects.count() == 0
    set_triage(project=production, cve=log4j, actor=owner, status=TriageStatus.RISK_ACCEPTED)
    set_triage(project=production, cve=log4j, actor=owner, status=TriageStatus.RISK_ACCEPTED, assignee="")
    assert len(events()) == 1


def test_unknown_status_is_refused(production, log4j, owner):
    with pytest.raises(InvalidTriage):
        set_triage(project=production, cve=log4j, actor=owner, status="done")


def test_assignee_must_be_a_member(production, log4j, owner, outsider):
    with pytest.raises(InvalidTriage, match="not a member"):
        set_triage(project=production, cve=log4j, actor=owner, assignee=outsider.username)
    with pytest.raises(InvalidTriage):
        set_triage(project=production, cve=log4j, actor=owner, assignee="nobody-at-all")
    assert events() == []


def test_a_cve_outside_the_project_is_refused(production, unwatched, owner):
    with pytest.raises(InvalidTriage, match="not one of the CVEs"):
        set_triage(project=production, cve=unwatched, actor=owner, status=TriageStatus.RESOLVED)


def test_another_organization_can_neither_see_nor_edit(
    production, globex, globex_project, log4j, owner, outsider
):
    set_triage(project=production, cve=log4j, actor=owner, status=TriageStatus.RESOLVED)
    with pytest.raises(errors.NotAllowed):
        set_triage(project=production, cve=log4j, actor=outsider, status=TriageStatus.TO_EVALUATE)
    assert Triage.objects.get(project=production).status == TriageStatus.RESOLVED
    # globex's page of the same CVE shows globex's own (untriaged) project only.
    [row] = selectors.cve_triages(organization=globex, cve=log4j)
    assert (row.project, row.triage, row.status) == (globex_project, None, TriageStatus.TO_EVALUATE)
    [row] = selectors.cve_triages(organization=production.organization, cve=log4j)
    assert (row.project, row.status, len(row.events)) == (production, TriageStatus.RESOLVED, 1)


def test_condition_treats_untriaged_as_to_evaluate(production, log4j, owner):
    CveFactory(cve_id="CVE-2022-0002", vendors=["apache"])
    set_triage(project=production, cve=log4j, actor=owner, status=TriageStatus.REMEDIATION, assignee="olivia")

    def matching(**kwargs):
        return set(
            Cve.objects.filter(selectors.triage_condition(project=production, **kwargs)).values_list(
                "cve_id", flat=True
            )
        )

    assert matching(status=TriageStatus.TO_EVALUATE) == {"CVE-2022-0002"}
    assert matching(status=TriageStatus.REMEDIATION) == {"CVE-2021-44228"}
    assert matching(assignee="olivia") == {"CVE-2021-44228"}
    assert matching(assignee="-") == {"CVE-2022-0002"}
    assert matching(status=TriageStatus.RESOLVED) == set()


def test_a_cve_watched_through_a_query_subscription_can_be_triaged(production, unwatched, owner):
    from cvewatch.workbench.services.query_subscriptions import add_query_subscription

    add_query_subscription(project=production, query=f"cve={unwatched.cve_id}", actor=owner)
    set_triage(project=production, cve=unwatched, actor=owner, status=TriageStatus.RESOLVED)
    [shown] = selectors.cve_triages(organization=production.organization, cve=unwatched)
    assert (shown.project, shown.triage.status) == (production, TriageStatus.RESOLVED)


def test_project_cves_by_triage_keeps_to_the_watched_cves(production, log4j, owner):
    from cvewatch.organizations.services import projects

    spring = CveFactory(cve_id="CVE-2022-22965", vendors=["vmware"])
    projects.subscribe_project(project=production, vendors=["vmware"], actor=owner)
    set_triage(project=production, cve=spring, actor=owner, status=TriageStatus.RESOLVED, assignee="max")
    set_triage(project=production, cve=log4j, actor=owner, status=TriageStatus.RESOLVED)

    def ids(**kwargs):
        return [c.cve_id for c in selectors.project_triage_listing(project=production, **kwargs)[:50]]

    assert ids(status=TriageStatus.RESOLVED) == ["CVE-2022-22965", "CVE-2021-44228"]  # newest-updated first
    assert ids(assignee="max") == ["CVE-2022-22965"]
    assert ids(status=TriageStatus.RESOLVED, assignee="-") == ["CVE-2021-44228"]
    # Unsubscribed: the triage row stays, the CVE leaves the project's lists.
    projects.unsubscribe_project(project=production, vendors=["vmware"], actor=owner)
    assert ids(assignee="max") == []
    assert ids(status=TriageStatus.RESOLVED) == ["CVE-2021-44228"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"status": TriageStatus.TO_EVALUATE}, 3),
        ({"assignee": "-"}, 3),
        ({"status": TriageStatus.TO_EVALUATE, "assignee": "-"}, 2),
        ({"status": TriageStatus.RESOLVED}, 1),
        ({"assignee": "max"}, 1),
    ],
)
def test_listing_counts_match_the_rows(production, log4j, owner, kwargs, expected):
    """The untriaged plan counts by subtraction: it must agree with the rows, also for a CVE triaged
    'to evaluate' with an assignee, and with a triage row of a CVE the project no longer watches."""
    others = [CveFactory(vendors=["apache"]) for _ in range(3)]
    gone = CveFactory(vendors=["vmware"])
    from cvewatch.organizations.services import projects

    projects.subscribe_project(project=production, vendors=["vmware"], actor=owner)
    set_triage(project=production, cve=log4j, actor=owner, status=TriageStatus.RESOLVED)
    set_triage(
        project=production, cve=others[0], actor=owner, status=TriageStatus.TO_EVALUATE, assignee="max"
    )
    set_triage(project=production, cve=gone, actor=owner, status=TriageStatus.RESOLVED, assignee="max")
    projects.unsubscribe_project(project=production, vendors=["vmware"], actor=owner)
    listing = selectors.project_triage_listing(project=production, **kwargs)
    rows = list(listing[:50])
    assert listing.count() == len(rows) == expected
    if kwargs.get("status") == TriageStatus.TO_EVALUATE:
        assert log4j not in rows


def test_a_departed_assignee_stays_until_changed(production, log4j, owner, member):
    from cvewatch.organizations.services import members

    set_triage(project=production, cve=log4j, actor=owner, status=TriageStatus.ANALYSIS, assignee="max")
    members.remove_member(organization=production.organization, user=member, actor=owner)
    # The panel sends the assignee it shows: keeping max while changing the status is no refusal.
    triage = set_triage(
        project=production, cve=log4j, actor=owner, status=TriageStatus.RESOLVED, assignee="max"
    )
    assert (triage.status, triage.assignee) == (TriageStatus.RESOLVED, member)
    assert [e[1] for e in events()] == ["status", "assignee", "status"]
    set_triage(project=production, cve=log4j, actor=owner, assignee="")  # unassigning works
    with pytest.raises(InvalidTriage, match="not a member"):  # assigning them anew does not
        set_triage(project=production, cve=log4j, actor=owner, assignee="max")


def test_the_cve_page_lists_the_active_projects_watching_the_cve_by_name(
    django_assert_max_num_queries, production, globex_project, log4j, unwatched, owner
):
    from cvewatch.organizations.services import projects
    from cvewatch.workbench.services.query_subscriptions import add_query_subscription

    org = production.organization
    by_product = projects.create_project(organization=org, name="app", products=["apache/log4j"], actor=owner)
    projects.create_project(organization=org, name="paused", vendors=["apache"], active=False, actor=owner)
    projects.create_project(organization=org, name="other", vendors=["nobody"], actor=owner)
    queried = projects.create_project(organization=org, name="queried", vendors=["nobody"], actor=owner)
    add_query_subscription(project=queried, query=f"cve={log4j.cve_id}", actor=owner)
    missed = projects.create_project(organization=org, name="missed", vendors=["nobody"], actor=owner)
    add_query_subscription(project=missed, query="cve=CVE-1999-0001", actor=owner)
    # One query flags the active projects, then two (its queries, the match) per project only they may link.
    with django_assert_max_num_queries(5):
        watching = selectors._watching_projects(organization=org, cve=log4j)
    assert [p.name for p in watching] == [by_product.name, "production", "queried"]
    others = selectors._watching_projects(organization=org, cve=unwatched)
    assert [p.name for p in others] == ["missed", "other", "queried"]
