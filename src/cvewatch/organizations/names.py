"""The naming rule of organizations and projects: a slug of letters, digits and `-`, at most 64 characters.

Uniqueness is case-insensitive (checked by the services); this module only says what a name may look like.
"""

from __future__ import annotations

import re

from cvewatch.organizations.errors import InvalidName

NAME_MAX_LENGTH = 64

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


def validate_name(name: str, *, what: str = "name") -> str:
    """The name stripped, or InvalidName saying what is wrong with it."""
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
