"""services.accounts: accounts, sign-up that reveals nothing, and proving an e-mail address."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from cvewatch.organizations import selectors
from cvewatch.organizations.errors import AccountExists, InvitationError, VerificationError
from cvewatch.organizations.services import accounts, invitations
from tests.support.people import make_user

pytestmark = pytest.mark.django_db


def test_a_confirmation_link_proves_the_address_it_was_sent_to_only(settings):
    settings.BASE_URL = "https://cve.example.com"
    user = make_user("olivia", verified=False)
    token = accounts.verification_token(user=user)
    user.email = "elsewhere@example.com"
    user.save()
    with pytest.raises(VerificationError, match="no longer uses"):
        accounts.verify_email(token=token)
    assert not selectors.email_is_verified(user=user)
    assert accounts.verify_email(token=accounts.verification_token(user=user)) == user
    assert selectors.email_is_verified(user=user)
    # Changing the address again drops the proof.
    user.email = "third@example.com"
    user.save()
    assert not selectors.email_is_verified(user=user)


def test_sign_up_creates_an_unverified_account_or_mails_the_owner_of_a_registered_address(settings, mailoutbox):
    settings.BASE_URL = "https://cve.example.com"
    make_user("olivia", email="olivia@example.com")
    assert accounts.sign_up(username="newbie", email="NEWBIE@example.com", password="x" * 12) is None
    assert accounts.sign_up(username="other", email="Olivia@example.com", password="x" * 12) is None
    newbie = get_user_model().objects.get(username="newbie")
    assert newbie.email == "newbie@example.com" and not selectors.email_is_verified(user=newbie)
    assert not get_user_model().objects.filter(username="other").exists()
    assert [m.to for m in mailoutbox] == [["newbie@example.com"], ["olivia@example.com"]]


def test_create_account_refuses_a_taken_username_or_address():
    make_user("olivia", email="olivia@example.com")
    with pytest.raises(AccountExists) as taken:
        accounts.create_account(username="OLIVIA", email="new@example.com", password="x" * 12)
    assert taken.value.field == "username"
    with pytest.raises(AccountExists) as address:
        accounts.create_account(username="new", email="Olivia@Example.com", password="x" * 12)
    assert address.value.field == "email"


def test_accepting_needs_a_verified_address(org, owner):
    sent = invitations.invite_member(organization=org, email="late@example.com", actor=owner)
    late = make_user("late", email="late@example.com", verified=False)
    with pytest.raises(VerificationError):
        invitations.accept_invitation(token=sent.token, user=late)
    accounts.mark_email_verified(user=late)
    invitations.accept_invitation(token=sent.token, user=late)
    with pytest.raises(InvitationError, match="already been accepted"):
        invitations.accept_invitation(token=sent.token, user=late)
