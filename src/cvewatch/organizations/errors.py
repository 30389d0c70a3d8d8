"""Domain errors of the organizations app. Services raise these; each edge (API, web, CLI) maps them."""

from __future__ import annotations


class OrganizationError(Exception):
    """Base of every refusal by the organizations services; str(exc) is a message fit for the user."""


class InvalidName(OrganizationError):
    """A name is not a slug (letters, digits, `-`) or is too long."""


class InvalidValue(OrganizationError):
    """Some other field has a value we refuse (empty token name, expiry in the past, bad e-mail...)."""


class DuplicateName(OrganizationError):
    """An organization, or a project inside the organization, already has that name."""


class NotAllowed(OrganizationError):
    """The actor lacks the role the action needs (not a member, or not an owner)."""


class LastOwner(OrganizationError):
    """The action would leave the organization without an owner."""


class MembershipError(OrganizationError):
    """Adding, changing or removing a membership that does (not) exist."""


class InvitationError(OrganizationError):
    """An invitation token is unknown, expired, already used, or meant for another e-mail address."""


class UnknownVendor(OrganizationError):
    """A subscription names a vendor that is not in the catalog."""


class UnknownProduct(OrganizationError):
    """A subscription names a product that is not in the catalog."""


class TokenError(OrganizationError):
    """An API token cannot be found or changed (the CLI and the web pages get this, never the API)."""


class InvalidToken(OrganizationError):
    """The presented API token is unknown, wrong, revoked or expired (the API answers 401 "Invalid token.")."""
