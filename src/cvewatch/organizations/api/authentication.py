"""DRF authentication by organization API token: `Authorization: Bearer opc_org.<id>.<secret>`."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from cvewatch.api.authentication import BASIC_CHALLENGE
from cvewatch.organizations import tokens
from cvewatch.organizations.callers import TokenUser
from cvewatch.organizations.errors import InvalidToken
from cvewatch.organizations.models import OrganizationToken
from cvewatch.organizations.services import tokens as token_services


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
            token = token_services.authenticate_token(raw=raw)
        except InvalidToken:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return TokenUser(token), token

    def authenticate_header(self, request: Request) -> str:
        # Every 401 of the API carries the same challenge; DRF asks the first authentication class for it.
        return BASIC_CHALLENGE
