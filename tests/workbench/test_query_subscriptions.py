"""Query subscriptions of projects: checked at save, scoped to the project, part of its CVEs."""

from __future__ import annotations

import pytest

from cvewatch.core.errors import Conflict, InvalidInput, InvalidQuery, NotAllowed, NotFound
from cvewatch.organizations import selectors as org_selectors
from cvewatch.organizations.services import projects as org_projects
from cvewatch.workbench.query import query_subscriptions_of
from cvewatch.workbench.services.query_subscriptions import add_query_subscription, remove_query_subscription
from tests.factories import CveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org, owner):
    return org_projects.create_project(organization=org, name="production", actor=owner)


def test_add_list_remove(project, member):
    first = add_query_subscription(project=project, query='  description:"log4j" ', name="log4j", actor=member)
    second = add_query_subscription(project=project, query="vendor:acme AND cvss31>=7", actor=member)
    assert first.query == 'description:"log4j"'  # stored stripped
    assert query_subscriptions_of(project=project) == [first, second]
    remove_query_subscription(project=project, subscription_id=first.pk, actor=member)
    assert query_subscriptions_of(project=project) == [second]


@pytest.mark.parametrize(
    "query, message, position",
    [
        ("vendor:acme AND userTag:mine", "userTag cannot be used in a subscription", 16),
        ("project:other", "project cannot be used in a subscription", 0),
        ("epss>200", "200 is out of range", 5),
        ("", "The query is empty.", 0),
    ],
)
def test_a_query_is_checked_at_save(project, owner, query, message, position):
    with pytest.raises(InvalidQuery, match=message) as caught:
        add_query_subscription(project=project, query=query, actor=owner)
    assert caught.value.position == position
    assert not query_subscriptions_of(project=project)


def test_refusals(project, owner, outsider, org):
    add_query_subscription(project=project, query="kev:true", actor=owner)
    with pytest.raises(Conflict):
        add_query_subscription(project=project, query=" kev:true", actor=owner)
    with pytest.raises(InvalidInput, match="too long"):
        add_query_subscription(project=project, query="kev:false", name="x" * 65, actor=owner)
    with pytest.raises(NotAllowed):
        add_query_subscription(project=project, query="kev:false", actor=outsider)
    other = org_projects.create_project(organization=org, name="other", actor=owner)
    theirs = add_query_subscription(project=other, query="kev:false", actor=owner)
    with pytest.raises(NotFound):  # another project's subscription, even in the same organization
        remove_query_subscription(project=project, subscription_id=theirs.pk, actor=owner)
    with pytest.raises(NotAllowed):
        remove_query_subscription(project=other, subscription_id=theirs.pk, actor=outsider)


def test_a_projects_cves_include_its_query_matches(project, owner):
    linked = CveFactory(vendors=["acme"], description="Acme router flaw")
    searched = CveFactory(description="A log4j gadget", cvss31_score=9.0)
    CveFactory(description="Unrelated")
    org_projects.subscribe_project(project=project, vendors=["acme"], actor=owner)
    listing = org_selectors.project_cve_listing(project=project)
    assert [c.pk for c in listing[:10]] == [linked.pk]
    add_query_subscription(project=project, query="log4j AND cvss31>=7", actor=owner)
    listing = org_selectors.project_cve_listing(project=project)
    assert listing.count() == 2
    assert {c.pk for c in listing[:10]} == {linked.pk, searched.pk}
