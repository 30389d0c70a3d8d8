"""Saved views: names, queries, private and shared views, who may change them."""

from __future__ import annotations

import pytest

from cvewatch.core import errors
from cvewatch.organizations.services import members
from cvewatch.workbench import selectors
from cvewatch.workbench.errors import DuplicateView, InvalidViewName, InvalidViewQuery
from cvewatch.workbench.services import views

pytestmark = pytest.mark.django_db


def names(user, organization):
    return [v.name for v in selectors.views_for(user=user, organization=organization)]


def test_create_normalises_the_query(org, owner):
    view = views.create_view(
        organization=org,
        owner=owner,
        name="  Critical   apache ",
        query="?vendor=apache&page=3&cvss=critical&search=&view=7",
    )
    assert (view.name, view.query, view.shared) == ("Critical apache", "vendor=apache&cvss=critical", False)


@pytest.mark.parametrize("name", ["", "  ", "x" * 65])
def test_bad_names_are_refused(org, owner, name):
    with pytest.raises(InvalidViewName):
        views.create_view(organization=org, owner=owner, name=name, query="vendor=apache")


@pytest.mark.parametrize("query", ["", "?", "page=2", "search=", "q=" + "x" * 2001])
def test_empty_or_huge_queries_are_refused(org, owner, query):
    with pytest.raises(InvalidViewQuery):
        views.create_view(organization=org, owner=owner, name="v", query=query)


def test_names_are_unique_per_owner(org, owner, member):
    views.create_view(organization=org, owner=owner, name="Mine", query="vendor=apache")
    with pytest.raises(DuplicateView) as exc:
        views.create_view(organization=org, owner=owner, name="mine", query="vendor=x")
    assert exc.value.http_status == 409
    views.create_view(organization=org, owner=member, name="Mine", query="vendor=x")


def test_private_views_stay_private_and_shared_ones_are_seen(org, owner, member):
    private = views.create_view(organization=org, owner=owner, name="private", query="vendor=a")
    views.create_view(organization=org, owner=owner, name="shared", query="vendor=b", shared=True)
    assert names(owner, org) == ["private", "shared"]
    assert names(member, org) == ["shared"]
    with pytest.raises(errors.NotFound):
        selectors.view_for(user=member, organization=org, view_id=private.pk)
    with pytest.raises(errors.NotFound):
        views.delete_view(organization=org, actor=member, view_id=private.pk)


def test_only_the_owner_or_an_org_owner_edits_a_shared_view(org, owner, member):
    by_member = views.create_view(organization=org, owner=member, name="team", query="vendor=a", shared=True)
    by_owner = views.create_view(organization=org, owner=owner, name="boss", query="vendor=b", shared=True)
    with pytest.raises(errors.NotAllowed):
        views.update_view(organization=org, actor=member, view_id=by_owner.pk, name="mine now")
    with pytest.raises(errors.NotAllowed):
        views.delete_view(organization=org, actor=member, view_id=by_owner.pk)
    assert views.update_view(organization=org, actor=owner, view_id=by_member.pk, name="Team").name == "Team"
    views.update_view(organization=org, actor=member, view_id=by_member.pk, shared=False)
    with pytest.raises(errors.NotFound):  # private again: the org owner no longer sees it
        views.delete_view(organization=org, actor=owner, view_id=by_member.pk)
    views.delete_view(organization=org, actor=owner, view_id=by_owner.pk)
    assert names(member, org) == ["Team"]


def test_rename_to_a_taken_name_is_refused(org, owner):
    views.create_view(organization=org, owner=owner, name="a", query="vendor=a")
    b = views.create_view(organization=org, owner=owner, name="b", query="vendor=b")
    with pytest.raises(DuplicateView):
        views.update_view(organization=org, actor=owner, view_id=b.pk, name="A")


def test_other_organizations_never_see_the_views(org, owner, outsider):
    from cvewatch.organizations.services import organizations

    globex = organizations.create_organization(name="globex", owner=outsider)
    shared = views.create_view(organization=org, owner=owner, name="shared", query="vendor=a", shared=True)
    assert names(outsider, globex) == []
    assert names(outsider, org) == []  # even asking with acme: nothing of it is shared with eve
    with pytest.raises(errors.NotAllowed):
        views.create_view(organization=org, owner=outsider, name="x", query="vendor=a")
    with pytest.raises(errors.NotAllowed):
        views.delete_view(organization=org, actor=outsider, view_id=shared.pk)


def test_a_removed_member_loses_the_shared_views(org, owner, member):
    views.create_view(organization=org, owner=owner, name="shared", query="vendor=a", shared=True)
    members.remove_member(organization=org, user=member, actor=owner)
    with pytest.raises(errors.NotAllowed):
        views.create_view(organization=org, owner=member, name="x", query="vendor=a")
