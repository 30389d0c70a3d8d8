"""API authentication (placeholder until the API lands): session auth only."""

from rest_framework.authentication import BaseAuthentication, BasicAuthentication, SessionAuthentication


class OrganizationTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return None


class CachedBasicAuthentication(BasicAuthentication):
    www_authenticate_realm = "api"


class CsrfSessionAuthentication(SessionAuthentication):
    pass
