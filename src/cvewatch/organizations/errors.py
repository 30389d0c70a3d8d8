"""Domain errors of the organizations app, each one of the `core.errors` kinds the edges translate.

Services raise these; the API's exception handler, the web's error helper and the CLI's command base map
the kind (400, 404, 409, 403, 401) without knowing this app. `str(exc)` is a message fit for the user.
"""

from __future__ import annotations

from cvewatch.core import errors


class InvalidName(errors.InvalidInput):
    """A name is not a slug (letters, digits, `-`) or is too long."""

    field = "name"  # the form field a page shows it on


class InvalidValue(errors.InvalidInput):
    """Some other field has a value we refuse (empty token name, expiry in the past, bad e-mail...)."""


class DuplicateName(errors.Conflict):
    """An organization, or a project inside the organization, already has that name."""

    field = "name"


class NotAllowed(errors.NotAllowed):
    """The actor lacks the role the action needs (not a member, or not an owner)."""


class LastOwner(errors.Conflict):
    """The action would leave the organization without an owner."""


class MembershipError(errors.Conflict):
    """Adding, changing or removing a membership that does (not) exist."""


class InvitationError(errors.InvalidInput):
    """An invitation token is unknown, expired, already used, or meant for another e-mail address."""


# Unknown catalog names are the caller's input, not a missing target: the project being subscribed exists.
# InvalidInput (400) also keeps the message that names every unknown one, which NotFound's fixed
# "No <Model> matches the given query." would lose.
class UnknownVendor(errors.InvalidInput):
    """A subscription names a vendor that is not in the catalog."""


class UnknownProduct(errors.InvalidInput):
    """A subscription names a product that is not in the catalog (or is not written VENDOR/PRODUCT)."""


class TokenError(errors.NotFound):
    """No token of the organization matches for this change: unknown id, or already revoked.

    A NotFound (404) that keeps its own message, which names the token and the organization for the CLI
    and the web pages (the API never revokes tokens).
    """

    def __init__(self, message: str) -> None:
        errors.DomainError.__init__(self, message)
        self.model_name = "OrganizationToken"


class InvalidToken(errors.AuthenticationFailed):
    """The presented API token is unknown, wrong, revoked or expired (the API answers 401 "Invalid token.")."""


class AccountExists(errors.Conflict):
    """A new account's username, or its e-mail address, is already taken (on the form's field it names)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class VerificationError(errors.InvalidInput):
    """An e-mail confirmation link is unknown, expired or stale, or an action needs a verified address."""
