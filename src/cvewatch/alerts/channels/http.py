"""Outbound HTTP for webhooks, Slack and Teams: timeouts, and no requests to private addresses.

Every hop is checked: the client never follows redirects itself; we resolve each URL's host and refuse it when
any address is private, loopback, link-local, multicast, reserved or unspecified, unless
CVEWATCH_ALLOW_PRIVATE_WEBHOOKS is true. 307/308 repeat the POST; 301/302/303 do too (a receiver that
moved should get the alert, not a GET without body).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

from cvewatch.alerts.channels.base import EXCERPT, Outcome

MAX_REDIRECTS = 5
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be requested; the message says why."""


def forbidden(address: Address) -> str | None:
    """Why an address is off limits, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return forbidden(address.ipv4_mapped)
    for kind in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None


@dataclass(frozen=True)
class Policy:
    allow_private: bool = False
    # Addresses allowed although private (tests exempt their own receiver to prove the redirect check).
    exempt: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls) -> Policy:
        return cls(allow_private=settings.ALLOW_PRIVATE_WEBHOOKS)

    def check(self, url: str, resolve: Callable[[str, int], list[str]] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(f"refused {url!r}: only http and https URLs with a host")
        if self.allow_private:
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = (resolve or _resolve)(parts.hostname, port)
        except OSError as exc:
            raise Refused(f"cannot resolve {parts.hostname}: {exc}") from None
        for text in addresses:
            if text in self.exempt:
                continue
            reason = forbidden(ipaddress.ip_address(text.split("%", 1)[0]))
            if reason:
                raise Refused(
                    f"refused {parts.hostname}: it resolves to the {reason} address {text} "
                    "(set CVEWATCH_ALLOW_PRIVATE_WEBHOOKS=true to allow)"
                )


def _resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


_clients: dict[int, httpx.Client] = {}
_clients_lock = threading.Lock()


def _client() -> httpx.Client:
    """One pooled client per process (thread-safe; building one loads the CA bundle, which costs ~20 ms)."""
    pid = os.getpid()  # a forked process (gunicorn, the job worker) builds its own
    with _clients_lock:
        client = _clients.get(pid)
        if client is None:
            limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
            client = _clients[pid] = httpx.Client(follow_redirects=False, trust_env=False, limits=limits)
        return client


def post(
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    timeout: float,
    policy: Policy | None = None,
) -> Outcome:
    """POST, following up to MAX_REDIRECTS redirects by hand, each hop checked; 2xx is delivered."""
    policy = policy or Policy.from_settings()
    client = _client()
    for _ in range(MAX_REDIRECTS + 1):
        try:
            policy.check(url)
        except Refused as exc:
            return Outcome.failure(str(exc), permanent=True)
        try:
            response = client.post(url, content=content, headers=dict(headers), timeout=timeout)
        except httpx.TimeoutException:
            return Outcome.failure(f"timed out after {timeout:g} s: {url}")
        except httpx.HTTPError as exc:
            return Outcome.failure(f"{type(exc).__name__}: {exc}")
        location = response.headers.get("location")
        if response.is_redirect and location:
            url = urljoin(str(response.url), location)
            continue
        excerpt = response.text[:EXCERPT]
        if response.is_success:
            return Outcome(True, excerpt, response.status_code)
        code = response.status_code
        # The receiver exists and says no: a retry cannot change that.
        permanent = code in (400, 401, 403, 404, 405, 410, 413, 422)
        return Outcome.failure(f"HTTP {code}: {excerpt}", status_code=code, permanent=permanent)
    return Outcome.failure(f"more than {MAX_REDIRECTS} redirects", status_code=response.status_code)
