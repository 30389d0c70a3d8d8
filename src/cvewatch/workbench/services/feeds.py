"""Feed keys: the credential a feed reader puts in a feed URL (`/feeds/<key_id>.<secret>/…`), since it cannot
sign in. A person creates keys for an organization they belong to (the full key is returned once), revokes
their own, and a request's key is authenticated here.

A key grants reads of its organization's feeds only, and only while it is not revoked, its person is active
and still a member of the organization. Secrets are hashed and compared as organization API tokens are
(`organizations.tokens`: HMAC-SHA256 under a key derived for this purpose, constant-time comparison); every
way a key fails is the same NotFound, so a wrong key tells nothing about the right ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from cvewatch.core import usage
from cvewatch.core.errors import Conflict, NotFound
from cvewatch.organizations import tokens as token_format
from cvewatch.organizations.models import Membership, Organization
from cvewatch.organizations.services.access import User, require_member
from cvewatch.workbench.models import FeedKey

FEED_KEY_PURPOSE = "cvewatch.workbench.feed-key"
KEY_ID_LENGTH = 12
SECRET_LENGTH = 32
# last_used_at is written at most once per this interval per key, so a polling reader stays a reader.
_NO_HASH = "0" * 64  # compared against when the key id is unknown, so every failure costs one HMAC
_ALPHABET = frozenset(token_format.ALPHABET)


@dataclass(frozen=True)
class ParsedKey:
    key_id: str
    secret: str


def parse_feed_key(raw: str) -> ParsedKey | None:
    """`<key_id>.<secret>` split; None when it cannot be a key (wrong shape, length or alphabet)."""
    key_id, dot, secret = (raw or "").partition(".")
    if not dot or len(key_id) != KEY_ID_LENGTH or len(secret) != SECRET_LENGTH:
        return None
    if not (_ALPHABET.issuperset(key_id) and _ALPHABET.issuperset(secret)):
        return None
    return ParsedKey(key_id=key_id, secret=secret)


def create_feed_key(*, organization: Organization, user: User) -> tuple[FeedKey, str]:
    """A new key of this person for this organization; returns the row and `<key_id>.<secret>` (shown once)."""
    with transaction.atomic():
        require_member(organization, user)
        for _ in range(5):
            key_id = token_format.random_string(KEY_ID_LENGTH)
            if not FeedKey.objects.filter(key_id=key_id).exists():
                break
        else:  # 62**12 ids: five collisions in a row means the generator is broken, not a refusal
            raise RuntimeError("could not allocate a unique feed key id")
        secret = token_format.random_string(SECRET_LENGTH)
        key = FeedKey.objects.create(
            user=user,
            organization=organization,
            key_id=key_id,
            secret_digest=token_format.hash_secret(secret, purpose=FEED_KEY_PURPOSE),
        )
    return key, f"{key_id}.{secret}"


def revoke_feed_key(*, organization: Organization, user: User, key_id: str) -> FeedKey:
    """Revoke one of this person's keys of this organization now; feeds read with it answer 404 from then on."""
    with transaction.atomic():
        key = (
            FeedKey.objects.select_for_update()
            .filter(organization=organization, user_id=user.pk, key_id=(key_id or "").strip())
            .first()
        )
        if key is None:
            raise NotFound("FeedKey")
        if key.revoked_at is not None:
            raise Conflict(
                f"the feed key {key.key_id} was already revoked on {key.revoked_at:%Y-%m-%d %H:%M} UTC"
            )
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def authenticate_feed_key(*, raw: str, now: dt.datetime | None = None) -> FeedKey:
    """The live key behind `<key_id>.<secret>` (organization and user loaded), or NotFound("FeedKey").

    One indexed query (the key, its organization, its person, whether they are still a member); then
    last_used_at is written at most once a minute.
    """
    parsed = parse_feed_key(raw)
    if parsed is None:
        raise NotFound("FeedKey")
    membership = Membership.objects.filter(
        organization_id=OuterRef("organization_id"), user_id=OuterRef("user_id")
    )
    key = (
        FeedKey.objects.select_related("organization", "user")
        .annotate(is_member=Exists(membership))
        .filter(key_id=parsed.key_id)
        .first()
    )
    stored = key.secret_digest if key is not None else _NO_HASH
    matches = token_format.secret_matches(parsed.secret, stored, purpose=FEED_KEY_PURPOSE)
    if (
        key is None
        or not matches
        or key.revoked_at is not None
        or not key.is_member
        or not key.user.is_active
    ):
        raise NotFound("FeedKey")
    record_feed_key_use(key=key, now=now)
    return key


def record_feed_key_use(*, key: FeedKey, now: dt.datetime | None = None) -> bool:
    """Set last_used_at unless it was set less than a minute ago; True when a row was written."""
    return usage.record_use(key, now=now)
