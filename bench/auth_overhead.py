"""Cost of API authentication per request, against an unauthenticated handler.

Every case calls the same trivial DRF view in-process (RequestFactory → DRF dispatch → authenticator →
permission → JSON response) on the real database, so the difference between a case and `none` is what
its authentication adds: wall time, and this process's CPU time (which the load of a shared machine skews
far less). To add a scheme, append a Case to CASES (see `basic_cached`).

    .venv/bin/python bench/auth_overhead.py [--requests 2000]
    CVEWATCH_REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/auth_overhead.py   # counters in Redis

Without CVEWATCH_DATA_DIR or CVEWATCH_DATABASE_URL a throw-away SQLite data dir is created and migrated.
Only the `+ rate limit` case runs the API's throttle (api/throttling.py), with a quota just above the
requests it makes: its counter lives in the in-process cache, or in Redis when CVEWATCH_REDIS_URL is set.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Context:
    """What the cases may use: a user with a known password. Add fields (e.g. a token) when extending."""

    username: str
    password: str
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    name: str
    authentication_classes: list[str]  # dotted paths; [] = no authentication at all
    headers: Callable[[Context], dict[str, str]]
    requests: int | None = None  # fewer for slow cases (e.g. a full password hash each time)
    setup: Callable[[Context], None] | None = None  # runs once before measuring
    throttled: bool = False  # with the API's rate limit (DEFAULT_THROTTLE_CLASSES); the others run without


def _basic(ctx: Context) -> dict[str, str]:
    token = base64.b64encode(f"{ctx.username}:{ctx.password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


CASES: list[Case] = [
    Case("none (AllowAny, no authenticators)", [], lambda ctx: {}),
    Case("basic_cached (after the first call)", ["cvewatch.api.authentication.CachedBasicAuthentication"], _basic),
    Case(
        "basic_uncached (DRF BasicAuthentication: full hash per request)",
        ["rest_framework.authentication.BasicAuthentication"],
        _basic,
        requests=20,
    ),
]


def _rate_limit_above(requests: int) -> Callable[[Context], None]:
    def setup(ctx: Context) -> None:
        from django.conf import settings

        settings.API_RATE_LIMIT = (requests + 10, 3600)

    return setup


# --- Organization API token (organizations engineer's part) ------------------------------------------------
def _bearer(ctx: Context) -> dict[str, str]:
    """Creates a throw-away organization and token on first use; they are deleted at exit."""
    if "token" not in ctx.extras:
        import atexit

        from django.contrib.auth import get_user_model

        from cvewatch.organizations.models import Organization
        from cvewatch.organizations.services import organizations, tokens

        owner = get_user_model().objects.get(username=ctx.username)
        org = organizations.create_organization(name=ctx.username, owner=owner)
        ctx.extras["token"] = tokens.create_token(organization=org, name="auth-bench", actor=owner)[1]
        atexit.register(lambda: Organization.objects.filter(pk=org.pk).delete())
    return {"HTTP_AUTHORIZATION": f"Bearer {ctx.extras['token']}"}


CASES.append(
    Case(
        "token (Bearer opc_org, after the first call)",
        ["cvewatch.organizations.api.authentication.OrganizationTokenAuthentication"],
        _bearer,
    )
)


def _prepare_database() -> None:
    if not os.environ.get("CVEWATCH_DATA_DIR") and not os.environ.get("CVEWATCH_DATABASE_URL"):
        os.environ["CVEWATCH_DATA_DIR"] = tempfile.mkdtemp(prefix="cvewatch-auth-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    os.environ.setdefault("CVEWATCH_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _view_for(case: Case) -> Callable[..., Any]:
    from django.utils.module_loading import import_string
    from rest_framework import permissions
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class Probe(APIView):
        authentication_classes = [import_string(path) for path in case.authentication_classes]
        throttle_classes = APIView.throttle_classes if case.throttled else []
        permission_classes = [permissions.IsAuthenticated] if case.authentication_classes else [permissions.AllowAny]

        def get(self, request: Any) -> Response:
            return Response({"ok": True})

    return Probe.as_view()


def measure(case: Case, ctx: Context, requests: int) -> tuple[list[float], list[float]]:
    from rest_framework.test import APIRequestFactory

    factory = APIRequestFactory()
    view = _view_for(case)
    headers = case.headers(ctx)
    if case.setup:
        case.setup(ctx)
    first = view(factory.get("/probe", **headers))  # the first call may verify a password
    if first.status_code != 200:
        raise SystemExit(f"{case.name}: HTTP {first.status_code} {getattr(first, 'data', '')}")
    samples, cpu = [], []
    for _ in range(requests):
        request = factory.get("/probe", **headers)
        started, started_cpu = time.perf_counter(), time.process_time()
        response = view(request)
        cpu.append((time.process_time() - started_cpu) * 1_000_000)
        samples.append((time.perf_counter() - started) * 1_000_000)
        if response.status_code != 200:
            raise SystemExit(f"{case.name}: HTTP {response.status_code}")
    return samples, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    _prepare_database()
    CASES.append(
        Case(
            "basic_cached + rate limit (throttle cache: "
            + ("Redis)" if os.environ.get("CVEWATCH_REDIS_URL") else "in process)"),
            ["cvewatch.api.authentication.CachedBasicAuthentication"],
            _basic,
            setup=_rate_limit_above(args.requests + 1),
            throttled=True,
        )
    )
    from django.contrib.auth import get_user_model
    from django.db import connection

    ctx = Context(username=f"auth-bench-{secrets.token_hex(4)}", password=secrets.token_urlsafe(24))
    get_user_model().objects.create_user(username=ctx.username, password=ctx.password)
    try:
        print(f"engine={connection.vendor} python={sys.version.split()[0]}")
        print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        print(
            f"{'case':<66} {'n':>5} {'median µs':>10} {'p95 µs':>9} {'added µs':>9} {'CPU µs':>7} {'added CPU':>9}"
        )
        baseline = baseline_cpu = None
        for case in CASES:
            samples, cpu = measure(case, ctx, case.requests or args.requests)
            samples.sort()
            median, median_cpu = statistics.median(samples), statistics.median(cpu)
            baseline = median if baseline is None else baseline
            baseline_cpu = median_cpu if baseline_cpu is None else baseline_cpu
            p95 = samples[int(len(samples) * 0.95) - 1]
            print(
                f"{case.name:<66} {len(samples):>5} {median:10.0f} {p95:9.0f} {median - baseline:9.0f}"
                f" {median_cpu:7.0f} {median_cpu - baseline_cpu:9.0f}"
            )
    finally:
        get_user_model().objects.filter(username=ctx.username).delete()


if __name__ == "__main__":
    main()
