"""The one API exception handler: domain errors and DRF errors → the contract's bodies and statuses."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cvewatch.api.authentication import BASIC_CHALLENGE
from cvewatch.core.errors import NotFound


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, NotFound):
        return Response({"detail": exc.message}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        # DRF answers 403 when the first authenticator offers no challenge; the contract says 401 always,
        # with the Basic challenge when no credentials were given.
        challenge = BASIC_CHALLENGE
        if isinstance(exc, exceptions.AuthenticationFailed):
            challenge = getattr(exc, "auth_header", None) or BASIC_CHALLENGE
        exc.status_code = status.HTTP_401_UNAUTHORIZED
        exc.auth_header = challenge  # type: ignore[attr-defined]
    return drf_exception_handler(exc, context)
