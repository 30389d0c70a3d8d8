"""API rate limits (a DRF throttle) and the client address every limit and the login lock-out count by.

Each caller may make CVEWATCH_API_RATE_LIMIT requests per window: a person by account, a token by token,
anyone else by client address. The count is django-ratelimit's fixed window (one `add`/`incr` on the
`throttle` cache: this process, or Redis with CVEWATCH_REDIS_URL; each key's window starts at its own
offset, so windows do not all turn over at once). DRF's sliding log was measured at +1.1 ms a request on
Redis (it rewrites the whole log each time); this costs one round trip. Beyond the quota the answer is 429
`{"detail": "Request was throttled. Expected available in N seconds."}` with `Retry-After`.

Every throttled answer (200s and 429s alike) carries the quota headers of the IETF draft
draft-ietf-httpapi-ratelimit-headers-10 (the structured-field syntax it has had since -08):

    RateLimit-Policy: "api";q=1200;w=60      the quota: q requests per window of w seconds
    RateLimit: "api";r=1187;t=42             what is left: r requests, for t more seconds
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

POLICY = "api"  # the policy's name in both headers, and the counters' group


def client_address(request: HttpRequest | Request) -> str | None:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For behind CVEWATCH_PROXY_COUNT proxies (DRF's rule)."""
    return BaseThrottle().get_ident(request)


def lockout_seconds() -> int:
    """How long a failed-login lock-out lasts (CVEWATCH_LOGIN_LOCKOUT); each failure during it restarts it."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' gate (first in AUTHENTICATION_BACKENDS): refuses a locked-out account or address before
    any password hash. A call without a request (the test client's `login`, a script) is no HTTP sign-in
    and has no address to count by: it passes on to the next backend instead of raising."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def _caller(group: str, request: Request) -> str:
    token = getattr(request.auth, "token_id", None)
    if token is not None:
        return f"token:{token}"
    if request.user is not None and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"address:{client_address(request)}"


class ApiRateThrottle(BaseThrottle):
    """CVEWATCH_API_RATE_LIMIT per caller; leaves the quota headers on the view for RateLimitHeadersMixin."""

    seconds_left = 0

    def allow_request(self, request: Request, view: Any) -> bool:
        if settings.API_RATE_LIMIT is None:
            return True
        quota, window = settings.API_RATE_LIMIT
        usage = get_usage(request, group=POLICY, key=_caller, rate=(quota, window), increment=True)
        if usage is None:  # RATELIMIT_ENABLE off
            return True
        self.seconds_left = max(1, usage["time_left"])
        view.rate_limit_headers = {
            "RateLimit-Policy": f'"{POLICY}";q={quota};w={window}',
            "RateLimit": f'"{POLICY}";r={max(0, quota - usage["count"])};t={self.seconds_left}',
        }
        return not usage["should_limit"]

    def wait(self) -> float:
        return self.seconds_left


class RateLimitHeadersMixin:
    """Adds the throttle's RateLimit headers to every answer of a view, 429s included."""

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        for name, value in getattr(self, "rate_limit_headers", {}).items():
            response[name] = value
        return response
