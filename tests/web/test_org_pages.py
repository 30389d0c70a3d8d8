"""Organization pages: creation, switcher, settings for owners vs members, invitations, roles, removal.

Every page of another organization answers 404 to an outsider.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from cvewatch.organizations.models import Invitation, Membership
from cvewatch.organizations.services import invitations, organizations
from tests.support.people import make_user
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


def test_create_organization(owner):
    client = client_for(owner)
    bad = client.post("/org/new", {"name": "not a slug!"})
    assert bad.status_code == 200 and b"invalid organization name" in bad.content
    ok = client.post("/org/new", {"name": "initech"})
    assert ok.status_code == 302 and ok["Location"] == "/org/initech/settings"
    assert Membership.objects.get(organization__name="initech").role == "owner"
    duplicate = client.post("/org/new", {"name": "INITECH"})
    assert b"already exists" in duplicate.content


def test_switcher_lists_only_my_organizations_and_remembers_the_choice(owner, org, other_org):

    organizations.create_organization(name="zeta", owner=owner)
    client = client_for(owner)
    page = client.get("/").content.decode()
    assert '<option value="acme"' in page and '<option value="zeta"' in page
    assert "globex" not in page
    response = client.post("/org/switch", {"organization": "zeta", "next": "/cve"})
    assert response.status_code == 302 and response["Location"] == "/cve"
    assert client.get("/").context["org"].name == "zeta"
    # Someone else's organization cannot be chosen, nor an absolute URL used as the target.
    assert client.post("/org/switch", {"organization": "globex"}).status_code == 404
    assert (
        client.post("/org/switch", {"organization": "acme", "next": "https://evil.example"})["Location"]
        == "/"
    )
    assert client.get("/").context["org"].name == "acme"


def test_browsing_an_organizations_pages_writes_no_session_and_a_switch_still_does(owner, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(owner)
    assert client.get("/org/acme/settings").status_code == 200  # remembers acme: the session is written once
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/org/acme/settings").status_code == 200
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith(("UPDATE", "INSERT"))]
    assert writes == []  # the same organization again: nothing to write (on SQLite, no wait for an import)
    organizations.create_organization(name="zeta", owner=owner)
    assert client.get("/org/zeta/settings").status_code == 200
    assert client.get("/").context["org"].name == "zeta"  # a change is still remembered


def test_owner_sees_management_forms(owner_client):
    page = owner_client.get("/org/acme/settings").content.decode()
    assert "olivia" in page and "max" in page
    assert "Invite someone" in page and "Change role" in page and "Remove" in page
    assert 'href="/org/acme/tokens"' in page


def test_member_reads_but_cannot_manage(member_client, member, owner):
    page = member_client.get("/org/acme/settings").content.decode()
    assert "olivia" in page and "max" in page
    assert "Invite someone" not in page and "Change role" not in page
    assert 'href="/org/acme/tokens"' not in page
    refused = member_client.post(f"/org/acme/members/{owner.pk}/role", {"role": "member"}, follow=True)
    assert "only an owner of &#x27;acme&#x27; may do this" in refused.content.decode()
    assert Membership.objects.get(user=owner).role == "owner"
    refused = member_client.post(
        "/org/acme/invitations", {"email": "x@example.com", "role": "member"}, follow=True
    )
    assert b"only an owner" in refused.content
    assert not Invitation.objects.exists()


def test_outsider_gets_404_everywhere(outsider_client, org, owner, member):
    paths = [
        "/org/acme/settings",
        "/org/acme/tokens",
        "/org/acme/projects",
        "/org/acme/new-project",
        f"/org/acme/members/{member.pk}/remove",
    ]
    for path in paths:
        assert outsider_client.get(path).status_code == 404, path
    posts = [
        ("/org/acme/invitations", {"email": "x@example.com", "role": "member"}),
        (f"/org/acme/members/{owner.pk}/role", {"role": "member"}),
        (f"/org/acme/members/{member.pk}/remove", {}),
        ("/org/acme/tokens", {"name": "mine"}),
    ]
    for path, data in posts:
        assert outsider_client.post(path, data).status_code == 404, path
    assert Membership.objects.filter(organization=org).count() == 2
    # The 404 is the same page as for an organization that does not exist.
    missing = outsider_client.get("/org/nope/settings")
    assert missing.status_code == 404
    assert missing.content == outsider_client.get("/org/acme/settings").content
    assert b"not yours to see" in missing.content


def test_change_role_and_last_owner_error(owner_client, owner, member):
    ok = owner_client.post(f"/org/acme/members/{member.pk}/role", {"role": "owner"}, follow=True)
    assert b"max is now owner." in ok.content
    owner_client.post(f"/org/acme/members/{member.pk}/role", {"role": "member"})
    # olivia is the only owner again: demoting her is refused with the service's message.
    refused = owner_client.post(f"/org/acme/members/{owner.pk}/role", {"role": "member"}, follow=True)
    assert "olivia is the last owner of &#x27;acme&#x27; and cannot be demoted" in refused.content.decode()
    assert Membership.objects.get(user=owner).role == "owner"


def test_remove_member_needs_confirmation(owner_client, member):
    confirm = owner_client.get(f"/org/acme/members/{member.pk}/remove")
    assert confirm.status_code == 200 and b"Remove max?" in confirm.content
    assert Membership.objects.filter(user=member).exists()
    done = owner_client.post(f"/org/acme/members/{member.pk}/remove", follow=True)
    assert b"max was removed from acme." in done.content
    assert not Membership.objects.filter(user=member).exists()


def test_member_leaves_and_last_owner_cannot(member_client, member, owner_client, owner):
    refused = owner_client.post(f"/org/acme/members/{owner.pk}/remove", follow=True)
    assert b"last owner" in refused.content
    left = member_client.post(f"/org/acme/members/{member.pk}/remove")
    assert left.status_code == 302 and left["Location"] == "/"
    assert member_client.get("/org/acme/settings").status_code == 404


def test_invitation_by_mail_and_acceptance(owner_client, org):
    response = owner_client.post(
        "/org/acme/invitations", {"email": "Newcomer@Example.com", "role": "member"}, follow=True
    )
    assert b"Invitation sent to newcomer@example.com." in response.content
    assert b"newcomer@example.com" in owner_client.get("/org/acme/settings").content  # pending list
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["newcomer@example.com"]
    # The link starts with the local install's bind address (no CVEWATCH_BASE_URL), not the request's host.
    link = re.search(r"http://127\.0\.0\.1:8000(/invitations/\S+)", mail.outbox[0].body).group(1)

    anonymous = Client().get(link)  # a visitor may sign in, or let the invitation create the account
    assert anonymous.status_code == 200 and b"Create my account and join acme" in anonymous.content

    wrong_user = client_for(make_user("mallory", email="mallory@example.com"))
    assert b"is not the invited one" in wrong_user.get(link).content
    refused = wrong_user.post(link, {"action": "accept"})
    assert refused.status_code == 400 and b"sent to another e-mail address" in refused.content

    newcomer = client_for(make_user("newcomer", email="newcomer@example.com"))
    page = newcomer.get(link)
    assert page.status_code == 200 and b"Join acme" in page.content
    joined = newcomer.post(link, {"action": "accept"})
    assert joined.status_code == 302 and joined["Location"] == "/org/acme/settings"
    assert Membership.objects.get(user__username="newcomer").role == "member"
    # The link works once.
    assert newcomer.get(link).status_code == 404


def test_withdraw_invitation(owner_client, org):
    owner_client.post("/org/acme/invitations", {"email": "late@example.com", "role": "owner"})
    invitation = Invitation.objects.get()
    response = owner_client.post(f"/org/acme/invitations/{invitation.pk}/revoke", follow=True)
    assert b"was withdrawn" in response.content
    invitation.refresh_from_db()
    assert invitation.closed_at is not None


def test_invalid_invitation_email_is_reported(owner_client):
    response = owner_client.post(
        "/org/acme/invitations", {"email": "not-an-address", "role": "member"}, follow=True
    )
    assert b"Enter a valid email address." in response.content
    assert not Invitation.objects.exists()


def test_dashboard_shows_invitations_waiting_for_me(owner_client, org):

    invitations.invite_member(
        organization=org, email="newcomer@example.com", actor=org.memberships.get(role="owner").user
    )
    newcomer = client_for(make_user("newcomer", email="newcomer@example.com"))
    page = newcomer.get("/").content.decode()
    assert "Invitations waiting for you" in page and "<strong>acme</strong> as member" in page
    assert "Invitations waiting for you" not in owner_client.get("/").content.decode()


def test_delete_organization_needs_the_name_and_an_owner(owner_client, member_client, outsider_client, org):
    from cvewatch.organizations.models import Organization

    assert b"Delete this organization" not in member_client.get("/org/acme/settings").content
    refused = member_client.post("/org/acme/delete", {"confirm_name": "acme"})
    assert refused.status_code == 400 and b"only an owner of &#x27;acme&#x27; may do this" in refused.content
    assert outsider_client.post("/org/acme/delete", {"confirm_name": "acme"}).status_code == 404
    assert b"Delete this organization" in owner_client.get("/org/acme/settings").content
    assert owner_client.get("/org/acme/delete").status_code == 200
    wrong = owner_client.post("/org/acme/delete", {"confirm_name": "ACME"})
    assert wrong.status_code == 400 and b"Type acme exactly to confirm." in wrong.content
    assert Organization.objects.filter(name="acme").exists()
    done = owner_client.post("/org/acme/delete", {"confirm_name": "acme"})
    assert done.status_code == 302 and done["Location"] == "/"
    assert not Organization.objects.filter(name="acme").exists()


def test_the_invitation_service_links_to_the_web_page_that_answers_it():
    from django.urls import reverse

    assert invitations.invitation_path("abc-123_x") == reverse("web:invitation", args=["abc-123_x"])
