"""The query language on the web pages, without a browser: the CVE list's query box and its refusals, a
project's CVE list query and its query subscriptions (add, refuse, remove, scoping)."""

from __future__ import annotations

import pytest

from cvewatch.organizations.services import projects
from cvewatch.workbench.models import CveTag, QuerySubscription, UserTag
from cvewatch.workbench.services.query_subscriptions import add_query_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org, owner, catalog):
    return projects.create_project(organization=org, name="prod", actor=owner)


def test_cve_list_takes_a_query(owner_client, catalog):
    page = owner_client.get("/cve", {"q": "kev:true OR cvss31<5"}).content.decode()
    assert "CVE-2021-44228" in page and 'aria-invalid="true"' not in page


def test_cve_list_shows_a_bad_query_with_its_faulty_part(owner_client, catalog):
    response = owner_client.get("/cve", {"q": "kev:true AND colour:red"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Unknown field &#x27;colour&#x27;" in page and "(column 14)" in page
    assert "<code>kev:true AND <mark>colour</mark>:red</code>" in page
    assert 'aria-invalid="true"' in page
    assert "CVE-2021-44228" not in page


def test_user_tags_in_the_web_query_are_the_persons_own(owner_client, owner, member_client, catalog):
    tag = UserTag.objects.create(user=owner, name="mine")
    CveTag.objects.create(tag=tag, cve=catalog["log4j"])
    assert "CVE-2021-44228" in owner_client.get("/cve", {"q": "userTag:mine"}).content.decode()
    page = member_client.get("/cve", {"q": "userTag:mine"}).content.decode()
    assert "No tag named &#x27;mine&#x27; (column 9)" in page


def test_project_query_subscriptions_on_the_page(owner_client, project):
    base = "/org/acme/projects/prod"
    refused = owner_client.post(base + "/queries", {"query": "project:prod", "name": ""})
    assert refused.status_code == 400
    assert "project cannot be used in a subscription" in refused.content.decode()
    assert "<mark>project</mark>" in refused.content.decode()
    added = owner_client.post(base + "/queries", {"query": 'description:"log4j2"', "name": "log4j"})
    assert added.status_code == 302
    page = owner_client.get(base).content.decode()
    assert "description:&quot;log4j2&quot;" in page and "CVE-2021-44228" in page
    twice = owner_client.post(base + "/queries", {"query": 'description:"log4j2"', "name": ""})
    assert twice.status_code == 400 and "already subscribes to this query" in twice.content.decode()
    # The project's list takes a query too.
    assert "CVE-2021-44228" not in owner_client.get(base, {"q": "kev:false"}).content.decode()
    subscription = QuerySubscription.objects.get(project=project)
    assert owner_client.post(f"{base}/queries/{subscription.pk}/remove").status_code == 302
    assert not QuerySubscription.objects.filter(project=project).exists()


def test_outsiders_cannot_touch_query_subscriptions(outsider_client, project, owner):
    subscription = add_query_subscription(project=project, query="kev:true", actor=owner)
    base = "/org/acme/projects/prod"
    assert outsider_client.post(base + "/queries", {"query": "kev:false"}).status_code == 404
    assert outsider_client.post(f"{base}/queries/{subscription.pk}/remove").status_code == 404
    assert QuerySubscription.objects.filter(pk=subscription.pk).exists()
