"""The one API exception handler: domain errors and DRF errors → the contract's statuses and bodies.

Every `cvewatch.core.errors` kind is answered here and nowhere else, as `{"detail": <message>}` with the
status the kind carries (`http_status`); a 401 also carries the Basic challenge. Views raise, or let the
selectors raise; they never build an error response themselves.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cvewatch.api.authentication import BASIC_CHALLENGE
from cvewatch.core import errors


def api_exception(exc: errors.DomainError) -> exceptions.APIException:
    """The DRF exception that answers a domain error: its kind's status, its message as the detail."""
    if exc.http_status == status.HTTP_401_UNAUTHORIZED:
        return exceptions.AuthenticationFailed(exc.message)
    api_exc = exceptions.APIException(exc.message)
    api_exc.status_code = exc.http_status
    return api_exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, errors.DomainError):
        exc = api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(
        exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)
    ):
        # DRF answers 403 when the first authenticator offers no challenge; the contract says 401 always,
        # with the Basic challenge.
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response["WWW-Authenticate"] = BASIC_CHALLENGE
    return response
