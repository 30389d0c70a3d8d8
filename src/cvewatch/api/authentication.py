"""API authentication (placeholder until the API lands): session auth only."""

from rest_framework.authentication import BasicAuthentication, SessionAuthentication


class CachedBasicAuthentication(BasicAuthentication):
    www_authenticate_realm = "api"


class CsrfSessionAuthentication(SessionAuthentication):
    pass
