"""User accounts: creating them, signing up, and proving an e-mail address (docs/security.md).

An address is verified by opening a link mailed to it (a signed, expiring token: nothing is stored until it
comes back). Sign-up never tells whether an address is registered: it answers the same and mails the
address either way (a confirmation link, or a note that an account exists). `selectors.email_is_verified`
reads the result.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from cvewatch.core.mail import DjangoMailer, Mail, Mailer, MailNotSent
from cvewatch.organizations.errors import AccountExists, InvalidValue, VerificationError
from cvewatch.organizations.models import VerifiedEmail
from cvewatch.organizations.services.access import User

logger = logging.getLogger(__name__)

VERIFICATION_SALT = "cvewatch.organizations.verify-email"
VERIFICATION_MAX_AGE = 3 * 24 * 3600  # seconds a confirmation link works


def verification_path(token: str) -> str:
    """The web page of a confirmation link (the web's `account/verify-email/<token>` route)."""
    return f"/account/verify-email/{token}"


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidValue(f"{email!r} is not a valid e-mail address") from None
    return email


def email_registered(email: str) -> bool:
    return get_user_model().objects.filter(email__iexact=(email or "").strip()).exists()


def create_account(*, username: str, email: str, password: str | None, email_verified: bool = False) -> User:
    """A new active user; the address is recorded as verified only when the caller has proven it."""
    email = _clean_email(email)
    User_ = get_user_model()
    with transaction.atomic():
        if User_.objects.filter(username__iexact=(username or "").strip()).exists():
            raise AccountExists(f"the username {username!r} is taken", field="username")
        if email_registered(email):
            raise AccountExists("an account already uses this e-mail address", field="email")
        try:
            user = User_.objects.create_user(username=username.strip(), email=email, password=password)
        except IntegrityError:
            raise AccountExists(f"the username {username!r} is taken", field="username") from None
        if email_verified:
            mark_email_verified(user=user)
    return user


def mark_email_verified(*, user: User) -> None:
    """Record the user's current address as proven (a mailed link came back, or the operator vouches)."""
    email = (getattr(user, "email", "") or "").strip().lower()
    if not email:
        raise InvalidValue("the account has no e-mail address to verify")
    VerifiedEmail.objects.update_or_create(user_id=user.pk, defaults={"email": email, "verified_at": timezone.now()})


def verification_token(*, user: User) -> str:
    return signing.dumps({"u": user.pk, "e": (user.email or "").strip().lower()}, salt=VERIFICATION_SALT)


def send_email_verification(*, user: User, mailer: Mailer | None = None) -> bool:
    """Mail the user a link that proves their address; False when it could not be sent."""
    if not settings.BASE_URL:
        logger.warning("e-mail confirmation not sent: CVEWATCH_BASE_URL is not set")
        return False
    link = settings.BASE_URL + verification_path(verification_token(user=user))
    body = (
        f"Hello {user.get_username()},\n\nopen this link to confirm that {user.email} is your address on "
        f"cvewatch ({settings.BASE_URL}):\n{link}\n\nIt works for 3 days. If you did not ask for it, ignore "
        "this message.\n"
    )
    return _send(mailer, Mail(to=(user.email,), subject="cvewatch: confirm your e-mail address", body=body))


def verify_email(*, token: str) -> User:
    """The user a confirmation link proves the address of, now verified; VerificationError otherwise."""
    try:
        data = signing.loads(token or "", salt=VERIFICATION_SALT, max_age=VERIFICATION_MAX_AGE)
    except signing.SignatureExpired:
        raise VerificationError("this confirmation link has expired: ask for a new one") from None
    except signing.BadSignature:
        raise VerificationError("this confirmation link is not valid") from None
    user = get_user_model().objects.filter(pk=data.get("u")).first()
    if user is None or (user.email or "").strip().lower() != data.get("e"):
        raise VerificationError("this confirmation link is for an address the account no longer uses")
    with transaction.atomic():
        mark_email_verified(user=user)
    return user


def sign_up(*, username: str, email: str, password: str, mailer: Mailer | None = None) -> None:
    """Open sign-up: an account for a new address, a note to a registered one; the caller can't tell which.

    Both ways the password is hashed and one mail goes to the address, so neither the answer nor its time
    says whether the address has an account.
    """
    email = _clean_email(email)
    if email_registered(email):
        make_password(password)  # the same work as creating the account
        _send(mailer, _already_registered_mail(email))
        return
    user = create_account(username=username, email=email, password=password)
    send_email_verification(user=user, mailer=mailer)


def _already_registered_mail(email: str) -> Mail:
    reset = f"{settings.BASE_URL}/password-reset" if settings.BASE_URL else "the sign-in page's password reset"
    body = (
        "Someone (hopefully you) tried to create a cvewatch account with this address, which already has "
        f"one. Sign in, or choose a new password here: {reset}\n\nIf it was not you, ignore this message.\n"
    )
    return Mail(to=(email,), subject="cvewatch: you already have an account", body=body)


def _send(mailer: Mailer | None, mail: Mail) -> bool:
    try:
        (mailer or DjangoMailer()).send(mail)
    except MailNotSent as exc:
        logger.warning("account mail failed: %s", exc)
        return False
    return True
