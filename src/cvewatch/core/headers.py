"""Deployment headers every response carries (docs/security.md): the Content-Security-Policy, and HSTS
whenever the public URL is https.

Django's SecurityMiddleware sends HSTS only on requests it sees as secure; behind the TLS-terminating proxy
an https deployment needs, that depends on the proxy passing the scheme on. Browsers ignore HSTS received
over plain HTTP, so sending it on every answer of an https deployment costs nothing and never goes missing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def hsts_value() -> str:
    """The Strict-Transport-Security value the settings ask for ("" when HSTS is off)."""
    if not settings.SECURE_HSTS_SECONDS:
        return ""
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return value


class DeploymentHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        hsts = hsts_value()
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", hsts)
        return response
