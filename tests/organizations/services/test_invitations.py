"""Invitations: who may accept them, and when they stop working."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cvewatch.organizations import selectors
from cvewatch.organizations.choices import Role
from cvewatch.organizations.errors import (
    InvalidValue,
    InvitationError,
    MembershipError,
    NotAllowed,
)
from cvewatch.organizations.models import (
    Invitation,
)
from cvewatch.organizations.services import invitations
from tests.support.people import make_user

pytestmark = pytest.mark.django_db


def _invite(**kwargs) -> tuple[Invitation, str]:
    sent = invitations.invite_member(**kwargs)
    return sent.invitation, sent.token


def test_invitation_is_accepted_by_the_user_with_the_matching_email(org, owner):
    invitation, raw = _invite(organization=org, email="New.Person@Example.com", actor=owner)
    assert invitation.email == "new.person@example.com"
    assert invitation.token_hash != raw and raw not in invitation.token_hash
    assert list(selectors.pending_invitations(organization=org)) == [invitation]

    stranger = make_user("stranger", email="someone@example.com")
    with pytest.raises(InvitationError, match="another e-mail"):
        invitations.accept_invitation(token=raw, user=stranger)

    invitee = make_user("newbie", email="new.person@EXAMPLE.com")
    assert list(selectors.invitations_for_user(user=invitee)) == [invitation]
    membership = invitations.accept_invitation(token=raw, user=invitee)
    assert membership.role == Role.MEMBER and membership.organization == org
    with pytest.raises(InvitationError, match="already been accepted"):
        invitations.accept_invitation(token=raw, user=invitee)
    assert not selectors.pending_invitations(organization=org).exists()


def test_invitation_refusals(org, owner, member):
    with pytest.raises(NotAllowed):
        invitations.invite_member(organization=org, email="x@example.com", actor=member)
    with pytest.raises(InvalidValue, match="not a valid e-mail"):
        invitations.invite_member(organization=org, email="not-an-address", actor=owner)
    with pytest.raises(MembershipError, match="already a member"):
        invitations.invite_member(organization=org, email=member.email.upper(), actor=owner)
    with pytest.raises(InvitationError, match="not valid"):
        invitations.accept_invitation(token="made-up", user=member)
    assert Invitation.objects.count() == 0


def test_expired_revoked_replaced_and_declined_invitations_stop_working(org, owner):
    invitee = make_user("late", email="late@example.com")
    old, old_raw = _invite(organization=org, email=invitee.email, actor=owner)
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(InvitationError, match="expired"):
        invitations.accept_invitation(token=old_raw, user=invitee)

    first, first_raw = _invite(organization=org, email=invitee.email, actor=owner)
    second, second_raw = _invite(
        organization=org, email=invitee.email, role=Role.OWNER, actor=owner
    )
    with pytest.raises(InvitationError, match="withdrawn"):
        invitations.accept_invitation(token=first_raw, user=invitee)

    invitations.revoke_invitation(invitation=second, actor=owner)
    with pytest.raises(InvitationError, match="withdrawn"):
        invitations.accept_invitation(token=second_raw, user=invitee)
    with pytest.raises(InvitationError, match="no longer pending"):
        invitations.revoke_invitation(invitation=second, actor=owner)

    third, third_raw = _invite(
        organization=org, email=invitee.email, role=Role.OWNER, actor=owner
    )
    invitations.decline_invitation(token=third_raw, user=invitee)
    with pytest.raises(InvitationError):
        invitations.accept_invitation(token=third_raw, user=invitee)
    assert selectors.membership_of(organization=org, user=invitee) is None


def test_invitation_for_an_owner_role_makes_an_owner(org, owner):
    invitee = make_user("boss", email="boss@example.com")
    _, raw = _invite(organization=org, email="boss@example.com", role=Role.OWNER, actor=owner)
    assert invitations.invitation_for_token(token=raw).organization == org
    invitations.accept_invitation(token=raw, user=invitee)
    assert selectors.membership_of(organization=org, user=invitee).role == Role.OWNER


def test_the_service_mails_the_link_built_from_the_base_url(org, owner, settings, mailoutbox):
    settings.BASE_URL = "https://cve.example.com"
    sent = invitations.invite_member(organization=org, email="new@example.com", actor=owner)
    assert sent.mailed and sent.mail_error == ""
    assert sent.link == f"https://cve.example.com/invitations/{sent.token}"
    (mail,) = mailoutbox
    assert mail.to == ["new@example.com"] and mail.subject == "cvewatch: invitation to acme"
    assert sent.link in mail.body and "olivia invites you" in mail.body


def test_without_a_base_url_no_mail_is_sent_and_the_link_is_the_bare_path(org, owner, settings, mailoutbox):
    # No public URL is known (bound to every interface, no CVEWATCH_BASE_URL): no link is ever built from a
    # request's host instead, for the web as for the CLI.
    settings.BASE_URL = ""
    from_web = invitations.invite_member(organization=org, email="a@example.com", actor=owner)
    from_cli = invitations.invite_member(organization=org, email="b@example.com", actor=None)
    for sent in (from_web, from_cli):
        assert not sent.mailed and sent.mail_error == "CVEWATCH_BASE_URL is not set"
        assert sent.link == f"/invitations/{sent.token}"
    assert mailoutbox == []
    assert Invitation.objects.filter(email="b@example.com", created_by=None).exists()
