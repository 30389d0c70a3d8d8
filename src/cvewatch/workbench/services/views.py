"""Saved views: a named CVE-list query (the list's query string), private to its owner or shared with the
organization. The owner renames, reshares or deletes a view; an owner of the organization may also do so
for a view shared with it. Names are unique per owner and organization.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from cvewatch.organizations.models import Organization
from cvewatch.organizations.services.access import require_member
from cvewatch.workbench import selectors
from cvewatch.workbench.errors import DuplicateView, InvalidViewName, InvalidViewQuery, NotAllowed
from cvewatch.workbench.models import SavedView

VIEW_NAME_MAX_LENGTH = 64
QUERY_MAX_LENGTH = 2000
# Paging, the open view's marker and the form's own fields are not part of what a view selects.
_DROPPED_PARAMS = {"page", "view", "csrfmiddlewaretoken"}


def validate_view_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidViewName("the view name must not be empty")
    if len(name) > VIEW_NAME_MAX_LENGTH:
        raise InvalidViewName(f"the view name must be at most {VIEW_NAME_MAX_LENGTH} characters long")
    return name


def normalize_query(query: str) -> str:
    """The CVE list's query string a view keeps: no leading '?', no paging, no empty parameters."""
    query = (query or "").strip().lstrip("?")
    if len(query) > QUERY_MAX_LENGTH:
        raise InvalidViewQuery(f"the query must be at most {QUERY_MAX_LENGTH} characters long")
    pairs = [(k, v.strip()) for k, v in parse_qsl(query) if k not in _DROPPED_PARAMS and v.strip()]
    if not pairs:
        raise InvalidViewQuery("a view needs a query: filter the list first, then save it")
    return urlencode(pairs)


def _refuse_duplicate(
    view_owner_id: int, organization_id: int, name: str, exclude: int | None = None
) -> None:
    clash = SavedView.objects.filter(
        organization_id=organization_id, owner_id=view_owner_id, name__iexact=name
    ).exclude(pk=exclude)
    if clash.exists():
        raise DuplicateView(f"you already have a view named {name!r} in this organization")


def create_view(
    *, organization: Organization, owner: AbstractBaseUser, name: str, query: str, shared: bool = False
) -> SavedView:
    require_member(organization, owner)
    name = validate_view_name(name)
    query = normalize_query(query)
    with transaction.atomic():
        _refuse_duplicate(owner.pk, organization.pk, name)
        try:
            with transaction.atomic():
                return SavedView.objects.create(
                    organization=organization, owner_id=owner.pk, name=name, query=query, shared=shared
                )
        except IntegrityError:
            raise DuplicateView(f"you already have a view named {name!r} in this organization") from None


def _editable(organization: Organization, actor: AbstractBaseUser, view_id: int) -> SavedView:
    view = selectors.view_for(user=actor, organization=organization, view_id=view_id)
    if not selectors.may_edit_view(user=actor, view=view):
        raise NotAllowed(
            f"only {view.owner.get_username()} or an owner of {organization.name!r} may change this view"
        )
    return view


def update_view(
    *,
    organization: Organization,
    actor: AbstractBaseUser,
    view_id: int,
    name: str | None = None,
    shared: bool | None = None,
    query: str | None = None,
) -> SavedView:
    """Rename, (un)share or re-point a view the actor may edit (None leaves a field as it is)."""
    require_member(organization, actor)
    with transaction.atomic():
        view = _editable(organization, actor, view_id)
        if name is not None:
            name = validate_view_name(name)
            _refuse_duplicate(view.owner_id, organization.pk, name, exclude=view.pk)
            view.name = name
        if shared is not None:
            view.shared = shared
        if query is not None:
            view.query = normalize_query(query)
        view.updated_at = timezone.now()
        view.save()
        return view


def delete_view(*, organization: Organization, actor: AbstractBaseUser, view_id: int) -> None:
    require_member(organization, actor)
    with transaction.atomic():
        _editable(organization, actor, view_id).delete()
