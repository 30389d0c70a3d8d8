"""DRF authentication by organization API token: `Authorization: Bearer opc_org.<id>.<secret>`."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models.manager import EmptyManager
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from cvewatch.api.authentication import BASIC_CHALLENGE
from cvewatch.organizations import services, tokens
from cvewatch.organizations.errors import InvalidToken
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


def is_token_user(user: object) -> bool:
    return isinstance(user, TokenUser)


class OrganizationTokenAuthentication(BaseAuthentication):
    """Bearer values that are not `opc_org.<a>.<b>` are left to the other classes (no credentials here)."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[TokenUser, OrganizationToken] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != self.keyword:
            return None
        raw = parts[1].decode("latin-1")  # HTTP header bytes; any non-ASCII token is invalid below
        if not tokens.looks_like_token(raw):
            return None
        try:
            if not raw.isascii():
                raise InvalidToken("non-ASCII token")
            token = services.authenticate_token(raw=raw)
        except InvalidToken:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return TokenUser(token), token

    def authenticate_header(self, request: Request) -> str:
        # Every 401 of the API carries the same challenge; DRF asks the first authentication class for it.
        return BASIC_CHALLENGE
