"""Invitations by e-mail: inviting (the service sends the mail), accepting, declining, withdrawing.

The link carries a random token; only its HMAC is stored. It is accepted by a logged-in user whose account
e-mail matches the invitation's (case-insensitively) and is verified, or it creates its own account for the
invited address; a newer invitation to the same address replaces a
pending one.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from cvewatch.core.mail import DjangoMailer, Mail, Mailer, MailNotSent
from cvewatch.organizations import selectors, tokens
from cvewatch.organizations.choices import Role
from cvewatch.organizations.errors import InvalidValue, InvitationError, MembershipError, VerificationError
from cvewatch.organizations.models import Invitation, Membership, Organization
from cvewatch.organizations.services import accounts
from cvewatch.organizations.services.access import User, check_role, require_owner

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = dt.timedelta(days=7)


def invitation_path(token: str) -> str:
    """The web page of an invitation link (the web's `invitations/<token>` route)."""
    return f"/invitations/{token}"


@dataclass(frozen=True)
class SentInvitation:
    """A new invitation, its link (holding the secret token: shown once) and what became of the mail."""

    invitation: Invitation
    token: str
    link: str
    mailed: bool
    # Why no mail went out ("" when it did): the inviter passes the link on by hand then.
    mail_error: str = ""


def invite_member(
    *,
    organization: Organization,
    email: str,
    role: str = Role.MEMBER,
    actor: User | None,
    mailer: Mailer | None = None,
    lifetime: dt.timedelta = INVITATION_LIFETIME,
) -> SentInvitation:
    """Invite an e-mail address (owners, or the operator) and mail them the link.

    The link starts with settings.BASE_URL (CVEWATCH_BASE_URL, or the bind address of a local install), never
    with a request's host; without it there is no absolute link, so no mail is sent and the link is the bare
    path. The invitation's transaction ends before the mail goes out (committed, unless
    the caller holds an outer one), and it stays when the mail fails (`mailed` False, `mail_error` says why).
    """
    check_role(role)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidValue(f"{email!r} is not a valid e-mail address") from None
    if lifetime <= dt.timedelta(0):
        raise InvalidValue("an invitation must expire in the future")
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        require_owner(organization, actor)
        if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
            raise MembershipError(f"{email} is already a member of {organization.name!r}")
        Invitation.objects.filter(
            organization=organization, email=email, accepted_at__isnull=True, closed_at__isnull=True
        ).update(closed_at=now)
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            token_hash=tokens.hash_secret(raw, purpose=tokens.INVITATION_PURPOSE),
            created_by=actor,
            created_at=now,
            expires_at=now + lifetime,
        )
    link = settings.BASE_URL + invitation_path(raw)
    if not settings.BASE_URL:
        return SentInvitation(invitation, raw, link, mailed=False, mail_error="CVEWATCH_BASE_URL is not set")
    inviter = "The cvewatch operator" if actor is None else actor.get_username()
    try:
        (mailer or DjangoMailer()).send(_invitation_mail(invitation=invitation, link=link, inviter=inviter))
    except MailNotSent as exc:
        logger.warning("invitation mail to organization %s failed: %s", organization.name, exc)
        return SentInvitation(invitation, raw, link, mailed=False, mail_error=str(exc))
    return SentInvitation(invitation, raw, link, mailed=True)


def _invitation_mail(*, invitation: Invitation, link: str, inviter: str) -> Mail:
    body = (
        f"{inviter} invites you to join the organization {invitation.organization.name} on cvewatch "
        f"as {invitation.get_role_display().lower()}.\n\n"
        f"Sign in (or create an account) with this e-mail address, then open:\n{link}\n\n"
        f"The link expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC.\n"
    )
    return Mail(
        to=(invitation.email,), subject=f"cvewatch: invitation to {invitation.organization.name}", body=body
    )


def _pending_invitation_locked(token: str) -> Invitation:
    token_hash = tokens.hash_secret((token or "").strip(), purpose=tokens.INVITATION_PURPOSE)
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("organization")
        .filter(token_hash=token_hash)
        .first()
    )
    if invitation is None:
        raise InvitationError("this invitation link is not valid")
    if invitation.accepted_at is not None:
        raise InvitationError("this invitation has already been accepted")
    if invitation.closed_at is not None:
        raise InvitationError("this invitation has been withdrawn or declined")
    if invitation.expires_at <= timezone.now():
        raise InvitationError("this invitation has expired: ask an owner for a new one")
    return invitation


def invitation_for_token(*, token: str) -> Invitation:
    """The pending invitation behind a link token, or InvitationError (for showing an accept page)."""
    with transaction.atomic():
        return _pending_invitation_locked(token)


def _check_addressee(invitation: Invitation, user: User) -> None:
    if (getattr(user, "email", "") or "").strip().lower() != invitation.email:
        raise InvitationError("this invitation was sent to another e-mail address")
    # Anyone may register any address (when sign-up is open): only a proven one may answer for it.
    if not selectors.email_is_verified(user=user):
        raise VerificationError(
            f"confirm your e-mail address {invitation.email} first: open the link we mail you, then come back"
        )


def accept_invitation(*, token: str, user: User) -> Membership:
    """Join the organization as the invited role; the user's e-mail must match the invitation's."""
    with transaction.atomic():
        invitation = _pending_invitation_locked(token)
        _check_addressee(invitation, user)
        if Membership.objects.filter(organization=invitation.organization, user_id=user.pk).exists():
            raise MembershipError(f"you are already a member of {invitation.organization.name!r}")
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        return Membership.objects.create(
            organization=invitation.organization, user=user, role=invitation.role
        )


def accept_invitation_with_new_account(*, token: str, username: str, password: str) -> Membership:
    """The invitation creates its account: the invited address, proven by the link, joins as the role.

    The link was mailed to the invited address, so the new account's address counts as verified.
    """
    with transaction.atomic():
        invitation = _pending_invitation_locked(token)
        user = accounts.create_account(
            username=username, email=invitation.email, password=password, email_verified=True
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        return Membership.objects.create(organization=invitation.organization, user=user, role=invitation.role)


def decline_invitation(*, token: str, user: User) -> None:
    """The invited user declines; the link stops working."""
    with transaction.atomic():
        invitation = _pending_invitation_locked(token)
        _check_addressee(invitation, user)
        invitation.closed_at = timezone.now()
        invitation.save(update_fields=["closed_at"])


def revoke_invitation(*, invitation: Invitation, actor: User | None) -> None:
    """Withdraw a pending invitation (owners only)."""
    with transaction.atomic():
        require_owner(invitation.organization, actor)
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, closed_at__isnull=True
        ).update(closed_at=timezone.now())
        if not updated:
            raise InvitationError("this invitation is no longer pending")
