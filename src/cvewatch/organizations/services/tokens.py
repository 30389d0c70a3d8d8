"""Organization API tokens: creating (shown once), revoking, and authenticating a request's token.

Owners manage tokens, or the operator with actor=None; every creation and revocation is audited.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from cvewatch.core import usage
from cvewatch.core.compiled import CompiledLookup
from cvewatch.organizations import selectors
from cvewatch.organizations import tokens as token_format
from cvewatch.organizations.choices import TokenAction, TokenStatus
from cvewatch.organizations.errors import DuplicateName, InvalidToken, InvalidValue, TokenError
from cvewatch.organizations.models import Organization, OrganizationToken, TokenEvent
from cvewatch.organizations.services.access import User, actor_label, require_owner

TOKEN_NAME_MAX_LENGTH = 100
# last_used_at is written at most once per this interval per token, so reads stay reads.
# Compared against when the token id is unknown, so both failures cost one HMAC.
_NO_HASH = "0" * 64


# The day after the last one would not exist (9999-12-31 has no next midnight); far past any real use.
MAX_EXPIRY_DATE = dt.date(9999, 1, 1)


def _expiry(expires: dt.datetime | dt.date | None, now: dt.datetime) -> dt.datetime | None:
    if expires is None:
        return None
    if isinstance(expires, dt.datetime):
        if timezone.is_naive(expires):
            raise InvalidValue("the expiry time must carry a time zone")
        at = expires
    else:
        # A date means "valid through that day (UTC)": the token stops at the next midnight.
        if expires >= MAX_EXPIRY_DATE:
            raise InvalidValue(f"the expiry date must be before {MAX_EXPIRY_DATE.isoformat()}")
        at = dt.datetime.combine(expires + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    if at <= now:
        raise InvalidValue("the expiry date must be in the future")
    return at


def _duplicate(organization: Organization, holder: OrganizationToken) -> DuplicateName:
    return DuplicateName(
        f"the organization {organization.name!r} already has {'an active' if holder.status == TokenStatus.ACTIVE else 'an expired'} "
        f"token named {holder.name!r} ({holder.token_id}): choose another name, or revoke that token first"
    )


def create_token(
    *,
    organization: Organization,
    name: str,
    description: str = "",
    expires: dt.datetime | dt.date | None = None,
    actor: User | None,
) -> tuple[OrganizationToken, str]:
    """Create an API token; returns the row and the full `opc_org.<id>.<secret>`, which cannot be recovered.

    `expires` is an aware datetime, or a date meaning the token works through that day (UTC). The name is
    unique in the organization among the tokens not revoked, whatever its case (DuplicateName otherwise).
    """
    name = (name or "").strip()
    if not name:
        raise InvalidValue("the token name must not be empty")
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise InvalidValue(f"the token name must be at most {TOKEN_NAME_MAX_LENGTH} characters long")
    now = timezone.now()
    expires_at = _expiry(expires, now)
    with transaction.atomic():
        require_owner(organization, actor)
        for _ in range(5):
            token_id, secret = token_format.generate_token_parts()
            if not OrganizationToken.objects.filter(token_id=token_id).exists():
                break
        else:  # 62**12 ids: five collisions in a row means the generator is broken, not a refusal
            raise RuntimeError("could not allocate a unique token id")
        holder = selectors.unrevoked_token_named(organization=organization, name=name)
        if holder is not None:
            raise _duplicate(organization, holder)
        try:
            with transaction.atomic():
                token = OrganizationToken.objects.create(
                    organization=organization,
                    token_id=token_id,
                    secret_hash=token_format.hash_secret(secret),
                    name=name,
                    description=(description or "").strip(),
                    created_by=actor,
                    created_at=now,
                    expires_at=expires_at,
                )
        except IntegrityError:  # a concurrent creation took the name between the check and the insert
            holder = selectors.unrevoked_token_named(organization=organization, name=name)
            if holder is None:
                raise
            raise _duplicate(organization, holder) from None
        TokenEvent.objects.create(
            organization=organization,
            token=token,
            action=TokenAction.CREATED,
            actor=actor,
            actor_label=actor_label(actor),
            created_at=now,
        )
    return token, token_format.format_token(token_id=token_id, secret=secret)


def revoke_token(*, organization: Organization, token_id: str, actor: User | None) -> OrganizationToken:
    """Revoke a token of this organization now; the row and its history stay."""
    with transaction.atomic():
        require_owner(organization, actor)
        token = (
            OrganizationToken.objects.select_for_update()
            .filter(organization=organization, token_id=(token_id or "").strip())
            .first()
        )
        if token is None:
            raise TokenError(f"the organization {organization.name!r} has no token {token_id!r}")
        if token.revoked_at is not None:
            raise TokenError(
                f"the token {token.token_id} was already revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC"
            )
        now = timezone.now()
        token.revoked_at = now
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        TokenEvent.objects.create(
            organization=organization,
            token=token,
            action=TokenAction.REVOKED,
            actor=actor,
            actor_label=actor_label(actor),
            created_at=now,
        )
    return token


# The token and its organization in one indexed query, compiled once per connection (Django would compile
# the join on every request: more than the rest of a token's authentication costs). The row is read on every
# request, so a revocation, an expiry or a deleted organization takes effect on the next one.
_token_by_id = CompiledLookup(
    lambda token_id: OrganizationToken.objects.select_related("organization").filter(token_id=token_id).order_by()
)


def authenticate_token(*, raw: str, now: dt.datetime | None = None) -> OrganizationToken:
    """The active token behind `opc_org.<id>.<secret>` (organization loaded), or InvalidToken.

    One indexed query by token id; last_used_at is then written at most once a minute.
    """
    parsed = token_format.parse_token(raw)
    if parsed is None:
        raise InvalidToken("Invalid token.")
    token = _token_by_id.get(parsed.token_id)
    matches = token_format.secret_matches(parsed.secret, token.secret_hash if token else _NO_HASH)
    if token is None or not matches:
        raise InvalidToken("Invalid token.")
    now = now or timezone.now()
    if token.status_at(now) != TokenStatus.ACTIVE:
        raise InvalidToken("Invalid token.")
    record_token_use(token=token, now=now)
    return token


def record_token_use(*, token: OrganizationToken, now: dt.datetime | None = None) -> bool:
    """Set last_used_at unless it was set less than a minute ago; True when a row was written."""
    return usage.record_use(token, now=now)
