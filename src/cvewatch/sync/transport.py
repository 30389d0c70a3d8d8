"""Downloads behind one small interface: HTTP(S) with httpx, and local locations (file:// or a path).

Every HTTP request has a timeout. 403, 429 and 503 are retried with backoff, honouring Retry-After (NVD and
GitHub answer rate limits that way); any other error status, a timeout or a truncated body is an
UpstreamError whose message says what happened.
"""

from __future__ import annotations

import email.utils
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

import httpx

from cvewatch.sync.errors import UpstreamError

DEFAULT_TIMEOUT = 60.0  # seconds for connect and for each read; a stalled upstream fails the run
RETRY_STATUSES = frozenset({403, 429, 503})
MAX_RETRIES = 4
MAX_RETRY_WAIT = 120.0  # seconds: a longer Retry-After fails the run instead of holding the worker
USER_AGENT = "cvewatch-sync (+https://github.com/cvewatch)"


def is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def local_path(url: str) -> Path:
    """The path a file:// URL or a plain path names."""
    if url.startswith("file://"):
        return Path(unquote(urlparse(url).path))
    return Path(url).expanduser()


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    content: bytes = b""  # the body, unless it was streamed to path
    path: Path | None = None
    url: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str:
        return self.headers.get("etag", "")


class Transport(Protocol):
    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        dest: Path | None = None,
        on_chunk: Callable[[], None] | None = None,
    ) -> Response:
        """GET url; the body is streamed to dest when given. 2xx and 304 return; anything else raises UpstreamError."""
        ...


@dataclass
class HttpTransport:
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = MAX_RETRIES
    sleep: Callable[[float], None] = time.sleep
    retries: list[str] = field(default_factory=list)  # what was retried, for the run's notes

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        dest: Path | None = None,
        on_chunk: Callable[[], None] | None = None,
    ) -> Response:
        request_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        attempt = 0
        with httpx.Client(timeout=self.timeout, follow_redirects=True) as client:
            while True:
                try:
                    response = self._once(client, url, params, request_headers, dest, on_chunk)
                except httpx.TimeoutException:
                    raise UpstreamError(f"{_show(url)}: timed out after {self.timeout:g} s") from None
                except httpx.RemoteProtocolError as exc:
                    raise UpstreamError(f"{_show(url)}: truncated or broken response ({exc})") from None
                except httpx.HTTPError as exc:
                    raise UpstreamError(f"{_show(url)}: {type(exc).__name__}: {exc}") from None
                if response.status in RETRY_STATUSES and attempt < self.max_retries:
                    wait = retry_after(response.headers.get("retry-after"), default=min(2.0**attempt, 30.0))
                    if wait > MAX_RETRY_WAIT:
                        raise UpstreamError(
                            f"{_show(url)}: HTTP {response.status}, Retry-After {wait:.0f} s is too long to wait"
                        )
                    self.retries.append(f"HTTP {response.status} from {_show(url)}: retried after {wait:g} s")
                    self.sleep(wait)
                    attempt += 1
                    continue
                if response.status == 304 or 200 <= response.status < 300:
                    return response
                retried = f" after {attempt} retries" if attempt else ""
                raise UpstreamError(f"{_show(url)}: HTTP {response.status}{retried}")

    def _once(
        self,
        client: httpx.Client,
        url: str,
        params: Mapping[str, str | int] | None,
        headers: dict[str, str],
        dest: Path | None,
        on_chunk: Callable[[], None] | None,
    ) -> Response:
        with client.stream("GET", url, params=params, headers=headers) as stream:
            result = Response(status=stream.status_code, headers=dict(stream.headers), url=str(stream.url))
            if not 200 <= stream.status_code < 300:
                stream.read()
                return result
            if dest is None:
                result.content = stream.read()
                return result
            with dest.open("wb") as out:
                for chunk in stream.iter_bytes(1 << 20):
                    out.write(chunk)
                    if on_chunk is not None:
                        on_chunk()
            result.path = dest
            return result


def retry_after(value: str | None, *, default: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class RateLimiter:
    """At most max_requests in any rolling window of period seconds (NVD: 5 per 30 s, 50 with a key)."""

    def __init__(
        self,
        *,
        max_requests: int,
        period: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_requests, self.period, self.clock, self.sleep = max_requests, period, clock, sleep
        self.sent: deque[float] = deque()

    def wait(self) -> float:
        """Blocks until one more request is allowed; returns the seconds waited."""
        now = self.clock()
        while self.sent and now - self.sent[0] >= self.period:
            self.sent.popleft()
        waited = 0.0
        if len(self.sent) >= self.max_requests:
            waited = self.period - (now - self.sent[0])
            self.sleep(waited)
            self.sent.popleft()
        self.sent.append(self.clock())
        return waited


def _show(url: str) -> str:
    """The URL without its query (never print an API key that might sit there)."""
    return url.split("?", 1)[0]
