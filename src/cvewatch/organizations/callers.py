"""Who calls when it is not a person: an organization API token, acting for its organization.

Domain code (selectors, services) recognises a token caller with `is_token_user`; the API's token
authentication builds one. Nothing here knows HTTP.
"""

from __future__ import annotations

from typing import TypeGuard

from django.contrib.auth.models import Group, Permission
from django.db.models.manager import EmptyManager

from cvewatch.organizations.models import Organization, OrganizationToken


class TokenUser:
    """request.user for a token caller: authenticated, acting for one organization, never a Django user.

    It has no primary key and no permissions, so code written for Django users neither crashes on it nor
    grants it anything (per-user features such as tags simply do not apply).
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None
    email = ""
    first_name = ""
    last_name = ""
    _groups = EmptyManager(Group)
    _user_permissions = EmptyManager(Permission)

    def __init__(self, token: OrganizationToken) -> None:
        self.token = token
        self.organization: Organization = token.organization
        self.username = f"token:{token.token_id}"

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"<TokenUser {self.token.token_id} of {self.organization.name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenUser) and other.token.pk == self.token.pk

    def __hash__(self) -> int:
        return hash(("token", self.token.pk))

    @property
    def groups(self) -> EmptyManager:
        return self._groups

    @property
    def user_permissions(self) -> EmptyManager:
        return self._user_permissions

    def get_username(self) -> str:
        return self.username

    def get_all_permissions(self, obj: object = None) -> set[str]:
        return set()

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return False

    def has_perms(self, perm_list: object, obj: object = None) -> bool:
        return False

    def has_module_perms(self, module: str) -> bool:
        return False


def is_token_user(user: object) -> TypeGuard[TokenUser]:
    return isinstance(user, TokenUser)
