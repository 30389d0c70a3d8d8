"""Write operations on organizations, members, invitations, projects, subscriptions and API tokens.

Every function takes keyword-only arguments and raises an errors.OrganizationError subclass with a
user-facing message when it refuses; each runs in one transaction, so a refusal writes nothing.

`actor` is the user doing the action; the web pages pass request.user and the services check the role.
`actor=None` means the operator (the CLI), who may do everything; the audit trail records it as "cli".
Permissions: owners manage members, invitations and tokens; any member manages projects.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cvewatch.catalog.models import Product, Vendor

# Subscriptions spell names as the API's `vendor`/`product` filters do.
from cvewatch.catalog.selectors import normalize_product_name, normalize_vendor_name
from cvewatch.organizations import tokens
from cvewatch.organizations.choices import Role, TokenAction
from cvewatch.organizations.errors import (
    DuplicateName,
    InvalidName,
    InvalidToken,
    InvalidValue,
    InvitationError,
    LastOwner,
    MembershipError,
    NotAllowed,
    TokenError,
    UnknownProduct,
    UnknownVendor,
)
from cvewatch.organizations.models import (
    Invitation,
    Membership,
    Organization,
    OrganizationToken,
    Project,
    ProjectProduct,
    ProjectVendor,
    TokenEvent,
)

User = AbstractBaseUser  # any Django user model instance

NAME_MAX_LENGTH = 64
TOKEN_NAME_MAX_LENGTH = 100
INVITATION_LIFETIME = dt.timedelta(days=7)
# last_used_at is written at most once per this interval per token, so reads stay reads.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
CLI_ACTOR = "cli"

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")

# A product reference: "vendor/product", "vendor$PRODUCT$product" or a (vendor, product) pair.
ProductRef = str | tuple[str, str]


# --- helpers ---------------------------------------------------------------------------------------------


def validate_name(name: str, *, what: str = "name") -> str:
    """The name stripped, or InvalidName: a slug of letters, digits and `-`, at most 64 characters."""
    name = (name or "").strip()
    if not name:
        raise InvalidName(f"the {what} must not be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidName(f"the {what} must be at most {NAME_MAX_LENGTH} characters long")
    if not _SLUG.fullmatch(name):
        raise InvalidName(
            f"invalid {what} {name!r}: use only letters, digits and '-', starting with a letter or digit"
        )
    return name


def _role_of(organization: Organization, user: User) -> str | None:
    return (
        Membership.objects.filter(organization=organization, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )


def _require_member(organization: Organization, actor: User | None) -> None:
    if actor is not None and _role_of(organization, actor) is None:
        raise NotAllowed(f"you are not a member of the organization {organization.name!r}")


def _require_owner(organization: Organization, actor: User | None) -> None:
    if actor is None:
        return
    role = _role_of(organization, actor)
    if role != Role.OWNER:
        if role is None:
            raise NotAllowed(f"you are not a member of the organization {organization.name!r}")
        raise NotAllowed(f"only an owner of {organization.name!r} may do this")


def _actor_label(actor: User | None) -> str:
    return CLI_ACTOR if actor is None else actor.get_username()


def _check_role(role: str) -> str:
    if role not in Role.values:
        raise InvalidValue(f"unknown role {role!r}: use one of {', '.join(Role.values)}")
    return role


def _lock_owners(organization: Organization) -> set[object]:
    """Lock the organization's owner memberships and return the owners' user ids.

    Every role change and removal takes these locks first, in primary-key order, so two concurrent
    demotions cannot both see "another owner is left", and cannot deadlock each other (PostgreSQL). On
    SQLite the IMMEDIATE transaction already serialises writers.
    """
    return set(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Role.OWNER)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )


# --- organizations and members --------------------------------------------------------------------------


def create_organization(*, name: str, owner: User) -> Organization:
    """Create an organization with `owner` as its first owner. Names are unique, case-insensitively."""
    name = validate_name(name, what="organization name")
    with transaction.atomic():
        if Organization.objects.filter(name__iexact=name).exists():
            raise DuplicateName(f"an organization named {name!r} already exists")
        try:
            with transaction.atomic():
                organization = Organization.objects.create(name=name)
        except IntegrityError:
            raise DuplicateName(f"an organization named {name!r} already exists") from None
        Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    return organization


def delete_organization(*, organization: Organization, actor: User | None) -> None:
    """Delete an organization with its projects, memberships, invitations and tokens (owners only)."""
    _require_owner(organization, actor)
    with transaction.atomic():
        organization.delete()


def add_member(
    *, organization: Organization, user: User, role: str = Role.MEMBER, actor: User | None = None
) -> Membership:
    """Add an existing user directly (operator or owner); invitations are the usual way in."""
    _check_role(role)
    _require_owner(organization, actor)
    with transaction.atomic():
        if Membership.objects.filter(organization=organization, user_id=user.pk).exists():
            raise MembershipError(f"{user.get_username()} is already a member of {organization.name!r}")
        return Membership.objects.create(organization=organization, user=user, role=role)


def change_member_role(
    *, organization: Organization, user: User, role: str, actor: User | None
) -> Membership:
    """Change a member's role (owners only). The last owner cannot be demoted."""
    _check_role(role)
    with transaction.atomic():
        owners = _lock_owners(organization)
        _require_owner(organization, actor)
        membership = (
            Membership.objects.select_for_update().filter(organization=organization, user_id=user.pk).first()
        )
        if membership is None:
            raise MembershipError(f"{user.get_username()} is not a member of {organization.name!r}")
        if membership.role == role:
            return membership
        if membership.role == Role.OWNER and len(owners) <= 1:
            raise LastOwner(
                f"{user.get_username()} is the last owner of {organization.name!r} and cannot be demoted"
            )
        membership.role = role
        membership.updated_at = timezone.now()
        membership.save(update_fields=["role", "updated_at"])
        return membership


def remove_member(*, organization: Organization, user: User, actor: User | None) -> None:
    """Remove a member: owners may remove anyone, a member may remove themself. Never the last owner."""
    with transaction.atomic():
        owners = _lock_owners(organization)
        if actor is None or actor.pk != user.pk:
            _require_owner(organization, actor)
        membership = (
            Membership.objects.select_for_update().filter(organization=organization, user_id=user.pk).first()
        )
        if membership is None:
            raise MembershipError(f"{user.get_username()} is not a member of {organization.name!r}")
        if membership.role == Role.OWNER and len(owners) <= 1:
            raise LastOwner(
                f"{user.get_username()} is the last owner of {organization.name!r}: "
                "make another member an owner first"
            )
        membership.delete()


def leave_organization(*, organization: Organization, user: User) -> None:
    """The user leaves the organization; the last owner cannot leave."""
    remove_member(organization=organization, user=user, actor=user)


# --- invitations ----------------------------------------------------------------------------------------


def invite_member(
    *,
    organization: Organization,
    email: str,
    role: str = Role.MEMBER,
    actor: User | None,
    lifetime: dt.timedelta = INVITATION_LIFETIME,
) -> tuple[Invitation, str]:
    """Invite an e-mail address (owners only). Returns the invitation and its secret token, shown once.

    The link is accepted by a logged-in user whose account e-mail matches (case-insensitively); a newer
    invitation to the same address replaces a pending one. Sending the mail is the caller's business.
    """
    _check_role(role)
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
        _require_owner(organization, actor)
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
    return invitation, raw


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


def accept_invitation(*, token: str, user: User) -> Membership:
    """Join the organization as the invited role; the user's e-mail must match the invitation's."""
    with transaction.atomic():
        invitation = _pending_invitation_locked(token)
        if (getattr(user, "email", "") or "").strip().lower() != invitation.email:
            raise InvitationError("this invitation was sent to another e-mail address")
        if Membership.objects.filter(organization=invitation.organization, user_id=user.pk).exists():
            raise MembershipError(f"you are already a member of {invitation.organization.name!r}")
        now = timezone.now()
        invitation.accepted_at = now
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        return Membership.objects.create(
            organization=invitation.organization, user=user, role=invitation.role
        )


def decline_invitation(*, token: str, user: User) -> None:
    """The invited user declines; the link stops working."""
    with transaction.atomic():
        invitation = _pending_invitation_locked(token)
        if (getattr(user, "email", "") or "").strip().lower() != invitation.email:
            raise InvitationError("this invitation was sent to another e-mail address")
        invitation.closed_at = timezone.now()
        invitation.save(update_fields=["closed_at"])


def revoke_invitation(*, invitation: Invitation, actor: User | None) -> None:
    """Withdraw a pending invitation (owners only)."""
    with transaction.atomic():
        _require_owner(invitation.organization, actor)
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, closed_at__isnull=True
        ).update(closed_at=timezone.now())
        if not updated:
            raise InvitationError("this invitation is no longer pending")


# --- projects and subscriptions -------------------------------------------------------------------------


def _split_product_ref(ref: ProductRef) -> tuple[str, str]:
    if isinstance(ref, tuple):
        vendor, product = ref
    elif "$PRODUCT$" in ref:
        vendor, _, product = ref.partition("$PRODUCT$")
    else:
        vendor, sep, product = ref.partition("/")
        if not sep:
            raise UnknownProduct(f"invalid product {ref!r}: write it as VENDOR/PRODUCT")
    vendor, product = normalize_vendor_name(vendor or ""), normalize_product_name(product or "")
    if not vendor or not product:
        raise UnknownProduct(f"invalid product {ref!r}: write it as VENDOR/PRODUCT")
    return vendor, product


def resolve_vendors(names: Iterable[str]) -> list[Vendor]:
    """Catalog vendors by name (normalised), or UnknownVendor naming every missing one."""
    wanted = list(dict.fromkeys(normalize_vendor_name(n or "") for n in names))
    if not wanted:
        return []
    found = {v.name: v for v in Vendor.objects.filter(name__in=wanted)}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise UnknownVendor("unknown vendor" + ("s" if len(missing) > 1 else "") + ": " + ", ".join(missing))
    return [found[n] for n in wanted]


def resolve_products(refs: Iterable[ProductRef]) -> list[Product]:
    """Catalog products from references ("vendor/product"), or UnknownProduct naming every missing one."""
    wanted = list(dict.fromkeys(_split_product_ref(r) for r in refs))
    if not wanted:
        return []
    rows = Product.objects.filter(
        vendor__name__in={v for v, _ in wanted}, name__in={p for _, p in wanted}
    ).select_related("vendor")
    found = {(p.vendor.name, p.name): p for p in rows}
    missing = [f"{v}/{p}" for v, p in wanted if (v, p) not in found]
    if missing:
        raise UnknownProduct(
            "unknown product" + ("s" if len(missing) > 1 else "") + ": " + ", ".join(missing)
        )
    return [found[w] for w in wanted]


def _add_subscriptions(project: Project, vendors: list[Vendor], products: list[Product]) -> None:
    ProjectVendor.objects.bulk_create(
        [ProjectVendor(project=project, vendor=v) for v in vendors], ignore_conflicts=True
    )
    ProjectProduct.objects.bulk_create(
        [ProjectProduct(project=project, product=p) for p in products], ignore_conflicts=True
    )


def _touch(project: Project) -> None:
    project.updated_at = timezone.now()
    project.save(update_fields=["updated_at"])


def create_project(
    *,
    organization: Organization,
    name: str,
    description: str = "",
    active: bool = True,
    vendors: Iterable[str] = (),
    products: Iterable[ProductRef] = (),
    actor: User | None = None,
) -> Project:
    """Create a project subscribed to the given vendors and products; all or nothing."""
    name = validate_name(name, what="project name")
    with transaction.atomic():
        _require_member(organization, actor)
        vendor_rows = resolve_vendors(vendors)
        product_rows = resolve_products(products)
        if Project.objects.filter(organization=organization, name__iexact=name).exists():
            raise DuplicateName(
                f"the organization {organization.name!r} already has a project named {name!r}"
            )
        try:
            with transaction.atomic():
                project = Project.objects.create(
                    organization=organization,
                    name=name,
                    description=(description or "").strip(),
                    active=active,
                )
        except IntegrityError:
            raise DuplicateName(
                f"the organization {organization.name!r} already has a project named {name!r}"
            ) from None
        _add_subscriptions(project, vendor_rows, product_rows)
    return project


def update_project(
    *,
    project: Project,
    name: str | None = None,
    description: str | None = None,
    active: bool | None = None,
    actor: User | None = None,
) -> Project:
    """Rename, re-describe, activate or deactivate a project; None leaves a field as it is."""
    fields = ["updated_at"]
    with transaction.atomic():
        _require_member(project.organization, actor)
        if name is not None:
            name = validate_name(name, what="project name")
            clash = Project.objects.filter(
                organization_id=project.organization_id, name__iexact=name
            ).exclude(pk=project.pk)
            if clash.exists():
                raise DuplicateName(
                    f"the organization {project.organization.name!r} already has a project named {name!r}"
                )
            project.name = name
            fields.append("name")
        if description is not None:
            project.description = description.strip()
            fields.append("description")
        if active is not None:
            project.active = active
            fields.append("active")
        project.updated_at = timezone.now()
        project.save(update_fields=fields)
    return project


def delete_project(*, project: Project, actor: User | None = None) -> None:
    with transaction.atomic():
        _require_member(project.organization, actor)
        project.delete()


def subscribe_project(
    *,
    project: Project,
    vendors: Iterable[str] = (),
    products: Iterable[ProductRef] = (),
    actor: User | None = None,
) -> Project:
    """Add subscriptions (already present ones are kept); unknown names refuse the whole call."""
    with transaction.atomic():
        _require_member(project.organization, actor)
        _add_subscriptions(project, resolve_vendors(vendors), resolve_products(products))
        _touch(project)
    return project


def unsubscribe_project(
    *,
    project: Project,
    vendors: Iterable[str] = (),
    products: Iterable[ProductRef] = (),
    actor: User | None = None,
) -> Project:
    """Remove subscriptions; unknown names refuse the whole call, names not subscribed are ignored."""
    with transaction.atomic():
        _require_member(project.organization, actor)
        vendor_rows = resolve_vendors(vendors)
        product_rows = resolve_products(products)
        ProjectVendor.objects.filter(project=project, vendor__in=vendor_rows).delete()
        ProjectProduct.objects.filter(project=project, product__in=product_rows).delete()
        _touch(project)
    return project


def set_project_subscriptions(
    *,
    project: Project,
    vendors: Iterable[str],
    products: Iterable[ProductRef],
    actor: User | None = None,
) -> Project:
    """Replace the project's subscriptions with exactly these vendors and products."""
    with transaction.atomic():
        _require_member(project.organization, actor)
        vendor_rows = resolve_vendors(vendors)
        product_rows = resolve_products(products)
        ProjectVendor.objects.filter(project=project).exclude(vendor__in=vendor_rows).delete()
        ProjectProduct.objects.filter(project=project).exclude(product__in=product_rows).delete()
        _add_subscriptions(project, vendor_rows, product_rows)
        _touch(project)
    return project


# --- API tokens -----------------------------------------------------------------------------------------


def _expiry(expires: dt.datetime | dt.date | None, now: dt.datetime) -> dt.datetime | None:
    if expires is None:
        return None
    if isinstance(expires, dt.datetime):
        if timezone.is_naive(expires):
            raise InvalidValue("the expiry time must carry a time zone")
        at = expires
    else:
        # A date means "valid through that day (UTC)": the token stops at the next midnight.
        at = dt.datetime.combine(expires + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    if at <= now:
        raise InvalidValue("the expiry date must be in the future")
    return at


def create_token(
    *,
    organization: Organization,
    name: str,
    description: str = "",
    expires: dt.datetime | dt.date | None = None,
    actor: User | None,
) -> tuple[OrganizationToken, str]:
    """Create an API token (owners, or the operator with actor=None).

    Returns the row and the full token `opc_org.<id>.<secret>`: show it once, it cannot be recovered.
    `expires` is an aware datetime, or a date meaning the token works through that day (UTC).
    """
    name = (name or "").strip()
    if not name:
        raise InvalidValue("the token name must not be empty")
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise InvalidValue(f"the token name must be at most {TOKEN_NAME_MAX_LENGTH} characters long")
    now = timezone.now()
    expires_at = _expiry(expires, now)
    with transaction.atomic():
        _require_owner(organization, actor)
        for _ in range(5):
            token_id, secret = tokens.generate_token_parts()
            if not OrganizationToken.objects.filter(token_id=token_id).exists():
                break
        else:  # 62**12 ids: five collisions in a row means the generator is broken
            raise TokenError("could not allocate a unique token id")
        token = OrganizationToken.objects.create(
            organization=organization,
            token_id=token_id,
            secret_hash=tokens.hash_secret(secret),
            name=name,
            description=(description or "").strip(),
            created_by=actor,
            created_at=now,
            expires_at=expires_at,
        )
        TokenEvent.objects.create(
            organization=organization,
            token=token,
            action=TokenAction.CREATED,
            actor=actor,
            actor_label=_actor_label(actor),
            created_at=now,
        )
    return token, tokens.format_token(token_id=token_id, secret=secret)


def revoke_token(*, organization: Organization, token_id: str, actor: User | None) -> OrganizationToken:
    """Revoke a token of this organization now (owners, or the operator); the row and its history stay."""
    with transaction.atomic():
        _require_owner(organization, actor)
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
            actor_label=_actor_label(actor),
            created_at=now,
        )
    return token


# Compared against when the token id is unknown, so both failures cost one HMAC.
_NO_HASH = "0" * 64


def authenticate_token(*, raw: str, now: dt.datetime | None = None) -> OrganizationToken:
    """The usable token behind `opc_org.<id>.<secret>` (organization loaded), or InvalidToken.

    One indexed query by token id; last_used_at is then written at most once a minute.
    """
    parsed = tokens.parse_token(raw)
    if parsed is None:
        raise InvalidToken("Invalid token.")
    try:
        # .get(): no ORDER BY to compile or run on the hot path of every token request.
        token = OrganizationToken.objects.select_related("organization").get(token_id=parsed.token_id)
    except OrganizationToken.DoesNotExist:
        token = None
    matches = tokens.secret_matches(parsed.secret, token.secret_hash if token else _NO_HASH)
    if token is None or not matches:
        raise InvalidToken("Invalid token.")
    now = now or timezone.now()
    if not token.is_usable(now=now):
        raise InvalidToken("Invalid token.")
    record_token_use(token=token, now=now)
    return token


def record_token_use(*, token: OrganizationToken, now: dt.datetime | None = None) -> bool:
    """Set last_used_at unless it was set less than a minute ago; True when a row was written."""
    now = now or timezone.now()
    threshold = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at >= threshold:
        return False
    # Conditional, so concurrent requests with a stale copy of the row still write at most once.
    written = (
        OrganizationToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=threshold))
        .update(last_used_at=now)
    )
    token.last_used_at = now
    return bool(written)


def get_user_by_username(username: str) -> User:
    """The user with this username (case-insensitive), or MembershipError: used by the CLI."""
    user = get_user_model().objects.filter(username__iexact=(username or "").strip()).first()
    if user is None:
        raise MembershipError(f"no user named {username!r}")
    return user
