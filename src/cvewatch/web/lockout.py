"""What a locked-out sign-in sees: django-axes calls `lockout_response` (settings.AXES_LOCKOUT_CALLABLE).

The /login form and the admin's login answer 429 with `Retry-After` and a page saying when to retry; the
API's Basic lock-out is answered by its authentication class instead (a JSON 429, api/authentication.py).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cvewatch.api.throttling import lockout_seconds


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    seconds = lockout_seconds()
    response = render(
        request, "web/accounts/locked_out.html", {"minutes": max(1, (seconds + 59) // 60)}, status=429
    )
    response["Retry-After"] = str(seconds)
    return response
