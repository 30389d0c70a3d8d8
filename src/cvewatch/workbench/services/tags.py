"""A person's own tags: create, edit, delete them; put them on CVEs and take them off (idempotent).

Tags belong to one user: every lookup is by (user, name), so nobody reaches another person's tag.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from cvewatch.catalog.models import Cve
from cvewatch.workbench import selectors
from cvewatch.workbench.errors import DuplicateTag, InvalidColor, InvalidTagDescription, InvalidTagName
from cvewatch.workbench.models import CveTag, UserTag

TAG_NAME_MAX_LENGTH = 64
DESCRIPTION_MAX_LENGTH = 500
DEFAULT_COLOR = "#3b5bdb"
# OpenCVE's rule for tag names: letters, digits, '-' and '_'.
_TAG_NAME = re.compile(r"[A-Za-z0-9_-]+")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def validate_tag_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidTagName("the tag name must not be empty")
    if len(name) > TAG_NAME_MAX_LENGTH:
        raise InvalidTagName(f"the tag name must be at most {TAG_NAME_MAX_LENGTH} characters long")
    if not _TAG_NAME.fullmatch(name):
        raise InvalidTagName(f"invalid tag name {name!r}: use only letters, digits, '-' and '_'")
    return name


def validate_color(color: str) -> str:
    color = (color or "").strip()
    if not _COLOR.fullmatch(color):
        raise InvalidColor(f"invalid colour {color!r}: write it #rrggbb, e.g. {DEFAULT_COLOR}")
    return color.lower()


def _description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidTagDescription(
            f"the description must be at most {DESCRIPTION_MAX_LENGTH} characters long"
        )
    return description


def _refuse_duplicate(*, user: AbstractBaseUser, name: str, exclude: int | None = None) -> None:
    clash = UserTag.objects.filter(user_id=user.pk, name__iexact=name).exclude(pk=exclude)
    if clash.exists():
        raise DuplicateTag(f"you already have a tag named {name!r}")


def create_tag(
    *, user: AbstractBaseUser, name: str, color: str = DEFAULT_COLOR, description: str = ""
) -> UserTag:
    name = validate_tag_name(name)
    color = validate_color(color)
    description = _description(description)
    with transaction.atomic():
        _refuse_duplicate(user=user, name=name)
        try:
            with transaction.atomic():
                return UserTag.objects.create(
                    user_id=user.pk, name=name, color=color, description=description
                )
        except IntegrityError:  # a concurrent create of the same name
            raise DuplicateTag(f"you already have a tag named {name!r}") from None


def update_tag(
    *,
    user: AbstractBaseUser,
    name: str,
    new_name: str | None = None,
    color: str | None = None,
    description: str | None = None,
) -> UserTag:
    """Rename, recolour or redescribe the user's tag `name` (None leaves a field as it is)."""
    with transaction.atomic():
        tag = selectors.tag_of(user=user, name=name, for_update=True)
        if new_name is not None:
            new_name = validate_tag_name(new_name)
            if new_name != tag.name:
                _refuse_duplicate(user=user, name=new_name, exclude=tag.pk)
                tag.name = new_name
        if color is not None:
            tag.color = validate_color(color)
        if description is not None:
            tag.description = _description(description)
        tag.updated_at = timezone.now()
        tag.save()
        return tag


def delete_tag(*, user: AbstractBaseUser, name: str) -> None:
    """Delete the user's tag and take it off every CVE."""
    selectors.tag_of(user=user, name=name).delete()


def tag_cve(*, user: AbstractBaseUser, cve: Cve, name: str) -> bool:
    """Put the user's tag on the CVE; True when it was not there yet."""
    tag = selectors.tag_of(user=user, name=name)
    _, created = CveTag.objects.get_or_create(tag=tag, cve=cve)
    return created


def add_tag_to_cve(*, user: AbstractBaseUser, cve: Cve, name: str) -> UserTag:
    """Tag the CVE with the user's tag of that name (any case), creating the tag first when there is none."""
    name = validate_tag_name(name)
    tag = UserTag.objects.filter(user_id=user.pk, name__iexact=name).order_by("name").first()
    if tag is None:
        tag = create_tag(user=user, name=name)
    CveTag.objects.get_or_create(tag=tag, cve=cve)
    return tag


def untag_cve(*, user: AbstractBaseUser, cve: Cve, name: str) -> bool:
    """Take the user's tag off the CVE; True when it was there."""
    tag = selectors.tag_of(user=user, name=name)
    deleted, _ = CveTag.objects.filter(tag=tag, cve=cve).delete()
    return bool(deleted)
